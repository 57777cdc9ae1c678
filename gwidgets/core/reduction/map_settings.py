"""The settings object of the 3D reduction: every default of `MapDatasetMaker` for the config, written once.

`MapReductionSettings` is to the 3D pipeline what
`~gwidgets.core.reduction.settings.SpectrumReductionSettings` is to the 1D one: the `Analysis`
(``datasets.type: 3d``) builds its `MapDatasetMaker` from it, and a key its config leaves out takes the
default written here (the energy axes' defaults are the 1D ones, `DEFAULT_ENERGY` / `DEFAULT_ENERGY_TRUE`).

Examples
--------
>>> import astropy.units as u
>>> MapReductionSettings().width
<Quantity 5. deg>
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import astropy.units as u

from .settings import ReductionSettingsError, energy_axis

__all__ = ["MapReductionSettings"]


def _default_axis(name):
    return lambda: energy_axis(None, name)


@dataclass(frozen=True)
class MapReductionSettings:
    """Every setting (and default) of the 3D reduction (`MapDatasetMaker`), in one place.

    Parameters
    ----------
    energy_axis, energy_axis_true : MapAxis
        Reconstructed / true energy binning (defaults as `SpectrumReductionSettings`).
    binsz : Angle
        Pixel size (0.02°).
    width : Angle
        Map width (5°).
    frame : str
        ``"icrs"`` or ``"galactic"``.
    projection : str
        WCS projection (``"CAR"``).
    offset_max : Angle, optional
        Safe mask: pixels within ``offset_max`` of each pointing (None: no mask).
    psf, edisp : bool
        Build the PSF kernel / the energy dispersion.
    bkg_integration : {"exact", "edges"}
        Energy integration of the background IRF (see `MapMaker`).
    stack : bool
        Stack the observations into one dataset.

    Examples
    --------
    >>> s = MapReductionSettings(offset_max=2.5 * u.deg)
    >>> s.binsz, s.offset_max, s.bkg_integration
    (<Quantity 0.02 deg>, <Quantity 2.5 deg>, 'exact')
    """

    energy_axis: object = field(default_factory=_default_axis("energy"))
    energy_axis_true: object = field(default_factory=_default_axis("energy_true"))
    binsz: u.Quantity = 0.02 * u.deg
    width: u.Quantity = 5 * u.deg
    frame: str = "icrs"
    projection: str = "CAR"
    offset_max: u.Quantity | None = None
    psf: bool = True
    edisp: bool = True
    bkg_integration: str = "exact"
    stack: bool = True

    def __post_init__(self):
        from .map_maker import BKG_ENERGY_GRIDS

        for name in ("binsz", "width"):
            object.__setattr__(self, name, u.Quantity(getattr(self, name), u.deg))
        if self.offset_max is not None:
            object.__setattr__(self, "offset_max", u.Quantity(self.offset_max, u.deg))
        if self.bkg_integration not in BKG_ENERGY_GRIDS:
            raise ReductionSettingsError(f"'bkg_integration' = {self.bkg_integration!r}; choose from "
                                         f"{sorted(BKG_ENERGY_GRIDS)}")

    def replace(self, **changes) -> MapReductionSettings:
        """A copy with ``changes`` (any field).

        Parameters
        ----------
        **changes
            Fields to change.

        Returns
        -------
        MapReductionSettings
        """
        return dataclasses.replace(self, **changes)

    def geom(self, skydir):
        """The `WcsGeom` (with the reconstructed energy axis) centred on ``skydir``.

        Parameters
        ----------
        skydir : SkyCoord
            The map centre (transformed to ``frame``).

        Returns
        -------
        WcsGeom
        """
        from ..geom import WcsGeom

        return WcsGeom.create(skydir.transform_to(self.frame), binsz=self.binsz.to_value("deg"), width=self.width,
                              frame=self.frame, proj=self.projection, axes=[self.energy_axis])

    def maker(self, skydir, position=None):
        """The `MapDatasetMaker` of these settings for a map centred on ``skydir``.

        Parameters
        ----------
        skydir : SkyCoord
            The map centre.
        position : SkyCoord, optional
            Where the PSF and EDISP are evaluated (default: the map centre).

        Returns
        -------
        MapDatasetMaker
        """
        from .map_dataset_maker import MapDatasetMaker

        return MapDatasetMaker(self.geom(skydir), self.energy_axis_true, offset_max=self.offset_max,
                               position=position, psf=self.psf, edisp=self.edisp,
                               bkg_integration=self.bkg_integration)

    @classmethod
    def from_config(cls, section: dict | None, key: str = "datasets") -> MapReductionSettings:
        """The settings a config's ``datasets`` section (``type: 3d``) describes; the rest takes the defaults.

        Parameters
        ----------
        section : dict
            The ``datasets`` section (``geom``: binsize, width, projection, skydir.frame, axes;
            ``safe_mask.offset_max``; ``stack``).
        key : str
            Its key in the config, named in errors.

        Returns
        -------
        MapReductionSettings
        """
        section = section or {}
        g = section.get("geom", {}) or {}
        axes = g.get("axes", {})
        kwargs = {"energy_axis": energy_axis(axes.get("energy"), "energy", f"{key}.geom.axes.energy"),
                  "energy_axis_true": energy_axis(axes.get("energy_true"), "energy_true",
                                                  f"{key}.geom.axes.energy_true")}
        for ck, sk in (("binsize", "binsz"), ("width", "width"), ("projection", "projection")):
            if ck in g:
                kwargs[sk] = g[ck]
        sky = g.get("skydir") or section.get("on_region") or {}
        if "frame" in sky:
            kwargs["frame"] = sky["frame"]
        if (section.get("safe_mask") or {}).get("offset_max") is not None:
            kwargs["offset_max"] = section["safe_mask"]["offset_max"]
        if "stack" in section:
            kwargs["stack"] = section["stack"]
        return cls(**kwargs)
