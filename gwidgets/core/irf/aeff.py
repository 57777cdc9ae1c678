"""Effective area vs true energy and field-of-view offset (GADF ``aeff_2d``)."""
from __future__ import annotations

import astropy.units as u
from astropy.coordinates import Angle

from .core import IRF

__all__ = ["EffectiveArea2D"]


class EffectiveArea2D(IRF):
    """Effective area A(E_true, offset) in m2 (GADF ``aeff_2d``).

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis` or `~gwidgets.core.geom.MapAxis`
        ``energy_true``, ``offset``, in this order.
    data : numpy.ndarray
        Values, shape ``(nbin of each axis)``.
    unit : str or `~astropy.units.Unit`, optional
        Unit of ``data``, convertible to m2 (the default).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool, optional
        Point-like (``HDUCLAS3 = POINT-LIKE``) or full-enclosure IRF.

    Examples
    --------
    >>> from gwidgets.core.io.fits import FitsFile
    >>> from gwidgets.core.simulate import example_store_path
    >>> path = example_store_path() / "data" / "gwsim_obs_001001.fits.gz"   # a simulated run
    >>> aeff = EffectiveArea2D.from_hdu(FitsFile(path)["AEFF"])
    >>> aeff.evaluate(energy_true=[1, 10] * u.TeV, offset=0.5 * u.deg).round(-2)
    <Quantity [ 99700., 118900.] m2>
    """

    tag = "aeff_2d"
    required_axes = ("energy_true", "offset")
    column = "EFFAREA"
    default_unit = u.m**2
    extname = "EFFECTIVE AREA"
    hduclas2 = "EFF_AREA"

    def _threshold(self, key):
        value = self.meta.get(key)
        if value is None or isinstance(value, (str, bool)):
            return None
        return u.Quantity(float(value), u.TeV)

    @property
    def lo_threshold(self) -> u.Quantity | None:
        """Low safe energy threshold (header ``LO_THRES``, TeV), None if not given."""
        return self._threshold("LO_THRES")

    @property
    def hi_threshold(self) -> u.Quantity | None:
        """High safe energy threshold (header ``HI_THRES``, TeV), None if not given."""
        return self._threshold("HI_THRES")

    @property
    def offset_max(self) -> Angle:
        """Largest offset the table covers (upper edge of the offset axis)."""
        return Angle(self.axes["offset"].edges[-1])

    @property
    def fixed_rad_max(self) -> Angle | None:
        """Fixed ON radius of point-like IRFs (header ``RAD_MAX``, deg), None if not given."""
        value = self.meta.get("RAD_MAX")
        if value is None or isinstance(value, (str, bool)):
            return None
        return Angle(float(value), u.deg)
