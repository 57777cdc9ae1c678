"""Reading and writing the GADF layout of IRF tables (one row, array cells).

Readers work on `gwidgets.core.io.fits_hdu.TableHDU` with plain NumPy (no astropy
Table: an IRF reads in well under a millisecond) and raise the gwidgets
errors naming file, HDU and column.  The writer builds an
`astropy.io.fits.BinTableHDU` that gammapy and gwidgets read back exactly.

GADF axis columns: ``ENERG_LO/_HI`` (also ``ETRUE_`` for true energy),
``THETA_`` (offset), ``MIGRA_``, ``RAD_``, ``DETX_``/``DETY_`` (field-of-view
lon/lat).  Equal ``_LO`` and ``_HI`` columns define an axis by its nodes.
"""
from __future__ import annotations

import math
import warnings
from functools import lru_cache

import astropy.units as u
import numpy as np

from ...errors import MissingColumnError, UnitError, UnsupportedFormatError
from ..io.fits import parse_unit
from .axes import AXIS_INTERP, AXIS_UNITS, IRFAxis, edges_from_nodes

__all__ = ["AXIS_COLUMNS", "column_names", "find_column", "read_axis", "read_unit", "read_array", "header_meta",
           "make_table_hdu"]

#: GADF column stems of each axis, in order of preference (the first one is written)
AXIS_COLUMNS = {
    "energy_true": ("ENERG", "ETRUE"),
    "energy": ("ENERG",),
    "offset": ("THETA",),
    "migra": ("MIGRA",),
    "rad": ("RAD",),
    "fov_lon": ("DETX",),
    "fov_lat": ("DETY",),
}

_STRUCTURAL = ("XTENSION", "BITPIX", "PCOUNT", "GCOUNT", "TFIELDS", "EXTNAME", "CHECKSUM", "DATASUM", "FILENAME")
_STRUCTURAL_PREFIX = ("NAXIS", "TTYPE", "TFORM", "TUNIT", "TDIM", "TSCAL", "TZERO", "TNULL", "TDISP")


@lru_cache(maxsize=1024)
def _factor(text: str, expected, default):
    """(unit, factor to ``expected``) of a column unit string; raises ValueError / UnitsError.

    Cached on the (hashable, cheap) arguments: IRF files repeat a handful of unit strings.
    """
    expected = u.Unit(expected) if expected is not None else None
    if text:
        unit = parse_unit(text)
    else:
        unit = u.Unit(default) if default is not None else (expected or u.one)
    return unit, (unit.to(expected) if expected is not None else 1.0)


def read_unit(hdu, column: str, expected, default=None) -> tuple[u.UnitBase, float]:
    """The unit of ``column`` and its conversion factor to ``expected`` (raises `UnitError`).

    A column without unit gets ``default`` (``expected`` if not given).

    Parameters
    ----------
    hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
        The HDU.
    column : str
        Column name.
    expected : str, `~astropy.units.Unit` or None
        Unit the values must convert to (None: any unit, factor 1).
    default : str or `~astropy.units.Unit`, optional
        Unit assumed when the column has none.

    Returns
    -------
    unit : astropy.units.UnitBase
        The column's unit.
    factor : float
        Multiply the values by it to get them in ``expected``.

    Raises
    ------
    `~gwidgets.errors.UnitError`
        If the unit cannot be parsed or converted, naming file, HDU and column.
    """
    text = hdu.unit(column).strip()
    try:
        return _factor(text, expected, default)
    except (ValueError, u.UnitsError):
        raise UnitError(column, text or "(none)", expected, hdu.name, hdu.filename) from None


def column_names(hdu) -> dict:
    """Upper-case name → name of the HDU's columns (GADF names are matched case-insensitively).

    Parameters
    ----------
    hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
        The HDU.

    Returns
    -------
    dict
        Upper-case column name → column name as in the file.
    """
    return {c.upper(): c for c in hdu.columns}


def find_column(hdu, names: dict, column: str) -> str:
    """The HDU's spelling of ``column``; raises `MissingColumnError`.

    Parameters
    ----------
    hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
        The HDU (for the error message).
    names : dict
        `column_names` of the HDU.
    column : str
        GADF column name, any case.

    Returns
    -------
    str
        The column name as in the file.

    Raises
    ------
    `~gwidgets.errors.MissingColumnError`
        If the HDU has no such column.
    """
    found = names.get(column.upper())
    if found is None:
        raise MissingColumnError(column, hdu.name, hdu.filename, hdu.columns)
    return found


