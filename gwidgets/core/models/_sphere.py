"""Spherical geometry on plain floats (radians), and WCS pixel helpers.

Angles are in radians here; the spatial models convert from degrees once.
"""
from __future__ import annotations

import numpy as np

__all__ = ["angular_separation", "position_angle", "one_minus_cos", "pixel_solid_angle",
           "oversampled_wcs", "frame_of_wcs", "pixel_centers_world"]


def angular_separation(lon1, lat1, lon2, lat2):
    """Great-circle distance (Vincenty formula, accurate at all separations)."""
    sdlon, cdlon = np.sin(lon2 - lon1), np.cos(lon2 - lon1)
    slat1, slat2 = np.sin(lat1), np.sin(lat2)
    clat1, clat2 = np.cos(lat1), np.cos(lat2)
    num1 = clat2 * sdlon
    num2 = clat1 * slat2 - slat1 * clat2 * cdlon
    denominator = slat1 * slat2 + clat1 * clat2 * cdlon
    return np.arctan2(np.hypot(num1, num2), denominator)


def position_angle(lon1, lat1, lon2, lat2):
    """Position angle (east of north) of point 2 seen from point 1."""
    dlon = lon2 - lon1
    colat = np.cos(lat2) * np.sin(dlon)
    x = np.sin(lat2) * np.cos(lat1) - np.cos(lat2) * np.sin(lat1) * np.cos(dlon)
    return np.arctan2(colat, x)


def one_minus_cos(x):
    """1 − cos x without cancellation for small x."""
    return 2.0 * np.sin(0.5 * x) ** 2


def frame_of_wcs(wcs) -> str:
    """'galactic' or 'icrs' from the celestial axis types of a WCS."""
    ctype = str(wcs.wcs.ctype[0]).upper()
    return "galactic" if ctype.startswith("GLON") else "icrs"


def pixel_centers_world(wcs, shape):
    """(lon, lat) in degrees of the pixel centres, arrays of ``shape`` (ny, nx)."""
    ny, nx = shape
    y, x = np.mgrid[0:ny, 0:nx]
    lon, lat = wcs.celestial.pixel_to_world_values(x, y)
    return np.asarray(lon, float), np.asarray(lat, float)


def pixel_solid_angle(wcs, shape) -> np.ndarray:
    """Solid angle (sr) of each pixel, from its corners (two planar triangles, as gammapy)."""
    ny, nx = shape
    y, x = np.mgrid[0:ny + 1, 0:nx + 1] - 0.5
    lon, lat = wcs.celestial.pixel_to_world_values(x, y)
    lon, lat = np.radians(lon), np.radians(lat)

    def corner(dy, dx):
        return lon[dy:dy + ny, dx:dx + nx], lat[dy:dy + ny, dx:dx + nx]

    ll, lr, ul, ur = corner(0, 0), corner(1, 0), corner(0, 1), corner(1, 1)
    low = angular_separation(*ll, *lr)
    left = angular_separation(*ll, *ul)
    up = angular_separation(*ul, *ur)
    right = angular_separation(*lr, *ur)
    angle_lr = position_angle(*lr, *ur) - position_angle(*lr, *ll)
    angle_ul = position_angle(*ul, *ur) - position_angle(*ll, *ul)
    return np.abs(0.5 * low * right * np.sin(angle_lr) + 0.5 * up * left * np.sin(angle_ul))


def oversampled_wcs(wcs, factor: int):
    """A copy of the celestial ``wcs`` with pixels ``factor`` times smaller on each axis."""
    w = wcs.celestial.deepcopy()
    if factor == 1:
        return w
    if w.wcs.has_cd():
        w.wcs.cd = w.wcs.cd / factor
    else:
        w.wcs.cdelt = np.asarray(w.wcs.cdelt) / factor
    w.wcs.crpix = (np.asarray(w.wcs.crpix) - 0.5) * factor + 0.5
    w.wcs.set()
    return w
