"""Writing OGIP spectra: PHA (ON counts), BKG (OFF counts), ARF and RMF files.

``write_ogip(spectrum, path)`` writes an `~gwidgets.core.io.ogip.OGIPSpectrum`
as the four files gammapy writes (``SpectrumDatasetOnOff.write``, names as
`ogip_filenames`), so that gammapy (``SpectrumDatasetOnOff.read``) and
Sherpa/XSPEC (``format="ogip-sherpa"``: keV and cm²) read them back; the reader
is `gwidgets.core.io.ogip.read_ogip`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .ogip import OGIPError, OGIPSpectrum

__all__ = ["write_ogip", "ogip_filenames"]

#: TeV per keV (the Sherpa/XSPEC files are in keV)
KEV_TO_TEV = 1e-9


def ogip_filenames(path) -> dict:
    """Gammapy's naming: ``x.fits`` → ``x_bkg.fits``, ``x_arf.fits``, ``x_rmf.fits``.

    Parameters
    ----------
    path : str or Path
        The PHA file name.

    Returns
    -------
    dict
        Paths by kind: ``"pha"``, ``"bkg"``, ``"arf"``, ``"rmf"``.

    Examples
    --------
    >>> sorted(p.name for p in ogip_filenames("out/pha_obs23523.fits").values())
    ['pha_obs23523.fits', 'pha_obs23523_arf.fits', 'pha_obs23523_bkg.fits', 'pha_obs23523_rmf.fits']
    """
    path = Path(path)
    suffix = "".join(path.suffixes) or ".fits"
    stem = path.name[: len(path.name) - len("".join(path.suffixes))] if path.suffixes else path.name
    return {"pha": path, "bkg": path.with_name(f"{stem}_bkg{suffix}"),
            "arf": path.with_name(f"{stem}_arf{suffix}"), "rmf": path.with_name(f"{stem}_rmf{suffix}")}


def _ebounds_hdu(fits, edges, factor, unit):
    n = len(edges) - 1
    cols = [fits.Column("CHANNEL", "I", array=np.arange(n, dtype=np.int16)),
            fits.Column("E_MIN", "D", unit=unit, array=edges[:-1] * factor),
            fits.Column("E_MAX", "D", unit=unit, array=edges[1:] * factor)]
    hdu = fits.BinTableHDU.from_columns(cols, name="EBOUNDS")
    for key, value in (("TELESCOP", "DUMMY"), ("INSTRUME", "DUMMY"), ("FILTER", "None"), ("CHANTYPE", "PHA"),
                       ("DETCHANS", n), ("HDUCLASS", "OGIP"), ("HDUCLAS1", "RESPONSE"), ("HDUCLAS2", "EBOUNDS"),
                       ("HDUVERS", "1.2.0")):
        hdu.header[key] = value
    return hdu


def _spectrum_hdulist(fits, spec: OGIPSpectrum, files: dict, background: bool, factor, unit):
    counts = spec.counts_off if background else spec.counts
    acceptance = spec.acceptance_off if background else spec.acceptance
    n = len(counts)
    integer = np.all(np.mod(counts, 1) == 0) and np.all(np.abs(counts) < 2**31)
    cols = [fits.Column("CHANNEL", "I", array=np.arange(n, dtype=np.int16)),
            fits.Column("COUNTS", "J" if integer else "D", array=counts.astype(np.int32 if integer else float)),
            fits.Column("QUALITY", "I", array=(~np.asarray(spec.mask_safe, bool)).astype(np.int16)),
            fits.Column("BACKSCAL", "D", array=np.broadcast_to(np.asarray(acceptance, float), (n,))),
            fits.Column("AREASCAL", "D", array=np.ones(n))]
    hdu = fits.BinTableHDU.from_columns(cols, name="SPECTRUM")
    h = hdu.header
    name = spec.name
    obs_id = int(name) if str(name).isdigit() and len(str(name)) < 18 else str(name)
    for key, value in (("HDUCLASS", "OGIP"), ("HDUCLAS1", "SPECTRUM"), ("HDUCLAS2", "BKG" if background else "TOTAL"),
                       ("HDUCLAS3", "COUNT"), ("HDUCLAS4", "TYPE:1"), ("HDUVERS", "1.2.1"), ("TELESCOP", "unknown"),
                       ("INSTRUME", "unknown"), ("FILTER", "None"), ("CHANTYPE", "PHA"), ("DETCHANS", n),
                       ("POISSERR", True), ("CORRFILE", ""), ("CORRSCAL", ""),
                       ("EXPOSURE", float(spec.livetime)), ("OBS_ID", obs_id)):
        h[key] = value
    safe = np.flatnonzero(spec.mask_safe)
    if safe.size:
        h["LO_THRES"] = float(spec.energy_edges[safe[0]])
        h["HI_THRES"] = float(spec.energy_edges[safe[-1] + 1])
    h["ANCRFILE"] = files["arf"].name
    if not background:
        if spec.counts_off is not None:
            h["BACKFILE"] = files["bkg"].name
        if spec.edisp is not None:
            h["RESPFILE"] = files["rmf"].name
    return fits.HDUList([fits.PrimaryHDU(), hdu, _ebounds_hdu(fits, spec.energy_edges, factor, unit)])


def _rmf_hdulist(fits, spec: OGIPSpectrum, factor, unit):
    matrix = np.asarray(spec.edisp, dtype=float)
    n_true, n_reco = matrix.shape
    n_grp, f_chan, n_chan, values = [], [], [], []
    for row in matrix:
        pos = np.flatnonzero(row)
        if pos.size == 0:
            n_grp.append(1)
            f_chan.append(np.zeros(1, np.int16))
            n_chan.append(np.zeros(1, np.int16))
            values.append(np.zeros(0, np.float32))
            continue
        breaks = np.flatnonzero(np.diff(pos) != 1) + 1
        groups = np.split(pos, breaks)
        n_grp.append(len(groups))
        f_chan.append(np.array([g[0] for g in groups], np.int16))
        n_chan.append(np.array([len(g) for g in groups], np.int16))
        values.append(row[pos].astype(np.float32))
    et = spec.energy_edges_true * factor
    cols = [fits.Column("ENERG_LO", "D", unit=unit, array=et[:-1]),
            fits.Column("ENERG_HI", "D", unit=unit, array=et[1:]),
            fits.Column("N_GRP", "I", array=np.array(n_grp, np.int16)),
            fits.Column("F_CHAN", "PI()", array=np.array(f_chan + [None], dtype=object)[:-1]),
            fits.Column("N_CHAN", "PI()", array=np.array(n_chan + [None], dtype=object)[:-1]),
            fits.Column("MATRIX", "PE()", array=np.array(values + [None], dtype=object)[:-1])]
    hdu = fits.BinTableHDU.from_columns(cols, name="MATRIX")
    h = hdu.header
    for key, value in (("CHANTYPE", "PHA"), ("HDUCLASS", "OGIP"), ("HDUCLAS1", "RESPONSE"),
                       ("HDUCLAS2", "RSP_MATRIX"), ("HDUVERS", "1.3.0"), ("DETCHANS", n_reco),
                       ("NUMGRP", int(sum(n_grp))), ("NUMELT", int(sum(len(v) for v in values))),
                       ("TLMIN4", 0)):
        h[key] = value
    return fits.HDUList([fits.PrimaryHDU(), hdu, _ebounds_hdu(fits, spec.energy_edges, factor, unit)])


def _arf_hdulist(fits, spec: OGIPSpectrum, factor, unit):
    if not spec.livetime > 0:
        raise OGIPError(f"Cannot write spectrum '{spec.name}' as OGIP: the livetime must be > 0 "
                        f"(got {spec.livetime}) to turn the exposure into an effective area")
    et = spec.energy_edges_true * factor
    cols = [fits.Column("ENERG_LO", "D", unit=unit, array=et[:-1]),
            fits.Column("ENERG_HI", "D", unit=unit, array=et[1:]),
            fits.Column("SPECRESP", "D", unit="cm2", array=np.asarray(spec.exposure, float) / spec.livetime)]
    hdu = fits.BinTableHDU.from_columns(cols, name="SPECRESP")
    for key, value in (("HDUCLASS", "OGIP"), ("HDUCLAS1", "RESPONSE"), ("HDUCLAS2", "SPECRESP"),
                       ("HDUVERS", "1.1.0"), ("TELESCOP", "unknown"), ("INSTRUME", "unknown"), ("FILTER", "None")):
        hdu.header[key] = value
    return fits.HDUList([fits.PrimaryHDU(), hdu])


def write_ogip(spec: OGIPSpectrum, path, overwrite: bool = False, format: str = "ogip") -> dict:
    """Write ``spec`` as PHA + BKG + ARF + RMF (names as `ogip_filenames`); returns the paths.

    ``format="ogip"`` writes energies in TeV, ``"ogip-sherpa"`` in keV (for Sherpa / XSPEC).
    The BKG file is written only with ``counts_off``, the RMF only with ``edisp``.

    Parameters
    ----------
    spec : OGIPSpectrum
        The spectrum; its livetime must be > 0 (the ARF is exposure / livetime).
    path : str or Path
        The PHA file; the others are named after it.
    overwrite : bool, optional
        Replace existing files.
    format : {"ogip", "ogip-sherpa"}, optional
        Energy unit of the files: TeV or keV.

    Returns
    -------
    dict
        The written paths by kind (``"pha"``, ``"arf"`` and, if written, ``"bkg"``, ``"rmf"``).

    Raises
    ------
    OGIPError
        For an unknown format, an existing file without ``overwrite``, or a
        livetime that is not > 0.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from gwidgets.core.io.ogip import read_ogip
    >>> spec = OGIPSpectrum(name="1", counts=np.array([5., 3.]), energy_edges=np.array([1., 2., 4.]),
    ...                     energy_edges_true=np.array([1., 2., 4.]), exposure=np.array([1e9, 2e9]),
    ...                     livetime=1800., mask_safe=np.array([True, True]), acceptance=np.ones(2),
    ...                     edisp=np.eye(2))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = write_ogip(spec, f"{tmp}/pha_obs1.fits")
    ...     back = read_ogip(files["pha"])
    >>> sorted(files), back.name, back.exposure.tolist()
    (['arf', 'pha', 'rmf'], '1', [1000000000.0, 2000000000.0])
    """
    from astropy.io import fits

    if format not in ("ogip", "ogip-sherpa"):
        raise OGIPError(f"Unknown OGIP format '{format}' (use 'ogip' or 'ogip-sherpa')")
    factor, unit = (1.0, "TeV") if format == "ogip" else (1.0 / KEV_TO_TEV, "keV")
    files = ogip_filenames(path)
    wanted = (["pha", "arf"] + (["bkg"] if spec.counts_off is not None else [])
              + (["rmf"] if spec.edisp is not None else []))
    if not overwrite:
        for key in wanted:
            if files[key].exists():
                raise OGIPError(f"File exists already: '{files[key]}' (use overwrite=True)", files[key])
    files["pha"].parent.mkdir(parents=True, exist_ok=True)
    _spectrum_hdulist(fits, spec, files, False, factor, unit).writeto(files["pha"], overwrite=overwrite)
    _arf_hdulist(fits, spec, factor, unit).writeto(files["arf"], overwrite=overwrite)
    if spec.counts_off is not None:
        _spectrum_hdulist(fits, spec, files, True, factor, unit).writeto(files["bkg"], overwrite=overwrite)
    if spec.edisp is not None:
        _rmf_hdulist(fits, spec, factor, unit).writeto(files["rmf"], overwrite=overwrite)
    return {k: files[k] for k in wanted}
