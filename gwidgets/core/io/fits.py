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

import zlib
from pathlib import Path

from ...errors import FileNotFoundGwError, MissingHDUError, NotFITSError
from .fits_hdu import HDU, ImageHDU, TableHDU, astropy_hdu, parse_unit
from .fits_header import CARD, Header

__all__ = ["FitsFile", "TableHDU", "ImageHDU", "read_bytes", "parse_unit"]

BLOCK = 2880


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
        self.hdus: list[HDU] = []
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
            self.hdus.append(cls(self.filename, self._raw, index, header, pos, size))
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
        return astropy_hdu(self._raw, index)

    def __repr__(self):
        return f"FitsFile('{self.filename}', hdus={self.names})"
