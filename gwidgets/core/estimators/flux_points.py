"""`FluxPointsEstimator`: flux points of one source in energy bins (gammapy's algorithm, vectorised).

For every energy bin the datasets are restricted to the reco bins inside it
(the requested edges snapped to the nearest edges of each dataset's energy
axis, as gammapy's ``slice_by_energy``; combined with the datasets' own
``mask_safe & mask_fit``), every model parameter stays frozen at its current
value (fit the model first) and only a norm multiplying the source's spectrum is
fitted. See `~gwidgets.core.estimators.norm_fit` for the per-bin estimates
(norm, error, asymmetric errors, upper limit, TS, npred, counts, likelihood scan).

Examples
--------
Four runs of the simulated example store; the model is the truth of its source "bright"
(fitted first, in an analysis: ``Fit().run(datasets)``):

>>> from gwidgets.core.models import LogParabola, SkyModel
>>> from gwidgets.core.datasets import example_spectrum_datasets
>>> datasets = example_spectrum_datasets([1001, 1002, 1003, 1004])
>>> datasets.models = SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.4, beta=0.1),
...                            name="bright")
>>> from gwidgets.core.estimators import FluxPointsEstimator
>>> fpe = FluxPointsEstimator(energy_edges=[0.5, 2, 8, 30] * u.TeV, source="bright",
...                           selection_optional=["errn-errp", "ul", "scan"])
>>> fp = fpe.run(datasets)
>>> table = fp.to_table("e2dnde")
>>> len(table), table["e2dnde"].unit
(3, Unit("TeV / (s cm2)"))
>>> norm = fp.to_table("likelihood")["norm"]            # flux / the model's flux: 1 is the truth
>>> bool(abs(norm[0] - 1) < 0.2)
True
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import Table

from ..datasets.base import to_edges
from .base import Estimator
from .norm_fit import DEFAULT_SCAN, EstimatorError, NormLikelihood, estimate_norm, resolve_source
from .sed_table import FluxPoints, reference_columns

__all__ = ["FluxPointsEstimator", "snap_mask", "OPTIONAL", "as_dataset_list"]

#: optional steps (gammapy's names); "all" selects every one
OPTIONAL = ("errn-errp", "ul", "scan")


def _selection(selection_optional):
    if selection_optional is None:
        return ()
    if selection_optional == "all":
        return OPTIONAL
    if isinstance(selection_optional, str):
        selection_optional = [selection_optional]
    bad = [s for s in selection_optional if s not in OPTIONAL]
    if bad:
        raise EstimatorError(f"Unknown selection_optional {bad} (use 'all' or any of {list(OPTIONAL)})")
    return tuple(selection_optional)


def as_dataset_list(datasets) -> list:
    """A plain list of datasets from a dataset, a list or a `Datasets`.

    Parameters
    ----------
    datasets : dataset, list or `~gwidgets.core.datasets.datasets.Datasets`
        What was passed to ``run``.

    Returns
    -------
    list
        The datasets.

    Raises
    ------
    EstimatorError
        If there is no dataset.
    """
    if hasattr(datasets, "stat_type") and hasattr(datasets, "counts"):
        return [datasets]
    out = list(datasets)
    if not out:
        raise EstimatorError("No datasets given")
    return out


def snap_mask(energy_edges, e_lo, e_hi):
    """Reco bins between the edges nearest (in log energy) to ``e_lo`` and ``e_hi``, and those edges.

    The same snapping as gammapy's ``MapAxis.group_table``.

    Parameters
    ----------
    energy_edges : array-like
        Reco-energy bin edges in TeV.
    e_lo, e_hi : float
        Wanted bin bounds in TeV.

    Returns
    -------
    mask : numpy.ndarray
        Boolean mask of the reco bins in the snapped range.
    edges : tuple of float
        The snapped (e_lo, e_hi) in TeV.

    Examples
    --------
    >>> import numpy as np
    >>> mask, edges = snap_mask(np.array([1.0, 2.0, 4.0, 8.0]), 1.9, 7.0)
    >>> mask.tolist(), [float(e) for e in edges]
    ([False, True, True], [2.0, 8.0])
    """
    e = np.asarray(energy_edges, float)
    n = len(e) - 1
    pix = np.interp(np.log([e_lo, e_hi]), np.log(e), np.arange(n + 1), left=-np.inf, right=np.inf)
    i0, i1 = (int(v) for v in np.round(np.clip(pix, 0, n)))
    mask = np.zeros(n, bool)
    mask[i0:i1] = True
    return mask, (e[i0], e[i1])


def _norm_values(norm):
    if norm is None:
        return DEFAULT_SCAN
    values = np.asarray(norm, float).ravel()
    if values.size < 2:
        raise EstimatorError("norm scan values: give at least two values")
    return values


class FluxPointsEstimator(Estimator):
    """Flux points of ``source`` in ``energy_edges``.

    Parameters
    ----------
    energy_edges : Quantity (or floats in TeV)
        Edges of the flux point bins.
    source : str or int
        Name (or index) of the source component in the datasets' models.
    selection_optional : list of {"errn-errp", "ul", "scan"} or "all", optional
        Optional estimates (asymmetric errors, upper limits, likelihood scan).
    n_sigma : float
        Width of the errors (1: ``Δstat = 1``).
    n_sigma_ul : float
        Upper limits at ``Δstat = n_sigma_ul²`` (2 → 95.45 % confidence).
    sqrt_ts_threshold_ul : float
        Points with sqrt(TS) below this are flagged ``is_ul``.
    norm_values : array, optional
        Norm scan values (default: 11 log-spaced values 0.2–5, as gammapy).

    Raises
    ------
    EstimatorError
        For an unknown ``selection_optional``, ``n_sigma`` or ``n_sigma_ul`` ≤ 0, or fewer than two
        norm scan values.
    """

    def __init__(self, energy_edges=(1, 10) * u.TeV, source=0, selection_optional=None, n_sigma=1.0, n_sigma_ul=2.0,
                 sqrt_ts_threshold_ul=2.0, norm_values=None):
        self.energy_edges = to_edges(energy_edges, "FluxPointsEstimator energy_edges")
        self.source = source
        self.selection_optional = _selection(selection_optional)
        if n_sigma <= 0 or n_sigma_ul <= 0:
            raise EstimatorError(f"n_sigma ({n_sigma}) and n_sigma_ul ({n_sigma_ul}) must be positive")
        self.n_sigma = float(n_sigma)
        self.n_sigma_ul = float(n_sigma_ul)
        self.sqrt_ts_threshold_ul = float(sqrt_ts_threshold_ul)
        self.norm_values = _norm_values(norm_values)

    def __repr__(self):
        e = self.energy_edges
        return (f"FluxPointsEstimator(n_bins={len(e) - 1}, energy=[{e[0]:.3g}, {e[-1]:.3g}] TeV, "
                f"source={self.source!r}, selection_optional={list(self.selection_optional)}, "
                f"n_sigma={self.n_sigma}, n_sigma_ul={self.n_sigma_ul})")

    # ------------------------------------------------------------------ run
    def estimate_bin(self, datasets, e_lo, e_hi, cache=None) -> dict:
        """The estimates for one energy bin (a dict; per-dataset arrays for counts / npred).

        Parameters
        ----------
        datasets : list of datasets
            The 1D datasets with the fitted model.
        e_lo, e_hi : float
            Bin bounds in TeV (snapped to each dataset's reco edges, see `snap_mask`).
        cache : dict, optional
            Per-dataset predictions shared between bins.

        Returns
        -------
        dict
            `~gwidgets.core.estimators.norm_fit.estimate_norm`'s entries plus ``e_min`` / ``e_max``
            (the snapped bounds of the first dataset with bins there, TeV).
        """
        masks, edges = [], []
        for d in datasets:
            m, snapped = snap_mask(d.energy_edges, e_lo, e_hi)
            masks.append(m)
            if m.any():
                edges.append(snapped)
        like = NormLikelihood(datasets, self.source, masks, cache)
        row = estimate_norm(like, self.selection_optional, self.n_sigma, self.n_sigma_ul, self.norm_values)
        lo, hi = edges[0] if edges else (e_lo, e_hi)
        row["e_min"], row["e_max"] = lo, hi
        return row

    def run(self, datasets) -> FluxPoints:
        """Flux points for ``datasets`` (a dataset, list or `Datasets` with a fitted model).

        Parameters
        ----------
        datasets : dataset, list or `~gwidgets.core.datasets.datasets.Datasets`
            1D datasets with the fitted model.

        Returns
        -------
        `~gwidgets.core.estimators.sed_table.FluxPoints`
            One row per energy bin.

        Raises
        ------
        EstimatorError
            If there is no dataset, the source is unknown, or no bin holds data.
        """
        datasets = as_dataset_list(datasets)
        source = resolve_source(datasets, self.source)
        e = self.energy_edges
        cache = {}  # per-dataset predictions, shared by the bins
        rows = [self.estimate_bin(datasets, lo, hi, cache) for lo, hi in zip(e[:-1], e[1:])]
        if not any(r.get("reason") != "no data in this bin" for r in rows):
            ranges = ", ".join(f"{d.name}: [{d.energy_range[0]:.3g}, {d.energy_range[1]:.3g}] TeV" for d in datasets)
            raise EstimatorError(f"No data in the flux point energy range [{e[0]:.4g}, {e[-1]:.4g}] TeV: "
                                 f"the datasets' fit ranges are {ranges}")
        model = source_spectral(datasets, source)
        return build_flux_points(rows, model, source, [d.name for d in datasets], self)


def source_spectral(datasets, source):
    """The spectral model of component ``source`` in the datasets' models.

    Parameters
    ----------
    datasets : iterable of datasets
        Datasets with models.
    source : str
        Component name.

    Returns
    -------
    spectral model
        The component's spectral model.

    Raises
    ------
    EstimatorError
        If no (non-background) component has that name.
    """
    from ..datasets.base import model_components

    for d in datasets:
        for c in model_components(d.models):
            if c.name == source and not c.background:
                return c.spectral
    raise EstimatorError(f"No source named '{source}'")


def build_flux_points(rows, model, source, names, estimator) -> FluxPoints:
    """A `FluxPoints` from per-bin estimate dicts (reference columns from ``model`` copied at its current values).

    Parameters
    ----------
    rows : list of dict
        Per-bin estimates (`FluxPointsEstimator.estimate_bin`).
    model : spectral model
        Reference spectral model.
    source : str
        Source name, stored in the metadata.
    names : list of str
        Dataset names, stored in the metadata.
    estimator : FluxPointsEstimator
        Its ``n_sigma``, ``n_sigma_ul`` and ``sqrt_ts_threshold_ul`` are used.

    Returns
    -------
    `~gwidgets.core.estimators.sed_table.FluxPoints`
        Energies in TeV, reference fluxes (dnde in cm⁻² s⁻¹ TeV⁻¹, flux in cm⁻² s⁻¹, eflux and e2dnde in
        TeV cm⁻² s⁻¹), the norm columns, ``sqrt_ts``, ``is_ul``, counts and predictions.
    """
    e_min = np.array([r["e_min"] for r in rows])
    e_max = np.array([r["e_max"] for r in rows])
    ref = reference_columns(model, e_min, e_max)
    t = Table()
    t["e_ref"] = ref["e_ref"] * u.TeV
    t["e_min"] = e_min * u.TeV
    t["e_max"] = e_max * u.TeV
    t["ref_dnde"] = ref["ref_dnde"] * u.Unit("cm-2 s-1 TeV-1")
    t["ref_flux"] = ref["ref_flux"] * u.Unit("cm-2 s-1")
    t["ref_eflux"] = ref["ref_eflux"] * u.Unit("TeV cm-2 s-1")
    t["ref_e2dnde"] = ref["ref_e2dnde"] * u.Unit("TeV cm-2 s-1")
    for c in ("norm", "norm_err", "norm_errn", "norm_errp", "norm_ul", "ts"):
        if c in rows[0]:
            t[c] = np.array([r[c] for r in rows], float)
    norm = np.asarray(t["norm"], float)
    with np.errstate(invalid="ignore"):
        t["sqrt_ts"] = np.where(norm > 0, 1.0, -1.0) * np.sqrt(np.clip(np.asarray(t["ts"], float), 0, None))
        t["sqrt_ts"][~np.isfinite(np.asarray(t["ts"], float))] = np.nan
    for c in ("npred", "npred_excess", "counts"):
        t[c] = np.array([r[c] for r in rows], float)
    for c in ("stat", "stat_null"):
        t[c] = np.array([r[c] for r in rows], float)
    t["success"] = np.array([bool(r["success"]) for r in rows])
    with np.errstate(invalid="ignore"):
        t["is_ul"] = np.asarray(t["sqrt_ts"], float) < estimator.sqrt_ts_threshold_ul
    if "stat_scan" in rows[0]:
        t["norm_scan"] = np.array([r["norm_scan"] for r in rows], float)
        t["stat_scan"] = np.array([r["stat_scan"] for r in rows], float)
    t["reason"] = [str(r.get("reason", "")) for r in rows]
    meta = {"SED_TYPE": "likelihood", "source": source, "n_sigma": estimator.n_sigma,
            "n_sigma_ul": estimator.n_sigma_ul, "sqrt_ts_threshold_ul": estimator.sqrt_ts_threshold_ul,
            "datasets": ",".join(names), "spectral_model": type(model).__name__}
    return FluxPoints(t, meta=meta)
