"""The IRF base class: named binned axes + a data array, evaluated as gammapy 2.1 does.

Evaluation (`IRF.evaluate`) reproduces gammapy's ``IRF.evaluate`` (values
agree to ~1e-12, float32 tables included):

1. interpolate linearly on the axis *centres* (nodes), in log for energy
   axes, values in log for background IRFs (``values_scale = "log"``),
   extrapolating linearly beyond the outer nodes; axes with a single bin are
   ignored; the result is clipped at 0 (see `.interp`);
2. where a coordinate is outside its axis' edges (or not finite), and where
   the result is not finite, return ``fill_value`` (0 by default; ``None``
   keeps the extrapolation).

A subclass sets the GADF names (``tag``, ``required_axes``, data ``column``,
``default_unit``, …) and gets reading (`IRF.from_hdu`) and writing
(`IRF.to_hdu`) of the GADF layout for free.
"""
from __future__ import annotations

import warnings
from functools import lru_cache, reduce

import astropy.units as u
import numpy as np

from ...errors import MissingColumnError
from .axes import IRFAxis
from .gadf import column_names, header_meta, make_table_hdu, read_array, read_axis, read_unit
from .interp import GridInterpolator, exp_values, log_values, scale_coordinate

__all__ = ["IRF", "IRFWarning", "is_pointlike_header"]

GADF_KEYWORDS = {
    "HDUCLASS": "GADF",
    "HDUDOC": "https://github.com/open-gamma-ray-astro/gamma-astro-data-formats",
    "HDUVERS": "0.2",
    "HDUCLAS1": "RESPONSE",
}


def is_pointlike_header(header) -> bool:
    """True for point-like IRF HDUs (``HDUCLAS3 = 'POINT-LIKE'``).

    Parameters
    ----------
    header : dict
        The HDU header.

    Returns
    -------
    bool
        Whether HDUCLAS3 is POINT-LIKE (case-insensitive).
    """
    return str(header.get("HDUCLAS3", "")).strip().upper() == "POINT-LIKE"


@lru_cache(maxsize=256)
def _equivalent(unit: u.UnitBase, other: u.UnitBase) -> bool:
    return unit.is_equivalent(other)


class IRFWarning(UserWarning):
    """An IRF file holds values that cannot be used as they are (NaN, infinite)."""


