"""FITS HDUs of an in-memory file: images, binary tables and their column decoding.

A `TableHDU` is a NumPy structured view of the raw bytes of its rows (no copy);
`TableHDU.quantity` turns a column into an `astropy.units.Quantity`, reading
the unit with `parse_unit` (which accepts the spellings found in DL3 files).
Columns this reader does not decode (variable-length arrays, scaled columns)
fall back to astropy on the same bytes. The HDUs are made by
`~gwidgets.core.io.fits.FitsFile`.
"""
from __future__ import annotations

import io
import os
import re
from functools import cached_property, lru_cache

import astropy.units as u
import numpy as np

from ...errors import MissingColumnError, NotFITSError, UnitError
from .fits_header import Header

__all__ = ["HDU", "ImageHDU", "TableHDU", "parse_unit", "astropy_hdu", "TFORM_CODES", "FITS_DTYPES"]

TFORM_CODES = re.compile(r"^\s*(\d*)([LXBIJKAEDCMPQ])(.*)$")
FITS_DTYPES = {
    "L": "i1", "B": "u1", "I": ">i2", "J": ">i4", "K": ">i8",
    "E": ">f4", "D": ">f8", "C": ">c8", "M": ">c16",
}
_BITPIX = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}

# Units as found in real DL3 files, mapped to what astropy understands.
_UNIT_ALIASES = {
    "": "", "deg": "deg", "degree": "deg", "degrees": "deg", "tev": "TeV",
    "1/s/mev/sr": "s-1 MeV-1 sr-1", "s^-1 mev^-1 sr^-1": "s-1 MeV-1 sr-1",
    "m2": "m2", "m^2": "m2", "cm2": "cm2", "cm^2": "cm2", "sr^-1": "sr-1",
    "1/sr": "sr-1", "s": "s",
}


def parse_unit(text) -> u.UnitBase:
    """Parse a FITS unit string, accepting the spellings found in DL3 files.

    Known DL3 spellings (``"degrees"``, ``"1/s/MeV/sr"``, ``"m^2"`` ...) are mapped
    first; other strings are read in the FITS unit format, then, failing that,
    with ``^`` and ``**`` removed in astropy's generic format.

    Parameters
    ----------
    text : str, `astropy.units.UnitBase` or None
        The unit string (e.g. a ``TUNITn`` value); a unit is returned as is,
        None or ``""`` give the dimensionless unit.

    Returns
    -------
    astropy.units.UnitBase
        The parsed unit.

    Raises
    ------
    ValueError
        If the string is not a unit in either format.

    Examples
    --------
    >>> parse_unit("s^-1 MeV^-1 sr^-1")
    Unit("1 / (MeV s sr)")
    >>> parse_unit("degrees")
    Unit("deg")
    """
    if isinstance(text, u.UnitBase):
        return text
    return _parse_unit_cached((text or "").strip())


@lru_cache(maxsize=256)
def _conversion(from_unit: u.UnitBase, to_unit: u.UnitBase) -> float:
    return from_unit.to(to_unit)


@lru_cache(maxsize=256)
def _unit(text: str) -> u.UnitBase:
    return u.Unit(text)


@lru_cache(maxsize=256)
def _parse_unit_cached(text: str) -> u.UnitBase:
    alias = _UNIT_ALIASES.get(text.lower())
    if alias is not None:
        return u.Unit(alias)
    try:
        return u.Unit(text, format="fits", parse_strict="raise")
    except ValueError:
        return u.Unit(text.replace("^", "").replace("**", ""), parse_strict="raise")


