"""`FluxPoints`: an SED as an astropy Table in the GADF SED format, with conversions and FITS/ECSV I/O.

The table is stored in the *likelihood* SED type of the GADF specification
(https://gamma-astro-data-formats.readthedocs.io/en/latest/spectra/flux_points/):
one row per energy bin with ``e_ref, e_min, e_max`` (TeV), the reference model's
``ref_dnde, ref_flux, ref_eflux, ref_e2dnde`` and the norms ``norm, norm_err,
norm_errn, norm_errp, norm_ul`` relative to it, plus ``ts, sqrt_ts, npred,
npred_excess, counts, stat, stat_null, success, is_ul`` and, when a scan was
made, the likelihood profile ``norm_scan`` / ``stat_scan`` (one array per row).

`FluxPoints.to_table` converts to the other SED types: ``dnde``, ``e2dnde``,
``flux`` and ``eflux`` (each quantity = norm × the reference quantity), and
`write` / `read` round-trip the likelihood table through FITS or ECSV (format
from the file extension).

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
>>> fp = FluxPointsEstimator(energy_edges=[0.5, 2, 8, 30] * u.TeV, source="bright").run(datasets)
>>> fp.to_table("e2dnde")["e2dnde", "e2dnde_err", "is_ul"].colnames
['e2dnde', 'e2dnde_err', 'is_ul']
>>> fp.write("sed.fits")
>>> back = FluxPoints.read("sed.fits")
>>> bool(np.allclose(back.to_table("dnde")["dnde"], fp.to_table("dnde")["dnde"]))
True
"""
from __future__ import annotations

import math
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Table

from ...errors import DataFileError, FileNotFoundGwError, UnitError
from .norm_fit import EstimatorError

__all__ = ["FluxPoints", "SED_TYPES", "REF_UNITS", "likelihood_table"]

#: SED type → (reference column, unit); ``likelihood`` keeps the norms
REF_UNITS = {
    "dnde": ("ref_dnde", u.Unit("cm-2 s-1 TeV-1")),
    "e2dnde": ("ref_e2dnde", u.Unit("TeV cm-2 s-1")),
    "flux": ("ref_flux", u.Unit("cm-2 s-1")),
    "eflux": ("ref_eflux", u.Unit("TeV cm-2 s-1")),
}
SED_TYPES = ("likelihood", *REF_UNITS)
_NORM_COLS = ("norm", "norm_err", "norm_errn", "norm_errp", "norm_ul")
_COMMON = ("ts", "sqrt_ts", "npred", "npred_excess", "counts", "stat", "stat_null", "success", "is_ul")
_REQUIRED = ("e_min", "e_max", "ref_dnde", "ref_flux", "ref_eflux", "norm")
#: meta keys ↔ FITS keywords (8 characters)
_FITS_KEYS = {"source": "SOURCE", "n_sigma": "N_SIGMA", "n_sigma_ul": "N_SIG_UL", "sqrt_ts_threshold_ul": "TS_UL_TH",
              "spectral_model": "SPECMOD", "datasets": "DATASETS"}


def reference_columns(model, e_min, e_max, e_ref=None) -> dict:
    """``e_ref`` and the reference model's dnde, flux, eflux, e2dnde per bin.

    ``e_ref`` defaults to the log centre; floats in TeV units.

    Parameters
    ----------
    model : spectral model
        Reference model (``dnde_values``, ``integral_values``, ``energy_flux_values`` in TeV).
    e_min, e_max : array-like
        Bin edges in TeV.
    e_ref : array-like, optional
        Reference energies in TeV (default: ``sqrt(e_min × e_max)``).

    Returns
    -------
    dict of numpy.ndarray
        ``e_ref``, ``e_min``, ``e_max`` (TeV), ``ref_dnde`` (cm⁻² s⁻¹ TeV⁻¹), ``ref_flux`` (cm⁻² s⁻¹),
        ``ref_eflux`` and ``ref_e2dnde`` (TeV cm⁻² s⁻¹).

    Examples
    --------
    >>> from gwidgets.core.models import PowerLaw
    >>> ref = reference_columns(PowerLaw(index=2, amplitude="1e-12 cm-2 s-1 TeV-1"), [1.0], [4.0])
    >>> float(ref["e_ref"][0]), float(ref["ref_flux"][0])          # 1e-12 × (1 − 1/4) cm-2 s-1
    (2.0, 7.5e-13)
    """
    e_min, e_max = np.asarray(e_min, float), np.asarray(e_max, float)
    e_ref = np.sqrt(e_min * e_max) if e_ref is None else np.asarray(e_ref, float)
    dnde = np.asarray(model.dnde_values(e_ref), float)
    return {"e_ref": e_ref, "e_min": e_min, "e_max": e_max, "ref_dnde": dnde,
            "ref_flux": np.asarray(model.integral_values(e_min, e_max), float),
            "ref_eflux": np.asarray(model.energy_flux_values(e_min, e_max), float),
            "ref_e2dnde": e_ref**2 * dnde}


