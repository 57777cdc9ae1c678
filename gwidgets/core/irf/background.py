"""Background rate vs reconstructed energy and field-of-view position (GADF ``bkg_3d``, ``bkg_2d``).

Values are interpolated in log (``values_scale = "log"``), as gammapy: empty
bins are ``tiny`` in log, and log-linear extrapolation next to them can
explode — `IRF.evaluate` has ``limit_extrapolation=True`` for that.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np

from .core import IRF

__all__ = ["Background3D", "Background2D"]

_RATE = u.Unit("s-1 MeV-1 sr-1")


class _Background(IRF):
    column = "BKG"
    column_aliases = ("BGD",)  # CTA 1DC
    default_unit = _RATE
    values_scale = "log"
    extname = "BACKGROUND"
    hduclas2 = "BKG"

    def integrate_energy(self, energy_edges, **coords) -> u.Quantity:
        """Rate integrated over energy bins (power law between the edges' values), in s-1 sr-1.

        ``energy_edges``: Quantity or axis; ``coords``: the field-of-view
        coordinates (they broadcast).  Result shape: ``(n_bins, *coords shape)``.

        Parameters
        ----------
        energy_edges : `~astropy.units.Quantity` or axis
            Reconstructed-energy bin edges (or an axis with ``.edges``).
        **coords : `~astropy.units.Quantity`
            Field-of-view coordinates (``fov_lon``, ``fov_lat`` or ``offset``).

        Returns
        -------
        astropy.units.Quantity
            Rate per bin in s-1 sr-1, shape ``(n_bins, *coords shape)``; bins where
            the power law is undefined (a zero rate at an edge) use the trapezoid rule.
        """
        edges = np.asarray(u.Quantity(getattr(energy_edges, "edges", energy_edges), u.MeV).value, float)
        ndim = len(np.broadcast_shapes(*(np.shape(v) for v in coords.values())))
        e = edges.reshape((-1,) + (1,) * ndim)
        rate = self._values(energy=e * u.MeV, **coords) * self.unit.to(_RATE)
        lo, hi, f_lo, f_hi = e[:-1], e[1:], rate[:-1], rate[1:]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            index = np.log(f_hi / f_lo) / np.log(hi / lo)
            power = f_lo * lo / (index + 1) * ((hi / lo) ** (index + 1) - 1)
        linear = 0.5 * (f_lo + f_hi) * (hi - lo)
        ok = (f_lo > 0) & (f_hi > 0) & np.isfinite(power) & (np.abs(index + 1) > 1e-10)
        return u.Quantity(np.where(ok, power, linear), "s-1 sr-1")


class Background3D(_Background):
    """Background rate vs (reco energy, FoV lon, FoV lat) in s-1 MeV-1 sr-1 (GADF ``bkg_3d``).

    Like gammapy, a data cell stored in the reversed axis order (H.E.S.S. and
    CTA files) is accepted.  ``fov_alignment`` tells whether the FoV frame is
    aligned with RA/Dec or Alt/Az (header ``FOVALIGN``, default RADEC).

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis` or `~gwidgets.core.geom.MapAxis`
        ``energy``, ``fov_lon``, ``fov_lat``, in this order.
    data : numpy.ndarray
        Values, shape ``(nbin of each axis)``.
    unit : str or `~astropy.units.Unit`, optional
        Unit of ``data``, convertible to s-1 MeV-1 sr-1 (the default).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool, optional
        Point-like (``HDUCLAS3 = POINT-LIKE``) or full-enclosure IRF.
    """

    tag = "bkg_3d"
    required_axes = ("energy", "fov_lon", "fov_lat")
    allow_reversed = True

    @property
    def fov_alignment(self) -> str:
        """Alignment of the field-of-view frame: ``FOVALIGN`` header keyword, ``RADEC`` (default) or ``ALTAZ``."""
        return str(self.meta.get("FOVALIGN", "RADEC")).strip().upper() or "RADEC"

    def _hdu_keywords(self) -> dict:
        return {**super()._hdu_keywords(), "FOVALIGN": self.fov_alignment}


class Background2D(_Background):
    """Radially symmetric background rate vs (reco energy, offset) in s-1 MeV-1 sr-1 (GADF ``bkg_2d``).

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis` or `~gwidgets.core.geom.MapAxis`
        ``energy``, ``offset``, in this order.
    data : numpy.ndarray
        Values, shape ``(nbin of each axis)``.
    unit : str or `~astropy.units.Unit`, optional
        Unit of ``data``, convertible to s-1 MeV-1 sr-1 (the default).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool, optional
        Point-like (``HDUCLAS3 = POINT-LIKE``) or full-enclosure IRF.
    """

    tag = "bkg_2d"
    required_axes = ("energy", "offset")
