"""RAD_MAX of point-like IRFs: the ON-region radius the IRFs were computed for (GADF ``rad_max_2d``).

Either a table vs reconstructed energy and offset (a ``RAD_MAX`` HDU,
evaluated as gammapy: linear, 0 outside the axes), or a single value given by
the ``RAD_MAX`` keyword of the point-like AEFF/EDISP headers
(`RadMax2D.from_fixed`, `fixed_rad_max`: one bin, the same value everywhere,
as gammapy's ``RadMax2D.from_irf``).
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle

from .axes import IRFAxis
from .core import IRF

__all__ = ["RadMax2D", "fixed_rad_max"]


class RadMax2D(IRF):
    """ON-region radius vs (reco energy, offset), in deg (GADF ``rad_max_2d``).

    Parameters
    ----------
    axes : list of `IRFAxis` or `~gwidgets.core.geom.MapAxis`
        ``energy``, ``offset``, in this order.
    data : numpy.ndarray
        Values, shape ``(nbin of each axis)``.
    unit : str or `~astropy.units.Unit`, optional
        Unit of ``data``, convertible to deg (the default).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool, optional
        Point-like (``HDUCLAS3 = POINT-LIKE``) or full-enclosure IRF.
    """

    tag = "rad_max_2d"
    required_axes = ("energy", "offset")
    column = "RAD_MAX"
    default_unit = u.deg
    extname = "RAD_MAX"
    hduclas2 = "RAD_MAX"

    def _setup(self, axes, data, unit, meta, is_pointlike):
        super()._setup(axes, data, unit, meta, is_pointlike)
        self.fixed_value = None
        return self

    @classmethod
    def from_fixed(cls, value, aeff=None, energy_axis=None, offset_axis=None) -> RadMax2D:
        """A constant RAD_MAX (deg, or a Quantity) over the ranges of ``aeff`` (or the given axes).

        Evaluates to ``value`` everywhere (nearest-node, no fill value), as
        gammapy's ``RadMax2D.from_irf``; ``fixed_value`` holds it as an Angle.

        Parameters
        ----------
        value : float or `~astropy.units.Quantity`
            The radius (numbers are deg).
        aeff : `~gwidgets.core.irf.EffectiveArea2D`, optional
            IRF whose ``energy_true`` and ``offset`` axes give the ranges.
        energy_axis, offset_axis : `~gwidgets.core.irf.axes.IRFAxis`, optional
            The ranges, if no ``aeff`` is given (or to override its axes).

        Returns
        -------
        RadMax2D
            A point-like, one-bin table.

        Raises
        ------
        TypeError
            If neither ``aeff`` nor both axes are given.

        Examples
        --------
        >>> import numpy as np, astropy.units as u
        >>> from gwidgets.core.irf import EffectiveArea2D, IRFAxis
        >>> energy = IRFAxis(np.geomspace(0.1, 100, 4), "energy_true", unit="TeV")
        >>> offset = IRFAxis([0, 1, 2], "offset", unit="deg")
        >>> aeff = EffectiveArea2D([energy, offset], np.full((3, 2), 1e5), unit="m2")
        >>> from gwidgets.core.irf import RadMax2D
        >>> rad_max = RadMax2D.from_fixed(0.1, aeff)
        >>> rad_max.evaluate(energy=[0.2, 50] * u.TeV, offset=1 * u.deg), rad_max.is_fixed
        (<Quantity [0.1, 0.1] deg>, True)
        """
        value = Angle(value if isinstance(value, u.Quantity) else float(value), u.deg)
        if aeff is not None:
            energy_axis = energy_axis or aeff.axes["energy_true"]
            offset_axis = offset_axis or aeff.axes["offset"]
        if energy_axis is None or offset_axis is None:
            raise TypeError("RadMax2D.from_fixed needs an effective area or both axes")
        energy = IRFAxis.coerce(energy_axis).copy(name="energy").squash()
        offset = IRFAxis.coerce(offset_axis).squash()
        meta = {"RAD_MAX": float(value.deg)}
        rm = cls([energy, offset], np.full((1, 1), value.deg), u.deg, meta, is_pointlike=True)
        rm.fixed_value = value
        rm.fill_value = None
        rm.interp_method = "nearest"
        return rm

    @property
    def is_fixed(self) -> bool:
        """True if the radius does not depend on energy or offset (a single bin)."""
        return all(ax.nbin == 1 for ax in self.axes.values())


def fixed_rad_max(irf) -> RadMax2D | None:
    """The fixed RAD_MAX of a point-like IRF (its header keyword ``RAD_MAX``) as a `RadMax2D`, else None.

    Parameters
    ----------
    irf : `~gwidgets.core.irf.IRF`
        A point-like IRF with ``energy_true`` and ``offset`` axes (AEFF or EDISP).

    Returns
    -------
    RadMax2D or None
        The constant radius over the IRF's ranges; None without a numeric ``RAD_MAX``.
    """
    value = getattr(irf, "meta", {}).get("RAD_MAX")
    if value is None or isinstance(value, (str, bool)):
        return None
    return RadMax2D.from_fixed(float(value), irf)
