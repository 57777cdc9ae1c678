"""IRF base: named binned axes + data, evaluated with gammapy-compatible interpolation.

Interpolation follows gammapy 2.1 exactly (so values agree to ~1e-7):
`scipy.interpolate.RegularGridInterpolator` on the bin *centres* (geometric
for energy axes, interpolated in log energy; arithmetic elsewhere), values
optionally in log scale, extrapolation inside the axes' edges, clipped at 0,
and ``fill_value`` outside the edges.
"""
from __future__ import annotations

import numpy as np
import astropy.units as u
from scipy.interpolate import RegularGridInterpolator

from ...errors import MissingColumnError, UnitError
from ..geom import MapAxis
from ..io.fits import parse_unit

__all__ = ["IRF", "axis_from_hdu"]

_TINY32 = np.finfo(np.float32).tiny

# GADF column stems for each axis name, in order of preference
_AXIS_COLUMNS = {
    "energy_true": ("ENERG", "ETRUE"),
    "energy": ("ENERG", "EREC", "ERECO"),
    "offset": ("THETA",),
    "migra": ("MIGRA",),
    "rad": ("RAD",),
    "fov_lon": ("DETX",),
    "fov_lat": ("DETY",),
}
_AXIS_UNITS = {"energy_true": "TeV", "energy": "TeV", "offset": "deg", "migra": "", "rad": "deg",
               "fov_lon": "deg", "fov_lat": "deg"}


def axis_from_hdu(hdu, name: str) -> MapAxis:
    """A `MapAxis` from the ``<STEM>_LO/_HI`` columns of a GADF IRF HDU."""
    for stem in _AXIS_COLUMNS[name]:
        if hdu.has_column(f"{stem}_LO"):
            break
    else:
        raise MissingColumnError(f"{_AXIS_COLUMNS[name][0]}_LO", hdu.name, hdu.filename, hdu.columns)
    unit = _AXIS_UNITS[name]
    lo = np.ravel(hdu.quantity(f"{stem}_LO", unit or None, default_unit=unit or None)[0])
    hi = np.ravel(hdu.quantity(f"{stem}_HI", unit or None, default_unit=unit or None)[0])
    interp = "log" if name.startswith("energy") else "lin"
    if np.array_equal(lo.value, hi.value) or np.allclose(lo.value, hi.value):
        return MapAxis.from_nodes(hi, name=name, interp=interp)
    edges = np.append(lo.value, hi.value[-1]) * lo.unit
    return MapAxis(edges, name=name, interp=interp)


