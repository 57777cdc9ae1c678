"""Build HDU and observation index tables by reading the headers of DL3 files.

Used when a directory has no ``hdu-index``/``obs-index`` files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.table import Table

from ..io.fits import FitsFile

__all__ = ["scan_files", "obs_row_from_header", "rows_to_table", "classify_hdu"]

_HDU_COLUMNS = ["OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME"]
_OBS_COLUMNS = [
    ("OBS_ID", np.int64), ("RA_PNT", float), ("DEC_PNT", float), ("ZEN_PNT", float),
    ("ALT_PNT", float), ("AZ_PNT", float), ("ONTIME", float), ("LIVETIME", float),
    ("DEADC", float), ("TSTART", float), ("TSTOP", float), ("OBJECT", str),
    ("N_TELS", np.int64), ("EVENT_COUNT", np.int64),
]
_IRF_CLASSES = {
    "EFF_AREA": ("aeff", "aeff_2d"),
    "EDISP": ("edisp", "edisp_2d"),
    "RAD_MAX": ("rad_max", "rad_max_2d"),
}


def classify_hdu(header) -> tuple[str, str] | None:
    """(HDU_TYPE, HDU_CLASS) of a DL3 HDU from its header, or None if it is not one.

    Parameters
    ----------
    header : dict
        The HDU's header (EXTNAME and HDUCLAS1/2/4 are used).

    Returns
    -------
    tuple of str or None
        ``(hdu_type, hdu_class)``, e.g. ``("aeff", "aeff_2d")``.

    Examples
    --------
    >>> classify_hdu({"EXTNAME": "AEFF", "HDUCLAS2": "EFF_AREA", "HDUCLAS4": "AEFF_2D"})
    ('aeff', 'aeff_2d')
    """
    name = str(header.get("EXTNAME", "")).strip().upper()
    c1 = str(header.get("HDUCLAS1", "")).strip().upper()
    c2 = str(header.get("HDUCLAS2", "")).strip().upper()
    c4 = str(header.get("HDUCLAS4", "")).strip().lower()
    if c1 == "EVENTS" or name == "EVENTS":
        return "events", "events"
    if c1 == "GTI" or name == "GTI":
        return "gti", "gti"
    if c2 in _IRF_CLASSES:
        htype, default = _IRF_CLASSES[c2]
        return htype, c4 or default
    if c2 == "PSF":
        return "psf", c4 or "psf_table"
    if c2 == "BKG":
        return "bkg", c4 or "bkg_3d"
    return None


def obs_row_from_header(h, n_events: int) -> dict:
    """One row of an observation table from an EVENTS header.

    Missing keywords give NaN (positions, times), 1 (DEADC), ``""`` (OBJECT),
    0 (N_TELS) or -1 (OBS_ID); ZEN_PNT falls back to ``90 - ALT_PNT``.

    Parameters
    ----------
    h : dict
        The EVENTS header.
    n_events : int
        Number of events (the EVENT_COUNT column).

    Returns
    -------
    dict
        Column name → value (angles in deg, times in s).
    """
    zen = h.get("ZEN_PNT")
    if zen is None and h.get("ALT_PNT") is not None:
        zen = 90.0 - float(h["ALT_PNT"])
    return {
        "OBS_ID": int(h.get("OBS_ID", -1)),
        "RA_PNT": float(h.get("RA_PNT", np.nan)),
        "DEC_PNT": float(h.get("DEC_PNT", np.nan)),
        "ZEN_PNT": float(zen) if zen is not None else np.nan,
        "ALT_PNT": float(h.get("ALT_PNT", np.nan)),
        "AZ_PNT": float(h.get("AZ_PNT", np.nan)),
        "ONTIME": float(h.get("ONTIME", np.nan)),
        "LIVETIME": float(h.get("LIVETIME", np.nan)),
        "DEADC": float(h.get("DEADC", 1.0)),
        "TSTART": float(h.get("TSTART", np.nan)),
        "TSTOP": float(h.get("TSTOP", np.nan)),
        "OBJECT": str(h.get("OBJECT", "") or "").strip(),
        "N_TELS": int(h.get("N_TELS", 0) or 0),
        "EVENT_COUNT": int(n_events),
    }


def rows_to_table(rows: list[dict]) -> Table:
    """An observation table from rows made by `obs_row_from_header`.

    Parameters
    ----------
    rows : list of dict
        The rows.

    Returns
    -------
    `~astropy.table.Table`
        The table with the standard columns and types (empty if ``rows`` is).
    """
    names = [n for n, _ in _OBS_COLUMNS]
    dtypes = [d for _, d in _OBS_COLUMNS]
    if not rows:
        return Table(names=names, dtype=dtypes)
    return Table(rows=[[r[n] for n in names] for r in rows], names=names, dtype=dtypes)


def scan_files(paths) -> tuple[Table, Table]:
    """(hdu_table, obs_table) for a list of DL3 FITS files.

    IRF HDUs of files without events are attached to every observation that
    has no HDU of that type in its own file.

    Parameters
    ----------
    paths : iterable of str or Path
        DL3 FITS files.

    Returns
    -------
    hdu_table : `~astropy.table.Table`
        The HDU index (OBS_ID, HDU_TYPE, HDU_CLASS, FILE_DIR, FILE_NAME, HDU_NAME).
    obs_table : `~astropy.table.Table`
        One row per file with an EVENTS HDU, with the time reference as meta.
    """
    hdu_rows, obs_rows, shared = [], [], []
    meta = {}
    for path in paths:
        path = Path(path).resolve()
        ff = FitsFile(path)
        found = [(classify_hdu(h.header), h) for h in ff.hdus[1:]]
        found = [(c, h) for c, h in found if c is not None]
        events = [h for c, h in found if c[0] == "events"]
        if not events:
            shared.extend((c, path, h.name) for c, h in found)
            continue
        hdr = events[0].header
        obs_rows.append(obs_row_from_header(hdr, events[0].nrows))
        meta = meta or {k: hdr[k] for k in ("MJDREFI", "MJDREFF", "TIMESYS") if k in hdr}
        oid = obs_rows[-1]["OBS_ID"]
        for (htype, hclass), h in found:
            hdu_rows.append((oid, htype, hclass, str(path.parent), path.name, h.name))
    for row in obs_rows:
        have = {r[1] for r in hdu_rows if r[0] == row["OBS_ID"]}
        for (htype, hclass), path, hname in shared:
            if htype not in have:
                hdu_rows.append((row["OBS_ID"], htype, hclass, str(path.parent), path.name, hname))
                have.add(htype)
    hdu_table = Table(rows=hdu_rows or None, names=_HDU_COLUMNS,
                      dtype=[np.int64, str, str, str, str, str])
    obs_table = rows_to_table(obs_rows)
    obs_table.meta.update(meta)
    return hdu_table, obs_table