class IRF:
    """Base class of tabulated IRFs.

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis` (or `~gwidgets.core.geom.axes.MapAxis`)
        One per name in ``required_axes``, in that order.
    data : ndarray
        Values, shape ``(nbin of each axis)``; float32 tables are kept as such.
    unit : str or Unit, optional
        Unit of ``data``, equivalent to ``default_unit`` (the default).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool
        Point-like (``HDUCLAS3 = POINT-LIKE``) or full-enclosure IRF.

    Raises
    ------
    ValueError
        If the axis names are not ``required_axes`` or the data shape does not match them.
    astropy.units.UnitConversionError
        If ``unit`` is not equivalent to ``default_unit``.

    Examples
    --------
    >>> import numpy as np, astropy.units as u
    >>> from gwidgets.core.irf import EffectiveArea2D, IRFAxis
    >>> energy = IRFAxis(np.geomspace(0.1, 100, 4), "energy_true", unit="TeV")
    >>> offset = IRFAxis([0, 1, 2], "offset", unit="deg")
    >>> aeff = EffectiveArea2D([energy, offset], np.full((3, 2), 1e5), unit="m2")
    >>> aeff
    EffectiveArea2D(energy_true: 3 bins 0.1–100 TeV, offset: 2 bins 0–2 deg; unit m2; full-enclosure)
    """

    #: GADF HDU class (``HDU_CLASS`` in the HDU index)
    tag = ""
    #: axis names, in the order of the data array's dimensions
    required_axes: tuple = ()
    #: GADF data column and accepted alternative names
    column = ""
    column_aliases: tuple = ()
    default_unit = u.one
    #: interpolation scale of the values: "lin" or "log"
    values_scale = "lin"
    #: value outside the axes' edges (None: extrapolate everywhere)
    fill_value = 0.0
    #: "linear" or "nearest"
    interp_method = "linear"
    #: GADF EXTNAME and HDUCLAS2 written by `to_hdu`
    extname = ""
    hduclas2 = ""
    #: accept the data cell with its axes reversed (old background files), as gammapy
    allow_reversed = False

    def __init__(self, axes, data, unit=None, meta=None, is_pointlike: bool = False):
        axes = [IRFAxis.coerce(ax) for ax in axes]
        names = tuple(ax.name for ax in axes)
        if names != tuple(self.required_axes):
            raise ValueError(f"{type(self).__name__} needs axes {list(self.required_axes)}, got {list(names)}")
        unit = u.Unit(unit) if unit is not None else self.default_unit
        if not _equivalent(unit, self.default_unit):
            raise u.UnitConversionError(f"{type(self).__name__}: unit '{unit}' is not convertible to "
                                        f"'{self.default_unit}'")
        data = np.asarray(data)
        if data.dtype.kind != "f":
            data = data.astype(float)
        shape = tuple(ax.nbin for ax in axes)
        if np.ndim(data) == 0:
            data = np.full(shape, float(data))
        if data.shape != shape:
            raise ValueError(f"{type(self).__name__}: data shape {data.shape} does not match the axes {shape}")
        self._setup(axes, data, unit, meta, is_pointlike)

    def _setup(self, axes, data, unit, meta, is_pointlike):
        self.axes = {ax.name: ax for ax in axes}
        self.data = data
        self.unit = unit
        self.meta = dict(meta) if meta else {}
        self.is_pointlike = bool(is_pointlike)
        self._interp = None
        return self

    # ------------------------------------------------------------------ I/O
    @classmethod
    def _data_column(cls, hdu, names: dict) -> str:
        for name in (cls.column, *cls.column_aliases):
            if name in names:
                return names[name]
        raise MissingColumnError(cls.column, hdu.name, hdu.filename, hdu.columns)

    @classmethod
    def from_hdu(cls, hdu) -> IRF:
        """Read from a GADF table HDU (`gwidgets.core.io.fits_hdu.TableHDU`).

        Raises `~gwidgets.errors.MissingColumnError` (axis or data column), `~gwidgets.errors.UnitError` (a unit
        not convertible to the expected one) or `~gwidgets.errors.UnsupportedFormatError`
        (inconsistent shapes), each naming file, HDU and column.

        Parameters
        ----------
        hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
            The IRF HDU (one row, array cells).

        Returns
        -------
        IRF
            An instance of the class called; non-finite values are set to 0 with an `IRFWarning`.
        """
        names = column_names(hdu)
        axes = [read_axis(hdu, name, names) for name in cls.required_axes]
        column = cls._data_column(hdu, names)
        unit, _ = read_unit(hdu, column, cls.default_unit)
        data = read_array(hdu, column, tuple(ax.nbin for ax in axes), cls.allow_reversed)
        bad = ~np.isfinite(data)
        if bad.any():  # reported where the value enters, then used as 0 (no response), as before
            warnings.warn(f"{hdu.filename}, HDU {hdu.name}, column {column}: {int(bad.sum())} of {data.size} values "
                          f"are NaN or infinite; they are used as 0 {unit}", IRFWarning, stacklevel=2)
            data = np.where(bad, 0.0, data)
        irf = cls.__new__(cls)._setup(axes, data, unit, header_meta(hdu), is_pointlike_header(hdu.header))
        return irf

    @property
    def filename(self) -> str | None:
        """File the IRF was read from (None if built in memory)."""
        return self.meta.get("FILENAME")

    def _hdu_keywords(self) -> dict:
        return {**GADF_KEYWORDS, "HDUCLAS2": self.hduclas2,
                "HDUCLAS3": "POINT-LIKE" if self.is_pointlike else "FULL-ENCLOSURE",
                "HDUCLAS4": self.tag.upper()}

    def _hdu_columns(self) -> dict:
        return {self.column: (self.data, self.unit)}

    def to_hdu(self, name: str | None = None):
        """The IRF as an `astropy.io.fits.BinTableHDU` in GADF layout (EXTNAME ``name``).

        Parameters
        ----------
        name : str, optional
            EXTNAME; default the class' ``extname``.

        Returns
        -------
        astropy.io.fits.BinTableHDU
            Axis columns, the data column and the HDUCLASn keywords; `from_hdu` reads it back.

        Examples
        --------
        >>> import numpy as np, astropy.units as u
        >>> from gwidgets.core.irf import EffectiveArea2D, IRFAxis
        >>> energy = IRFAxis(np.geomspace(0.1, 100, 4), "energy_true", unit="TeV")
        >>> offset = IRFAxis([0, 1, 2], "offset", unit="deg")
        >>> aeff = EffectiveArea2D([energy, offset], np.full((3, 2), 1e5), unit="m2")
        >>> hdu = aeff.to_hdu()
        >>> hdu.name, hdu.columns.names
        ('EFFECTIVE AREA', ['ENERG_LO', 'ENERG_HI', 'THETA_LO', 'THETA_HI', 'EFFAREA'])
        """
        axes = [self.axes[n] for n in self.required_axes]
        return make_table_hdu(axes, self._hdu_columns(), name or self.extname, self._hdu_keywords(), self.meta)

    # ------------------------------------------------------------- evaluate
    @property
    def quantity(self) -> u.Quantity:
        """The data with its unit (no copy)."""
        return u.Quantity(self.data, self.unit, copy=None)

    def _build_interpolator(self, values, method=None) -> GridInterpolator:
        points = [self.axes[n].scaled_centers for n in self.required_axes]
        if self.values_scale == "log":
            values = log_values(values)
        return GridInterpolator(points, values, method or self.interp_method)

    @property
    def interpolator(self) -> GridInterpolator:
        """The (cached) interpolator on the node grid; values in ``values_scale``."""
        if self._interp is None:
            self._interp = self._build_interpolator(self.data)
        return self._interp

    def _coordinates(self, coords: dict, names: tuple | None = None) -> list:
        """Coordinate arrays (floats in each axis' unit, not broadcast) for ``names`` (default: all axes)."""
        names = self.required_axes if names is None else names
        unknown = set(coords) - set(names)
        if unknown:
            raise TypeError(f"{type(self).__name__}.evaluate: unknown coordinate(s) {sorted(unknown)}; "
                            f"axes are {list(names)}")
        ndim = len(names)
        out = []
        for i, name in enumerate(names):
            ax = self.axes[name]
            value = coords.get(name)
            if value is None:  # default: the axis centres, along their own dimension (as gammapy)
                shape = [1] * ndim
                shape[i] = -1
                out.append(ax.center_values.reshape(shape))
                continue
            if isinstance(value, u.Quantity):
                try:
                    x = value.value if value.unit is ax.unit else value.to_value(ax.unit)
                except u.UnitsError:
                    raise u.UnitConversionError(f"{type(self).__name__}.evaluate: '{name}' is in '{value.unit}', "
                                                f"not convertible to '{ax.unit}'") from None
            elif isinstance(value, str):
                x = u.Quantity(value).to_value(ax.unit)
            else:
                x = value  # plain numbers are in the axis' unit
            out.append(np.asarray(x, dtype=float))
        return out

    @staticmethod
    def _mask_out_bounds(invalid: dict):
        """Where ``fill_value`` applies: outside the edges of any axis (gammapy's rule)."""
        return reduce(np.logical_or, invalid.values())

    def _outside(self, arrays):
        invalid = {}
        for name, x in zip(self.required_axes, arrays):
            e = self.axes[name]._edges
            with np.errstate(invalid="ignore"):
                invalid[name] = ~((x >= e[0]) & (x <= e[-1]))  # NaN counts as outside
        return self._mask_out_bounds(invalid)

    def _scaled(self, arrays):
        """Coordinates (the first ``len(arrays)`` axes) in their interpolation scale."""
        return [scale_coordinate(x, self.axes[n].interp) for n, x in zip(self.required_axes, arrays)]

    def _values(self, limit_extrapolation: bool = False, method: str | None = None, **coords) -> np.ndarray:
        """Interpolated values as floats in ``self.unit``, shape: the coordinates broadcast."""
        arrays = self._coordinates(coords)
        shape = np.broadcast_shapes(*(np.shape(x) for x in arrays))
        interp = self.interpolator
        if method and method != interp.method:
            interp = self._build_interpolator(self.data, method)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = interp(self._scaled(arrays))
            if limit_extrapolation and self.values_scale == "log":
                values = self._limit_extrapolation(values, arrays, interp)
        if self.values_scale == "log":
            values = exp_values(values)
        values = np.maximum(values, 0.0)  # NaN stays NaN, as with np.clip
        if values.shape != shape:
            values = np.broadcast_to(values, shape)
        if self.fill_value is not None:
            bad = self._outside(arrays) | ~np.isfinite(values)
            if np.any(bad):
                values = np.where(bad, self.fill_value, values)
        if not values.flags.writeable:
            values = values.copy()
        return values

    def _limit_extrapolation(self, values, arrays, interp):
        """Beyond the outer nodes, a log-scale IRF may not rise above its value at the outer node.

        Log-linear extrapolation away from a node that is ~0 (empty background
        bins at the highest energies) otherwise explodes (1e4 instead of 1e-33);
        gammapy avoids it only where round-off puts the axis edge outside the table.
        """
        clipped, beyond = [], False
        for name, x in zip(self.required_axes, arrays):
            c = self.axes[name].center_values
            beyond = beyond | (x < c[0]) | (x > c[-1])
            clipped.append(np.clip(x, c[0], c[-1]))
        if not np.any(beyond):
            return values
        edge = interp(self._scaled(clipped))
        return np.where(beyond, np.minimum(values, edge), values)

    def evaluate(self, method: str | None = None, limit_extrapolation: bool = False, **coords) -> u.Quantity:
        """Values at the given coordinates, as a Quantity in ``unit``.

        Coordinates are Quantities (plain numbers are taken in the axis' unit:
        TeV, deg) named as ``required_axes``; they broadcast against each other.
        A missing coordinate defaults to the axis centres along its own
        dimension.  ``method``: "linear" or "nearest" (default: the class').
        ``limit_extrapolation=True`` (log-scale IRFs): beyond the outermost
        nodes values may not rise above the outer node's (default False:
        exactly gammapy's values, which can explode next to empty background bins).

        Parameters
        ----------
        method : {"linear", "nearest"}, optional
            Interpolation method; default the class' ``interp_method``.
        limit_extrapolation : bool, optional
            For log-scale IRFs, cap the extrapolation at the outer node's value.
        **coords : `~astropy.units.Quantity` or array-like
            Coordinates by axis name (e.g. ``energy_true``, ``offset``).

        Returns
        -------
        astropy.units.Quantity
            Values in ``unit``, of the broadcast shape of the coordinates;
            ``fill_value`` outside the axes' edges.

        Raises
        ------
        TypeError
            For a coordinate name that is not an axis.
        astropy.units.UnitConversionError
            For a coordinate in a unit not convertible to its axis'.

        Examples
        --------
        >>> import numpy as np, astropy.units as u
        >>> from gwidgets.core.irf import EffectiveArea2D, IRFAxis
        >>> energy = IRFAxis(np.geomspace(0.1, 100, 4), "energy_true", unit="TeV")
        >>> offset = IRFAxis([0, 1, 2], "offset", unit="deg")
        >>> aeff = EffectiveArea2D([energy, offset], np.full((3, 2), 1e5), unit="m2")
        >>> aeff.evaluate(energy_true=[1, 1000] * u.TeV, offset=0.5 * u.deg)
        <Quantity [100000.,      0.] m2>
        """
        return u.Quantity(self._values(limit_extrapolation=limit_extrapolation, method=method, **coords),
                          self.unit, copy=None)

    # -------------------------------------------------------------- display
    def _axes_summary(self) -> str:
        parts = []
        for ax in (self.axes[n] for n in self.required_axes):
            unit = f" {ax.unit}" if ax.unit != u.one else ""
            parts.append(f"{ax.name}: {ax.nbin} bins {ax._edges[0]:.4g}–{ax._edges[-1]:.4g}{unit}")
        return ", ".join(parts)

    def __repr__(self):
        kind = "point-like" if self.is_pointlike else "full-enclosure"
        unit = self.unit.to_string() or "dimensionless"
        return f"{type(self).__name__}({self._axes_summary()}; unit {unit}; {kind})"

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_interp"] = None  # rebuilt on demand: keeps pickles (process executors) small
        return state
