"""Spectrum file formats: a registry of readers / writers and the recognition of files in a folder.

Formats (gammapy 2.1's names):

* ``"ogip"``: PHA + BKG + ARF + RMF files (`gwidgets.core.io.ogip`), energies in TeV;
* ``"ogip-sherpa"``: the same in keV (for Sherpa / XSPEC); read as ``"ogip"``;
* ``"gadf"``: one file of region maps, gammapy's default (`gwidgets.core.io.gadf_spectrum`).

`spectrum_file_kind` tells what one FITS file is (``"pha"``, ``"bkg"``,
``"response"``, ``"gadf"`` or None), so that `find_spectrum_files` keeps the
spectra of a folder written by gwidgets, by gammapy (``pha_obs1.fits`` next to
``pha_obs1_arf.fits``, ``_bkg``, ``_rmf``) or by the joint-crab paper
(``pha_``/``arf_``/``bkg_``/``rmf_``), whatever the names.

Examples
--------
Two spectra of simulated runs written as OGIP files (each PHA file beside its ARF, RMF and
background files), then found and read back:

>>> from gwidgets.core.datasets import example_spectrum_datasets
>>> datasets = example_spectrum_datasets([1001, 1002])
>>> files = datasets.write("spectra")
>>> from gwidgets.core.io.spectrum_formats import find_spectrum_files, read_spectrum
>>> [read_spectrum(p).name for p in find_spectrum_files("spectra")]
['1001', '1002']
"""
from __future__ import annotations

from pathlib import Path

from ...errors import DataFileError, NotFITSError, UnsupportedFormatError
from ..registry import Registry
from .fits import FitsFile
from .gadf_spectrum import is_gadf_spectrum, read_gadf_spectrum, write_gadf_spectrum
from .ogip import OGIPSpectrum, read_ogip
from .ogip_write import write_ogip

__all__ = ["SPECTRUM_READERS", "SPECTRUM_WRITERS", "spectrum_file_kind", "find_spectrum_files",
           "read_spectrum", "write_spectrum"]

#: format -> reader(path, name=None) -> OGIPSpectrum
SPECTRUM_READERS = Registry("spectrum reader")
SPECTRUM_READERS.add("ogip", read_ogip)
SPECTRUM_READERS.add("ogip-sherpa", read_ogip)
SPECTRUM_READERS.add("gadf", read_gadf_spectrum)

#: format -> writer(spec, path, overwrite) -> written path(s)
SPECTRUM_WRITERS = Registry("spectrum writer")
SPECTRUM_WRITERS.add("ogip", lambda spec, path, overwrite: write_ogip(spec, path, overwrite=overwrite, format="ogip"))
SPECTRUM_WRITERS.add("ogip-sherpa",
                     lambda spec, path, overwrite: write_ogip(spec, path, overwrite=overwrite, format="ogip-sherpa"))
SPECTRUM_WRITERS.add("gadf", lambda spec, path, overwrite: write_gadf_spectrum(spec, path, overwrite=overwrite))

# kind of a file -> format that reads it as a spectrum
_KIND_FORMAT = {"pha": "ogip", "gadf": "gadf"}


def _ogip_kind(ff: FitsFile):
    for hdu in ff.hdus[1:]:
        h = hdu.header
        cls1, cls2 = str(h.get("HDUCLAS1", "")).strip().upper(), str(h.get("HDUCLAS2", "")).strip().upper()
        if hdu.name == "SPECTRUM" or cls1 == "SPECTRUM":
            return "bkg" if cls2 in ("BKG", "BACKGROUND") else "pha"
        if hdu.name in ("SPECRESP", "MATRIX", "SPECRESP MATRIX") or cls1 == "RESPONSE":
            return "response"
    return None


def spectrum_file_kind(path):
    """``"pha"`` (OGIP source spectrum), ``"bkg"``, ``"response"`` (ARF / RMF), ``"gadf"`` or None.

    None for a FITS file that is none of these and for a file that is not FITS.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str or None
        The kind of file.

    Raises
    ------
    `~gwidgets.errors.FileNotFoundGwError`
        If the file does not exist.
    """
    try:
        ff = FitsFile(path)
    except NotFITSError:
        return None
    if is_gadf_spectrum(ff):
        return "gadf"
    return _ogip_kind(ff)


