"""Spatial models: surface brightness on the sphere in sr-1, integrating to 1.

``evaluate(lon, lat, **params)`` is pure and static, on floats in degrees in
the model's ``frame`` ("icrs" or "galactic"); the parameter names, defaults
and bounds equal gammapy's same-named models (and so do the formulas,
including gammapy's normalisation of elongated models), so the values agree.

Geometry helpers need no map library: `SpatialModel.evaluate_wcs` gives
sr-1 at the pixel centres of an astropy WCS, `SpatialModel.integrate_wcs`
the fraction of the flux in each pixel (oversampled; the point source
shares its flux among the four nearest pixels, as gammapy).

Examples
--------
>>> from gwidgets.core.models import GaussianSpatialModel
>>> g = GaussianSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg", sigma="0.1 deg")
>>> float(g.position.ra.deg)
83.63
>>> round(float(g.values(83.63, 22.01)) * 2 * 3.14159265 * (0.1 * 3.14159265 / 180) ** 2, 4)
1.0
"""
from __future__ import annotations

import functools
from typing import ClassVar

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord, frame_transform_graph

from ._sphere import (
    angular_separation,
    frame_of_wcs,
    one_minus_cos,
    one_minus_cos_separation,
    oversampled_wcs,
    pixel_centers_world,
    pixel_scale_deg,
    pixel_solid_angle,
    position_angle,
)
from .core import Model, ParameterDef, register
from .parameter import ParameterError

__all__ = ["SpatialModel", "PointSpatialModel", "GaussianSpatialModel", "DiskSpatialModel",
           "ShellSpatialModel", "ConstantSpatialModel"]

_LON = ParameterDef("lon_0", 0.0, "deg")
_LAT = ParameterDef("lat_0", 0.0, "deg", min=-90.0, max=90.0)
_E = ParameterDef("e", 0.0, "", min=0.0, max=1.0, frozen=True)
_PHI = ParameterDef("phi", 0.0, "deg", min=-180.0, max=180.0, frozen=True)


def _check_frame(frame):
    if not isinstance(frame, str) or frame_transform_graph.lookup_name(frame) is None:
        raise ParameterError(f"Unknown coordinate frame {frame!r} (use 'icrs' or 'galactic')")
    return frame


def _sigma_eff(lon_0, lat_0, lon, lat, phi, major, e):
    """Effective radius of an ellipse (radians) in the direction of each point."""
    phi_0 = position_angle(lon_0, lat_0, lon, lat)
    d_phi = phi - phi_0
    minor = major * np.sqrt(1 - e**2)
    return minor, major * minor / np.hypot(major * np.sin(d_phi), minor * np.cos(d_phi))


def _wrap_phi(phi_deg):
    return np.radians(phi_deg % 180.0)


