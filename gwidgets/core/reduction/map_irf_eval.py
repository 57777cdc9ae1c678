"""Fast, exact evaluation of IRFs on sky cubes (the inner loop of `MapMaker`).

* `aeff_on_pixels`: AEFF(E_true, offset) on an (energy × pixel) grid. The
  interpolation is multilinear, hence separable: the table is interpolated
  in energy at the offset *nodes* once (n_E × n_offset values), then each
  energy row is interpolated linearly in offset (`numpy.interp`; linear
  extrapolation beyond the outer nodes, as gammapy). Same values as
  ``aeff.evaluate`` (same cells, weights, clipping and fill value), at
  a fraction of the cost; any other IRF layout falls back to ``evaluate``.
* `fov_lonlat`: pixel positions in the RADEC-aligned field-of-view frame of a
  pointing by one 3 × 3 rotation of precomputed unit vectors (astropy's
  ``skyoffset_frame`` matrix), instead of a SkyCoord transformation.
* `bkg_rate_limited`: ``bkg.evaluate(..., limit_extrapolation=True)``, with the
  second (clipped) evaluation done only on the energies and pixels beyond the
  outer nodes, where it can change anything.
* `integrate_loglog`: the power-law integral between edge values written as
  ``(E_hi y_hi − E_lo y_lo) / (1 + ln(y_hi/y_lo) / ln(E_hi/E_lo))`` — the
  same quantity as gammapy's ``trapz_loglog`` without a power per bin.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates.matrix_utilities import rotation_matrix

from ..irf.interp import exp_values

__all__ = ["aeff_on_pixels", "fov_lonlat", "unit_vectors", "bkg_rate_limited", "integrate_loglog"]

_TINY = np.finfo(float).tiny


def unit_vectors(coords) -> np.ndarray:
    """ICRS unit vectors, shape ``(3, *coords.shape)``.

    Parameters
    ----------
    coords : `~astropy.coordinates.SkyCoord`
        Sky positions (any frame, any shape).

    Returns
    -------
    numpy.ndarray
        Cartesian components (x, y, z) of the ICRS unit vectors.
    """
    c = coords.icrs.cartesian
    return np.stack([c.x.value, c.y.value, c.z.value])


def fov_lonlat(xyz, pointing):
    """(fov_lon, fov_lat) in deg of unit vectors ``xyz`` in the RADEC-aligned FoV frame of ``pointing``.

    Parameters
    ----------
    xyz : numpy.ndarray
        ICRS unit vectors, shape (3, ...) (from `unit_vectors`).
    pointing : `~astropy.coordinates.SkyCoord`
        The pointing position.

    Returns
    -------
    fov_lon, fov_lat : numpy.ndarray
        Field-of-view coordinates in deg, of shape ``xyz.shape[1:]`` (lon wrapped to [-180, 180)).

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.coordinates import SkyCoord
    >>> pointing = SkyCoord(83.6, 22.0, unit="deg")
    >>> lon, lat = fov_lonlat(unit_vectors(SkyCoord([83.6], [22.5], unit="deg")), pointing)
    >>> np.round(lon, 6) + 0.0, np.round(lat, 6)
    (array([0.]), array([0.5]))
    """
    p = pointing.icrs.spherical
    matrix = rotation_matrix(-p.lat, "y") @ rotation_matrix(p.lon, "z")
    x, y, z = np.tensordot(matrix, xyz, axes=(1, 0))
    lon = np.degrees(np.arctan2(y, x))
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.where(lon >= 180.0, lon - 360.0, lon)  # wrap at 180 deg as Longitude.wrap_at
    return lon, lat


def aeff_on_pixels(aeff, energy_true, offset_deg) -> np.ndarray:
    """AEFF in m² at ``energy_true`` (Quantity, n_E) × pixels at ``offset_deg`` (array, any shape).

    Parameters
    ----------
    aeff : `~gwidgets.core.irf.aeff.EffectiveArea2D`
        The effective area IRF (any other layout is evaluated by its ``evaluate``).
    energy_true : `~astropy.units.Quantity`
        True energies, shape (n_E,).
    offset_deg : array-like
        Field-of-view offsets of the pixels in deg.

    Returns
    -------
    numpy.ndarray
        Effective area in m², shape ``(n_E, *offset_deg.shape)`` (the IRF's fill value outside its axes).
    """
    offset_deg = np.asarray(offset_deg, float)
    interp = aeff.interpolator if tuple(aeff.required_axes) == ("energy_true", "offset") else None
    if (interp is None or aeff.values_scale != "lin" or interp.method != "linear" or not all(interp.keep)
            or aeff.fill_value is None):
        return aeff.evaluate(energy_true=energy_true.reshape((-1,) + (1,) * offset_deg.ndim),
                             offset=offset_deg[None] * u.deg).to_value("m2")
    ax_e, ax_o = aeff.axes["energy_true"], aeff.axes["offset"]
    e = u.Quantity(energy_true).to_value(ax_e.unit).reshape(-1)
    x = (offset_deg * u.deg).to_value(ax_o.unit).reshape(-1)
    s_e, s_x = aeff._scaled([e, x])
    grid = interp.grids[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        table = interp([s_e[:, None], grid[None, :]])  # energy-interpolated values at the offset nodes
        # linear in offset between the nodes (np.interp, per energy), linear extrapolation beyond the outer nodes
        values = np.empty((len(e), len(x)))
        for k, row in enumerate(table):
            values[k] = np.interp(s_x, grid, row)
        outer = (s_x < grid[0]) | (s_x > grid[-1])
        if outer.any():
            xo = s_x[outer]
            i = np.where(xo < grid[0], 0, len(grid) - 2)
            w = (xo - grid[i]) / (grid[i + 1] - grid[i])
            values[:, outer] = table[:, i] * (1.0 - w) + table[:, i + 1] * w
    values = np.maximum(values, 0.0) * aeff.unit.to("m2")
    e_edges, o_edges = ax_e._edges, ax_o._edges
    with np.errstate(invalid="ignore"):
        values[~((e >= e_edges[0]) & (e <= e_edges[-1]))] = aeff.fill_value
        values[:, ~((x >= o_edges[0]) & (x <= o_edges[-1]))] = aeff.fill_value
    if not np.isfinite(table).all():
        values[~np.isfinite(values)] = aeff.fill_value
    return values.reshape((len(e),) + offset_deg.shape)


def _outer_linear(interp, c_e, c_lon, c_lat):
    """Trilinear interpolation on the outer grid (energies × pixels): energy first, then bilinear per pixel."""
    (i0, w0), (i1, w1), (i2, w2) = interp.cells([c_e, c_lon, c_lat])
    v = interp.values
    table = v[i0] * (1.0 - w0)[:, None, None] + v[i0 + 1] * w0[:, None, None]  # (n_E, n_lon, n_lat)
    rows = np.ascontiguousarray(np.moveaxis(table, 0, -1))  # (n_lon, n_lat, n_E)
    out = (rows[i1, i2] * ((1.0 - w1) * (1.0 - w2))[:, None] + rows[i1, i2 + 1] * ((1.0 - w1) * w2)[:, None]
           + rows[i1 + 1, i2] * (w1 * (1.0 - w2))[:, None] + rows[i1 + 1, i2 + 1] * (w1 * w2)[:, None])
    return out.T  # (n_E, n_pixels)


def bkg_rate_limited(bkg, edges_mev, lon, lat) -> np.ndarray:
    """BKG_3D rate in s-1 MeV-1 sr-1 at energies ``edges_mev`` (n) × pixels (lon, lat in deg), extrapolation limited.

    The same values as ``bkg.evaluate(..., limit_extrapolation=True)`` on the outer grid, computed separably.

    Parameters
    ----------
    bkg : `~gwidgets.core.irf.background.Background3D`
        The background IRF (any other layout goes through ``bkg.evaluate``).
    edges_mev : numpy.ndarray
        Energies in MeV, shape (n,).
    lon, lat : numpy.ndarray
        Field-of-view coordinates of the pixels in deg (same shape).

    Returns
    -------
    numpy.ndarray
        Rate in s⁻¹ MeV⁻¹ sr⁻¹, shape ``(n, *lon.shape)``.
    """
    interp = bkg.interpolator
    if (tuple(bkg.required_axes) != ("energy", "fov_lon", "fov_lat") or interp.method != "linear"
            or not all(interp.keep) or bkg.values_scale != "log" or bkg.fill_value is None):
        return _bkg_rate_generic(bkg, edges_mev, lon, lat)
    ax = [bkg.axes[n] for n in bkg.required_axes]
    e = (edges_mev * u.MeV).to_value(ax[0].unit)
    x = (lon.ravel() * u.deg).to_value(ax[1].unit)
    y = (lat.ravel() * u.deg).to_value(ax[2].unit)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = _outer_linear(interp, *bkg._scaled([e, x, y]))
        c = [a.center_values for a in ax]
        e_beyond = (e < c[0][0]) | (e > c[0][-1])
        p_beyond = (x < c[1][0]) | (x > c[1][-1]) | (y < c[2][0]) | (y > c[2][-1])
        # limit_extrapolation: beyond the outer nodes, not above the value at the clipped coordinates
        ce, cx, cy = [np.clip(v, cc[0], cc[-1]) for v, cc in zip((e, x, y), c)]
        if e_beyond.any():
            edge = _outer_linear(interp, *bkg._scaled([ce[e_beyond], cx, cy]))
            values[e_beyond] = np.minimum(values[e_beyond], edge)
        if p_beyond.any():
            edge = _outer_linear(interp, *bkg._scaled([ce, cx[p_beyond], cy[p_beyond]]))
            values[:, p_beyond] = np.minimum(values[:, p_beyond], edge)
    values = np.maximum(exp_values(values), 0.0)
    edges = [a._edges for a in ax]
    with np.errstate(invalid="ignore"):
        bad = (~((e >= edges[0][0]) & (e <= edges[0][-1])))[:, None] | (
            ~((x >= edges[1][0]) & (x <= edges[1][-1]) & (y >= edges[2][0]) & (y <= edges[2][-1])))[None, :]
    bad |= ~np.isfinite(values)
    values = np.where(bad, bkg.fill_value, values) * bkg.unit.to("s-1 MeV-1 sr-1")
    return values.reshape((len(e),) + np.shape(lon))


def _bkg_rate_generic(bkg, edges_mev, lon, lat) -> np.ndarray:
    unit = u.Unit("s-1 MeV-1 sr-1")
    e = edges_mev[:, None, None] * u.MeV
    rate = bkg.evaluate(energy=e, fov_lon=lon[None] * u.deg, fov_lat=lat[None] * u.deg).to_value(unit)
    c_e = bkg.axes["energy"].center_values
    e_ax = (edges_mev * u.MeV).to_value(bkg.axes["energy"].unit)
    e_beyond = (e_ax < c_e[0]) | (e_ax > c_e[-1])
    c_lon, c_lat = bkg.axes["fov_lon"].center_values, bkg.axes["fov_lat"].center_values
    lon_ax = (lon * u.deg).to_value(bkg.axes["fov_lon"].unit)
    lat_ax = (lat * u.deg).to_value(bkg.axes["fov_lat"].unit)
    p_beyond = (lon_ax < c_lon[0]) | (lon_ax > c_lon[-1]) | (lat_ax < c_lat[0]) | (lat_ax > c_lat[-1])
    if e_beyond.any():
        rate[e_beyond] = bkg.evaluate(energy=e[e_beyond], fov_lon=lon[None] * u.deg, fov_lat=lat[None] * u.deg,
                                      limit_extrapolation=True).to_value(unit)
    if p_beyond.any():
        rate[:, p_beyond] = bkg.evaluate(energy=e[:, :, 0], fov_lon=lon[p_beyond][None] * u.deg,
                                         fov_lat=lat[p_beyond][None] * u.deg, limit_extrapolation=True).to_value(unit)
    return rate


def integrate_loglog(values, edges, axis=0) -> np.ndarray:
    """∫ over each bin of a function known at the edges, power law in between (see module doc).

    Parameters
    ----------
    values : array-like
        Function values at the edges (≤ 0 taken as the smallest positive float).
    edges : array-like
        Bin edges (positive), same shape as ``values``.
    axis : int, optional
        Axis along which the edges run.

    Returns
    -------
    numpy.ndarray
        One integral per bin (length n - 1 along ``axis``; 0 where not finite), in the unit of
        ``values`` × ``edges``.

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.array([1.0, 2.0, 4.0])
    >>> integrate_loglog(energy ** -2, energy)      # exact for a power law: 1 - 1/2, 1/2 - 1/4
    array([0.5 , 0.25])
    """
    x = np.moveaxis(np.asarray(edges, float), axis, 0)
    y = np.moveaxis(np.asarray(values, float), axis, 0)
    ly = np.log(np.maximum(y, _TINY))
    e_lo, e_hi = x[:-1], x[1:]
    y_lo, y_hi = y[:-1], y[1:]
    big_l = np.log(e_hi / e_lo)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        g = 1.0 + (ly[1:] - ly[:-1]) / big_l
        out = (e_hi * y_hi - e_lo * y_lo) / g
        small = np.abs(g) < 1e-10
        if np.any(small):
            out = np.where(small, y_lo * e_lo * big_l, out)
    out = np.where(np.isfinite(out), out, 0.0)
    return np.moveaxis(out, 0, axis)
