"""GADF 0.3 HDUs of the simulated store (EVENTS, GTI, index tables) and reproducible ``.fits.gz`` writing.

Files are byte-identical for identical inputs: no ``DATE`` keyword, and gzip
streams with a zero timestamp and no file name.
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits

from .schedule import MJDREFF, MJDREFI, SITE, TARGET, met_to_utc_string
from .sky import BACKGROUND_MC_ID
from .tables import GADF_KEYWORDS, HI_THRES, LO_THRES

__all__ = ["primary_hdu", "events_hdu", "gti_hdu", "hdu_bytes", "FrozenHDU", "obs_index_hdu", "hdu_index_hdu",
           "write_fits_gz", "OBJECT", "N_TELS"]

OBJECT = "GWSIM field"
N_TELS = 4
_CREATOR = "gwidgets.core.simulate"

_TIME_KEYWORDS = {
    "MJDREFI": (MJDREFI, "int part of reference MJD for times"),
    "MJDREFF": (MJDREFF, "fractional part of MJDREF"),
    "TIMEUNIT": ("s", "time unit is seconds since MET start"),
    "TIMESYS": ("TT", "time system (TT = terrestrial time)"),
    "TIMEREF": ("LOCAL", "local time reference"),
}


def hdu_bytes(hdu) -> bytes:
    """The bytes of one HDU as written in a FITS file (header and padded data).

    Parameters
    ----------
    hdu : astropy.io.fits.PrimaryHDU or astropy.io.fits.BinTableHDU
        The HDU.

    Returns
    -------
    bytes
        A multiple of 2880 bytes.
    """
    buf = io.BytesIO()
    if isinstance(hdu, fits.PrimaryHDU):
        fits.HDUList([hdu]).writeto(buf)
        return buf.getvalue()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buf)
    return buf.getvalue()[2880:]  # after the empty primary HDU (one header block)


class FrozenHDU:
    """An HDU serialised once; copies with a modified header cost only the header.

    Parameters
    ----------
    hdu : astropy.io.fits.BinTableHDU
        The HDU.

    Examples
    --------
    >>> frozen = FrozenHDU(fits.BinTableHDU.from_columns([fits.Column("A", "E", array=[1.0])], name="T"))
    >>> len(frozen.to_bytes(OBS_ID=7)) % 2880
    0
    """

    def __init__(self, hdu):
        self.name = hdu.name
        self.header = hdu.header.copy()
        blob = hdu_bytes(hdu)
        head = self.header.tostring().encode("ascii")
        if not blob.startswith(head):  # pragma: no cover - astropy changed its header serialisation
            raise RuntimeError(f"cannot split header and data of HDU {hdu.name}")
        self._data = blob[len(head):]

    def to_bytes(self, **keywords) -> bytes:
        """The HDU's bytes with header keywords set or replaced.

        Parameters
        ----------
        **keywords
            Keyword → value (or (value, comment)).

        Returns
        -------
        bytes
            Header and the unchanged data.
        """
        header = self.header.copy()
        for key, value in keywords.items():
            header[key] = value
        return header.tostring().encode("ascii") + self._data


def write_fits_gz(hdus, path) -> list[int]:
    """Write HDUs (primary first; HDU objects or bytes from `hdu_bytes`/`FrozenHDU`) gzipped, reproducibly.

    Returns the byte size of each HDU in the uncompressed file.

    Parameters
    ----------
    hdus : list
        HDU objects or bytes, the primary HDU first.
    path : str or Path
        Output file (gzip, mtime 0: the same content gives the same bytes).

    Returns
    -------
    list of int
        Size of each HDU in bytes.
    """
    blobs = [h if isinstance(h, bytes) else hdu_bytes(h) for h in hdus]
    Path(path).write_bytes(gzip.compress(b"".join(blobs), compresslevel=6, mtime=0))
    return [len(b) for b in blobs]


def primary_hdu() -> fits.PrimaryHDU:
    """An empty primary HDU with TELESCOP, CREATOR and a "simulated data" comment.

    Returns
    -------
    astropy.io.fits.PrimaryHDU
        The HDU.
    """
    h = fits.PrimaryHDU()
    h.header["TELESCOP"] = GADF_KEYWORDS["TELESCOP"]
    h.header["CREATOR"] = _CREATOR
    h.header["COMMENT"] = "Simulated DL3 data (gwidgets example store); not real observations."
    return h


def _pointing_keywords(run) -> dict:
    gal = SkyCoord(run.ra_pnt, run.dec_pnt, unit="deg").galactic
    date_obs, time_obs = met_to_utc_string(run.tstart)
    date_end, time_end = met_to_utc_string(run.tstop)
    return {
        "RA_PNT": (run.ra_pnt, "[deg] nominal pointing RA"),
        "DEC_PNT": (run.dec_pnt, "[deg] nominal pointing Dec"),
        "GLON_PNT": (float(gal.l.deg), "[deg] nominal pointing Galactic longitude"),
        "GLAT_PNT": (float(gal.b.deg), "[deg] nominal pointing Galactic latitude"),
        "ALT_PNT": (run.alt_pnt, "[deg] mean altitude of the run"),
        "AZ_PNT": (run.az_pnt, "[deg] mean azimuth of the run"),
        "ZEN_PNT": (run.zen_pnt, "[deg] mean zenith angle of the run"),
        "RA_OBJ": (TARGET[0], "[deg] target RA"),
        "DEC_OBJ": (TARGET[1], "[deg] target Dec"),
        "DATE-OBS": (date_obs, "UTC start date"),
        "TIME-OBS": (time_obs, "UTC start time"),
        "DATE-END": (date_end, "UTC end date"),
        "TIME-END": (time_end, "UTC end time"),
    }


def events_hdu(run, events: dict, sources) -> fits.BinTableHDU:
    """The EVENTS HDU (rows sorted by time) with the GADF header keywords.

    Parameters
    ----------
    run : `~gwidgets.core.simulate.schedule.Run`
        The observation.
    events : dict
        Arrays ``time`` (MET s), ``ra``, ``dec`` (deg), ``energy`` (TeV), ``mc_id``.
    sources : list of `~gwidgets.core.simulate.sky.Source`
        The sky (their MC_IDs are listed in the header).

    Returns
    -------
    astropy.io.fits.BinTableHDU
        The HDU.
    """
    order = np.argsort(events["time"], kind="stable")
    n = len(order)
    cols = [
        fits.Column("EVENT_ID", "K", array=np.arange(1, n + 1, dtype=np.int64)),
        fits.Column("TIME", "D", unit="s", array=events["time"][order]),
        fits.Column("RA", "E", unit="deg", array=events["ra"][order]),
        fits.Column("DEC", "E", unit="deg", array=events["dec"][order]),
        fits.Column("ENERGY", "E", unit="TeV", array=events["energy"][order]),
        fits.Column("MC_ID", "I", array=events["mc_id"][order]),
    ]
    hdu = fits.BinTableHDU.from_columns(cols, name="EVENTS")
    h = hdu.header
    h["CREATOR"] = _CREATOR
    h.update(GADF_KEYWORDS)
    h["HDUCLAS1"] = "EVENTS"
    h["OBS_ID"] = (run.obs_id, "observation number")
    h["TSTART"] = (run.tstart, "[s] MET of observation start")
    h["TSTOP"] = (run.tstop, "[s] MET of observation stop")
    h["TELAPSE"] = (run.tstop - run.tstart, "[s] elapsed time")
    h["ONTIME"] = (run.ontime, "[s] total good time (sum of GTIs)")
    h["LIVETIME"] = (run.livetime, "[s] ONTIME x DEADC")
    h["DEADC"] = (run.deadc, "average dead-time correction (LIVETIME/ONTIME)")
    for key, value in _TIME_KEYWORDS.items():
        h[key] = value
    h["OBJECT"] = (OBJECT, "observed object")
    h["OBS_MODE"] = ("WOBBLE", "observation mode")
    for key, value in _pointing_keywords(run).items():
        h[key] = value
    h["RADECSYS"] = ("ICRS", "equatorial system type")
    h["RADESYS"] = ("ICRS", "equatorial system type")
    h["EQUINOX"] = (2000.0, "base equinox")
    h["N_TELS"] = (N_TELS, "number of telescopes participating")
    h["TELLIST"] = ("1,2,3,4", "telescope IDs in the array")
    h["GEOLON"] = (SITE[0], "[deg] longitude of the (fictitious) observatory")
    h["GEOLAT"] = (SITE[1], "[deg] latitude of the observatory")
    h["ALTITUDE"] = (SITE[2], "[m] altitude of the observatory")
    h["EUNIT"] = ("TeV", "energy unit")
    h["DSTYP1"] = "TIME"
    h["DSUNI1"] = "s"
    h["DSVAL1"] = "TABLE"
    h["DSREF1"] = ":GTI"
    h["NDSKEYS"] = 1
    h["NMCIDS"] = (1 + len(sources), "number of MC identifiers (column MC_ID)")
    ids = [(BACKGROUND_MC_ID, "background")] + [(s.mc_id, s.name) for s in sources]
    for k, (mc_id, name) in enumerate(ids, start=1):
        h[f"MID{k:05d}"] = (mc_id, f"Monte Carlo identifier of model {k}")
        h[f"MMN{k:05d}"] = (name, f"name of model {k}")
    return hdu


def gti_hdu(run) -> fits.BinTableHDU:
    """The GTI HDU of a run (START, STOP in MET s).

    Parameters
    ----------
    run : `~gwidgets.core.simulate.schedule.Run`
        The observation.

    Returns
    -------
    astropy.io.fits.BinTableHDU
        The HDU.
    """
    start = np.array([a for a, _ in run.gtis], dtype=float)
    stop = np.array([b for _, b in run.gtis], dtype=float)
    hdu = fits.BinTableHDU.from_columns(
        [fits.Column("START", "D", unit="s", array=start), fits.Column("STOP", "D", unit="s", array=stop)], name="GTI")
    h = hdu.header
    h.update(GADF_KEYWORDS)
    h["HDUCLAS1"] = "GTI"
    h["OBS_ID"] = run.obs_id
    h["TSTART"] = (run.tstart, "[s] start of the GTI table, MET")
    h["TSTOP"] = (run.tstop, "[s] stop of the GTI table, MET")
    for key, value in _TIME_KEYWORDS.items():
        h[key] = value
    return hdu


def obs_index_hdu(runs, event_counts) -> fits.BinTableHDU:
    """OBS_INDEX table (one row per run), columns as in the H.E.S.S. DR1 index.

    Parameters
    ----------
    runs : list of `~gwidgets.core.simulate.schedule.Run`
        The observations.
    event_counts : list of int
        Number of events of each.

    Returns
    -------
    astropy.io.fits.BinTableHDU
        The HDU.
    """
    kw = [_pointing_keywords(r) for r in runs]
    sep = [float(SkyCoord(r.ra_pnt, r.dec_pnt, unit="deg").separation(SkyCoord(*TARGET, unit="deg")).deg) for r in runs]

    def col(name, fmt, values, unit=None):
        return fits.Column(name, fmt, unit=unit, array=np.asarray(values))

    def key(name):
        return [k[name][0] for k in kw]

    cols = [
        col("OBS_ID", "K", [r.obs_id for r in runs]),
        col("RA_PNT", "D", [r.ra_pnt for r in runs], "deg"),
        col("DEC_PNT", "D", [r.dec_pnt for r in runs], "deg"),
        col("GLON_PNT", "D", key("GLON_PNT"), "deg"),
        col("GLAT_PNT", "D", key("GLAT_PNT"), "deg"),
        col("ZEN_PNT", "E", [r.zen_pnt for r in runs], "deg"),
        col("ALT_PNT", "E", [r.alt_pnt for r in runs], "deg"),
        col("AZ_PNT", "E", [r.az_pnt for r in runs], "deg"),
        col("OBJECT", "16A", [OBJECT] * len(runs)),
        col("RA_OBJ", "D", [TARGET[0]] * len(runs), "deg"),
        col("DEC_OBJ", "D", [TARGET[1]] * len(runs), "deg"),
        col("OFFSET_OBJ", "E", sep, "deg"),
        col("ONTIME", "E", [r.ontime for r in runs], "s"),
        col("LIVETIME", "E", [r.livetime for r in runs], "s"),
        col("DEADC", "E", [r.deadc for r in runs]),
        col("TSTART", "D", [r.tstart for r in runs], "s"),
        col("TSTOP", "D", [r.tstop for r in runs], "s"),
        col("DATE-OBS", "10A", key("DATE-OBS")),
        col("TIME-OBS", "12A", key("TIME-OBS")),
        col("DATE-END", "10A", key("DATE-END")),
        col("TIME-END", "12A", key("TIME-END")),
        col("N_TELS", "K", [N_TELS] * len(runs)),
        col("TELLIST", "7A", ["1,2,3,4"] * len(runs)),
        col("QUALITY", "K", [0] * len(runs)),
        col("EVENT_COUNT", "K", event_counts),
        col("OBS_MODE", "8A", ["WOBBLE"] * len(runs)),
        col("SAFE_ENERGY_LO", "E", [LO_THRES] * len(runs), "TeV"),
        col("SAFE_ENERGY_HI", "E", [HI_THRES] * len(runs), "TeV"),
    ]
    hdu = fits.BinTableHDU.from_columns(cols, name="OBS_INDEX")
    h = hdu.header
    h.update(GADF_KEYWORDS)
    h["HDUCLAS1"] = "INDEX"
    h["HDUCLAS2"] = "OBS"
    for k, value in _TIME_KEYWORDS.items():
        h[k] = value
    h["GEOLON"], h["GEOLAT"], h["ALTITUDE"] = SITE
    return hdu


def hdu_index_hdu(rows) -> fits.BinTableHDU:
    """HDU_INDEX table from rows (OBS_ID, HDU_TYPE, HDU_CLASS, FILE_DIR, FILE_NAME, HDU_NAME, SIZE).

    Parameters
    ----------
    rows : list of tuple
        The rows.

    Returns
    -------
    astropy.io.fits.BinTableHDU
        The HDU.
    """
    names = ["OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME", "SIZE"]
    columns = list(zip(*rows))
    fmts = ["K"] + [f"{max(len(str(v)) for v in c)}A" for c in columns[1:6]] + ["K"]
    cols = [fits.Column(n, f, array=np.asarray(c)) for n, f, c in zip(names, fmts, columns)]
    hdu = fits.BinTableHDU.from_columns(cols, name="HDU_INDEX")
    h = hdu.header
    h.update(GADF_KEYWORDS)
    h["HDUCLAS1"] = "INDEX"
    h["HDUCLAS2"] = "HDU"
    return hdu
