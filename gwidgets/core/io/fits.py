"""A small, fast reader for the FITS files of the GADF formats.

DL3 files are many small binary tables (events, GTI and one-row IRF tables
with array cells).  ``astropy.io.fits`` is general but costs milliseconds per
HDU; reading the 105 H.E.S.S. DR1 runs with it takes seconds.  Here a file is
read (and gunzipped) into memory once, its headers are parsed card by card and
each table becomes a NumPy structured view of the raw bytes: no copy, no
per-column Python objects.  Anything this reader does not support (variable
length arrays, tile-compressed images, random groups) falls back to astropy on
the same bytes, so the result is always correct.

Errors name the file and HDU (see :mod:`gwidgets.errors`).

Examples
--------
>>> from gwidgets.core.io.fits import FitsFile
>>> from gwidgets.core.simulate import example_store_path
>>> f = FitsFile(example_store_path() / "data" / "gwsim_obs_001001.fits.gz")   # a simulated run
>>> f.names
['PRIMARY', 'EVENTS', 'GTI', 'AEFF', 'EDISP', 'PSF', 'BKG']
>>> f["EVENTS"].quantity("ENERGY", "TeV")[:2]
<Quantity [0.83..., 0.34...] TeV>
"""
from __future__ import annotations

import io
import os
import re
import zlib
from functools import cached_property, lru_cache
from pathlib import Path

import astropy.units as u
import numpy as np

from ...errors import (
    FileNotFoundGwError,
    MissingColumnError,
    MissingHDUError,
    NotFITSError,
    UnitError,
)

__all__ = ["FitsFile", "TableHDU", "ImageHDU", "read_bytes", "parse_unit"]

BLOCK = 2880
CARD = 80

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