class HDU:
    """Base of `ImageHDU` and `TableHDU`: one HDU of an in-memory FITS file.

    Parameters
    ----------
    filename : str
        The file name (for error messages).
    raw : bytes
        The whole file, in memory.
    index : int
        Position of the HDU in the file (0 for the primary HDU).
    header : Header
        The parsed header.
    start, size : int
        Offset and length in bytes of the data (rows then heap) in ``raw``.
    """

    # An HDU keeps the file's name and raw bytes, not the `FitsFile` itself: no reference
    # cycle, so a file dropped by the data store's cache is freed at once (not at the next
    # full garbage collection), which keeps streaming reductions flat in memory.
    def __init__(self, filename: str, raw: bytes, index: int, header: Header, start: int, size: int):
        self.filename = filename
        self._raw = raw
        self.index = index
        self.header = header
        self._start = start
        self._size = size

    @property
    def name(self) -> str:
        """The upper-case ``EXTNAME`` (``"PRIMARY"`` or ``"HDU<n>"`` without one)."""
        name = self.header.get("EXTNAME")
        if name is None:
            return "PRIMARY" if self.index == 0 else f"HDU{self.index}"
        return str(name).strip().upper()

    @property
    def buffer(self) -> memoryview:
        """The raw bytes of this HDU's data (rows then heap), without a copy."""
        return memoryview(self._raw)[self._start : self._start + self._size]

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}' of '{os.path.basename(self.filename)}'>"


class ImageHDU(HDU):
    """An image (or primary) HDU; ``data`` is a NumPy array in C order.

    Built by `FitsFile`, not by users.

    Parameters
    ----------
    fitsfile : FitsFile
        The file (its name and raw bytes are kept, not the object).
    index : int
        Position of the HDU in the file.
    header : Header
        The parsed header.
    start, size : int
        Offset and length in bytes of the data in the file.
    """

    @cached_property
    def data(self):
        """The image as a native-endian array of shape ``(NAXISn, ..., NAXIS1)``; None if NAXIS is 0."""
        h = self.header
        naxis = h.get("NAXIS", 0)
        if naxis == 0:
            return None
        if h.get("ZIMAGE") or h.get("GROUPS"):
            return astropy_hdu(self._raw, self.index).data
        shape = tuple(int(h[f"NAXIS{i}"]) for i in range(naxis, 0, -1))
        dtype = np.dtype(_BITPIX[int(h["BITPIX"])])
        data = np.frombuffer(self.buffer, dtype=dtype, count=int(np.prod(shape))).reshape(shape)
        bscale, bzero = h.get("BSCALE", 1), h.get("BZERO", 0)
        if bscale != 1 or bzero != 0:
            data = data * bscale + bzero
        return data.astype(data.dtype.newbyteorder("="), copy=False)


