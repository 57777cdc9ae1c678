"""Spherical geometry on plain floats (radians), and WCS pixel helpers.

Angles are in radians here; the spatial models convert from degrees once.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

__all__ = ["angular_separation", "position_angle", "one_minus_cos", "one_minus_cos_separation", "pixel_solid_angle",
           "oversampled_wcs", "frame_of_wcs", "pixel_centers_world", "pixel_scale_deg", "wcs_key", "grid_cache_usage",
           "GRID_CACHE_ENTRIES", "GRID_CACHE_BYTES"]


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


def one_minus_cos_separation(lon1, lat1, lon2, lat2):
    """1 − cos of the great-circle distance, without computing the distance (haversine identity).

    ``1 − cos θ = 2 [sin²(Δlat/2) + cos lat1 cos lat2 sin²(Δlon/2)]``, exact; accurate at every separation
    (no cancellation at small ones; ≈ 2 near the antipode). Three transcendental functions per point instead
    of the seven of ``one_minus_cos(angular_separation(...))``: the hot path of the Gaussian model.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : float or numpy.ndarray
        Positions in radians (broadcast together).

    Returns
    -------
    float or numpy.ndarray
        ``1 − cos θ``.

    Examples
    --------
    >>> import numpy as np
    >>> x = one_minus_cos_separation(0.1, 0.2, 0.3, -0.4)
    >>> bool(np.isclose(x, one_minus_cos(angular_separation(0.1, 0.2, 0.3, -0.4)), rtol=1e-14))
    True
    """
    s_lat = np.sin(0.5 * (lat2 - lat1))
    s_lon = np.sin(0.5 * (lon2 - lon1))
    return 2.0 * (s_lat * s_lat + np.cos(lat1) * np.cos(lat2) * (s_lon * s_lon))


def frame_of_wcs(wcs) -> str:
    """'galactic' or 'icrs' from the celestial axis types of a WCS."""
    ctype = str(wcs.wcs.ctype[0]).upper()
    return "galactic" if ctype.startswith("GLON") else "icrs"


#: the last few pixel grids (centres, solid angles, oversampled WCS, pixel scale) by WCS and shape: a model
#: re-evaluated on the same cut-out or on a nearby one of the same map (a slider, a drag) does not recompute
#: its sky coordinates. Up to 16 entries (four per extended model) holding at most 32 MiB of arrays.
_GRIDS: OrderedDict = OrderedDict()
_GRIDS_LOCK = threading.Lock()  # a fit's worker thread and the kernel's thread evaluate models at the same time
GRID_CACHE_ENTRIES = 16
_GRID_MAX_BYTES = 8 * 2**20
GRID_CACHE_BYTES = 32 * 2**20


#: pixels added on each side of a pixel grid computed for the cache: the grids of windows of the same map
#: shifted by up to this many pixels (a source dragged across cut-outs) are slices of it
GRID_PAD_PIX = 16


def _nbytes(value) -> int:
    return sum(a.nbytes for a in (value if isinstance(value, tuple) else (value,)) if isinstance(a, np.ndarray))


def _evict():  # with _GRIDS_LOCK held
    while len(_GRIDS) > GRID_CACHE_ENTRIES or sum(_nbytes(v) for v in _GRIDS.values()) > GRID_CACHE_BYTES:
        _GRIDS.popitem(last=False)


def _window(value, oy, ox, ny, nx):
    if isinstance(value, tuple):
        return tuple(a[oy:oy + ny, ox:ox + nx] for a in value)
    return value[oy:oy + ny, ox:ox + nx]


def _cached_subgrid(kind, wcs, shape, compute, n_arrays):
    """``compute(wcs, shape)`` (arrays of ``shape``) served as a window of a cached grid of the same map.

    Two WCS that differ only by an integer shift of the reference pixel describe windows of one pixel grid;
    a grid is computed with `GRID_PAD_PIX` more pixels on each side and kept, and the later requests that
    fall inside it are read-only slices of it.
    """
    w = wcs.wcs
    ny, nx = shape
    pad = GRID_PAD_PIX
    if w.naxis != 2 or n_arrays * 8 * (ny + 2 * pad) * (nx + 2 * pad) > _GRID_MAX_BYTES:
        return _cached_grid(kind, wcs, shape, lambda: compute(wcs, shape))
    crpix = np.asarray(w.crpix, float)
    floor = np.floor(crpix)
    key = wcs_key(wcs, (0, 0))
    base = key[:2] + (tuple(crpix - floor),) + key[3:-1]  # the map: all but the integer part of crpix
    ax0, ay0 = -int(floor[0]), -int(floor[1])  # pixel (0, 0) of the request on the map's pixel grid
    with _GRIDS_LOCK:
        for k, value in reversed(_GRIDS.items()):
            if k[0] == ("window", kind) and k[1] == base:
                sx0, sy0, sny, snx = k[2]
                ox, oy = ax0 - sx0, ay0 - sy0
                if 0 <= ox and ox + nx <= snx and 0 <= oy and oy + ny <= sny:
                    _GRIDS.move_to_end(k)
                    return _window(value, oy, ox, ny, nx)
    padded = wcs.deepcopy()
    padded.wcs.crpix = crpix + pad
    padded.wcs.set()
    value = compute(padded, (ny + 2 * pad, nx + 2 * pad))
    for a in value if isinstance(value, tuple) else (value,):
        a.flags.writeable = False  # shared between callers: read-only
    with _GRIDS_LOCK:
        _GRIDS[(("window", kind), base, (ax0 - pad, ay0 - pad, ny + 2 * pad, nx + 2 * pad))] = value
        _evict()
    return _window(value, pad, pad, ny, nx)


def wcs_key(wcs, shape) -> tuple:
    """A hashable key that is equal for two WCS with the same celestial projection and image shape.

    Parameters
    ----------
    wcs : `~astropy.wcs.WCS`
        The WCS (its celestial part is what the key describes).
    shape : tuple of int
        ``(ny, nx)``.

    Returns
    -------
    tuple
        ``(ctype, crval, crpix, cd or cdelt, pc, lonpole, latpole, shape)``.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---CAR", "DEC--CAR"]; w.wcs.cdelt = [-0.02, 0.02]
    >>> wcs_key(w, (3, 4)) == wcs_key(w.deepcopy(), (3, 4)), wcs_key(w, (3, 4)) == wcs_key(w, (4, 3))
    (True, False)
    """
    w = wcs.wcs
    scale = w.cd if w.has_cd() else w.cdelt
    return (tuple(w.ctype), tuple(np.asarray(w.crval, float)), tuple(np.asarray(w.crpix, float)),
            np.asarray(scale, float).tobytes(), np.asarray(w.get_pc(), float).tobytes(),
            float(w.lonpole), float(w.latpole), tuple(int(n) for n in shape))


def _cached_grid(kind, wcs, shape, compute):
    key = (kind, wcs_key(wcs, shape))
    with _GRIDS_LOCK:
        hit = _GRIDS.get(key)
        if hit is not None:
            _GRIDS.move_to_end(key)
            return hit
    value = compute()
    arrays = [a for a in (value if isinstance(value, tuple) else (value,)) if isinstance(a, np.ndarray)]
    if sum(a.nbytes for a in arrays) > _GRID_MAX_BYTES:
        return value  # a large grid is not kept (a few of them would hold too much memory)
    for a in arrays:
        a.flags.writeable = False  # shared between callers: read-only
    with _GRIDS_LOCK:
        _GRIDS[key] = value
        _evict()
    return value


def grid_cache_usage() -> tuple:
    """``(entries, bytes)`` the pixel-grid cache holds now (at most `GRID_CACHE_ENTRIES`, `GRID_CACHE_BYTES`).

    Returns
    -------
    tuple of int
        Number of cached grids and the bytes of their arrays.

    Examples
    --------
    >>> entries, nbytes = grid_cache_usage()
    >>> entries <= GRID_CACHE_ENTRIES and nbytes <= GRID_CACHE_BYTES
    True
    """
    with _GRIDS_LOCK:
        return len(_GRIDS), sum(_nbytes(v) for v in _GRIDS.values())


def pixel_scale_deg(wcs) -> float:
    """The smaller of the celestial pixel scales of ``wcs`` in degrees (as ``proj_plane_pixel_scales``).

    Kept per WCS with the pixel grids (``WCS.celestial`` copies the WCS: too slow to call per evaluation).

    Parameters
    ----------
    wcs : `~astropy.wcs.WCS`
        The WCS (its celestial part is used).

    Returns
    -------
    float
        Pixel scale in deg.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---CAR", "DEC--CAR"]; w.wcs.cdelt = [-0.02, 0.02]
    >>> round(pixel_scale_deg(w), 6)
    0.02
    """
    return _cached_grid("pixel_scale", wcs, (0, 0), lambda: _pixel_scale_deg(wcs))


def _pixel_scale_deg(wcs) -> float:
    import astropy.units as u

    return float(np.min(np.abs(wcs.celestial.proj_plane_pixel_scales()[0].to_value(u.deg))))


def pixel_centers_world(wcs, shape):
    """(lon, lat) in degrees of the pixel centres, arrays of ``shape`` (ny, nx).

    The arrays are read-only, shared with later calls (windows of one cached grid of the same map).

    Parameters
    ----------
    wcs : `~astropy.wcs.WCS`
        Celestial WCS.
    shape : tuple of int
        ``(ny, nx)``.

    Returns
    -------
    lon, lat : numpy.ndarray
        Degrees, shape ``shape``.
    """
    return _cached_subgrid("centres", wcs, shape, _pixel_centers_world, 2)


def _pixel_centers_world(wcs, shape):
    ny, nx = shape
    y, x = np.mgrid[0:ny, 0:nx]
    lon, lat = wcs.celestial.pixel_to_world_values(x, y)
    return np.asarray(lon, float), np.asarray(lat, float)


def pixel_solid_angle(wcs, shape) -> np.ndarray:
    """Solid angle (sr) of each pixel, from its corners (two planar triangles, as gammapy).

    The array is read-only, shared with later calls (a window of one cached grid of the same map).

    Parameters
    ----------
    wcs : `~astropy.wcs.WCS`
        Celestial WCS.
    shape : tuple of int
        ``(ny, nx)``.

    Returns
    -------
    numpy.ndarray
        Solid angles in sr, shape ``shape``.
    """
    return _cached_subgrid("solid_angle", wcs, shape, _pixel_solid_angle, 1)


def _pixel_solid_angle(wcs, shape) -> np.ndarray:
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
    """A celestial WCS like ``wcs`` with pixels ``factor`` times smaller on each axis.

    The result is shared with later calls for the same WCS and factor: do not modify it.

    Parameters
    ----------
    wcs : `~astropy.wcs.WCS`
        The WCS (its celestial part is used).
    factor : int
        Sub-pixels per pixel side.

    Returns
    -------
    `~astropy.wcs.WCS`
        The celestial WCS of the finer grid (the same sky; pixel centres of the fine grid).
    """
    return _cached_grid(("oversampled", int(factor)), wcs, (0, 0), lambda: _oversampled_wcs(wcs, factor))


def _oversampled_wcs(wcs, factor: int):
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