class IRF:
    """Base class of tabulated IRFs.

    Subclasses set ``tag`` (GADF HDU class), ``required_axes``, ``column``
    (data column), ``default_unit``, ``values_scale`` and ``fill_value``.
    """

    tag = ""
    required_axes: tuple = ()
    column = ""
    column_aliases: tuple = ()
    default_unit = u.one
    values_scale = "lin"
    fill_value = 0.0

    def __init__(self, axes, data, unit=None, meta=None, is_pointlike=False):
        self.axes = {ax.name: ax for ax in axes}
        data = np.asarray(data)
        self.data = data if data.dtype.kind == "f" else data.astype(float)
        shape = tuple(self.axes[n].nbin for n in self.required_axes)
        if self.data.shape != shape:
            raise ValueError(f"{type(self).__name__}: data shape {self.data.shape} does not match axes {shape}")
        self.unit = u.Unit(unit if unit is not None else self.default_unit)
        self.meta = dict(meta or {})
        self.is_pointlike = bool(is_pointlike)
        self._interp = None

    # ------------------------------------------------------------------ I/O
    @classmethod
    def from_hdu(cls, hdu):
        """Read from a GADF table HDU (`gwidgets.core.io.fits.TableHDU`)."""
        axes = [axis_from_hdu(hdu, name) for name in cls.required_axes]
        column = next((c for c in (cls.column, *cls.column_aliases) if hdu.has_column(c)), None)
        if column is None:
            raise MissingColumnError(cls.column, hdu.name, hdu.filename, hdu.columns)
        text = hdu.unit(column)
        try:
            unit = parse_unit(text) if text else cls.default_unit
        except ValueError:
            raise UnitError(cls.column, text, cls.default_unit, hdu.name, hdu.filename) from None
        if not unit.is_equivalent(cls.default_unit):
            raise UnitError(cls.column, text, cls.default_unit, hdu.name, hdu.filename)
        raw = np.asarray(hdu.column(column)[0])
        data = raw.T  # kept in the file's precision (float32): half the memory, same values as gammapy
        shape = tuple(ax.nbin for ax in axes)
        if data.shape != shape and data.T.shape == shape:
            # H.E.S.S. and CTA background files store (lon, lat, E) instead of GADF's (E, lat, lon);
            # read them as gammapy does, so values agree
            data = data.T
        meta = dict(hdu.header)
        meta["FILENAME"] = hdu.filename
        pointlike = str(meta.get("HDUCLAS3", "")).strip().upper() == "POINT-LIKE"
        irf = cls(axes, data, unit, meta, pointlike)
        irf._file_dtype = raw.dtype
        return irf

    _file_dtype = np.dtype(float)

    def to_hdu(self, name: str | None = None):
        """A GADF ``BinTableHDU`` (one row, array cells)."""
        from astropy.io import fits

        cols = []
        for ax in (self.axes[n] for n in self.required_axes):
            stem = _AXIS_COLUMNS[ax.name][0]
            unit = ax.unit.to_string("fits") if ax.unit != u.one else ""
            for suffix, values in (("_LO", ax.edges_min.value), ("_HI", ax.edges_max.value)):
                cols.append(fits.Column(stem + suffix, f"{len(values)}E", unit=unit or None, array=values[np.newaxis]))
        data = self.data.T[np.newaxis].astype(np.float32)
        dim = "(" + ",".join(str(n) for n in data.shape[:0:-1]) + ")"
        cols.append(fits.Column(self.column, f"{data[0].size}E", unit=self.unit.to_string("fits") or None, dim=dim, array=data))
        hdu = fits.BinTableHDU.from_columns(cols, name=name or self.tag.upper())
        for key, value in self.meta.items():
            if key in ("FILENAME",) or key.startswith(("TTYPE", "TFORM", "TUNIT", "TDIM", "NAXIS", "TFIELDS")) or key in (
                "XTENSION", "BITPIX", "PCOUNT", "GCOUNT", "EXTNAME"):
                continue
            if isinstance(value, (str, int, float, bool)) and len(key) <= 8:
                hdu.header[key] = value
        hdu.header["HDUCLASS"] = "GADF"
        hdu.header["HDUCLAS1"] = "RESPONSE"
        hdu.header["HDUCLAS3"] = "POINT-LIKE" if self.is_pointlike else "FULL-ENCLOSURE"
        hdu.header["HDUCLAS4"] = self.tag.upper()
        return hdu

    # ------------------------------------------------------------- evaluate
    def _interpolator(self):
        if self._interp is None:
            points, keep = [], []
            for name in self.required_axes:
                ax = self.axes[name]
                c = ax.center.value
                points.append(np.log(c) if ax.interp == "log" else c)
                keep.append(len(c) > 1)
            values = self.data
            if self.values_scale == "log":
                # log in the file's precision, as gammapy does (zeros clip to that dtype's tiny)
                stored = values.astype(self._file_dtype) if self._file_dtype.kind == "f" else values
                tiny = np.finfo(stored.dtype).tiny
                values = np.log(np.clip(stored, tiny, np.inf))
            self._keep = keep
            pts = tuple(p for p, k in zip(points, keep) if k)
            self._interp = RegularGridInterpolator(pts, np.squeeze(values) if not all(keep) else values,
                                                   bounds_error=False, fill_value=None)
        return self._interp

    def _multilinear(self, raw_arrays):
        """Linear interpolation/extrapolation on the node grid, separable per axis.

        Same arithmetic as scipy's RegularGridInterpolator (linear, fill_value=None),
        but each axis' cell index and weight are computed on that axis' own
        (un-broadcast) coordinates: reprojecting an IRF on a sky cube costs a few
        gathers instead of a cell search per point.
        """
        interp = self._interpolator()
        grids = interp.grid
        table = interp.values
        idx, wts = [], []
        kept = [x for x, k in zip(raw_arrays, self._keep) if k]
        names = [n for n, k in zip(self.required_axes, self._keep) if k]
        for name, x, grid in zip(names, kept, grids):
            t = np.log(x) if self.axes[name].interp == "log" else np.asarray(x, float)
            i = np.clip(np.searchsorted(grid, t) - 1, 0, len(grid) - 2)
            w = (t - grid[i]) / (grid[i + 1] - grid[i])
            idx.append(i)
            wts.append(w)
        out = 0.0
        n = len(idx)
        for corner in range(2**n):
            index, weight = [], 1.0
            for d in range(n):
                up = (corner >> d) & 1
                index.append(idx[d] + up)
                weight = weight * (wts[d] if up else 1.0 - wts[d])
            out = out + weight * table[tuple(np.broadcast_arrays(*index))]
        return out

    def _values(self, limit_extrapolation: bool = False, **coords) -> np.ndarray:
        """Interpolated values (floats in ``self.unit``) at broadcast coordinates."""
        self._interpolator()
        arrays = []
        for name in self.required_axes:
            ax = self.axes[name]
            q = u.Quantity(coords[name], ax.unit) if ax.unit != u.one else u.Quantity(coords[name])
            x = q.to_value(ax.unit)
            arrays.append(np.asarray(x, dtype=float))
        raw_arrays = arrays
        arrays = np.broadcast_arrays(*arrays)
        shape = arrays[0].shape
        invalid = {}
        for name, x in zip(self.required_axes, arrays):
            e = self.axes[name]._edges
            invalid[name] = (x < e[0]) | (x > e[-1])
        outside = self._mask_out_bounds(invalid)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.broadcast_to(self._multilinear(raw_arrays), shape)
        if self.values_scale == "log":
            with np.errstate(over="ignore"):
                values = np.exp(values)
            tiny = np.finfo(values.dtype).tiny
            values = np.where(np.abs(values) - tiny <= tiny, 0, values)
            if limit_extrapolation:
                values = self._limit_extrapolation(values, arrays)
        values = np.clip(values, 0, np.inf)
        if self.fill_value is not None:
            values = np.where(outside | ~np.isfinite(values), self.fill_value, values)
        return values

    def _limit_extrapolation(self, values, arrays):
        """Beyond the outermost nodes, a log-scale IRF may not rise above its value at the edge node.

        Log-linear extrapolation away from a node that is ~0 (empty background
        bins at the highest energies) otherwise explodes (1e4 instead of 1e-33);
        gammapy avoids it only where round-off puts the axis edge outside the table.
        """
        beyond = np.zeros(values.shape, dtype=bool)
        clipped = []
        for name, x in zip(self.required_axes, arrays):
            c = self.axes[name].center.value
            beyond |= (x < c[0]) | (x > c[-1])
            clipped.append(np.clip(x, c[0], c[-1]))
        if not beyond.any():
            return values
        pts = [np.log(x) if self.axes[n].interp == "log" else x for n, x, k in zip(self.required_axes, clipped, self._keep) if k]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            edge = np.exp(self._interp(np.stack([p[beyond] for p in pts], axis=-1)))
        out = values.copy()
        out[beyond] = np.minimum(values[beyond], edge)
        return out

    @staticmethod
    def _mask_out_bounds(invalid: dict) -> np.ndarray:
        """Where ``fill_value`` applies: outside the edges of any axis (gammapy's rule)."""
        return np.logical_or.reduce(list(invalid.values()))

    def evaluate(self, limit_extrapolation: bool = False, **coords) -> u.Quantity:
        """Values at the given coordinates (Quantities, broadcast against each other).

        ``limit_extrapolation=True`` (log-scale IRFs): beyond the outermost
        nodes, values may not rise above the edge node's (default False: exactly
        gammapy's values, which can explode next to empty background bins).
        """
        missing = [n for n in self.required_axes if n not in coords]
        if missing:
            raise TypeError(f"{type(self).__name__}.evaluate needs {list(self.required_axes)}; missing {missing}")
        return u.Quantity(self._values(limit_extrapolation=limit_extrapolation, **coords), self.unit)

    def __repr__(self):
        axes = ", ".join(
            f"{a.name}: {a.nbin} bins {a._edges[0]:.3g}–{a._edges[-1]:.3g} {a.unit}" for a in (self.axes[n] for n in self.required_axes)
        )
        kind = "point-like" if self.is_pointlike else "full-enclosure"
        return f"{type(self).__name__}({axes}; unit {self.unit}; {kind})"