class TableHDU(HDU):
    """A binary-table HDU.

    ``columns`` lists the column names; ``column(name)`` returns a native-endian
    NumPy array (array cells have shape ``(nrows, *TDIM)``), ``quantity`` the
    same with the file's unit, converted and checked against an expected one.
    Built by `FitsFile`, not by users.

    Parameters
    ----------
    fitsfile : FitsFile
        The file (its name and raw bytes are kept, not the object).
    index : int
        Position of the HDU in the file.
    header : Header
        The parsed header.
    start, size : int
        Offset and length in bytes of the data in the file.

    Examples
    --------
    >>> import io
    >>> from astropy.io import fits
    >>> from astropy.table import Table
    >>> from gwidgets.core.io.fits import FitsFile
    >>> buf = io.BytesIO()
    >>> hdu = fits.BinTableHDU(Table({"ENERGY": [0.5, 2.0]}, units={"ENERGY": "TeV"}), name="EVENTS")
    >>> fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buf)
    >>> events = FitsFile("events.fits", data=buf.getvalue())["EVENTS"]
    >>> events.nrows, events.columns, events.unit("ENERGY")
    (2, ['ENERGY'], 'TeV')
    >>> events.quantity("ENERGY", "GeV")
    <Quantity [ 500., 2000.] GeV>
    """

    @cached_property
    def _layout(self):
        h = self.header
        names, units, scales = [], {}, {}
        offset = 0
        fields = {}
        for i in range(1, int(h.get("TFIELDS", 0)) + 1):
            name = str(h.get(f"TTYPE{i}", f"COL{i}")).strip()
            tform = str(h[f"TFORM{i}"]).strip()
            m = TFORM_CODES.match(tform)
            if m is None:
                raise NotFITSError(self.filename, f"bad TFORM{i} = '{tform}' in HDU '{self.name}'")
            repeat = int(m.group(1) or 1)
            code = m.group(2)
            if code in "PQX":
                return None  # variable-length or bit columns: use astropy
            if code == "A":
                dt = np.dtype(f"S{repeat}")
                shape = ()
                nbytes = repeat
            else:
                dt = np.dtype(FITS_DTYPES[code])
                tdim = h.get(f"TDIM{i}")
                if tdim:
                    shape = tuple(int(x) for x in str(tdim).strip("() ").split(","))[::-1]
                else:
                    shape = (repeat,) if repeat != 1 else ()
                nbytes = repeat * dt.itemsize
                if repeat == 0:
                    shape = (0,)
            fields[name] = (np.dtype((dt, shape)) if shape else dt, offset)
            offset += nbytes
            names.append(name)
            units[name] = str(h.get(f"TUNIT{i}", "") or "").strip()
            if h.get(f"TSCAL{i}", 1) != 1 or h.get(f"TZERO{i}", 0) != 0:
                scales[name] = (h.get(f"TSCAL{i}", 1), h.get(f"TZERO{i}", 0))
        rowlen = int(h["NAXIS1"])
        dtype = np.dtype({"names": list(fields), "formats": [f[0] for f in fields.values()],
                          "offsets": [f[1] for f in fields.values()], "itemsize": rowlen})
        return names, dtype, units, scales

    @property
    def nrows(self) -> int:
        """Number of rows (``NAXIS2``)."""
        return int(self.header.get("NAXIS2", 0))

    def __len__(self):
        return self.nrows

    @cached_property
    def _records(self):
        layout = self._layout
        if layout is None:
            return None
        return np.frombuffer(self.buffer, dtype=layout[1], count=self.nrows)

    @cached_property
    def _astropy(self):
        return astropy_hdu(self._raw, self.index)

    @property
    def columns(self) -> list[str]:
        """Column names, in file order."""
        if self._layout is None:
            return list(self._astropy.columns.names)
        return list(self._layout[0])

    def _find(self, name: str) -> str:
        cols = self.columns
        if name in cols:
            return name
        upper = {c.upper(): c for c in cols}
        if name.upper() in upper:
            return upper[name.upper()]
        raise MissingColumnError(name, self.name, self.filename, cols)

    def has_column(self, name: str) -> bool:
        """Whether the table has a column ``name`` (case-insensitive).

        Parameters
        ----------
        name : str
            Column name.

        Returns
        -------
        bool
            True if a column of that name exists.
        """
        return name.upper() in {c.upper() for c in self.columns}

    def unit(self, name: str) -> str:
        """Unit string of a column as written in the file (``TUNITn``).

        Parameters
        ----------
        name : str
            Column name (case-insensitive).

        Returns
        -------
        str
            The unit text, ``""`` when the column has none.

        Raises
        ------
        `~gwidgets.errors.MissingColumnError`
            If there is no such column.
        """
        name = self._find(name)
        if self._layout is None:
            return str(self._astropy.columns[name].unit or "")
        return self._layout[2][name]

    def column(self, name: str) -> np.ndarray:
        """Column ``name`` as a native-endian array (bool for logical, str for text).

        ``TSCALn``/``TZEROn`` are applied (giving unsigned integers for the FITS
        unsigned convention, float64 otherwise); array cells give shape
        ``(nrows, *TDIM)``.

        Parameters
        ----------
        name : str
            Column name (case-insensitive).

        Returns
        -------
        numpy.ndarray
            The column values.

        Raises
        ------
        `~gwidgets.errors.MissingColumnError`
            If there is no such column.
        """
        name = self._find(name)
        if self._layout is None:
            return np.asarray(self._astropy.data[name])
        data = self._records[name]
        kind = data.dtype.base.kind if data.dtype.subdtype else data.dtype.kind
        if kind == "S":
            return np.char.strip(data.astype("U"))
        if name in self._layout[3]:
            scale, zero = self._layout[3][name]
            base = data.dtype.base
            if base.kind == "i" and scale == 1 and zero == 2 ** (8 * base.itemsize - 1):
                # the FITS convention for unsigned integers
                native = data.astype(base.newbyteorder("="))
                unsigned = np.dtype(f"u{base.itemsize}")
                return native.view(unsigned) ^ unsigned.type(zero)
            return data.astype(np.float64) * scale + zero
        if data.dtype.base.itemsize == 1 and self.header.get(
            f"TFORM{self._layout[0].index(name) + 1}", ""
        ).strip().endswith("L"):
            return data == ord("T")
        return data.astype(data.dtype.newbyteorder("="), copy=False)

    def quantity(self, name: str, unit=None, default_unit=None) -> u.Quantity:
        """Column ``name`` with its unit; converted to ``unit`` if given.

        Parameters
        ----------
        name : str
            Column name (case-insensitive).
        unit : str or `astropy.units.UnitBase`, optional
            Unit to convert to; the file's unit if None.
        default_unit : str or `astropy.units.UnitBase`, optional
            Unit assumed when the column has no ``TUNITn`` (dimensionless if None).

        Returns
        -------
        astropy.units.Quantity
            The column values with their unit.

        Raises
        ------
        `~gwidgets.errors.UnitError`
            If the file's unit cannot be parsed or converted to ``unit``.
        `~gwidgets.errors.MissingColumnError`
            If there is no such column.
        """
        name = self._find(name)
        text = self.unit(name)
        try:
            file_unit = parse_unit(text) if text else (_unit(str(default_unit)) if default_unit else u.one)
        except ValueError:
            raise UnitError(name, text, unit or "?", self.name, self.filename) from None
        values = self.column(name)
        if unit is None:
            return u.Quantity(values, file_unit, copy=False)
        unit = unit if isinstance(unit, u.UnitBase) else _unit(str(unit))
        try:
            factor = _conversion(file_unit, unit)
        except u.UnitConversionError:
            raise UnitError(name, text or "(none)", unit, self.name, self.filename) from None
        if factor == 1:
            return u.Quantity(values, unit, copy=False)
        return u.Quantity(values * factor, unit, copy=False)

    def to_table(self):
        """The HDU as an `astropy.table.Table` with units and the header as meta.

        Columns whose unit cannot be parsed are kept without a unit; the TTYPE,
        TFORM, TUNIT, TDIM and NAXIS keywords are left out of the meta.

        Returns
        -------
        astropy.table.Table
            A table with one column per FITS column.
        """
        from astropy.table import Table

        t = Table()
        for name in self.columns:
            try:
                t[name] = self.quantity(name) if self.unit(name) else self.column(name)
            except UnitError:
                t[name] = self.column(name)
        column_keys = ("TTYPE", "TFORM", "TUNIT", "TDIM", "NAXIS")
        t.meta.update({k: v for k, v in self.header.items() if not k.startswith(column_keys)})
        return t


def astropy_hdu(raw: bytes, index: int):
    """The astropy HDU ``index`` of an in-memory FITS file (for the rare cases astropy must parse).

    Parameters
    ----------
    raw : bytes
        The whole FITS file.
    index : int
        The HDU number.

    Returns
    -------
    astropy.io.fits hdu
        The HDU as astropy reads it (data not memory-mapped).
    """
    from astropy.io import fits

    return fits.open(io.BytesIO(raw), memmap=False)[index]