class SpatialModel(Model):
    """Base class of spatial models (``frame`` + parameters lon_0/lat_0 in degrees).

    Parameters
    ----------
    frame : str, optional
        Astropy frame name of the centre and of ``evaluate``'s coordinates: "icrs" (default) or "galactic".
    **kwargs
        Parameter values by name.

    Raises
    ------
    ParameterError
        For an unknown frame or parameter.
    """

    kind: ClassVar[str] = "spatial"
    #: whether the YAML entry carries ``frame`` (gammapy omits it for constant models)
    _has_frame: ClassVar[bool] = True

    def __init__(self, frame="icrs", **kwargs):
        super().__init__(**kwargs)
        self.__dict__["frame"] = _check_frame(frame)

    # ------------------------------------------------------------ position
    @property
    def position(self) -> SkyCoord:
        """Centre as a `~astropy.coordinates.SkyCoord` in the model frame."""
        return SkyCoord(self.lon_0.quantity, self.lat_0.quantity, frame=self.frame)

    @position.setter
    def position(self, coord):
        coord = coord.transform_to(self.frame)
        self.lon_0.value = coord.spherical.lon.to_value(self.lon_0.unit)
        self.lat_0.value = coord.spherical.lat.to_value(self.lat_0.unit)

    @classmethod
    def from_position(cls, position: SkyCoord, **kwargs):
        """A model centred on ``position``, in its frame.

        Parameters
        ----------
        position : `~astropy.coordinates.SkyCoord`
            The centre; its frame becomes the model frame.
        **kwargs
            Other parameters.

        Returns
        -------
        SpatialModel
            An instance of the class called.
        """
        frame = position.frame.name
        sph = position.spherical
        return cls(lon_0=sph.lon.to(u.deg), lat_0=sph.lat.to(u.deg), frame=frame, **kwargs)

    @property
    def evaluation_radius(self) -> u.Quantity:
        """Radius outside which the model is negligible."""
        return 0 * u.deg

    # ------------------------------------------------------------ evaluate
    def values(self, lon_deg, lat_deg):
        """sr-1 at (lon, lat) given as floats in degrees in the model frame.

        Parameters
        ----------
        lon_deg, lat_deg : array-like
            Positions in deg.

        Returns
        -------
        numpy.ndarray
            Surface brightness in sr-1.
        """
        return self.evaluate(np.asarray(lon_deg, float), np.asarray(lat_deg, float), **self.canonical_values())

    def __call__(self, lon, lat=None):
        """sr-1 at ``lon, lat`` (Quantities in the model frame) or at a SkyCoord.

        Parameters
        ----------
        lon : `~astropy.units.Quantity` or `~astropy.coordinates.SkyCoord`
            Longitude (numbers are deg), or the positions (any frame).
        lat : `~astropy.units.Quantity`, optional
            Latitude, when ``lon`` is not a SkyCoord.

        Returns
        -------
        astropy.units.Quantity
            Surface brightness in sr-1.
        """
        if isinstance(lon, SkyCoord):
            c = lon.transform_to(self.frame).spherical
            lon, lat = c.lon, c.lat
        lon = u.Quantity(lon, u.deg).to_value(u.deg)
        lat = u.Quantity(lat, u.deg).to_value(u.deg)
        return u.Quantity(self.values(lon, lat), "sr-1")

    def _world_in_frame(self, wcs, shape):
        lon, lat = pixel_centers_world(wcs, shape)
        wframe = frame_of_wcs(wcs)
        if wframe != self.frame:
            c = SkyCoord(lon * u.deg, lat * u.deg, frame=wframe).transform_to(self.frame).spherical
            lon, lat = c.lon.deg, c.lat.deg
        return lon, lat

    def evaluate_wcs(self, wcs, shape) -> np.ndarray:
        """sr-1 at the centres of the pixels of a 2D celestial ``wcs`` of ``shape`` (ny, nx).

        Parameters
        ----------
        wcs : `~astropy.wcs.WCS`
            Celestial WCS (any frame; positions are transformed to the model frame).
        shape : tuple of int
            ``(ny, nx)``.

        Returns
        -------
        numpy.ndarray
            Surface brightness in sr-1, shape ``shape``.
        """
        return self.values(*self._world_in_frame(wcs, shape))

    def integrate_wcs(self, wcs, shape, oversampling: int | None = None) -> np.ndarray:
        """Fraction of the model's flux in each pixel (oversampled sum of value × solid angle).

        Parameters
        ----------
        wcs : `~astropy.wcs.WCS`
            Celestial WCS.
        shape : tuple of int
            ``(ny, nx)``.
        oversampling : int, optional
            Sub-pixels per pixel side; default from the model's smallest scale
            (3 sub-pixels per scale, at most 20).

        Returns
        -------
        numpy.ndarray
            Fraction of the flux in each pixel, shape ``shape``.
        """
        if oversampling is None:
            oversampling = self._default_oversampling(wcs)
        ny, nx = shape
        n = int(max(1, oversampling))
        w = oversampled_wcs(wcs, n)
        fine = (ny * n, nx * n)
        values = self.evaluate_wcs(w, fine) * pixel_solid_angle(w, fine)
        return values.reshape(ny, n, nx, n).sum(axis=(1, 3))

    def _default_oversampling(self, wcs) -> int:
        size = self._min_scale_deg()
        if not size:
            return 1
        binsz = pixel_scale_deg(wcs)
        return int(np.clip(np.ceil(3 * binsz / size), 1, 20))

    def _min_scale_deg(self) -> float:
        return 0.0

    # ------------------------------------------------------------------ I/O
    def _extra_to_dict(self):
        return {"frame": self.frame} if self._has_frame else {}

    @classmethod
    def _kwargs_from_dict(cls, data):
        return {"frame": data["frame"]} if "frame" in data else {}

    def __repr__(self):
        return super().__repr__()[:-1] + (f", frame='{self.frame}')" if self._has_frame else ")")