def _background_files(pha_paths) -> set:
    """Resolved paths named by the BACKFILE keyword of the PHA files."""
    out = set()
    for p in pha_paths:
        hdu = FitsFile(p).get("SPECTRUM")
        value = None if hdu is None else hdu.header.get("BACKFILE")
        if value and str(value).strip().lower() != "none":
            out.add((Path(p).parent / str(value).strip()).resolve())
    return out


def find_spectrum_files(directory, pattern: str | None = None) -> list[Path]:
    """The spectrum files of ``directory`` (sorted): OGIP PHA files and gadf dataset files.

    ``pattern`` (a glob, e.g. ``"pha_*.fits"``) narrows the candidates; BKG,
    ARF and RMF files are left out however they are named, and so is a PHA file
    that another one names as its BACKFILE.

    Parameters
    ----------
    directory : str or Path
        The folder (not searched recursively without a recursive pattern).
    pattern : str, optional
        Glob of candidate files; default all files ending in ``.fits``,
        ``.fits.gz``, ``.fit``, ``.pha`` or ``.fits.fz``.

    Returns
    -------
    list of Path
        The spectrum files, each readable with `read_spectrum`.
    """
    directory = Path(directory)
    candidates = sorted(p for p in directory.glob(pattern or "*") if p.is_file()
                        and (pattern or p.name.lower().endswith((".fits", ".fits.gz", ".fit", ".pha", ".fits.fz"))))
    kinds = {p: spectrum_file_kind(p) for p in candidates}
    phas = [p for p, k in kinds.items() if k == "pha"]
    backgrounds = _background_files(phas)
    return [p for p, k in kinds.items() if k == "gadf" or (k == "pha" and p.resolve() not in backgrounds)]


def read_spectrum(path, name=None, format: str | None = None) -> OGIPSpectrum:
    """Read one spectrum file in ``format`` (None: recognised from the file).

    Parameters
    ----------
    path : str or Path
        A PHA file or a gadf spectrum dataset file.
    name : str, optional
        Name of the spectrum (default: from the file, see the readers).
    format : {"ogip", "ogip-sherpa", "gadf"}, optional
        Format of the file; recognised with `spectrum_file_kind` if None.

    Returns
    -------
    `~gwidgets.core.io.ogip.OGIPSpectrum`
        The spectrum.

    Raises
    ------
    `~gwidgets.errors.UnsupportedFormatError`
        If the file is a BKG, ARF or RMF file, or no spectrum at all.
    `~gwidgets.errors.DataFileError`
        For an unknown format.
    """
    if format is None:
        kind = spectrum_file_kind(path)
        format = _KIND_FORMAT.get(kind)
        if format is None:
            what = {"bkg": "an OGIP background (BKG) file", "response": "an OGIP response (ARF/RMF) file"}.get(
                kind, "neither an OGIP PHA file nor a gadf spectrum dataset")
            raise UnsupportedFormatError(f"File '{path}' is {what}; read the PHA file that names it", path)
    reader = SPECTRUM_READERS.get(format)
    if reader is None:
        raise DataFileError(f"Unknown spectrum format '{format}' for '{path}' "
                            f"(known: {', '.join(SPECTRUM_READERS)})", path)
    return reader(path, name=name)


def write_spectrum(spec: OGIPSpectrum, path, format: str = "ogip", overwrite: bool = False):
    """Write ``spec`` in ``format`` (``"ogip"``, ``"ogip-sherpa"`` or ``"gadf"``).

    Parameters
    ----------
    spec : `~gwidgets.core.io.ogip.OGIPSpectrum`
        The spectrum.
    path : str or Path
        Output file (the PHA file for the OGIP formats).
    format : {"ogip", "ogip-sherpa", "gadf"}, optional
        Output format.
    overwrite : bool, optional
        Replace existing files.

    Returns
    -------
    dict or Path
        The written paths by kind (OGIP formats) or the written file (gadf).

    Raises
    ------
    `~gwidgets.errors.DataFileError`
        For an unknown format (`~gwidgets.core.io.ogip.OGIPError` from the
        writers for existing files).
    """
    writer = SPECTRUM_WRITERS.get(format)
    if writer is None:
        raise DataFileError(f"Unknown spectrum format '{format}' (known: {', '.join(SPECTRUM_WRITERS)})", path)
    return writer(spec, path, overwrite)