def read_bytes(path) -> bytes:
    """Read a file into memory, gunzipping it if it is gzip-compressed.

    Parameters
    ----------
    path : str or Path
        The file; gzip compression is recognised from the magic bytes, not the name.

    Returns
    -------
    bytes
        The (decompressed) content of the file.

    Raises
    ------
    `~gwidgets.errors.FileNotFoundGwError`
        If the file does not exist.
    `~gwidgets.errors.NotFITSError`
        If the path is a directory or the gzip stream is corrupt or truncated.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise FileNotFoundGwError(path) from None
    except IsADirectoryError:
        raise NotFITSError(path, "it is a directory") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = zlib.decompress(raw, 47)
        except zlib.error as exc:
            raise NotFITSError(path, f"corrupt or truncated gzip data ({exc})") from None
    return raw


# A FITS string value as astropy reads it: the closing quote is followed by the end,
# a space or a '/'; '' inside is an escaped quote.
_STRING = re.compile(r"'(?P<strg>([ -~]+?|''|) *?)'(?=$|/| )")
# A string piece of a long-string (CONTINUE) card, with an optional comment.
_STRING_COMMENT = re.compile(r"(" + _STRING.pattern + r")? *(?P<comm_field>/ *(?P<comm>(.|\n)*))?$")
# A whole string value field: the closing quote is the one after which only blanks and a comment follow.
_STRING_FIELD = re.compile(_STRING.pattern + r" *(?P<comm_field>/ *(?P<comm>(.|\n)*))?$")
_COMPLEX = re.compile(r"^\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)$")
_COMMENTARY = ("COMMENT", "HISTORY", "")


def _number(text: str):
    """Int or float of a FITS number (``D`` exponents, blanks inside as astropy allows); None if not one."""
    text = text.replace(" ", "")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text.replace("D", "E").replace("d", "e"))
    except ValueError:
        return None


def _parse_value(text: str):
    """Value of a FITS card's value field (the part after ``= ``), as astropy reads it.

    >>> _parse_value("'it''s here' / a comment"), _parse_value("1.0D-3"), _parse_value("T")
    ("it's here", 0.001, True)
    """
    text = text.strip()
    if not text or text[0] == "/":
        return None
    if text[0] == "'":
        m = _STRING_FIELD.match(text) or _STRING.match(text)
        if m is not None:
            return m.group("strg").replace("''", "'").rstrip()
        # unterminated string (astropy refuses it): everything after the quote
        return text[1:].replace("''", "'").rstrip()
    value = text.split("/", 1)[0].strip()
    if value == "T":
        return True
    if value == "F":
        return False
    number = _number(value)
    if number is not None:
        return number
    m = _COMPLEX.match(value)
    if m is not None:
        re_, im = _number(m.group(1)), _number(m.group(2))
        if re_ is not None and im is not None:
            return complex(re_, im)
    return value


def _long_string(image: str):
    """Value of a card followed by CONTINUE cards (joined 80-character images), as astropy joins them.

    Each piece loses its trailing blanks and one trailing ``&``; the pieces are
    joined and the result is read again as one quoted value (so ``''`` is
    unescaped once, and -- as in astropy -- an escaped quote followed by ``/``
    ends the string).  Returns None when a piece is not a string (astropy
    refuses such cards; the first card's own value is used then).
    """
    pieces, comments = [], []
    for i in range(0, len(image), CARD):
        sub = image[i : i + CARD]
        text = sub[8:].strip() if i else sub.split("=", 1)[1].strip()
        m = _STRING_COMMENT.match(text)
        if m is None:
            return None
        piece = (m.group("strg") or "").rstrip()
        pieces.append(piece[:-1] if piece.endswith("&") else piece)
        if m.group("comm"):
            comments.append(m.group("comm").rstrip())
    return _parse_value(f"'{''.join(pieces)}' / {' '.join(comments)}")


def _card_keyword(image: str):
    """(keyword, value text or None) of one card image, with astropy's rules.

    Commentary cards (COMMENT, HISTORY, blank keyword) and cards without a value
    indicator give a None value text; HIERARCH keywords keep their case.
    """
    if image[8:10] == "= " and image[:8] not in ("COMMENT ", "HISTORY ", "        ", "HIERARCH"):
        return image[:8].rstrip().upper(), image[10:]  # the standard layout (most cards)
    key = image[:8].strip().upper()
    if key in _COMMENTARY:
        return key, None
    if key == "HIERARCH" and image[8:9] == " " and "=" in image:
        k, v = image[9:].split("=", 1)
        return k.strip(), v
    idx = image.find("= ")
    if 0 <= idx <= 8:
        return image[:idx].strip().upper(), image[idx + 2 :]
    return key, None


class Header(dict):
    """FITS header as a plain dict of keyword → value, read as astropy reads it.

    * long strings (a string card followed by ``CONTINUE`` cards) are joined;
    * ``''`` inside a string is a quote, trailing blanks of strings are dropped;
    * ``HIERARCH`` keywords are keys without the ``HIERARCH`` prefix;
    * a repeated keyword keeps its first value (as ``astropy``'s ``header[key]``);
    * COMMENT, HISTORY and blank-keyword cards are not values: their texts are in
      ``header.commentary[keyword]`` (a list).

    ``header.cards`` keeps the raw card images (a long-string card with its
    CONTINUE cards as one string) for a faithful conversion with :meth:`to_astropy`.

    Parameters
    ----------
    cards : list of str
        The 80-character card images of the header, without the ``END`` card.

    Examples
    --------
    >>> h = Header(["LONG    = 'first &'".ljust(80), "CONTINUE  'second'".ljust(80)])
    >>> h["LONG"]
    'first second'
    """

    def __init__(self, cards: list[str]):
        super().__init__()
        grouped = []
        for card in cards:
            if card.startswith("CONTINUE") and grouped:
                grouped[-1] += card  # as astropy: CONTINUE cards join the card before them
            else:
                grouped.append(card)
        self.cards = [c for c in grouped if c.strip()]
        self.commentary: dict[str, list[str]] = {}
        for card in self.cards:
            key, text = _card_keyword(card[:CARD])
            if text is None:
                if key in _COMMENTARY:
                    self.commentary.setdefault(key, []).append(card[8:CARD].rstrip())
                continue
            if key in self:
                continue
            value = _long_string(card) if len(card) > CARD else None
            self[key] = _parse_value(text) if value is None else value

    def to_astropy(self):
        """Convert to an `astropy.io.fits.Header` built from the raw card images.

        Returns
        -------
        astropy.io.fits.Header
            The same cards, parsed by astropy.

        Examples
        --------
        >>> Header(["EXPOSURE=                 10.0 / s".ljust(80)]).to_astropy()["EXPOSURE"]
        10.0
        """
        from astropy.io import fits

        return fits.Header.fromstring("".join(self.cards))


class _HDU:
    # An HDU keeps the file's name and raw bytes, not the `FitsFile` itself: no reference
    # cycle, so a file dropped by the data store's cache is freed at once (not at the next
    # full garbage collection), which keeps streaming reductions flat in memory.
    def __init__(self, fitsfile: FitsFile, index: int, header: Header, start: int, size: int):
        self.filename = fitsfile.filename
        self._raw = fitsfile._raw
        self.index = index
        self.header = header
        self._start = start
        self._size = size

    @property
    def name(self) -> str:
        name = self.header.get("EXTNAME")
        if name is None:
            return "PRIMARY" if self.index == 0 else f"HDU{self.index}"
        return str(name).strip().upper()

    @property
    def _buffer(self):
        return memoryview(self._raw)[self._start : self._start + self._size]

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}' of '{os.path.basename(self.filename)}'>"


class ImageHDU(_HDU):
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
            return _astropy_hdu(self._raw, self.index).data
        shape = tuple(int(h[f"NAXIS{i}"]) for i in range(naxis, 0, -1))
        dtype = np.dtype(_BITPIX[int(h["BITPIX"])])
        data = np.frombuffer(self._buffer, dtype=dtype, count=int(np.prod(shape))).reshape(shape)
        bscale, bzero = h.get("BSCALE", 1), h.get("BZERO", 0)
        if bscale != 1 or bzero != 0:
            data = data * bscale + bzero
        return data.astype(data.dtype.newbyteorder("="), copy=False)


class TableHDU(_HDU):
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
        return np.frombuffer(self._buffer, dtype=layout[1], count=self.nrows)

    @cached_property
    def _astropy(self):
        return _astropy_hdu(self._raw, self.index)

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


def _astropy_hdu(raw: bytes, index: int):
    """The astropy HDU ``index`` of an in-memory FITS file (for the rare cases astropy must parse)."""
    from astropy.io import fits

    return fits.open(io.BytesIO(raw), memmap=False)[index]


class FitsFile:
    """A FITS file read into memory, with its HDUs indexed by name.

    HDUs are looked up by ``EXTNAME`` (case-insensitive, ``"PRIMARY"`` for the
    first HDU) or by index: ``f["EVENTS"]``, ``f[0]``, ``"GTI" in f``.

    Parameters
    ----------
    path : str or Path
        ``.fits`` or ``.fits.gz`` file.
    data : bytes, optional
        The (uncompressed) content of the file if already in memory; ``path`` is
        then only used as the name in messages.

    Raises
    ------
    `~gwidgets.errors.FileNotFoundGwError`
        If the file does not exist.
    `~gwidgets.errors.NotFITSError`
        If it is not FITS (no ``SIMPLE`` card) or is truncated.

    Examples
    --------
    >>> import io
    >>> from astropy.io import fits
    >>> buf = io.BytesIO()
    >>> fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(name="IMAGE")]).writeto(buf)
    >>> f = FitsFile("mem.fits", data=buf.getvalue())
    >>> f.names, "image" in f, f.get("GTI") is None
    (['PRIMARY', 'IMAGE'], True, True)
    """

    def __init__(self, path, data: bytes | None = None):
        self.filename = str(path)
        self._raw = read_bytes(path) if data is None else data
        self.hdus: list[_HDU] = []
        self._scan()

    def _scan(self):
        raw = self._raw
        n = len(raw)
        if n < BLOCK or not raw[:30].startswith(b"SIMPLE  ="):
            raise NotFITSError(self.filename, "no SIMPLE card at the start (not FITS, or empty)")
        pos = 0
        index = 0
        while pos < n:
            cards = []
            end_found = False
            while not end_found:
                if pos + BLOCK > n:
                    raise NotFITSError(
                        self.filename, f"file is truncated inside the header of HDU #{index}"
                    )
                block = raw[pos : pos + BLOCK].decode("ascii", errors="replace")
                pos += BLOCK
                for i in range(0, BLOCK, CARD):
                    card = block[i : i + CARD]
                    if card.startswith("END") and card[3:].strip() == "":
                        end_found = True
                        break
                    cards.append(card)
            header = Header(cards)
            if index > 0 and "XTENSION" not in header:
                break  # trailing garbage after the last HDU: ignore, as astropy does
            naxis = int(header.get("NAXIS", 0))
            size = 0
            if naxis:
                size = 1
                for i in range(1, naxis + 1):
                    size *= int(header.get(f"NAXIS{i}", 0))
                size = abs(int(header.get("BITPIX", 8))) // 8 * int(header.get("GCOUNT", 1)) * (
                    int(header.get("PCOUNT", 0)) + size
                )
            if pos + size > n:
                name = header.get("EXTNAME", f"#{index}")
                raise NotFITSError(
                    self.filename,
                    f"file is truncated: HDU '{name}' needs {size} data bytes, "
                    f"only {n - pos} are left",
                )
            xt = str(header.get("XTENSION", "")).strip()
            cls = TableHDU if xt == "BINTABLE" else ImageHDU
            self.hdus.append(cls(self, index, header, pos, size))
            pos += (size + BLOCK - 1) // BLOCK * BLOCK
            index += 1

    @property
    def names(self) -> list[str]:
        """Names of the HDUs, in file order (``EXTNAME`` upper-cased, ``PRIMARY`` or ``HDUn`` when missing)."""
        return [h.name for h in self.hdus]

    def __contains__(self, name) -> bool:
        try:
            self[name]
            return True
        except MissingHDUError:
            return False

    def __getitem__(self, key):
        if isinstance(key, int):
            try:
                return self.hdus[key]
            except IndexError:
                raise MissingHDUError(f"#{key}", self.filename, self.names) from None
        name = str(key).strip().upper()
        for hdu in self.hdus:
            if hdu.name == name:
                return hdu
        raise MissingHDUError(key, self.filename, self.names)

    def get(self, key, default=None):
        """HDU ``key`` (name or index), or ``default`` if the file has none.

        Parameters
        ----------
        key : str or int
            HDU name (case-insensitive) or index.
        default : object, optional
            Returned when the HDU is missing.

        Returns
        -------
        ImageHDU, TableHDU or object
            The HDU, or ``default``.
        """
        try:
            return self[key]
        except MissingHDUError:
            return default

    def find_class(self, hduclas2=None, hduclas3=None, hduclas4=None):
        """First HDU whose HDUCLASn keywords match (e.g. ``hduclas2="EFF_AREA"``).

        Parameters
        ----------
        hduclas2, hduclas3, hduclas4 : str, optional
            Upper-case values the ``HDUCLAS2``/``3``/``4`` keywords must have; None
            matches anything.

        Returns
        -------
        ImageHDU, TableHDU or None
            The first matching HDU, None if none matches.
        """
        for hdu in self.hdus:
            h = hdu.header
            if hduclas2 and str(h.get("HDUCLAS2", "")).strip().upper() != hduclas2:
                continue
            if hduclas3 and str(h.get("HDUCLAS3", "")).strip().upper() != hduclas3:
                continue
            if hduclas4 and str(h.get("HDUCLAS4", "")).strip().upper() != hduclas4:
                continue
            return hdu
        return None

    def _astropy_hdu(self, index):
        return _astropy_hdu(self._raw, index)

    def __repr__(self):
        return f"FitsFile('{self.filename}', hdus={self.names})"