def _first_row(hdu, column: str) -> np.ndarray:
    if hdu.nrows < 1:
        raise UnsupportedFormatError(
            f"HDU '{hdu.name}' of file '{hdu.filename}' has no rows: column '{column}' holds no IRF", hdu.filename
        )
    return hdu.column(column)[0]


def read_axis(hdu, name: str, names: dict | None = None) -> IRFAxis:
    """The axis ``name`` from its ``<STEM>_LO``/``<STEM>_HI`` columns, in the axis' canonical unit.

    ``names``: `column_names` of the HDU (computed if not given).  Equal ``_LO``
    and ``_HI`` columns define the axis by its nodes.

    Parameters
    ----------
    hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
        The IRF HDU.
    name : str
        Axis name, a key of `AXIS_COLUMNS`.
    names : dict, optional
        `column_names` of the HDU.

    Returns
    -------
    `~gwidgets.core.irf.axes.IRFAxis`
        The axis, in the canonical unit of ``AXIS_UNITS``.

    Raises
    ------
    `~gwidgets.errors.MissingColumnError`
        If a ``_LO``/``_HI`` column is missing.
    `~gwidgets.errors.UnitError`
        If a column's unit does not convert to the canonical unit.
    `~gwidgets.errors.UnsupportedFormatError`
        If the columns are empty, of unequal length, not finite and increasing,
        or not positive for an energy axis, or the HDU has no rows.
    """
    names = column_names(hdu) if names is None else names
    stems = AXIS_COLUMNS[name]
    stem = next((s for s in stems if f"{s}_LO" in names), stems[0])
    expected = AXIS_UNITS[name]
    lo, hi = (_axis_values(hdu, find_column(hdu, names, stem + suffix), expected) for suffix in ("_LO", "_HI"))
    interp = AXIS_INTERP.get(name, "lin")
    if lo.shape != hi.shape or lo.size == 0:
        raise UnsupportedFormatError(f"Invalid {_where(hdu, name, stem)}: empty or unequal _LO/_HI lengths",
                                     hdu.filename)
    if abs(hi[0] - lo[0]) <= 1e-8 + 1e-5 * abs(lo[0]) and (abs(hi - lo) <= 1e-8 + 1e-5 * abs(lo)).all():
        # nodes: _LO and _HI all close (np.allclose, as gammapy)
        nodes = hi
        _check_increasing(hdu, name, stem, nodes, interp)
        return IRFAxis._fast(edges_from_nodes(nodes, interp), expected, name, interp, nodes)
    edges = np.empty(len(lo) + 1)
    edges[:-1] = lo
    edges[-1] = hi[-1]
    _check_increasing(hdu, name, stem, edges, interp)
    return IRFAxis._fast(edges, expected, name, interp)


def _axis_values(hdu, column, expected) -> np.ndarray:
    _, factor = read_unit(hdu, column, expected)
    values = np.asarray(_first_row(hdu, column), dtype=float).ravel()
    return values * factor if factor != 1 else values


def _where(hdu, name, stem):
    return f"axis '{name}' ({stem}_LO/_HI) of HDU '{hdu.name}' in file '{hdu.filename}'"


def _check_increasing(hdu, name, stem, values, interp):
    ok = (values[1:] > values[:-1]).all() and math.isfinite(values[0]) and math.isfinite(values[-1])
    if not ok or (interp == "log" and values[0] <= 0):
        raise UnsupportedFormatError(
            f"Invalid {_where(hdu, name, stem)}: values must be finite and increase"
            + (" and be > 0" if interp == "log" else ""), hdu.filename)


