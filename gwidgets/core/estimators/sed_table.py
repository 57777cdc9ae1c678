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
>>> fp = FluxPointsEstimator(energy_edges=[1, 3, 10] * u.TeV, source="crab").run(datasets)   # doctest: +SKIP
>>> fp.to_table("e2dnde")["e2dnde", "e2dnde_err", "is_ul"]                                 # doctest: +SKIP
>>> fp.write("crab_sed.fits"); FluxPoints.read("crab_sed.fits")                             # doctest: +SKIP
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import astropy.units as u
from astropy.table import Table

from ...errors import DataFileError, FileNotFoundGwError
from .norm_fit import EstimatorError

__all__ = ["FluxPoints", "SED_TYPES", "REF_UNITS"]

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


def reference_columns(model, e_min, e_max) -> dict:
    """``e_ref`` (log centre) and the reference model's dnde, flux, eflux, e2dnde per bin (floats in TeV units)."""
    e_min, e_max = np.asarray(e_min, float), np.asarray(e_max, float)
    e_ref = np.sqrt(e_min * e_max)
    dnde = np.asarray(model.dnde_values(e_ref), float)
    return {"e_ref": e_ref, "e_min": e_min, "e_max": e_max, "ref_dnde": dnde,
            "ref_flux": np.asarray(model.integral_values(e_min, e_max), float),
            "ref_eflux": np.asarray(model.energy_flux_values(e_min, e_max), float),
            "ref_e2dnde": e_ref**2 * dnde}


class FluxPoints:
    """Flux points (likelihood SED) of one source.

    Parameters
    ----------
    table : astropy Table
        Likelihood-type SED table (see module doc).
    meta : dict, optional
        Merged into the table meta (``n_sigma``, ``n_sigma_ul``, ``sqrt_ts_threshold_ul``, ``source``...).
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
        return float(self.table.meta.get("sqrt_ts_threshold_ul", 2.0))

    @property
    def n_sigma_ul(self) -> float:
        return float(self.table.meta.get("n_sigma_ul", 2.0))

    @property
    def energy_edges(self) -> u.Quantity:
        t = self.table
        return np.append(t["e_min"].quantity.to_value("TeV"), t["e_max"].quantity.to_value("TeV")[-1]) * u.TeV

    @property
    def energy_ref(self) -> u.Quantity:
        return self.table["e_ref"].quantity.to("TeV")

    @property
    def is_ul(self) -> np.ndarray:
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
        """The SED as a Table of type ``sed_type``: "likelihood", "dnde", "e2dnde", "flux" or "eflux"."""
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
        """Write the table (FITS or ECSV by extension) as ``sed_type`` (likelihood keeps everything)."""
        fmt = self._format(filename, format)
        table = self.to_table(sed_type)
        table.meta = {k: (v if not isinstance(v, np.generic) else v.item()) for k, v in table.meta.items()}
        if fmt == "fits":
            table.meta = {_FITS_KEYS.get(k, k): v for k, v in table.meta.items()}
        table.write(str(filename), format=fmt, overwrite=overwrite)

    @classmethod
    def read(cls, filename, format=None) -> "FluxPoints":
        """Read a likelihood SED table written by `write` (or gammapy's ``gadf-sed`` likelihood tables)."""
        path = Path(filename)
        if not path.exists():
            raise FileNotFoundGwError(path)
        fmt = cls._format(path, format)
        try:
            table = Table.read(str(path), format=fmt)
        except Exception as exc:  # noqa: BLE001
            raise DataFileError(f"Cannot read flux points from '{path}': {exc}", path) from exc
        inverse = {v: k for k, v in _FITS_KEYS.items()}
        table.meta = {inverse.get(k, k): v for k, v in table.meta.items()}
        sed_type = str(table.meta.get("SED_TYPE", "likelihood")).strip()
        if sed_type != "likelihood":
            raise DataFileError(f"'{path}' holds SED_TYPE '{sed_type}': only likelihood SED tables can be read "
                                "(they keep the reference model and the norms)", path)
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
                f"sed_type_init='likelihood', has={cols})")

    def _repr_html_(self):
        return f"<p><b>{self!r}</b></p>" + self.to_table("e2dnde")._repr_html_()
