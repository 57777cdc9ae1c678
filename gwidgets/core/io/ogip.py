"""OGIP spectra: PHA (ON counts), BKG (OFF counts), ARF (effective area), RMF (dispersion).

`read_ogip(pha_path)` reads a PHA file and the files its ``BACKFILE``,
``ANCRFILE`` and ``RESPFILE`` keywords name (relative to the PHA's
directory), checks that their energy grids agree and returns an
`OGIPSpectrum` of plain arrays in canonical units (TeV, cm², s).
`~gwidgets.core.io.ogip_write.write_ogip` (module ``ogip_write``) writes the four files so that gammapy
(``SpectrumDatasetOnOff.read``) and Sherpa/XSPEC (``format="ogip-sherpa"``:
keV and cm²) read them back.

Conventions (as gammapy's OGIP reader, see the OGIP memos 92-007 and CAL/GEN/92-002):

* ``mask_safe = QUALITY == 0``; QUALITY, BACKSCAL and AREASCAL may be columns or keywords.
* ``acceptance = BACKSCAL`` of the PHA; ``acceptance_off = BACKSCAL`` of the BKG
  file, times the OFF/ON ratio of ``AREASCAL × EXPOSURE`` when those differ
  (the OGIP background scaling; 1 for gammapy's files).
* ``exposure = SPECRESP × EXPOSURE`` (ARF times the PHA livetime).
* RMF rows are decoded from the compressed ``N_GRP / F_CHAN / N_CHAN / MATRIX``
  layout (variable-length arrays are read directly from the FITS heap); the
  first channel number is ``TLMIN`` of ``F_CHAN`` (else the first EBOUNDS channel).

Errors name the file: `~gwidgets.errors.FileNotFoundGwError` (with the keyword
that referenced it), `~gwidgets.errors.MissingColumnError`,
`~gwidgets.errors.UnitError`, `OGIPMismatchError` (energy grids or channel
counts that do not agree), `OGIPError` (anything else unusable).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np

from ...errors import (
    DataFileError,
    FileNotFoundGwError,
    MissingColumnError,
    MissingHDUError,
    UnitError,
    UnsupportedFormatError,
)
from .fits import FitsFile, parse_unit
from .fits_hdu import FITS_DTYPES, TFORM_CODES

__all__ = ["OGIPSpectrum", "OGIPError", "OGIPMismatchError", "read_ogip", "read_pha", "read_arf", "read_rmf"]

_GRID_RTOL = 1e-5  # RMF grids are often float32


class OGIPError(DataFileError):
    """An OGIP file is not usable (the message names the file and the reason).

    Parameters
    ----------
    message : str
        What is wrong, naming the file.
    filename : str or Path, optional
        The file.
    """


class OGIPMismatchError(OGIPError, ValueError):
    """The PHA, BKG, ARF and RMF files of one spectrum do not describe the same energy grids.

    Parameters
    ----------
    message : str
        What does not agree, naming the files.
    filename : str or Path, optional
        The file found at fault.
    """


@dataclass
class OGIPSpectrum:
    """One OGIP spectrum in canonical units (energies TeV, exposure cm² s, times s).

    Also the container of the gadf reader (`gwidgets.core.io.gadf_spectrum`), which
    may set ``background`` / ``mask_fit``.

    Parameters
    ----------
    name : str
        Name of the spectrum (dataset).
    counts : numpy.ndarray
        ON counts per reconstructed-energy bin, shape ``(n_reco,)``.
    energy_edges : numpy.ndarray
        Reconstructed-energy (channel) edges in TeV, shape ``(n_reco + 1,)``.
    energy_edges_true : numpy.ndarray
        True-energy edges of the ARF / RMF in TeV, shape ``(n_true + 1,)``.
    exposure : numpy.ndarray
        Exposure (effective area × livetime) per true-energy bin in cm² s.
    livetime : float
        Livetime in s (NaN when unknown).
    mask_safe : numpy.ndarray
        Boolean safe mask per reconstructed-energy bin.
    acceptance : numpy.ndarray
        ON acceptance (``BACKSCAL`` of the PHA) per reconstructed-energy bin.
    edisp : numpy.ndarray or None
        Energy dispersion matrix, shape ``(n_true, n_reco)``; None without RMF.
    counts_off : numpy.ndarray or None
        OFF counts per reconstructed-energy bin; None without BKG file.
    acceptance_off : numpy.ndarray or None
        OFF acceptance per reconstructed-energy bin; None without BKG file.
    meta : dict
        Header keywords of the spectrum HDU.
    filenames : dict
        Files read, by kind (``"pha"``, ``"bkg"``, ``"arf"``, ``"rmf"``, ``"gadf"``).
    background : numpy.ndarray or None
        Known background counts per reconstructed-energy bin (gadf ``SpectrumDataset`` files).
    mask_fit : numpy.ndarray or None
        Boolean fit mask per reconstructed-energy bin.
    """

    name: str
    counts: np.ndarray
    energy_edges: np.ndarray
    energy_edges_true: np.ndarray
    exposure: np.ndarray
    livetime: float
    mask_safe: np.ndarray
    acceptance: np.ndarray
    edisp: np.ndarray | None = None
    counts_off: np.ndarray | None = None
    acceptance_off: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    filenames: dict = field(default_factory=dict)
    background: np.ndarray | None = None  # known background counts (gadf `SpectrumDataset` files)
    mask_fit: np.ndarray | None = None


# --------------------------------------------------------------------------- helpers
def _open(path, referenced_by=None) -> FitsFile:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundGwError(path, referenced_by)
    return FitsFile(path)


def _find_hdu(ff: FitsFile, names, hduclas=None, what="", hduclas_key="HDUCLAS2"):
    for name in names:
        if name in ff:
            return ff[name]
    if hduclas:
        for hdu in ff.hdus[1:]:
            if str(hdu.header.get(hduclas_key, "")).strip().upper() == hduclas:
                return hdu
    raise MissingHDUError(names[0], ff.filename, ff.names) if not what else OGIPError(
        f"File '{ff.filename}' has no {what} HDU ({' or '.join(names)}; HDUs: {', '.join(ff.names)})", ff.filename)


def _to_tev(values, unit_text, column, hdu, filename):
    unit = _parse(unit_text or "keV", column, hdu, filename)
    try:
        factor = unit.to(u.TeV)
    except u.UnitConversionError:
        raise UnitError(column, unit_text, "TeV", hdu, filename) from None
    return np.asarray(values, dtype=float) * factor


def _parse(text, column, hdu, filename):
    try:
        return parse_unit(text)
    except ValueError:
        raise UnitError(column, text, "?", hdu, filename) from None


def _column_or_keyword(hdu, name, n, default=None):
    """Column ``name``, or the keyword of that name broadcast to ``n`` rows, or ``default``."""
    if hdu.has_column(name):
        return np.asarray(hdu.column(name), dtype=float).reshape(-1)
    if name in hdu.header and hdu.header[name] is not None:
        try:
            return np.full(n, float(hdu.header[name]))
        except (TypeError, ValueError):
            raise OGIPError(f"Keyword {name} = {hdu.header[name]!r} in HDU '{hdu.name}' of file "
                            f"'{hdu.filename}' is not a number", hdu.filename) from None
    if default is None:
        raise MissingColumnError(name, hdu.name, hdu.filename, hdu.columns)
    return np.full(n, float(default))


def _edges(lo, hi, what, filename):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    if lo.size == 0:
        raise OGIPError(f"File '{filename}': the {what} energy grid is empty", filename)
    if not (np.all(hi > lo) and np.all(np.abs(lo[1:] - hi[:-1]) <= _GRID_RTOL * np.abs(hi[:-1]))):
        raise OGIPError(f"File '{filename}': the {what} energy bins are not contiguous and increasing", filename)
    return np.append(lo, hi[-1])


def _ebounds(ff: FitsFile):
    hdu = ff.get("EBOUNDS") or ff.find_class(hduclas2="EBOUNDS")
    if hdu is None:
        return None, None
    lo = _to_tev(hdu.column("E_MIN"), hdu.unit("E_MIN"), "E_MIN", hdu.name, ff.filename)
    hi = _to_tev(hdu.column("E_MAX"), hdu.unit("E_MAX"), "E_MAX", hdu.name, ff.filename)
    first = int(hdu.column("CHANNEL")[0]) if hdu.has_column("CHANNEL") else None
    return _edges(lo, hi, "EBOUNDS", ff.filename), first


# --------------------------------------------------------------------------- PHA / BKG
def read_pha(path, referenced_by=None) -> dict:
    """Read a PHA (or BKG) file: counts, quality, BACKSCAL, AREASCAL, EXPOSURE, header, EBOUNDS edges.

    Parameters
    ----------
    path : str or Path
        The PHA or BKG file (type I, one spectrum).
    referenced_by : str, optional
        What named the file (e.g. ``"the BACKFILE keyword of 'pha.fits'"``), for
        the message when it does not exist.

    Returns
    -------
    dict
        ``filename``, ``counts`` (float array; ``RATE × EXPOSURE`` if there is no
        COUNTS column), ``channel``, ``quality`` (int array), ``backscal``,
        ``areascal`` (float arrays, keywords broadcast), ``exposure`` (float, s),
        ``header`` (dict), ``cards`` (raw header cards) and ``energy_edges``
        (EBOUNDS edges in TeV, None without EBOUNDS).

    Raises
    ------
    `~gwidgets.errors.FileNotFoundGwError`
        If the file does not exist.
    `~gwidgets.errors.UnsupportedFormatError`
        If it is a type II PHA file.
    `~gwidgets.errors.MissingColumnError`
        If there is neither a COUNTS nor a RATE column.
    OGIPError
        If there is no SPECTRUM HDU or EXPOSURE keyword, counts are negative or
        NaN, or the channels are not consecutive.
    OGIPMismatchError
        If SPECTRUM and EBOUNDS have different numbers of channels.
    """
    ff = _open(path, referenced_by)
    hdu = _find_hdu(ff, ["SPECTRUM"], "SPECTRUM", what="SPECTRUM", hduclas_key="HDUCLAS1")
    h = hdu.header
    n = hdu.nrows
    if str(h.get("HDUCLAS4", "TYPE:I")).strip().upper() in ("TYPE:II", "TYPE:2"):
        raise UnsupportedFormatError(f"File '{ff.filename}' is a type II PHA file (several spectra); "
                                     "only type I (one spectrum) is supported", ff.filename)
    exposure = h.get("EXPOSURE")
    if exposure is None:
        raise OGIPError(f"File '{ff.filename}' has no EXPOSURE keyword in HDU '{hdu.name}'", ff.filename)
    if hdu.has_column("COUNTS"):
        counts = np.asarray(hdu.column("COUNTS"), dtype=float)
    elif hdu.has_column("RATE"):
        counts = np.asarray(hdu.column("RATE"), dtype=float) * float(exposure)
    else:
        raise MissingColumnError("COUNTS", hdu.name, ff.filename, hdu.columns)
    if counts.ndim != 1:
        raise UnsupportedFormatError(f"File '{ff.filename}': COUNTS has shape {counts.shape}; "
                                     "only type I PHA files (one spectrum) are supported", ff.filename)
    bad = np.flatnonzero(~(counts >= 0))  # negative, NaN: counts that cannot be fitted
    if bad.size:
        column = "COUNTS" if hdu.has_column("COUNTS") else "RATE"
        raise OGIPError(f"File '{ff.filename}', HDU '{hdu.name}', column {column}: {bad.size} channel(s) have "
                        f"negative or NaN counts (first: channel {int(bad[0])}, {counts[bad[0]]!r}); "
                        "counts must be >= 0", ff.filename)
    channel = np.asarray(hdu.column("CHANNEL"), dtype=int) if hdu.has_column("CHANNEL") else np.arange(n)
    if n > 1 and not np.all(np.diff(channel) == 1):
        raise OGIPError(f"File '{ff.filename}': CHANNEL numbers are not consecutive", ff.filename)
    quality = _column_or_keyword(hdu, "QUALITY", n, default=0)
    edges, _ = _ebounds(ff)
    if edges is not None and len(edges) - 1 != n:
        raise OGIPMismatchError(f"File '{ff.filename}': {n} channels in SPECTRUM but {len(edges) - 1} "
                                "in EBOUNDS", ff.filename)
    return {
        "filename": ff.filename,
        "counts": counts,
        "channel": channel,
        "quality": quality.astype(int),
        "backscal": _column_or_keyword(hdu, "BACKSCAL", n, default=1),
        "areascal": _column_or_keyword(hdu, "AREASCAL", n, default=1),
        "exposure": float(exposure),
        "header": dict(h),
        "cards": h.cards,
        "energy_edges": edges,
    }


# --------------------------------------------------------------------------- ARF
def read_arf(path, referenced_by=None):
    """Read an ARF: (true-energy edges in TeV, effective area in cm² per bin).

    Parameters
    ----------
    path : str or Path
        The ARF file.
    referenced_by : str, optional
        What named the file, for the message when it does not exist.

    Returns
    -------
    edges : numpy.ndarray
        True-energy edges in TeV, shape ``(n + 1,)``.
    aeff : numpy.ndarray
        Effective area in cm², shape ``(n,)`` (``SPECRESP`` without unit is taken as cm²).

    Raises
    ------
    `~gwidgets.errors.FileNotFoundGwError`
        If the file does not exist.
    OGIPError
        If there is no SPECRESP HDU, the bins are not contiguous and increasing,
        or the effective area is negative, NaN or zero everywhere.
    `~gwidgets.errors.UnitError`
        If an energy column is not in energy units.
    """
    ff = _open(path, referenced_by)
    hdu = _find_hdu(ff, ["SPECRESP"], "SPECRESP", what="SPECRESP")
    lo = _to_tev(hdu.column("ENERG_LO"), hdu.unit("ENERG_LO"), "ENERG_LO", hdu.name, ff.filename)
    hi = _to_tev(hdu.column("ENERG_HI"), hdu.unit("ENERG_HI"), "ENERG_HI", hdu.name, ff.filename)
    aeff = np.asarray(hdu.quantity("SPECRESP", "cm2", default_unit="cm2").value, dtype=float)
    if not np.any(aeff > 0) or np.any(~(aeff >= 0)):
        raise OGIPError(f"File '{ff.filename}', HDU '{hdu.name}', column SPECRESP: the effective area must be >= 0 "
                        "and somewhere > 0 (zero exposure cannot constrain a model)", ff.filename)
    return _edges(lo, hi, "ARF", ff.filename), aeff


# --------------------------------------------------------------------------- RMF
class _VarTable:
    """Columns of a binary table that has variable-length array (P/Q) columns.

    Fixed columns are read as a structured view of the rows; a P/Q column
    gives one array per row, read from the heap.
    """

    def __init__(self, hdu):
        self.hdu, h = hdu, hdu.header
        self.filename = hdu.filename
        names, formats, offsets, self.var, self.units, self.tlmin = [], [], [], {}, {}, {}
        offset = 0
        for i in range(1, int(h.get("TFIELDS", 0)) + 1):
            name = str(h.get(f"TTYPE{i}", f"COL{i}")).strip().upper()
            m = TFORM_CODES.match(str(h[f"TFORM{i}"]).strip())
            if m is None or m.group(2) in "XA" and name in ("MATRIX", "F_CHAN", "N_CHAN", "N_GRP"):
                raise OGIPError(f"File '{self.filename}': unsupported TFORM{i} for column {name}", self.filename)
            repeat, code, rest = int(m.group(1) or 1), m.group(2), m.group(3)
            if code in "PQ":
                elem = rest.strip()[:1]
                if elem not in FITS_DTYPES:
                    raise OGIPError(f"File '{self.filename}': unsupported variable-length type in column {name}",
                                    self.filename)
                dt = np.dtype((">i4" if code == "P" else ">i8", 2))
                self.var[name] = np.dtype(FITS_DTYPES[elem])
            elif code == "A":
                dt = np.dtype(f"S{repeat}")
            elif code == "X":
                dt = np.dtype(("u1", ((repeat + 7) // 8,)))
            else:
                dt = np.dtype((FITS_DTYPES[code], (repeat,))) if repeat != 1 else np.dtype(FITS_DTYPES[code])
            names.append(name)
            formats.append(dt)
            offsets.append(offset)
            offset += dt.itemsize
            self.units[name] = str(h.get(f"TUNIT{i}", "") or "").strip()
            if f"TLMIN{i}" in h:
                self.tlmin[name] = int(h[f"TLMIN{i}"])
        self.names = names
        naxis1, nrows = int(h["NAXIS1"]), int(h.get("NAXIS2", 0))
        self.nrows = nrows
        dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": naxis1})
        self._buf = hdu.buffer  # raw bytes of this HDU's data (rows then heap)
        self._rows = np.frombuffer(self._buf, dtype=dtype, count=nrows)
        self._heap = int(h.get("THEAP", naxis1 * nrows))

    def has(self, name):
        return name.upper() in self.names

    def fixed(self, name) -> np.ndarray:
        if not self.has(name):
            raise MissingColumnError(name, self.hdu.name, self.filename, self.names)
        data = self._rows[name.upper()]
        return data.astype(data.dtype.newbyteorder("="))

    def flat(self, name):
        """Column ``name`` as (all row values concatenated as floats, index of each row's first value, row lengths).

        Works for variable-length (P/Q), fixed-width and scalar columns.
        """
        name = name.upper()
        if not self.has(name):
            raise MissingColumnError(name, self.hdu.name, self.filename, self.names)
        if name not in self.var:
            data = self.fixed(name).reshape(self.nrows, -1)
            width = data.shape[1]
            return data.reshape(-1).astype(float), np.arange(self.nrows) * width, np.full(self.nrows, width)
        elem = self.var[name]
        desc = self._rows[name].astype(np.int64).reshape(self.nrows, 2)
        counts, offsets = desc[:, 0], desc[:, 1]
        nbytes = counts * elem.itemsize
        total = int(nbytes.sum())
        if np.any(counts < 0) or np.any(offsets < 0) or np.any(self._heap + offsets + nbytes > len(self._buf)):
            raise OGIPError(f"File '{self.filename}': variable-length column {name} points outside the heap",
                            self.filename)
        before = np.cumsum(nbytes) - nbytes
        index = np.repeat(self._heap + offsets - before, nbytes) + np.arange(total)
        raw = np.frombuffer(self._buf, dtype=np.uint8)[index]
        values = raw.view(elem).astype(float)
        return values, np.cumsum(counts) - counts, counts


def read_rmf(path, referenced_by=None):
    """Read an RMF: (true edges TeV, reco edges TeV, matrix (n_true, n_reco)).

    Parameters
    ----------
    path : str or Path
        The RMF file (MATRIX or SPECRESP MATRIX HDU plus EBOUNDS).
    referenced_by : str, optional
        What named the file, for the message when it does not exist.

    Returns
    -------
    edges_true : numpy.ndarray
        True-energy edges in TeV, shape ``(n_true + 1,)``.
    edges_reco : numpy.ndarray
        Reconstructed-energy (EBOUNDS) edges in TeV, shape ``(n_reco + 1,)``.
    matrix : numpy.ndarray
        Probability of each reconstructed-energy channel per true-energy bin,
        shape ``(n_true, n_reco)``.

    Raises
    ------
    `~gwidgets.errors.FileNotFoundGwError`
        If the file does not exist.
    `~gwidgets.errors.MissingHDUError`
        If there is no EBOUNDS HDU.
    OGIPMismatchError
        If ``DETCHANS`` differs from the number of EBOUNDS channels.
    OGIPError
        If there is no MATRIX HDU or a row refers to channels outside the grid.
    """
    ff = _open(path, referenced_by)
    hdu = _find_hdu(ff, ["MATRIX", "SPECRESP MATRIX"], "RSP_MATRIX", what="MATRIX")
    tab = _VarTable(hdu)
    lo = _to_tev(tab.fixed("ENERG_LO"), tab.units.get("ENERG_LO"), "ENERG_LO", hdu.name, ff.filename)
    hi = _to_tev(tab.fixed("ENERG_HI"), tab.units.get("ENERG_HI"), "ENERG_HI", hdu.name, ff.filename)
    edges_true = _edges(lo.reshape(-1), hi.reshape(-1), "RMF MATRIX", ff.filename)
    edges_reco, first_channel = _ebounds(ff)
    if edges_reco is None:
        raise MissingHDUError("EBOUNDS", ff.filename, ff.names)
    n_chan = int(hdu.header.get("DETCHANS", len(edges_reco) - 1))
    if n_chan != len(edges_reco) - 1:
        raise OGIPMismatchError(f"File '{ff.filename}': DETCHANS = {n_chan} but EBOUNDS has "
                                f"{len(edges_reco) - 1} channels", ff.filename)
    offset = tab.tlmin.get("F_CHAN", first_channel if first_channel is not None else 1)
    f_flat, f_start, f_len = tab.flat("F_CHAN")
    n_flat, n_start, _ = tab.flat("N_CHAN")
    m_flat, m_start, m_len = tab.flat("MATRIX")
    n_grp = tab.fixed("N_GRP").reshape(-1).astype(np.int64) if tab.has("N_GRP") else f_len
    # one entry per (row, group), then one per matrix element
    g_row = np.repeat(np.arange(tab.nrows), n_grp)
    g_k = np.arange(len(g_row)) - np.repeat(np.cumsum(n_grp) - n_grp, n_grp)
    first = f_flat[f_start[g_row] + g_k].astype(np.int64) - offset
    width = n_flat[n_start[g_row] + g_k].astype(np.int64)
    width = np.maximum(width, 0)
    excl = np.cumsum(width) - width
    row_first = np.cumsum(n_grp) - n_grp
    pos = excl - excl[row_first[g_row]] if len(g_row) else excl
    bad = (first < 0) | (first + width > n_chan) | (pos + width > m_len[g_row])
    if np.any(bad & (width > 0)):
        i = int(g_row[np.flatnonzero(bad & (width > 0))[0]])
        raise OGIPError(f"File '{ff.filename}': row {i} of the MATRIX refers to channels outside "
                        f"{offset}..{n_chan - 1 + offset} or to more values than it holds", ff.filename)
    e_group = np.repeat(np.arange(len(g_row)), width)
    e_k = np.arange(len(e_group)) - np.repeat(excl, width)
    rows = g_row[e_group]
    matrix = np.zeros((tab.nrows, n_chan))
    matrix[rows, first[e_group] + e_k] = m_flat[m_start[rows] + pos[e_group] + e_k]
    return edges_true, edges_reco, matrix


# --------------------------------------------------------------------------- spectrum
_EXT = re.compile(r"[\[{].*[\]}]\s*$")


def _linked(pha_path: Path, header: dict, key: str):
    """Path named by keyword ``key`` of the PHA header (None if absent / 'none')."""
    value = header.get(key)
    if value is None:
        return None
    value = _EXT.sub("", str(value)).strip()
    if not value or value.lower() == "none":
        return None
    candidate = Path(value)
    if not candidate.is_absolute():
        local = pha_path.parent / candidate
        if local.exists() or not candidate.exists():
            candidate = local
    return candidate


def _dataset_name(pha_path: Path, header: dict, cards) -> str:
    """OBS_ID of the PHA; if absent or repeated (stacked files), the file name without ``pha_obs``/``pha_``."""
    repeated = sum(c.startswith("OBS_ID  =") for c in cards) > 1
    value = header.get("OBS_ID")
    if not repeated and value is not None and str(value).strip():
        return str(value).strip()
    stem = pha_path.name.split(".")[0]
    for prefix in ("pha_obs", "pha_"):
        if stem.startswith(prefix) and len(stem) > len(prefix):
            return stem[len(prefix):]
    return stem


def _same_grid(a, b):
    return len(a) == len(b) and bool(np.all(np.abs(a - b) <= _GRID_RTOL * np.abs(b)))


def read_ogip(pha_path, name=None) -> OGIPSpectrum:
    """Read a PHA file and its BKG / ARF / RMF into an `OGIPSpectrum` (see module doc).

    Parameters
    ----------
    pha_path : str or Path
        The PHA file; the BKG, ARF and RMF files are those its ``BACKFILE``,
        ``ANCRFILE`` and ``RESPFILE`` keywords name (relative to its folder).
    name : str, optional
        Name of the spectrum; default the PHA's ``OBS_ID``, else the file name
        without ``pha_obs``/``pha_``.

    Returns
    -------
    OGIPSpectrum
        Energies in TeV, exposure (ARF × PHA ``EXPOSURE``) in cm² s, livetime in s.

    Raises
    ------
    OGIPError
        If there is no ANCRFILE, or neither EBOUNDS nor RESPFILE.
    OGIPMismatchError
        If the energy grids or channel counts of the files disagree.
    `~gwidgets.errors.FileNotFoundGwError`
        If a linked file does not exist (the message names the keyword).
    """
    pha_path = Path(pha_path)
    pha = read_pha(pha_path)
    header = pha["header"]
    where = f"'{pha_path}'"
    files = {"pha": str(pha_path)}
    if name is None:
        name = _dataset_name(pha_path, header, pha["cards"])
    livetime = pha["exposure"]

    arf_path = _linked(pha_path, header, "ANCRFILE")
    if arf_path is None:
        raise OGIPError(f"File '{pha_path}' has no ANCRFILE keyword: an effective area (ARF) is required",
                        pha_path)
    files["arf"] = str(arf_path)
    edges_true, aeff = read_arf(arf_path, referenced_by=f"the ANCRFILE keyword of {where}")

    edisp = None
    edges_reco = pha["energy_edges"]
    rmf_path = _linked(pha_path, header, "RESPFILE")
    if rmf_path is not None:
        files["rmf"] = str(rmf_path)
        rmf_true, rmf_reco, edisp = read_rmf(rmf_path, referenced_by=f"the RESPFILE keyword of {where}")
        if not _same_grid(rmf_true, edges_true):
            raise OGIPMismatchError(
                f"RMF file '{rmf_path}' has a true-energy grid of {len(rmf_true) - 1} bins "
                f"[{rmf_true[0]:.4g}, {rmf_true[-1]:.4g}] TeV that does not match the ARF '{arf_path}' "
                f"({len(edges_true) - 1} bins [{edges_true[0]:.4g}, {edges_true[-1]:.4g}] TeV)", rmf_path)
        if len(rmf_reco) - 1 != len(pha["counts"]):
            raise OGIPMismatchError(f"RMF file '{rmf_path}' has {len(rmf_reco) - 1} channels but the PHA file "
                                    f"'{pha_path}' has {len(pha['counts'])}", rmf_path)
        if edges_reco is not None and not _same_grid(rmf_reco, edges_reco):
            raise OGIPMismatchError(f"RMF file '{rmf_path}': its EBOUNDS energy grid does not match the EBOUNDS "
                                    f"of the PHA file '{pha_path}'", rmf_path)
        edges_reco = rmf_reco
    if edges_reco is None:
        raise OGIPError(f"File '{pha_path}' has neither an EBOUNDS HDU nor a RESPFILE: "
                        "the reconstructed-energy grid is unknown", pha_path)

    counts_off = acceptance_off = None
    bkg_path = _linked(pha_path, header, "BACKFILE")
    if bkg_path is not None:
        files["bkg"] = str(bkg_path)
        bkg = read_pha(bkg_path, referenced_by=f"the BACKFILE keyword of {where}")
        if len(bkg["counts"]) != len(pha["counts"]):
            raise OGIPMismatchError(f"BKG file '{bkg_path}' has {len(bkg['counts'])} channels but the PHA file "
                                    f"'{pha_path}' has {len(pha['counts'])}", bkg_path)
        counts_off = bkg["counts"]
        scale_on = pha["areascal"] * pha["exposure"]
        scale_off = bkg["areascal"] * bkg["exposure"]
        ratio = np.divide(scale_off, scale_on, out=np.ones_like(scale_on), where=scale_on > 0)
        acceptance_off = bkg["backscal"] * ratio

    meta = {k: v for k, v in header.items() if not k.startswith(("TTYPE", "TFORM", "TUNIT", "NAXIS", "TFIELDS",
                                                                  "PCOUNT", "GCOUNT", "XTENSION", "BITPIX"))}
    return OGIPSpectrum(
        name=name, counts=pha["counts"], energy_edges=edges_reco, energy_edges_true=edges_true,
        exposure=aeff * livetime, livetime=livetime, mask_safe=pha["quality"] == 0, acceptance=pha["backscal"],
        edisp=edisp, counts_off=counts_off, acceptance_off=acceptance_off, meta=meta, filenames=files,
    )
