"""The observing plan: wobble runs around the target over several nights.

Times are mission elapsed time (MET) in seconds, TT, since the H.E.S.S./GADF
reference ``MJDREF = 51910.00074287037`` (2001-01-01 00:00 UTC, expressed in
TT). TT − UTC is taken as the constant 69.184 s (no leap second since 2017),
and pointing altitude/azimuth come from a closed formula (GMST, no precession,
nutation or refraction: good to ~0.3°), so the plan never depends on IERS
tables or network access and is identical on every machine.

Four 28-minute runs per night, wobbling 0.5° north, east, south and west of
the target, starting about an hour before the target culminates; five nights
in a row then a night off. Run 7 (if simulated) has two good-time intervals
(a 3-minute gap, "clouds").

Examples
--------
>>> plan = observation_plan(5, seed=1)
>>> [r.obs_id for r in plan]
[1001, 1002, 1003, 1004, 1005]
>>> round(plan[0].ontime), round(float(separation(plan[0].ra_pnt, plan[0].dec_pnt, *TARGET)), 6)
(1680, 0.5)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .sphere import offset_by, separation  # noqa: F401 (separation: used in the doctest)

__all__ = [
    "Run", "observation_plan", "TARGET", "SITE", "MJDREFI", "MJDREFF", "TT_MINUS_UTC", "met_to_mjd_tt",
    "mjd_utc_to_met", "met_to_utc_string", "altaz", "night_start_met", "RUN_DURATION", "RUN_CADENCE",
]

#: the wobble centre (RA, Dec in deg, ICRS)
TARGET = (83.63, 22.01)
#: a fictitious northern site (lon, lat in deg, height in m): the target culminates at zenith ~15°
SITE = (-2.55, 37.22, 2170.0)
MJDREFI = 51910
MJDREFF = 0.000742870370370241
TT_MINUS_UTC = 69.184  # s
#: MJD (UTC) of the first night's 0h UTC (2024-12-03, i.e. the night of 2 to 3 December 2024)
FIRST_NIGHT_MJD = 60647.0
RUN_DURATION = 1680.0  # s (28 min)
RUN_CADENCE = 1800.0  # s
RUNS_PER_NIGHT = 4
WOBBLE_OFFSET = 0.5  # deg
WOBBLE_PA = (0.0, 90.0, 180.0, 270.0)  # N, E, S, W
#: start of each night's first run relative to the target's culmination (h), cycled
NIGHT_SHIFTS_H = (-1.0, -1.5, -0.75, -2.0, -0.5)
GAP_RUN_INDEX = 6  # run with two GTIs
GAP = (900.0, 1080.0)  # s after the run start


@dataclass
class Run:
    """One observation of the plan (angles in deg, times MET s TT).

    Parameters
    ----------
    obs_id : int
        Observation id.
    index : int
        Position in the plan (0-based).
    night : int
        Night number (0-based).
    ra_pnt, dec_pnt : float
        Pointing position in deg.
    tstart, tstop : float
        Start and stop in MET s.
    gtis : list of tuple
        Good time intervals ``(start, stop)`` in MET s.
    deadc : float, optional
        Dead-time correction (live time / on time).
    alt_pnt, az_pnt : float, optional
        Pointing altitude and azimuth in deg.
    """

    obs_id: int
    index: int
    night: int
    ra_pnt: float
    dec_pnt: float
    tstart: float
    tstop: float
    gtis: list = field(default_factory=list)
    deadc: float = 0.9
    alt_pnt: float = 0.0
    az_pnt: float = 0.0

    @property
    def ontime(self) -> float:
        """Sum of the good time intervals in s."""
        return float(sum(b - a for a, b in self.gtis))

    @property
    def livetime(self) -> float:
        """On time × ``deadc`` in s."""
        return self.ontime * self.deadc

    @property
    def zen_pnt(self) -> float:
        """Zenith angle of the pointing in deg."""
        return 90.0 - self.alt_pnt


def mjd_utc_to_met(mjd_utc):
    """MET seconds (TT) of a UTC MJD.

    Parameters
    ----------
    mjd_utc : array-like
        MJD in UTC.

    Returns
    -------
    numpy.ndarray
        MET in s (TT).
    """
    return (np.asarray(mjd_utc, dtype=float) - MJDREFI - MJDREFF) * 86400.0 + TT_MINUS_UTC


def met_to_mjd_tt(met):
    """TT MJD of MET seconds.

    Parameters
    ----------
    met : array-like
        MET in s.

    Returns
    -------
    numpy.ndarray
        MJD in TT.
    """
    return MJDREFI + MJDREFF + np.asarray(met, dtype=float) / 86400.0


def _met_to_mjd_utc(met):
    return MJDREFI + MJDREFF + (np.asarray(met, dtype=float) - TT_MINUS_UTC) / 86400.0


def met_to_utc_string(met) -> tuple[str, str]:
    """('YYYY-MM-DD', 'hh:mm:ss.sss') in UTC (proleptic Gregorian from the MJD; no leap-second table).

    Parameters
    ----------
    met : float
        MET in s.

    Returns
    -------
    tuple of str
        Date and time, rounded to the millisecond.

    Examples
    --------
    >>> met_to_utc_string(float(mjd_utc_to_met(60647.5)))
    ('2024-12-03', '12:00:00.000')
    """
    mjd = float(_met_to_mjd_utc(met))
    day = int(np.floor(mjd))
    ms = int(round((mjd - day) * 86400000.0))
    if ms >= 86400000:
        day, ms = day + 1, ms - 86400000
    # Fliegel & Van Flandern civil date from the Julian day number
    jd = day + 2400001
    ell = jd + 68569
    n = 4 * ell // 146097
    ell -= (146097 * n + 3) // 4
    i = 4000 * (ell + 1) // 1461001
    ell = ell - 1461 * i // 4 + 31
    j = 80 * ell // 2447
    d = ell - 2447 * j // 80
    ell = j // 11
    m = j + 2 - 12 * ell
    y = 100 * (n - 49) + i + ell
    h, rest = divmod(ms, 3600000)
    mi, rest = divmod(rest, 60000)
    return f"{y:04d}-{m:02d}-{d:02d}", f"{h:02d}:{mi:02d}:{rest / 1000:06.3f}"


def _lst_hours(mjd_utc, lon_deg):
    d = np.asarray(mjd_utc, dtype=float) - 51544.5
    return (18.697374558 + 24.06570982441908 * d + lon_deg / 15.0) % 24.0


def altaz(ra, dec, mjd_utc, site=SITE):
    """Approximate (alt, az) in deg (az from north through east).

    Parameters
    ----------
    ra, dec : float or array-like
        Position in deg (ICRS).
    mjd_utc : float or array-like
        Time as MJD in UTC.
    site : tuple, optional
        ``(lon, lat, height)`` of the site in deg, deg, m.

    Returns
    -------
    tuple of numpy.ndarray
        Altitude and azimuth in deg.
    """
    lon, lat, _ = site
    h = np.deg2rad(_lst_hours(mjd_utc, lon) * 15.0 - ra)
    dec, phi = np.deg2rad(dec), np.deg2rad(lat)
    sin_alt = np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.cos(h)
    az = np.arctan2(-np.cos(dec) * np.sin(h), np.sin(dec) * np.cos(phi) - np.cos(dec) * np.cos(h) * np.sin(phi))
    return np.rad2deg(np.arcsin(sin_alt)), np.rad2deg(az) % 360.0


def _culmination_mjd(ra, mjd0, site=SITE):
    """UTC MJD of the culmination of ``ra`` nearest to ``mjd0``."""
    dh = ((ra / 15.0 - _lst_hours(mjd0, site[0]) + 12.0) % 24.0) - 12.0
    return mjd0 + dh / 24.0 / 1.00273790935


def night_start_met(night: int, target=TARGET) -> float:
    """MET (s) of the start of the first run of night ``night`` (0-based): before the target culminates.

    Parameters
    ----------
    night : int
        Night number (0-based; five nights on, one off).
    target : tuple, optional
        ``(ra, dec)`` in deg.

    Returns
    -------
    float
        MET in s.
    """
    day = night + night // 5  # five nights on, one off
    mjd_culm = _culmination_mjd(target[0], FIRST_NIGHT_MJD + day)
    return float(mjd_utc_to_met(mjd_culm)) + NIGHT_SHIFTS_H[night % len(NIGHT_SHIFTS_H)] * 3600.0


def observation_plan(n_obs: int = 20, seed: int = 0, target=TARGET, first_obs_id: int = 1001) -> list[Run]:
    """The runs, each a function of its index and the seed only (the first runs do not depend on ``n_obs``).

    Parameters
    ----------
    n_obs : int, optional
        Number of runs.
    seed : int, optional
        Seed of the dead-time draws.
    target : tuple, optional
        Wobble centre ``(ra, dec)`` in deg.
    first_obs_id : int, optional
        Id of the first run.

    Returns
    -------
    list of Run
        The runs, in time order.
    """
    runs = []
    for i in range(int(n_obs)):
        night, k = divmod(i, RUNS_PER_NIGHT)
        tstart = float(np.round(night_start_met(night, target) + k * RUN_CADENCE))
        tstop = tstart + RUN_DURATION
        gtis = [(tstart, tstop)]
        if i == GAP_RUN_INDEX:
            gtis = [(tstart, tstart + GAP[0]), (tstart + GAP[1], tstop)]
        ra, dec = offset_by(target[0], target[1], WOBBLE_PA[k % 4], WOBBLE_OFFSET)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, i)))
        deadc = float(np.round(rng.uniform(0.88, 0.93), 5))
        alt, az = altaz(float(ra), float(dec), float(_met_to_mjd_utc(0.5 * (tstart + tstop))))
        runs.append(Run(obs_id=first_obs_id + i, index=i, night=night,
                        ra_pnt=round(float(ra), 10), dec_pnt=round(float(dec), 10),
                        tstart=tstart, tstop=tstop, gtis=gtis, deadc=deadc, alt_pnt=float(alt), az_pnt=float(az)))
    return runs