@register
class PointSpatialModel(SpatialModel):
    """A point source at (lon_0, lat_0): a delta function.

    ``evaluate`` is zero everywhere (a delta has no finite value); use
    `integrate_wcs`, which puts the flux in the four nearest pixels with
    bilinear weights that preserve the centroid (as gammapy).

    Parameters
    ----------
    lon_0 : float, str or `~astropy.units.Quantity`, optional
        Longitude of the centre, in the model frame. Default 0 deg.
    lat_0 : float, str or `~astropy.units.Quantity`, optional
        Latitude of the centre, in the model frame. Default 0 deg, bounds [-90, 90].
    frame : str, optional
        Astropy frame name of the centre and of ``evaluate``'s coordinates: "icrs" (default) or "galactic".
    """

    tag = ("PointSpatialModel", "point")
    parameter_defs = (_LON, _LAT)

    @staticmethod
    def evaluate(lon, lat, lon_0, lat_0):
        """Surface brightness at (``lon``, ``lat``), on floats in deg.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            Positions in deg, in the model frame.
        lon_0 : float
            Longitude of the centre, in the model frame. In deg.
        lat_0 : float
            Latitude of the centre, in the model frame. In deg.

        Returns
        -------
        numpy.ndarray
            Zeros (a delta function has no finite value).
        """
        return np.zeros(np.broadcast(np.asarray(lon), np.asarray(lat)).shape)

    def integrate_wcs(self, wcs, shape, oversampling=None):
        """The flux in the four nearest pixels, with bilinear weights that preserve the centroid.

        Parameters
        ----------
        wcs : `~astropy.wcs.WCS`
            Celestial WCS.
        shape : tuple of int
            ``(ny, nx)``.
        oversampling : int, optional
            Ignored.

        Returns
        -------
        numpy.ndarray
            Fraction of the flux in each pixel, shape ``shape``.
        """
        ny, nx = shape
        wframe = frame_of_wcs(wcs)
        pos = self.position.transform_to(wframe).spherical
        x0, y0 = wcs.celestial.world_to_pixel_values(pos.lon.deg, pos.lat.deg)
        y, x = np.mgrid[0:ny, 0:nx]
        dx = np.abs(x - x0)
        dy = np.abs(y - y0)
        return np.where(dx < 1, 1 - dx, 0) * np.where(dy < 1, 1 - dy, 0)

    def evaluate_wcs(self, wcs, shape):
        """`integrate_wcs` divided by the pixel solid angles.

        Parameters
        ----------
        wcs : `~astropy.wcs.WCS`
            Celestial WCS.
        shape : tuple of int
            ``(ny, nx)``.

        Returns
        -------
        numpy.ndarray
            Mean surface brightness of each pixel in sr-1.
        """
        return self.integrate_wcs(wcs, shape) / pixel_solid_angle(wcs, shape)


@register
class GaussianSpatialModel(SpatialModel):
    r"""2D Gaussian on the sphere, :math:`\propto \exp(-\frac{1-\cos\theta}{2(1-\cos\sigma)})`.

    Symmetric (``e = 0``): normalised exactly on the sphere. Elongated:
    ``sigma`` is the major semi-axis, ``e`` the eccentricity, ``phi`` the
    position angle of the major axis (east of north); normalised in the
    small-angle limit, as gammapy.

    Parameters
    ----------
    lon_0 : float, str or `~astropy.units.Quantity`, optional
        Longitude of the centre, in the model frame. Default 0 deg.
    lat_0 : float, str or `~astropy.units.Quantity`, optional
        Latitude of the centre, in the model frame. Default 0 deg, bounds [-90, 90].
    sigma : float, str or `~astropy.units.Quantity`, optional
        Width σ (major semi-axis if elongated). Default 1 deg, min 0.
    e : float, str or `~astropy.units.Quantity`, optional
        Eccentricity of the ellipse (0: circular). Default 0, frozen, bounds [0, 1].
    phi : float, str or `~astropy.units.Quantity`, optional
        Position angle of the major axis, east of north. Default 0 deg, frozen, bounds [-180, 180].
    frame : str, optional
        Astropy frame name of the centre and of ``evaluate``'s coordinates: "icrs" (default) or "galactic".
    """

    tag = ("GaussianSpatialModel", "gauss")
    parameter_defs = (_LON, _LAT, ParameterDef("sigma", 1.0, "deg", min=0.0), _E, _PHI)

    @staticmethod
    def evaluate(lon, lat, lon_0, lat_0, sigma, e, phi):
        """Surface brightness at (``lon``, ``lat``), on floats in deg.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            Positions in deg, in the model frame.
        lon_0 : float
            Longitude of the centre, in the model frame. In deg.
        lat_0 : float
            Latitude of the centre, in the model frame. In deg.
        sigma : float
            Width σ (major semi-axis if elongated). In deg.
        e : float
            Eccentricity of the ellipse (0: circular).
        phi : float
            Position angle of the major axis, east of north. In deg.

        Returns
        -------
        numpy.ndarray
            Surface brightness in sr-1, broadcast over ``lon`` and ``lat``.
        """
        lon, lat, lon_0, lat_0 = np.radians(lon), np.radians(lat), np.radians(lon_0), np.radians(lat_0)
        sigma = np.radians(sigma)
        if e == 0:
            a = one_minus_cos(sigma)
            norm = 1 / (4 * np.pi * a * (1.0 - np.exp(-1.0 / a)))
        else:
            minor, sigma_eff = _sigma_eff(lon_0, lat_0, lon, lat, _wrap_phi(phi), sigma, e)
            a = one_minus_cos(sigma_eff)
            norm = 1 / (2 * np.pi * sigma * minor)
        return norm * np.exp(-0.5 * one_minus_cos_separation(lon, lat, lon_0, lat_0) / a)

    @property
    def evaluation_radius(self):
        """Five times ``sigma``."""
        return 5 * self.sigma.quantity

    def _min_scale_deg(self):
        p = self.canonical_values()
        return p["sigma"] * np.sqrt(1 - p["e"] ** 2)


