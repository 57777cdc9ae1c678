"""Vectorised spherical geometry in degrees (plain numpy; no SkyCoord overhead in the event loop).

The field-of-view convention is GADF's / gammapy's for ``FOVALIGN = RADEC``:
``(fov_lon, fov_lat)`` are the longitude and latitude in astropy's
`~astropy.coordinates.SkyOffsetFrame` centred on the pointing, with the sign of
the longitude reversed (gammapy ``fov_to_sky``).

Examples
--------
>>> ra, dec = offset_by(83.63, 22.01, 90.0, 1.0)     # 1 deg to the east
>>> round(float(separation(83.63, 22.01, ra, dec)), 9)
1.0
>>> ra, dec = fov_to_sky(0.0, 0.5, 83.63, 22.01)      # 0.5 deg north of the pointing
>>> round(float(ra), 6), round(float(dec), 6)
(83.63, 22.51)
"""
from __future__ import annotations

import numpy as np

__all__ = ["separation", "offset_by", "position_angle", "fov_to_sky", "sky_to_fov"]


def separation(ra1, dec1, ra2, dec2):
    """Angular distance in deg (haversine, accurate at small angles).

    Parameters
    ----------
    ra1, dec1, ra2, dec2 : array-like
        The two positions in deg.

    Returns
    -------
    numpy.ndarray
        Separation in deg.
    """
    ra1, dec1, ra2, dec2 = (np.deg2rad(np.asarray(x, dtype=float)) for x in (ra1, dec1, ra2, dec2))
    hav = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.rad2deg(2 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0))))


def position_angle(ra1, dec1, ra2, dec2):
    """Position angle (deg, east of north) of point 2 seen from point 1.

    Parameters
    ----------
    ra1, dec1, ra2, dec2 : array-like
        The two positions in deg.

    Returns
    -------
    numpy.ndarray
        Position angle in deg, in [0, 360).
    """
    ra1, dec1, ra2, dec2 = (np.deg2rad(np.asarray(x, dtype=float)) for x in (ra1, dec1, ra2, dec2))
    d = ra2 - ra1
    pa = np.arctan2(np.sin(d) * np.cos(dec2), np.cos(dec1) * np.sin(dec2) - np.sin(dec1) * np.cos(dec2) * np.cos(d))
    return np.rad2deg(pa) % 360.0


def offset_by(ra, dec, position_angle, distance):
    """The point at ``distance`` (deg) from (ra, dec) in direction ``position_angle`` (deg, east of north).

    Parameters
    ----------
    ra, dec : array-like
        Position in deg.
    position_angle : array-like
        Direction in deg, east of north.
    distance : array-like
        Angular distance in deg.

    Returns
    -------
    tuple of numpy.ndarray
        ``(ra, dec)`` in deg, ra in [0, 360).
    """
    ra, dec, pa, r = (np.deg2rad(np.asarray(x, dtype=float)) for x in (ra, dec, position_angle, distance))
    sin_dec2 = np.sin(dec) * np.cos(r) + np.cos(dec) * np.sin(r) * np.cos(pa)
    dec2 = np.arcsin(np.clip(sin_dec2, -1.0, 1.0))
    dra = np.arctan2(np.sin(pa) * np.sin(r) * np.cos(dec), np.cos(r) - np.sin(dec) * sin_dec2)
    return np.rad2deg(ra + dra) % 360.0, np.rad2deg(dec2)


def fov_to_sky(fov_lon, fov_lat, ra_pnt, dec_pnt):
    """RA/Dec (deg) of field-of-view coordinates (deg) around the pointing (gammapy's ``fov_to_sky``).

    Parameters
    ----------
    fov_lon, fov_lat : array-like
        Field-of-view coordinates in deg.
    ra_pnt, dec_pnt : float
        Pointing position in deg.

    Returns
    -------
    tuple of numpy.ndarray
        ``(ra, dec)`` in deg.
    """
    lon = -np.deg2rad(np.asarray(fov_lon, dtype=float))
    lat = np.deg2rad(np.asarray(fov_lat, dtype=float))
    a0, d0 = np.deg2rad(float(ra_pnt)), np.deg2rad(float(dec_pnt))
    x, y, z = np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)
    x1, z1 = x * np.cos(d0) - z * np.sin(d0), x * np.sin(d0) + z * np.cos(d0)
    xr, yr = x1 * np.cos(a0) - y * np.sin(a0), x1 * np.sin(a0) + y * np.cos(a0)
    return np.rad2deg(np.arctan2(yr, xr)) % 360.0, np.rad2deg(np.arcsin(np.clip(z1, -1.0, 1.0)))


def sky_to_fov(ra, dec, ra_pnt, dec_pnt):
    """Field-of-view coordinates (deg) of RA/Dec around the pointing (inverse of :func:`fov_to_sky`).

    Parameters
    ----------
    ra, dec : array-like
        Position in deg.
    ra_pnt, dec_pnt : float
        Pointing position in deg.

    Returns
    -------
    tuple of numpy.ndarray
        ``(fov_lon, fov_lat)`` in deg.

    Examples
    --------
    >>> lon, lat = sky_to_fov(*fov_to_sky(0.3, -0.2, 83.63, 22.01), 83.63, 22.01)
    >>> round(float(lon), 9), round(float(lat), 9)
    (0.3, -0.2)
    """
    a, d = np.deg2rad(np.asarray(ra, dtype=float)), np.deg2rad(np.asarray(dec, dtype=float))
    a0, d0 = np.deg2rad(float(ra_pnt)), np.deg2rad(float(dec_pnt))
    x, y, z = np.cos(d) * np.cos(a - a0), np.cos(d) * np.sin(a - a0), np.sin(d)
    x1, z1 = x * np.cos(d0) + z * np.sin(d0), -x * np.sin(d0) + z * np.cos(d0)
    return -np.rad2deg(np.arctan2(y, x1)), np.rad2deg(np.arcsin(np.clip(z1, -1.0, 1.0)))