def read_array(hdu, column: str, shape: tuple, allow_reversed: bool = False) -> np.ndarray:
    """The array cell of ``column`` in the first row, in axis order ``shape`` (file precision kept).

    GADF cells are Fortran-ordered over the axes (``TDIM = (n_axis0, n_axis1, …)``),
    so the C-ordered cell is transposed.  ``allow_reversed``: also accept the
    cell in the opposite order (H.E.S.S. and CTA background files), as gammapy.

    Parameters
    ----------
    hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
        The IRF HDU.
    column : str
        Data column name (as in the file).
    shape : tuple of int
        Number of bins of each axis, in ``required_axes`` order.
    allow_reversed : bool, optional
        Accept a cell stored in the reversed axis order.

    Returns
    -------
    numpy.ndarray
        Float array of shape ``shape`` (float32 kept).

    Raises
    ------
    `~gwidgets.errors.UnsupportedFormatError`
        If the cell does not match ``shape`` or the HDU has no rows.
    """
    raw = np.asarray(_first_row(hdu, column))
    if raw.ndim <= 1 and raw.size == int(np.prod(shape)):
        raw = raw.reshape(shape[::-1])  # no TDIM: flat cell in Fortran order
    data = raw.T
    if data.shape != shape:
        if allow_reversed and raw.shape == shape:
            data = raw
        else:
            raise UnsupportedFormatError(
                f"Column '{column}' of HDU '{hdu.name}' in file '{hdu.filename}' has shape {raw.shape[::-1]} "
                f"(Fortran order), which does not match its axes {shape}", hdu.filename)
    if data.dtype.kind != "f":
        data = data.astype(float)
    return data


def header_meta(hdu) -> dict:
    """The HDU header as a dict, with the file name under ``FILENAME`` (as other gwidgets tables).

    Parameters
    ----------
    hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
        The HDU.

    Returns
    -------
    dict
        Header keyword → value, plus ``FILENAME``.
    """
    meta = dict(hdu.header)
    meta["FILENAME"] = hdu.filename
    return meta


def _axis_columns(axis: IRFAxis):
    from astropy.io import fits

    stem = AXIS_COLUMNS.get(axis.name, (axis.name.upper(),))[0]
    unit = axis.unit.to_string("fits") if axis.unit != u.one else None
    if axis.node_type == "center":  # write nodes as equal _LO/_HI columns, so they read back as nodes
        lo = hi = axis.center_values
    else:
        lo, hi = axis._edges[:-1], axis._edges[1:]
    return [fits.Column(stem + s, f"{len(v)}D", unit=unit, array=np.asarray(v, float)[np.newaxis])
            for s, v in (("_LO", lo), ("_HI", hi))]


def _data_column(name: str, data: np.ndarray, unit):
    from astropy.io import fits

    data = np.asarray(data)
    code = "E" if data.dtype == np.float32 else "D"
    cell = np.ascontiguousarray(data.T)[np.newaxis]  # Fortran order over the axes
    dim = "(" + ",".join(str(n) for n in data.shape) + ")"
    unit = u.Unit(unit)
    return fits.Column(name, f"{data.size}{code}", unit=unit.to_string("fits") if unit != u.one else None,
                       dim=dim, array=cell)


def make_table_hdu(axes, data_columns: dict, extname: str, keywords: dict, meta: dict):
    """A GADF ``BinTableHDU``: axis columns, then ``{name: (array in axis order, unit)}`` data columns.

    ``meta`` (the IRF's header) is copied first, without structural keywords;
    ``keywords`` (the HDUCLASn of the IRF type) override it.

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis`
        The axes, in data order; an axis defined by nodes is written as equal
        ``_LO``/``_HI`` columns.
    data_columns : dict
        Column name → (array of shape ``(nbin of each axis)``, unit).
    extname : str
        EXTNAME of the HDU.
    keywords : dict
        Keywords written last (HDUCLASn ...).
    meta : dict
        Other header keywords (only str, bool, int and float values are written).

    Returns
    -------
    astropy.io.fits.BinTableHDU
        A one-row table; float32 data are written as ``E`` columns, others as ``D``.
    """
    from astropy.io import fits

    cols = [c for ax in axes for c in _axis_columns(ax)]
    cols += [_data_column(name, arr, unit) for name, (arr, unit) in data_columns.items()]
    hdu = fits.BinTableHDU.from_columns(cols, name=extname)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # long keywords become HIERARCH cards; that is fine
        for key, value in (meta or {}).items():
            if key in _STRUCTURAL or key.startswith(_STRUCTURAL_PREFIX) or key in keywords:
                continue
            if isinstance(value, (str, bool, int, float, np.integer, np.floating)):
                hdu.header[key] = value
        for key, value in keywords.items():
            hdu.header[key] = value
    return hdu