@register
class DiskSpatialModel(SpatialModel):
    """Uniform (elliptical) disk of major semi-axis ``r_0`` with a smooth edge.

    ``edge_width`` is the fraction of ``r_0`` over which the edge drops from
    95 % to 5 % (gammapy's definition; 0 gives a sharp edge).

    Parameters
    ----------
    lon_0 : float, str or `~astropy.units.Quantity`, optional
        Longitude of the centre, in the model frame. Default 0 deg.
    lat_0 : float, str or `~astropy.units.Quantity`, optional
        Latitude of the centre, in the model frame. Default 0 deg, bounds [-90, 90].
    r_0 : float, str or `~astropy.units.Quantity`, optional
        Radius (major semi-axis if elongated). Default 1 deg, min 0.
    e : float, str or `~astropy.units.Quantity`, optional
        Eccentricity of the ellipse (0: circular). Default 0, frozen, bounds [0, 1].
    phi : float, str or `~astropy.units.Quantity`, optional
        Position angle of the major axis, east of north. Default 0 deg, frozen, bounds [-180, 180].
    edge_width : float, str or `~astropy.units.Quantity`, optional
        Fraction of ``r_0`` over which the edge drops from 95 % to 5 % (0: sharp). Default 0.01, frozen, bounds [0, 1].
    frame : str, optional
        Astropy frame name of the centre and of ``evaluate``'s coordinates: "icrs" (default) or "galactic".
    """

    tag = ("DiskSpatialModel", "disk")
    parameter_defs = (_LON, _LAT, ParameterDef("r_0", 1.0, "deg", min=0.0), _E, _PHI,
                      ParameterDef("edge_width", 0.01, "", min=0.0, max=1.0, frozen=True))

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def _norm(r_0, e):
        """1 / solid angle of the ellipse (r_0 in radians)."""
        if e == 0:
            return 1.0 / (2 * np.pi * one_minus_cos(r_0))
        minor = r_0 * np.sqrt(1 - e**2)
        A, B = 1 / np.sin(r_0) ** 2, 1 / np.sin(minor) ** 2

        def f(x):
            return 1 - np.sqrt(1 - 1 / (B + (A - B) * np.cos(x) ** 2))

        from scipy.integrate import quad  # here: scipy.integrate imports scipy.optimize (~25 MiB)

        return 1.0 / (2 * quad(f, 0, np.pi)[0])

    @staticmethod
    def evaluate(lon, lat, lon_0, lat_0, r_0, e, phi, edge_width):
        """Surface brightness at (``lon``, ``lat``), on floats in deg.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            Positions in deg, in the model frame.
        lon_0 : float
            Longitude of the centre, in the model frame. In deg.
        lat_0 : float
            Latitude of the centre, in the model frame. In deg.
        r_0 : float
            Radius (major semi-axis if elongated). In deg.
        e : float
            Eccentricity of the ellipse (0: circular).
        phi : float
            Position angle of the major axis, east of north. In deg.
        edge_width : float
            Fraction of ``r_0`` over which the edge drops from 95 % to 5 % (0: sharp).

        Returns
        -------
        numpy.ndarray
            Surface brightness in sr-1, broadcast over ``lon`` and ``lat``.
        """
        lon, lat, lon_0, lat_0 = np.radians(lon), np.radians(lat), np.radians(lon_0), np.radians(lat_0)
        r_0 = np.radians(r_0)
        sep = angular_separation(lon, lat, lon_0, lat_0)
        if e == 0:
            sigma_eff = r_0
        else:
            sigma_eff = _sigma_eff(lon_0, lat_0, lon, lat, _wrap_phi(phi), r_0, e)[1]
        norm = DiskSpatialModel._norm(float(r_0), float(e))
        if edge_width == 0:
            return norm * (sep <= sigma_eff).astype(float)
        from scipy.special import erf  # here: scipy.special costs ~16 MiB, and only smooth disks use it

        x = (sep - sigma_eff) / (sigma_eff * edge_width)
        return norm * 0.5 * (1 - erf(x * 2.326174307353347))

    @property
    def evaluation_radius(self):
        """``1.1 × r_0 × (1 + edge_width)``."""
        return 1.1 * self.r_0.quantity * (1 + self.edge_width.value)

    def _min_scale_deg(self):
        p = self.canonical_values()
        return p["r_0"] * max(p["edge_width"], 0.02) * 4


