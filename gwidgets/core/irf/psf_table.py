"""Tabulated PSF: radial profile dP/dΩ vs true energy, offset and radius (GADF ``psf_table``)."""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle

from .core import IRF
from .interp import GridInterpolator

__all__ = ["PSFTable", "check_fraction"]

_DEG2_TO_SR = (np.pi / 180.0) ** 2


def check_fraction(fraction) -> np.ndarray:
    """Containment fraction(s) as an array, checked to be within [0, 1].

    Parameters
    ----------
    fraction : float or array-like
        The fraction(s).

    Returns
    -------
    numpy.ndarray
        The fractions as floats.

    Raises
    ------
    ValueError
        If a fraction is outside [0, 1].
    """
    fraction = np.asarray(fraction, dtype=float)
    if np.any((fraction < 0) | (fraction > 1)):
        raise ValueError(f"Containment fraction must be within [0, 1], got {fraction}")
    return fraction


class PSFTable(IRF):
    """PSF profile dP/dΩ(E_true, offset, rad) in sr-1 (GADF ``psf_table``).

    ``evaluate`` is gammapy's (linear in rad, fill 0 outside the axes).
    ``containment(rad, …)`` integrates the tabulated profile, as gammapy's
    ``PSF3D.containment``: the cumulative sum of 2π·r·Δr·PSF over the rad bins,
    interpolated linearly between the bins' upper edges.  Unlike gammapy it
    is also defined below the first bin edge (linear from 0 at r = 0) and
    beyond the last (the table's total); outside the energy or offset range
    it is 0 (gammapy's fill value).

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis` or `~gwidgets.core.geom.MapAxis`
        ``energy_true``, ``offset``, ``rad``, in this order.
    data : numpy.ndarray
        Values, shape ``(nbin of each axis)``.
    unit : str or `~astropy.units.Unit`, optional
        Unit of ``data``, convertible to sr-1 (the default).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool, optional
        Point-like (``HDUCLAS3 = POINT-LIKE``) or full-enclosure IRF.
    """

    tag = "psf_table"
    required_axes = ("energy_true", "offset", "rad")
    column = "RPSF"
    default_unit = u.sr**-1
    extname = "PSF_2D_TABLE"
    hduclas2 = "RPSF"

    # ---------------------------------------------------------- containment
    def _containment_table(self):
        """(interpolator over (energy, offset, rad nodes with 0 prepended), rad nodes in deg)."""
        cached = getattr(self, "_containment_cache", None)
        if cached is not None:
            return cached
        rad = self.axes["rad"]
        edges = rad.edges_in(u.deg)
        centers = rad.center.to_value(u.deg)
        widths = np.diff(edges)
        to_sr = self.unit.to(u.sr**-1)
        ring = 2 * np.pi * centers * widths * _DEG2_TO_SR * to_sr  # sr per bin (the Jacobian, as gammapy)
        cum = np.cumsum(np.asarray(self.data, float) * ring, axis=-1)
        cum = np.concatenate([np.zeros(cum.shape[:-1] + (1,)), cum], axis=-1)
        nodes = np.concatenate([[0.0], edges[1:]])
        points = [self.axes["energy_true"].scaled_centers, self.axes["offset"].scaled_centers, nodes]
        cached = (GridInterpolator(points, cum), nodes)
        self._containment_cache = cached
        return cached

    def _cells_outside(self, energy_true, offset):
        e = self.axes["energy_true"]._edges
        o = self.axes["offset"]._edges
        with np.errstate(invalid="ignore"):
            return ~((energy_true >= e[0]) & (energy_true <= e[-1])) | ~((offset >= o[0]) & (offset <= o[-1]))

    def containment(self, rad, energy_true, offset) -> np.ndarray:
        """Fraction of the PSF within ``rad`` (arrays broadcast): an ndarray.

        Parameters
        ----------
        rad : `~astropy.units.Quantity` or array-like
            Radius (numbers are in the rad axis unit, deg).
        energy_true : `~astropy.units.Quantity`
            True energy (numbers are TeV).
        offset : `~astropy.units.Quantity`
            Field-of-view offset (numbers are deg).

        Returns
        -------
        numpy.ndarray
            Fractions (the table's integral, which may differ slightly from 1);
            0 outside the energy or offset range.
        """
        interp, nodes = self._containment_table()
        x = self._coordinates({"energy_true": energy_true, "offset": offset, "rad": rad})
        r = np.clip(x[2] * self.axes["rad"].unit.to(u.deg), 0, nodes[-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            values = interp(self._scaled(x[:2]) + [r], clip=True)
        shape = np.broadcast_shapes(*(np.shape(a) for a in x))
        values = np.broadcast_to(values, shape)
        bad = self._cells_outside(x[0], x[1]) | ~np.isfinite(values)
        return np.where(bad, 0.0, values)

    def containment_radius(self, fraction, energy_true, offset) -> Angle:
        """Radius containing ``fraction`` of the PSF (arrays broadcast), as an Angle in deg.

        Exact for the interpolated table (the containment is piecewise linear
        in rad between the rad nodes); NaN where the table never reaches
        ``fraction`` (e.g. outside the energy or offset range).

        Parameters
        ----------
        fraction : float or array-like
            Containment fraction(s) in [0, 1].
        energy_true : `~astropy.units.Quantity`
            True energy (numbers are TeV).
        offset : `~astropy.units.Quantity`
            Field-of-view offset (numbers are deg).

        Returns
        -------
        astropy.coordinates.Angle
            The radii in deg.

        Raises
        ------
        ValueError
            If a fraction is outside [0, 1].
        """
        fraction = check_fraction(fraction)
        interp, nodes = self._containment_table()
        x = self._coordinates({"energy_true": energy_true, "offset": offset}, ("energy_true", "offset"))
        shape = np.broadcast_shapes(np.shape(fraction), *(np.shape(a) for a in x))
        expand = (...,) + (None,)
        s = self._scaled(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            curve = interp([s[0][expand], s[1][expand], nodes], clip=True)  # (..., n_nodes)
        curve = np.broadcast_to(curve, shape + (len(nodes),))
        curve = np.maximum.accumulate(np.nan_to_num(curve), axis=-1)  # monotonic (it is, up to round-off)
        f = np.broadcast_to(fraction, shape)[..., None]
        above = curve >= f
        k = np.argmax(above, axis=-1)
        reached = np.take_along_axis(above, k[..., None], -1)[..., 0]
        k = np.clip(k, 1, len(nodes) - 1)
        c_hi = np.take_along_axis(curve, k[..., None], -1)[..., 0]
        c_lo = np.take_along_axis(curve, (k - 1)[..., None], -1)[..., 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(c_hi > c_lo, (f[..., 0] - c_lo) / (c_hi - c_lo), 0.0)
        radius = nodes[k - 1] + np.clip(t, 0, 1) * (nodes[k] - nodes[k - 1])
        radius = np.where(f[..., 0] <= 0, 0.0, radius)
        outside = np.broadcast_to(self._cells_outside(x[0], x[1]), shape)
        radius = np.where(reached & ~outside, radius, np.nan)
        return Angle(radius, u.deg)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_containment_cache", None)
        return state