def _guess_sed_type(colnames):
    """The SED type a table's columns tell (gammapy's order of checks), or None."""
    for sed_type, column in (("likelihood", "norm"), ("e2dnde", "e2dnde"), ("dnde", "dnde"),
                             ("flux", "flux"), ("eflux", "eflux")):
        if column in colnames:
            return sed_type
    return None


def _tev_column(table, name, where):
    try:
        return table[name].quantity.to_value(u.TeV) if table[name].unit is not None else np.asarray(table[name], float)
    except u.UnitConversionError:
        raise UnitError(name, str(table[name].unit), "TeV", "SED table", where) from None


def likelihood_table(table: Table, sed_type: str, reference_model=None, where: str = "") -> Table:
    """A ``dnde``/``e2dnde``/``flux``/``eflux`` SED table as a likelihood table (norms × reference model).

    The energy bins are ``e_min``/``e_max`` with ``e_ref`` their log centre (or, with
    only ``e_ref``, the bins around those nodes, as gammapy); ``norm* = value* /
    ref_<sed_type>`` with the reference model (default gammapy's: power law of
    index 2, 1e-12 cm-2 s-1 TeV-1 at 1 TeV).

    Parameters
    ----------
    table : astropy.table.Table
        The SED table (``e_min`` / ``e_max`` or ``e_ref`` in an energy unit, and the ``sed_type`` columns).
    sed_type : {"dnde", "e2dnde", "flux", "eflux"}
        Its SED type.
    reference_model : spectral model, optional
        Reference model of the norms.
    where : str, optional
        Where the table came from, for the errors.

    Returns
    -------
    astropy.table.Table
        ``e_ref``, ``e_min``, ``e_max`` (TeV), the ``ref_*`` columns, ``norm``, ``norm_err`` ...
        and the common columns (``ts``, ``sqrt_ts``, ``counts`` ...) of the input.

    Raises
    ------
    `~gwidgets.errors.DataFileError`
        If the ``sed_type`` column or the energy columns are missing.
    `~gwidgets.errors.UnitError`
        If a column has a unit not convertible to the SED type's.

    Examples
    --------
    >>> t = Table({"e_min": [1, 3] * u.TeV, "e_max": [3, 10] * u.TeV,
    ...            "dnde": [2e-12, 1e-13] * u.Unit("cm-2 s-1 TeV-1")})
    >>> np.round(likelihood_table(t, "dnde")["norm"].data, 4)
    array([6., 3.])
    """
    from ..geom.axes import MapAxis
    from ..models import PowerLaw

    if sed_type not in table.colnames:
        raise DataFileError(f"{where}: an SED table of type '{sed_type}' needs a '{sed_type}' column "
                            f"(has: {', '.join(table.colnames)})", where)
    model = reference_model if reference_model is not None else PowerLaw(
        index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV")
    e_ref = None
    if "e_min" in table.colnames and "e_max" in table.colnames:
        e_min, e_max = _tev_column(table, "e_min", where), _tev_column(table, "e_max", where)
    elif "e_ref" in table.colnames:  # nodes only: they stay the reference energies
        e_ref = _tev_column(table, "e_ref", where)
        edges = MapAxis.from_nodes(e_ref, name="energy", interp="log", unit="TeV").edges.to_value(u.TeV)
        e_min, e_max = edges[:-1], edges[1:]
    else:
        raise DataFileError(f"{where}: an SED table needs e_min and e_max (or e_ref) columns", where)
    ref = reference_columns(model, e_min, e_max, e_ref)
    ref_col, unit = REF_UNITS[sed_type]
    out = Table(meta={k: v for k, v in table.meta.items() if k != "SED_TYPE"})
    out.meta["sed_type_init"] = sed_type
    for c in ("e_ref", "e_min", "e_max"):
        out[c] = ref[c] * u.TeV
    for c, ref_unit in (("ref_dnde", REF_UNITS["dnde"][1]), ("ref_flux", REF_UNITS["flux"][1]),
                        ("ref_eflux", REF_UNITS["eflux"][1]), ("ref_e2dnde", REF_UNITS["e2dnde"][1])):
        out[c] = ref[c] * ref_unit
    factor = ref[ref_col]
    for suffix in ("", "_err", "_errn", "_errp", "_ul"):
        name = sed_type + suffix
        if name in table.colnames:
            col = table[name]
            try:
                values = col.quantity.to_value(unit) if col.unit is not None else np.asarray(col, float)
            except u.UnitConversionError:
                raise UnitError(name, str(col.unit), unit, "SED table", where) from None
            out["norm" + suffix] = values / factor
    for c in _COMMON:
        if c in table.colnames:
            out[c] = table[c]
    scan = f"{sed_type}_scan"
    if scan in table.colnames and "stat_scan" in table.colnames:
        out["norm_scan"] = table[scan].quantity.to_value(unit) / factor[:, None]
        out["stat_scan"] = table["stat_scan"]
    return out


class FluxPoints:
    """Flux points (likelihood SED) of one source.

    Parameters
    ----------
    table : astropy Table
        Likelihood-type SED table (see module doc).
    meta : dict, optional
        Merged into the table meta (``n_sigma``, ``n_sigma_ul``, ``sqrt_ts_threshold_ul``, ``source``...).

    Raises
    ------
    EstimatorError
        If a required column (``e_min``, ``e_max``, ``ref_dnde``, ``ref_flux``, ``ref_eflux``, ``norm``) is missing.
    """

    def __init__(self, table: Table, meta=None):
        missing = [c for c in _REQUIRED if c not in table.colnames]
        if missing:
            raise EstimatorError(f"A likelihood SED table needs the columns {missing} (has: {table.colnames})")
        self.table = table
        self.table.meta.update(meta or {})
        self.table.meta.setdefault("SED_TYPE", "likelihood")
        self.table.meta.setdefault("sqrt_ts_threshold_ul", 2.0)
        n_sigma_ul = float(self.table.meta.get("n_sigma_ul", 2.0))
        self.table.meta.setdefault("n_sigma_ul", n_sigma_ul)
        if "UL_CONF" not in self.table.meta:  # two-sided Gaussian probability of ± n_sigma_ul
            self.table.meta["UL_CONF"] = math.erf(n_sigma_ul / math.sqrt(2.0))
        self._fill_derived()

    def _fill_derived(self):
        t = self.table
        if "ref_e2dnde" not in t.colnames:
            t["ref_e2dnde"] = (t["e_ref"].quantity**2 * t["ref_dnde"].quantity).to(REF_UNITS["e2dnde"][1])
        if "ts" in t.colnames and "sqrt_ts" not in t.colnames:
            ts = np.asarray(t["ts"], float)
            with np.errstate(invalid="ignore"):
                t["sqrt_ts"] = np.sign(np.asarray(t["norm"], float)) * np.sqrt(np.clip(ts, 0, None))
        if "sqrt_ts" in t.colnames and "is_ul" not in t.colnames:
            t["is_ul"] = np.asarray(t["sqrt_ts"], float) < self.sqrt_ts_threshold_ul

    # ------------------------------------------------------------ properties
    @property
    def sqrt_ts_threshold_ul(self) -> float:
        """sqrt(TS) below which a point is an upper limit (meta ``sqrt_ts_threshold_ul``, default 2)."""
        return float(self.table.meta.get("sqrt_ts_threshold_ul", 2.0))

    @property
    def n_sigma_ul(self) -> float:
        """Width of the upper limits in σ (meta ``n_sigma_ul``, default 2)."""
        return float(self.table.meta.get("n_sigma_ul", 2.0))

    @property
    def energy_edges(self) -> u.Quantity:
        """Bin edges (n + 1,) as a Quantity in TeV (assumes contiguous bins)."""
        t = self.table
        return np.append(t["e_min"].quantity.to_value("TeV"), t["e_max"].quantity.to_value("TeV")[-1]) * u.TeV

    @property
    def energy_ref(self) -> u.Quantity:
        """Reference energies of the points, a Quantity in TeV."""
        return self.table["e_ref"].quantity.to("TeV")

    @property
    def is_ul(self) -> np.ndarray:
        """Boolean array: which points are upper limits."""
        return np.asarray(self.table["is_ul"], bool)

    def __len__(self):
        return len(self.table)

    def __getitem__(self, name):
        """A column as a Quantity: the likelihood columns, or any SED type's (e.g. ``fp["dnde_err"]``)."""
        if name in self.table.colnames:
            col = self.table[name]
            return col.quantity if col.unit is not None else np.asarray(col)
        for sed_type in REF_UNITS:
            if name == sed_type or name.startswith(sed_type + "_"):
                table = self.to_table(sed_type)
                if name in table.colnames:
                    return table[name].quantity
        raise KeyError(f"No column '{name}' in the flux points (columns: {', '.join(self.table.colnames)})")

    # ------------------------------------------------------------ conversion
    def to_table(self, sed_type: str = "likelihood") -> Table:
        """The SED as a Table of type ``sed_type``: "likelihood", "dnde", "e2dnde", "flux" or "eflux".

        Parameters
        ----------
        sed_type : {"likelihood", "dnde", "e2dnde", "flux", "eflux"}, optional
            SED type of the table.

        Returns
        -------
        astropy.table.Table
            A copy of the likelihood table, or the norms times the reference column (``dnde`` in
            cm⁻² s⁻¹ TeV⁻¹, ``flux`` in cm⁻² s⁻¹, ``eflux`` and ``e2dnde`` in TeV cm⁻² s⁻¹) with their errors,
            upper limits, scans and the common columns.

        Raises
        ------
        EstimatorError
            For an unknown ``sed_type``.
        """
        if sed_type not in SED_TYPES:
            raise EstimatorError(f"Unknown sed_type '{sed_type}' (use one of: {', '.join(SED_TYPES)})")
        t = self.table
        if sed_type == "likelihood":
            return t.copy()
        ref_col, unit = REF_UNITS[sed_type]
        ref = t[ref_col].quantity.to(unit)
        out = Table(meta=dict(t.meta, SED_TYPE=sed_type))
        for c in ("e_ref", "e_min", "e_max"):
            out[c] = t[c]
        for c in _NORM_COLS:
            if c in t.colnames:
                out[sed_type + c[4:]] = np.asarray(t[c], float) * ref
        for c in (*_COMMON, "norm_scan"):
            if c in t.colnames:
                out[c] = t[c]
        if "norm_scan" in t.colnames:
            out[f"{sed_type}_scan"] = np.asarray(t["norm_scan"], float) * ref[:, None]
            out["stat_scan"] = t["stat_scan"]
        return out

    # ------------------------------------------------------------------- I/O
    @staticmethod
    def _format(filename, format):
        if format is not None:
            return format
        name = str(filename).lower()
        if name.endswith(".ecsv"):
            return "ascii.ecsv"
        if name.endswith((".fits", ".fits.gz", ".fit")):
            return "fits"
        raise EstimatorError(f"Cannot tell the format of '{filename}' from its extension: use .fits or .ecsv "
                             "(or pass format=)")

    def write(self, filename, sed_type: str = "likelihood", overwrite: bool = False, format=None):
        """Write the table (FITS or ECSV by extension) as ``sed_type`` (likelihood keeps everything).

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            Output file (``.fits`` or ``.ecsv`` unless ``format`` is given).
        sed_type : {"likelihood", "dnde", "e2dnde", "flux", "eflux"}, optional
            SED type written.
        overwrite : bool, optional
            Whether an existing file is replaced.
        format : str, optional
            astropy Table format (``"fits"``, ``"ascii.ecsv"``).

        Raises
        ------
        EstimatorError
            If the format cannot be told from the extension, or for an unknown ``sed_type``.
        """
        fmt = self._format(filename, format)
        table = self.to_table(sed_type)
        table.meta = {k: (v if not isinstance(v, np.generic) else v.item()) for k, v in table.meta.items()}
        if fmt == "fits":
            table.meta = {_FITS_KEYS.get(k, k): v for k, v in table.meta.items()}
        table.write(str(filename), format=fmt, overwrite=overwrite)

    @classmethod
    def read(cls, filename, format=None, reference_model=None) -> FluxPoints:
        """Read an SED table of any GADF SED type (``SED_TYPE`` keyword, else guessed from the columns).

        Likelihood tables keep their reference model and norms. ``dnde``, ``e2dnde``,
        ``flux`` and ``eflux`` tables become norms relative to ``reference_model``
        (default: gammapy's, a power law of index 2), as gammapy's ``FluxPoints.read``
        does, so the values of the file's SED type are exact and the other types
        are converted with that model's shape inside each bin.

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            FITS or ECSV file.
        format : str, optional
            astropy Table format (default: from the extension).
        reference_model : spectral model, optional
            Reference model of the norms for non-likelihood tables.

        Returns
        -------
        FluxPoints
            The flux points (energies in TeV).

        Raises
        ------
        `~gwidgets.errors.FileNotFoundGwError`
            If the file does not exist.
        `~gwidgets.errors.DataFileError`
            If it cannot be read, or its SED type is unknown or its columns incomplete.
        EstimatorError
            If the format cannot be told from the extension.
        """
        path = Path(filename)
        if not path.exists():
            raise FileNotFoundGwError(path)
        fmt = cls._format(path, format)
        try:
            table = Table.read(str(path), format=fmt)
        except Exception as exc:
            raise DataFileError(f"Cannot read flux points from '{path}': {exc}", path) from exc
        inverse = {v: k for k, v in _FITS_KEYS.items()}
        table.meta = {inverse.get(k, k): v for k, v in table.meta.items()}
        sed_type = str(table.meta.get("SED_TYPE") or _guess_sed_type(table.colnames) or "").strip()
        if sed_type not in SED_TYPES:
            raise DataFileError(f"'{path}': SED_TYPE '{sed_type}' is not one of {', '.join(SED_TYPES)} "
                                "(and no dnde / e2dnde / flux / eflux / norm column tells it)", path)
        if sed_type != "likelihood":
            table = likelihood_table(table, sed_type, reference_model, where=f"'{path}'")
        for c in ("e_ref", "e_min", "e_max"):
            if c in table.colnames and table[c].unit is not None:
                table[c] = table[c].quantity.to("TeV")
        if "e_ref" not in table.colnames:
            table["e_ref"] = np.sqrt(table["e_min"].quantity * table["e_max"].quantity).to("TeV")
        return cls(table)

    # --------------------------------------------------------------- display
    def __repr__(self):
        t = self.table
        e = self.energy_edges.to_value("TeV")
        n_ul = int(np.sum(self.is_ul)) if "is_ul" in t.colnames else 0
        cols = [c for c in ("norm_err", "norm_errn", "norm_ul", "stat_scan") if c in t.colnames]
        return (f"FluxPoints(source={t.meta.get('source', '?')!r}, n_points={len(t)}, "
                f"energy=[{e[0]:.3g}, {e[-1]:.3g}] TeV, upper limits={n_ul}, "
                f"sed_type_init={t.meta.get('sed_type_init', 'likelihood')!r}, has={cols})")

    def _repr_html_(self):
        return f"<p><b>{self!r}</b></p>" + self.to_table("e2dnde")._repr_html_()