@register
class ShellSpatialModel(SpatialModel):
    """Projection of a uniformly emitting spherical shell (inner radius ``radius``, thickness ``width``).

    Parameters
    ----------
    lon_0 : float, str or `~astropy.units.Quantity`, optional
        Longitude of the centre, in the model frame. Default 0 deg.
    lat_0 : float, str or `~astropy.units.Quantity`, optional
        Latitude of the centre, in the model frame. Default 0 deg, bounds [-90, 90].
    radius : float, str or `~astropy.units.Quantity`, optional
        Inner radius of the shell. Default 1 deg.
    width : float, str or `~astropy.units.Quantity`, optional
        Thickness of the shell. Default 0.2 deg.
    frame : str, optional
        Astropy frame name of the centre and of ``evaluate``'s coordinates: "icrs" (default) or "galactic".
    """

    tag = ("ShellSpatialModel", "shell")
    parameter_defs = (_LON, _LAT, ParameterDef("radius", 1.0, "deg"), ParameterDef("width", 0.2, "deg"))

    @staticmethod
    def evaluate(lon, lat, lon_0, lat_0, radius, width):
        """Surface brightness at (``lon``, ``lat``), on floats in deg.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            Positions in deg, in the model frame.
        lon_0 : float
            Longitude of the centre, in the model frame. In deg.
        lat_0 : float
            Latitude of the centre, in the model frame. In deg.
        radius : float
            Inner radius of the shell. In deg.
        width : float
            Thickness of the shell. In deg.

        Returns
        -------
        numpy.ndarray
            Surface brightness in sr-1, broadcast over ``lon`` and ``lat``.
        """
        lon, lat, lon_0, lat_0 = np.radians(lon), np.radians(lat), np.radians(lon_0), np.radians(lat_0)
        r_in, r_out = np.radians(radius), np.radians(radius + width)
        sep = angular_separation(lon, lat, lon_0, lat_0)
        norm = 3 / (2 * np.pi * (r_out**3 - r_in**3))
        with np.errstate(invalid="ignore"):
            outer = np.sqrt(np.clip(r_out**2 - sep**2, 0, None))
            inner = np.sqrt(np.clip(r_in**2 - sep**2, 0, None))
        return norm * np.where(sep > r_out, 0.0, outer - inner)

    @property
    def evaluation_radius(self):
        """Outer radius, ``radius + width``."""
        return self.radius.quantity + self.width.quantity

    def _min_scale_deg(self):
        return self.canonical_values()["width"]


@register
class ConstantSpatialModel(SpatialModel):
    """Constant surface brightness ``value`` (sr-1; isotropic: 1/4π integrates to 1).

    Parameters
    ----------
    value : float, str or `~astropy.units.Quantity`, optional
        Surface brightness. Default 1 sr-1, frozen.
    frame : str, optional
        Astropy frame name of the centre and of ``evaluate``'s coordinates: "icrs" (default) or "galactic".
    """

    tag = ("ConstantSpatialModel", "const")
    parameter_defs = (ParameterDef("value", 1.0, "sr-1", frozen=True),)
    _has_frame = False

    @staticmethod
    def evaluate(lon, lat, value):
        """Surface brightness at (``lon``, ``lat``), on floats in deg.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            Positions in deg, in the model frame.
        value : float
            Surface brightness. In sr-1.

        Returns
        -------
        numpy.ndarray
            Surface brightness in sr-1, broadcast over ``lon`` and ``lat``.
        """
        return np.ones(np.broadcast(np.asarray(lon), np.asarray(lat)).shape) * value
