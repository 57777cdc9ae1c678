"""`LightCurveEstimator`: the flux of one source in time bins (and energy bands), and `LightCurve`.

Datasets carry their time range in ``dataset.meta["time_start"]`` /
``["time_stop"]`` (astropy `~astropy.time.Time`; `add_time_meta` sets them from
an observation's GTI — the reduction does not store them yet). A dataset belongs
to a time bin when its time range lies inside the bin (as gammapy's
``Datasets.select_time``). In each time bin the datasets are fitted **jointly**
(one likelihood summed over them, not stacked — as gammapy), per energy band, with
the same norm estimate as the flux points (`~gwidgets.core.estimators.norm_fit`).

Time bins: ``time_intervals=None`` gives one bin per dataset (per observation);
otherwise a list of ``(start, stop)`` Time pairs (fixed intervals, GTIs, user
edges). A bin without any dataset becomes an explicit empty row (NaN values,
``reason = "no observation in this time bin"``); when no bin has data at all,
`EstimatorError` is raised.

Examples
--------
Datasets made by `~gwidgets.core.reduction.make_spectrum_datasets` carry their
observation's time range; one made by hand gets it with ``add_time_meta(dataset, observation)``.
Four runs of the simulated example store, one time bin per run:

>>> from gwidgets.core.models import LogParabola, SkyModel
>>> from gwidgets.core.datasets import example_spectrum_datasets
>>> datasets = example_spectrum_datasets([1001, 1002, 1003, 1004])
>>> datasets.models = SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.4, beta=0.1),
...                            name="bright")
>>> lc = LightCurveEstimator(energy_edges=[0.5, 30] * u.TeV, source="bright").run(datasets)
>>> table = lc.to_table()["time_min", "time_max", "flux", "flux_err", "is_ul"]
>>> len(table), table["flux"].unit
(4, Unit("1 / (s cm2)"))
>>> sorted(lc.variability())
['chi2', 'dof', 'fvar', 'fvar_err', 'mean', 'mean_err', 'n', 'pvalue']
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import Table
from astropy.time import Time

from ..datasets.base import to_edges
from .base import Estimator
from .flux_points import FluxPointsEstimator, as_dataset_list, source_spectral
from .norm_fit import EstimatorError, resolve_source
from .sed_table import FluxPoints
from .variability import variability_tests

__all__ = ["LightCurveEstimator", "LightCurve", "add_time_meta", "dataset_time_range", "fixed_time_intervals"]


def add_time_meta(dataset, observation):
    """Store the observation's time range (first GTI start, last GTI stop) in ``dataset.meta``; returns the dataset.

    Datasets from `make_spectrum_datasets` / `SpectrumDatasetOnOff.from_extraction`
    already carry ``time_start``/``time_stop``: then this is a no-op.

    Parameters
    ----------
    dataset : dataset
        Any dataset with a ``meta`` dict.
    observation : `~gwidgets.core.data.Observation`
        Its observation (GTI and id).

    Returns
    -------
    dataset
        The same dataset, with ``meta["time_start"]``, ``meta["time_stop"]`` (astropy Time) and ``meta["OBS_ID"]``.
    """
    meta = dataset.meta
    if meta.get("time_start") is None or meta.get("time_stop") is None:
        meta["time_start"], meta["time_stop"] = observation.gti.time_range
    meta.setdefault("OBS_ID", observation.obs_id)
    return dataset


def dataset_time_range(dataset):
    """``(start, stop)`` Times of a dataset (from ``meta["time_start"/"time_stop"]``) or a clear error.

    Parameters
    ----------
    dataset : dataset
        Any dataset with a ``meta`` dict.

    Returns
    -------
    start, stop : `~astropy.time.Time`
        The dataset's time range.

    Raises
    ------
    EstimatorError
        If ``meta`` has no ``time_start`` / ``time_stop``.
    """
    meta = getattr(dataset, "meta", None) or {}
    start, stop = meta.get("time_start"), meta.get("time_stop")
    if start is None or stop is None:
        raise EstimatorError(f"Dataset '{dataset.name}' has no time range: set dataset.meta['time_start'] and "
                             "['time_stop'] (astropy Time), e.g. with add_time_meta(dataset, observation)")
    return Time(start), Time(stop)


def fixed_time_intervals(start, stop, step) -> list:
    """Contiguous ``(start, stop)`` bins of length ``step`` (Quantity) covering [start, stop] (Times).

    The last bin ends at ``stop`` (it may be shorter than ``step``).

    Parameters
    ----------
    start, stop : `~astropy.time.Time`
        Range to cover.
    step : `~astropy.units.Quantity` or float
        Bin length (floats in days).

    Returns
    -------
    list of tuple
        ``(start, stop)`` pairs of `~astropy.time.Time`.

    Raises
    ------
    EstimatorError
        If ``stop`` is not after ``start`` or ``step`` is not positive.

    Examples
    --------
    >>> from astropy.time import Time
    >>> import astropy.units as u
    >>> bins = fixed_time_intervals(Time(60000, format="mjd"), Time(60001, format="mjd"), 6 * u.h)
    >>> len(bins), float(bins[-1][1].mjd)
    (4, 60001.0)
    """
    start, stop = Time(start), Time(stop)
    step = u.Quantity(step, u.d).to_value(u.d)
    if not step > 0 or not stop > start:
        raise EstimatorError(f"fixed_time_intervals needs stop > start and a positive step (got {step} d)")
    n = int(np.ceil((stop.mjd - start.mjd) / step - 1e-9))
    edges = [start + i * step * u.d for i in range(n)] + [stop]
    return list(zip(edges[:-1], edges[1:]))


def _intervals(time_intervals):
    out = []
    for i, pair in enumerate(time_intervals):
        try:
            start, stop = Time(pair[0]), Time(pair[1])
        except Exception as exc:
            raise EstimatorError(f"time_intervals[{i}] must be a (start, stop) pair of astropy Times: {exc}") from None
        if not stop > start:
            raise EstimatorError(f"time_intervals[{i}]: stop {stop.iso} is not after start {start.iso}")
        out.append((start, stop))
    if not out:
        raise EstimatorError("time_intervals is empty")
    return out


class LightCurveEstimator(Estimator):
    """Flux of ``source`` per time bin and energy band.

    Parameters
    ----------
    time_intervals : list of (Time, Time), optional
        Time bins; None: one bin per dataset.
    energy_edges : Quantity (or floats in TeV)
        ``[e_min, e_max]`` or several bands.
    source, selection_optional, n_sigma, n_sigma_ul, sqrt_ts_threshold_ul, norm_values
        As `FluxPointsEstimator`.
    atol : Quantity
        Tolerance on the time-bin boundaries (default 1e-6 d, as gammapy).

    Raises
    ------
    EstimatorError
        If a time interval is not a (start, stop) pair with stop after start, the list is empty, or an
        argument shared with `FluxPointsEstimator` is invalid.
    """

    def __init__(self, time_intervals=None, energy_edges=(1, 100) * u.TeV, source=0, selection_optional=None,
                 n_sigma=1.0, n_sigma_ul=2.0, sqrt_ts_threshold_ul=2.0, norm_values=None, atol=1e-6 * u.d):
        self.time_intervals = None if time_intervals is None else _intervals(time_intervals)
        self.energy_edges = to_edges(energy_edges, "LightCurveEstimator energy_edges")
        self._fpe = FluxPointsEstimator(self.energy_edges, source, selection_optional, n_sigma, n_sigma_ul,
                                        sqrt_ts_threshold_ul, norm_values)
        self.source = source
        self.atol = u.Quantity(atol, u.d)

    @property
    def selection_optional(self):
        """The optional steps of the estimator (tuple of ``"errn-errp"``, ``"ul"``, ``"scan"``)."""
        return self._fpe.selection_optional

    def __repr__(self):
        n = "per dataset" if self.time_intervals is None else len(self.time_intervals)
        return (f"LightCurveEstimator(time bins={n}, energy bands={len(self.energy_edges) - 1}, "
                f"source={self.source!r}, selection_optional={list(self.selection_optional)})")

    def run(self, datasets) -> LightCurve:
        """Flux of the source in every time bin and energy band.

        A dataset belongs to a time bin when its time range lies inside it (within ``atol``).

        Parameters
        ----------
        datasets : dataset, list or `~gwidgets.core.datasets.datasets.Datasets`
            1D datasets with the fitted model and a time range in ``meta`` (see `add_time_meta`).

        Returns
        -------
        LightCurve
            One row per time bin and energy band (bins without data have NaN norms and a ``reason``).

        Raises
        ------
        EstimatorError
            If there is no dataset, the source is unknown, a dataset has no time range, or no time bin
            has data in the energy range.
        """
        datasets = as_dataset_list(datasets)
        source = resolve_source(datasets, self.source)
        ranges = [dataset_time_range(d) for d in datasets]
        if self.time_intervals is None:
            bins = sorted(ranges, key=lambda r: r[0].mjd)
        else:
            bins = self.time_intervals
        atol = self.atol.to_value(u.d)
        e = self.energy_edges
        rows, cache = [], {}
        for start, stop in bins:
            members = [d for d, (t0, t1) in zip(datasets, ranges)
                       if t0.mjd >= start.mjd - atol and t1.mjd <= stop.mjd + atol]
            for lo, hi in zip(e[:-1], e[1:]):
                if members:
                    row = self._fpe.estimate_bin(members, lo, hi, cache)
                    if row.get("reason") == "no data in this bin":
                        row["reason"] = f"no data in [{lo:.4g}, {hi:.4g}] TeV in this time bin"
                else:
                    row = self._empty_row(lo, hi)
                row.update(time_min=start.mjd, time_max=stop.mjd, datasets=",".join(d.name for d in members),
                           counts=float(np.nansum(row["counts"])), npred=float(np.nansum(row["npred"])),
                           npred_excess=float(np.nansum(row["npred_excess"])))
                rows.append(row)
        if all(r.get("reason", "").startswith(("no observation", "no data")) for r in rows):
            raise EstimatorError(f"No data for the light curve: no time bin has a dataset with data in "
                                 f"[{e[0]:.4g}, {e[-1]:.4g}] TeV")
        model = source_spectral(datasets, source)
        return _build(rows, model, source, self._fpe)

    def _empty_row(self, lo, hi):
        n = len(self._fpe.norm_values)
        row = {"norm": np.nan, "norm_err": np.nan, "ts": np.nan, "stat": np.nan, "stat_null": np.nan,
               "success": False, "counts": 0.0, "npred": np.nan, "npred_excess": np.nan,
               "reason": "no observation in this time bin", "e_min": lo, "e_max": hi}
        if "errn-errp" in self.selection_optional:
            row.update(norm_errn=np.nan, norm_errp=np.nan)
        if "ul" in self.selection_optional:
            row["norm_ul"] = np.nan
        if "scan" in self.selection_optional:
            row.update(norm_scan=self._fpe.norm_values.copy(), stat_scan=np.full(n, np.nan))
        return row


def _build(rows, model, source, fpe) -> LightCurve:
    from .flux_points import build_flux_points

    fp = build_flux_points(rows, model, source, [], fpe)
    t = fp.table
    t.add_column(np.array([r["time_min"] for r in rows]) * u.d, name="time_min", index=0)
    t.add_column(np.array([r["time_max"] for r in rows]) * u.d, name="time_max", index=1)
    t["datasets"] = [r["datasets"] for r in rows]
    t.meta["TIMESYS"] = "utc"
    t.meta["TIMEUNIT"] = "d"  # time_min / time_max: MJD (UTC)
    return LightCurve(t)


class LightCurve(FluxPoints):
    """A light curve: a likelihood SED table with ``time_min`` / ``time_max`` (MJD) per row.

    One row per time bin and energy band. `to_table` gives the fluxes
    (``sed_type="flux"`` by default); `variability` runs the tests on one band.

    Parameters
    ----------
    table : astropy.table.Table
        Likelihood SED table with ``time_min`` / ``time_max`` columns (MJD, UTC).
    meta : dict, optional
        Merged into the table meta.

    Raises
    ------
    EstimatorError
        If ``time_min`` / ``time_max`` or a column `FluxPoints` requires is missing.
    """

    def __init__(self, table: Table, meta=None):
        if "time_min" not in table.colnames or "time_max" not in table.colnames:
            raise EstimatorError("A light curve table needs 'time_min' and 'time_max' columns (MJD)")
        super().__init__(table, meta)

    @property
    def time_min(self) -> Time:
        """Start of each row's time bin, an astropy Time (MJD, UTC)."""
        return Time(self.table["time_min"].quantity.to_value(u.d), format="mjd", scale="utc")

    @property
    def time_max(self) -> Time:
        """End of each row's time bin, an astropy Time (MJD, UTC)."""
        return Time(self.table["time_max"].quantity.to_value(u.d), format="mjd", scale="utc")

    @property
    def n_bands(self) -> int:
        """Number of energy bands."""
        return len(np.unique(np.asarray(self.table["e_min"], float)))

    def to_table(self, sed_type: str = "flux") -> Table:
        """The light curve as a Table of type ``sed_type``, with ``time_min``, ``time_max``, ``datasets``, ``reason``.

        Parameters
        ----------
        sed_type : {"flux", "likelihood", "dnde", "e2dnde", "eflux"}, optional
            SED type of the table.

        Returns
        -------
        astropy.table.Table
            One row per time bin and energy band.

        Raises
        ------
        EstimatorError
            For an unknown ``sed_type``.
        """
        out = super().to_table(sed_type)
        if "time_min" not in out.colnames:
            out.add_column(self.table["time_min"], index=0)
            out.add_column(self.table["time_max"], index=1)
        for c in ("datasets", "reason"):
            if c in self.table.colnames and c not in out.colnames:
                out[c] = self.table[c]
        return out

    def band(self, index: int = 0) -> Table:
        """The rows of energy band ``index`` (flux table).

        Parameters
        ----------
        index : int, optional
            Band index (in increasing energy; negative counts from the end).

        Returns
        -------
        astropy.table.Table
            The flux table's rows of that band.

        Raises
        ------
        EstimatorError
            If ``index`` is out of range.
        """
        t = self.to_table("flux")
        bands = np.unique(np.asarray(t["e_min"], float))
        if not -len(bands) <= index < len(bands):
            raise EstimatorError(f"Energy band {index} out of range: the light curve has {len(bands)} band(s)")
        return t[np.asarray(t["e_min"], float) == bands[index]]

    def variability(self, band: int = 0, sed_type: str = "flux") -> dict:
        """χ² to a constant (p-value) and fractional variance of band ``band`` (rows with a fit).

        Parameters
        ----------
        band : int, optional
            Band index (in increasing energy).
        sed_type : {"flux", "dnde", "e2dnde", "eflux"}, optional
            Which values are tested.

        Returns
        -------
        dict
            See `~gwidgets.core.estimators.variability.variability_tests`.

        Raises
        ------
        EstimatorError
            If fewer than two rows of the band have a successful fit with a positive error.
        """
        t = self.to_table(sed_type)
        bands = np.unique(np.asarray(t["e_min"], float))
        t = t[(np.asarray(t["e_min"], float) == bands[band]) & np.asarray(t["success"], bool)]
        return variability_tests(t[sed_type].quantity.value, t[f"{sed_type}_err"].quantity.value)

    @classmethod
    def read(cls, filename, format=None) -> LightCurve:
        """Read a light curve written by `~gwidgets.core.estimators.sed_table.FluxPoints.write`.

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            FITS or ECSV file.
        format : str, optional
            astropy Table format (default: from the extension).

        Returns
        -------
        LightCurve
            The light curve.

        Raises
        ------
        EstimatorError
            If the table has no ``time_min`` / ``time_max`` columns.
        `~gwidgets.errors.FileNotFoundGwError`
            If the file does not exist.
        """
        fp = FluxPoints.read(filename, format)
        return cls(fp.table)

    def __repr__(self):
        t = self.table
        n_t = len(t) // max(self.n_bands, 1)
        lo, hi = self.time_min, self.time_max
        span = f"MJD {lo.mjd.min():.4f}–{hi.mjd.max():.4f}" if len(t) else "empty"
        return (f"LightCurve(source={t.meta.get('source', '?')!r}, time bins={n_t}, energy bands={self.n_bands}, "
                f"{span}, upper limits={int(np.sum(self.is_ul))})")
