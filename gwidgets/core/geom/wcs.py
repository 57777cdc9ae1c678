"""WCS sky geometry: an astropy WCS image grid plus non-spatial axes.

Data arrays follow the FITS/numpy order ``(*reversed(axes), ny, nx)``, so a map
with one energy axis has shape ``(n_energy, ny, nx)``, as in gammapy.

Examples
--------
>>> import astropy.units as u
>>> from astropy.coordinates import SkyCoord
>>> from gwidgets.core.geom import MapAxis, WcsGeom
>>> energy = MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, nbin=10)
>>> geom = WcsGeom.create(SkyCoord(83.63, 22.01, unit="deg"), binsz=0.02, width=3 * u.deg, axes=[energy])
>>> geom.data_shape
(10, 150, 150)
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle, SkyCoord
from astropy.wcs import WCS

from ...errors import GwidgetsError
from .axes import MapAxis

__all__ = ["WcsGeom"]

_FRAMES = {"icrs": ("RA---", "DEC--"), "galactic": ("GLON-", "GLAT-")}


class WcsGeom:
    """Sky pixels (an `astropy.wcs.WCS` of ``npix = (nx, ny)``) + extra axes.

    Build one with `create`.

    Parameters
    ----------
    wcs : `~astropy.wcs.WCS`
        Celestial WCS of the image.
    npix : tuple of int
        ``(nx, ny)``.
    axes : list of `~gwidgets.core.geom.MapAxis`, optional
        Non-spatial axes, in gammapy's order (the data shape is their reverse).
    """

    def __init__(self, wcs: WCS, npix, axes=()):
        self.wcs = wcs
        self.npix = (int(npix[0]), int(npix[1]))
        self.axes = list(axes)

    @classmethod
    def create(cls, skydir, binsz=0.02, width=None, npix=None, frame: str | None = None, proj: str = "CAR", axes=()):
        """Image centred on ``skydir`` with square pixels of ``binsz`` degrees.

        ``width`` (Angle, or a pair for (lon, lat)) or ``npix`` ((nx, ny) or n)
        sets the size. ``frame`` defaults to ``skydir``'s ("icrs" or "galactic").

        Parameters
        ----------
        skydir : `~astropy.coordinates.SkyCoord` or tuple
            Centre, or ``(lon, lat)`` in deg in ``frame``.
        binsz : float or `~astropy.coordinates.Angle`, optional
            Pixel size (deg).
        width : `~astropy.coordinates.Angle` or pair of them, optional
            Size of the image.
        npix : int or tuple of int, optional
            Number of pixels, instead of ``width``.
        frame : {"icrs", "galactic"}, optional
            Coordinate frame.
        proj : str, optional
            WCS projection code (``"CAR"``, ``"TAN"``, ...).
        axes : list of `~gwidgets.core.geom.MapAxis`, optional
            Non-spatial axes.

        Returns
        -------
        WcsGeom
            The geometry.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            For an unknown frame, neither ``width`` nor ``npix``, or fewer than one pixel.
        """
        if isinstance(skydir, (tuple, list)):
            skydir = SkyCoord(*skydir, unit="deg", frame=frame or "icrs")
        frame = frame or ("galactic" if skydir.frame.name == "galactic" else "icrs")
        if frame not in _FRAMES:
            raise GwidgetsError(f"Unsupported frame '{frame}'; use 'icrs' or 'galactic'")
        center = skydir.transform_to(frame)
        binsz = Angle(binsz, "deg").deg
        if npix is None:
            if width is None:
                raise GwidgetsError("WcsGeom.create needs width or npix")
            w = _angle_deg(width)
            w = (w, w) if np.ndim(w) == 0 else tuple(w)
            npix = (int(np.round(w[0] / binsz)), int(np.round(w[1] / binsz)))
        elif np.ndim(npix) == 0:
            npix = (int(npix), int(npix))
        if npix[0] < 1 or npix[1] < 1:
            raise GwidgetsError(f"Map must have at least one pixel, got npix={npix}")
        lon, lat = _FRAMES[frame]
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = [lon + proj, lat + proj]
        wcs.wcs.crval = [center.spherical.lon.deg, center.spherical.lat.deg]
        wcs.wcs.crpix = [(npix[0] + 1) / 2.0, (npix[1] + 1) / 2.0]
        wcs.wcs.cdelt = [-binsz, binsz]
        wcs.wcs.cunit = ["deg", "deg"]
        if frame == "icrs":
            wcs.wcs.radesys = "ICRS"
        wcs.wcs.set()
        return cls(wcs, npix, axes)

    # ---------------------------------------------------------- properties
    @property
    def frame(self) -> str:
        """``"icrs"`` or ``"galactic"``, from the WCS axis types."""
        return "galactic" if self.wcs.wcs.ctype[0].startswith("GLON") else "icrs"

    @property
    def projection(self) -> str:
        """The WCS projection code (e.g. ``"CAR"``)."""
        return self.wcs.wcs.ctype[0][-3:]

    @property
    def binsz(self) -> float:
        """Pixel size in deg (latitude axis)."""
        return abs(float(self.wcs.wcs.cdelt[1]))

    @property
    def data_shape(self) -> tuple:
        """Shape of a map's data: ``(*reversed axes nbins, ny, nx)``."""
        return tuple(ax.nbin for ax in reversed(self.axes)) + (self.npix[1], self.npix[0])

    @property
    def center_skydir(self) -> SkyCoord:
        """Sky position of the image centre."""
        x, y = (self.npix[0] - 1) / 2.0, (self.npix[1] - 1) / 2.0
        return self.wcs.pixel_to_world(x, y)

    @property
    def width(self) -> Angle:
        """Image size ``(lon, lat)`` in deg."""
        return Angle([self.npix[0] * self.binsz, self.npix[1] * self.binsz], "deg")

    def axis(self, name: str) -> MapAxis:
        """The non-spatial axis called ``name``.

        Parameters
        ----------
        name : str
            Axis name.

        Returns
        -------
        `~gwidgets.core.geom.MapAxis`
            The axis.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            If there is no such axis.
        """
        for ax in self.axes:
            if ax.name == name:
                return ax
        raise GwidgetsError(f"Geometry has no axis '{name}' (axes: {[a.name for a in self.axes]})")

    def to_image(self) -> WcsGeom:
        """The same sky pixels without non-spatial axes.

        Returns
        -------
        WcsGeom
            The image geometry.
        """
        return WcsGeom(self.wcs, self.npix, ())

    def to_cube(self, axes) -> WcsGeom:
        """The same sky pixels with other non-spatial axes.

        Parameters
        ----------
        axes : list of `~gwidgets.core.geom.MapAxis`
            The axes.

        Returns
        -------
        WcsGeom
            The new geometry.
        """
        return WcsGeom(self.wcs, self.npix, list(axes))

    # ---------------------------------------------------------- coordinates
    def pixel_centers(self) -> SkyCoord:
        """Sky coordinates of all pixel centres, shape (ny, nx).

        Returns
        -------
        astropy.coordinates.SkyCoord
            Coordinates of shape ``(ny, nx)``.
        """
        y, x = np.mgrid[0 : self.npix[1], 0 : self.npix[0]]
        return self.wcs.pixel_to_world(x, y)

    def world_to_pixel(self, coords: SkyCoord):
        """Pixel coordinates (0-based, floats) of sky positions.

        Parameters
        ----------
        coords : `~astropy.coordinates.SkyCoord`
            Sky positions.

        Returns
        -------
        tuple of numpy.ndarray
            ``(x, y)``.
        """
        return self.wcs.world_to_pixel(coords)

    def coord_to_idx(self, coords: SkyCoord):
        """(iy, ix) integer pixel indices; -1 where outside the image.

        Parameters
        ----------
        coords : `~astropy.coordinates.SkyCoord`
            Sky positions.

        Returns
        -------
        tuple of numpy.ndarray
            ``(iy, ix)``, of the shape of ``coords``.

        Examples
        --------
        >>> from astropy.coordinates import SkyCoord
        >>> geom = WcsGeom.create(SkyCoord(0, 0, unit="deg", frame="galactic"), binsz=0.5, npix=4)
        >>> geom.coord_to_idx(SkyCoord([0.1, 5.0], [0.1, 0.0], unit="deg", frame="galactic"))
        (array([ 2, -1]), array([ 1, -1]))
        """
        x, y = self.wcs.world_to_pixel(coords)
        ix = np.floor(np.asarray(x) + 0.5).astype(int)
        iy = np.floor(np.asarray(y) + 0.5).astype(int)
        bad = (ix < 0) | (ix >= self.npix[0]) | (iy < 0) | (iy >= self.npix[1]) | ~np.isfinite(x)
        ix = np.where(bad, -1, ix)
        iy = np.where(bad, -1, iy)
        return iy, ix

    def contains(self, coords: SkyCoord) -> np.ndarray:
        """Whether sky positions fall inside the image.

        Parameters
        ----------
        coords : `~astropy.coordinates.SkyCoord`
            Sky positions.

        Returns
        -------
        numpy.ndarray
            Boolean array of the shape of ``coords``.
        """
        return self.coord_to_idx(coords)[0] >= 0

    def solid_angle(self) -> u.Quantity:
        """Solid angle of each pixel, shape (ny, nx) (exact for CAR/TAN via corner areas).

        Returns
        -------
        astropy.units.Quantity
            Solid angles in sr, shape ``(ny, nx)``.
        """
        y, x = np.mgrid[0 : self.npix[1] + 1, 0 : self.npix[0] + 1] - 0.5
        corners = self.wcs.pixel_to_world(x, y)
        lon = corners.spherical.lon.rad
        lat = corners.spherical.lat.rad
        # area of the spherical quadrilateral, approximated by two triangles (L'Huilier is overkill here)
        a = _vec(lon[:-1, :-1], lat[:-1, :-1])
        b = _vec(lon[:-1, 1:], lat[:-1, 1:])
        c = _vec(lon[1:, 1:], lat[1:, 1:])
        d = _vec(lon[1:, :-1], lat[1:, :-1])
        return u.Quantity(_tri_area(a, b, c) + _tri_area(a, c, d), "sr")

    def separation(self, center: SkyCoord) -> Angle:
        """Angular distance of each pixel centre from ``center``.

        Parameters
        ----------
        center : `~astropy.coordinates.SkyCoord`
            Reference position.

        Returns
        -------
        astropy.coordinates.Angle
            Separations, shape ``(ny, nx)``.
        """
        return self.pixel_centers().separation(center)

    def region_mask(self, regions, inside: bool = True) -> np.ndarray:
        """Boolean image mask of pixels whose centres are in any of the `regions` sky regions.

        Parameters
        ----------
        regions : `regions.SkyRegion` or list of them
            The regions (an empty list gives no pixel).
        inside : bool, optional
            True: pixels inside; False: pixels outside all regions.

        Returns
        -------
        numpy.ndarray
            Boolean mask, shape ``(ny, nx)``.
        """
        regions = regions if isinstance(regions, (list, tuple)) else [regions]
        mask = np.zeros((self.npix[1], self.npix[0]), dtype=bool)
        if regions:
            y, x = np.mgrid[0 : self.npix[1], 0 : self.npix[0]]
            from regions import PixCoord

            pix = PixCoord(x=x.ravel(), y=y.ravel())
            for reg in regions:
                pixreg = reg.to_pixel(self.wcs)
                mask |= pixreg.contains(pix).reshape(mask.shape)
        return mask if inside else ~mask

    def cutout(self, position: SkyCoord, width) -> WcsGeom:
        """A sub-geometry of ``width`` centred (to the nearest pixel) on ``position``.

        Parameters
        ----------
        position : `~astropy.coordinates.SkyCoord`
            Centre of the cut-out.
        width : `~astropy.coordinates.Angle` or pair of them
            Size (one value, or (lon, lat)).

        Returns
        -------
        WcsGeom
            The sub-geometry (same pixel size and non-spatial axes).
        """
        w = _angle_deg(width)
        w = (w, w) if np.ndim(w) == 0 else tuple(w)
        nx, ny = int(np.round(w[0] / self.binsz)), int(np.round(w[1] / self.binsz))
        x, y = self.wcs.world_to_pixel(position)
        x0 = int(np.round(float(x) - (nx - 1) / 2.0))
        y0 = int(np.round(float(y) - (ny - 1) / 2.0))
        wcs = self.wcs.deepcopy()
        wcs.wcs.crpix = [wcs.wcs.crpix[0] - x0, wcs.wcs.crpix[1] - y0]
        wcs.wcs.set()
        geom = WcsGeom(wcs, (nx, ny), self.axes)
        geom._cutout_slices = (slice(y0, y0 + ny), slice(x0, x0 + nx))
        return geom

    # ------------------------------------------------------------------ I/O
    def to_header(self):
        """The WCS as a FITS header.

        Returns
        -------
        astropy.io.fits.Header
            The celestial WCS keywords.
        """
        header = self.wcs.to_header()
        return header

    @classmethod
    def from_header(cls, header, axes=()):
        """Geometry from a FITS image header.

        Parameters
        ----------
        header : `~astropy.io.fits.Header`
            Header with the celestial WCS and NAXIS1/NAXIS2.
        axes : list of `~gwidgets.core.geom.MapAxis`, optional
            Non-spatial axes.

        Returns
        -------
        WcsGeom
            The geometry.
        """
        wcs = WCS(header, naxis=2)
        return cls(wcs, (int(header["NAXIS1"]), int(header["NAXIS2"])), axes)

    def __eq__(self, other):
        return (
            isinstance(other, WcsGeom)
            and self.npix == other.npix
            and self.wcs.wcs.compare(other.wcs.wcs, tolerance=1e-9)
            and len(self.axes) == len(other.axes)
            and all(a == b for a, b in zip(self.axes, other.axes))
        )

    def __repr__(self):
        c = self.center_skydir.spherical
        axes = ", ".join(a.name for a in self.axes) or "none"
        return (
            f"WcsGeom(npix={self.npix}, binsz={self.binsz:g}°, frame='{self.frame}', proj='{self.projection}', "
            f"center=({c.lon.deg:.3f}°, {c.lat.deg:.3f}°), axes=[{axes}])"
        )


def _angle_deg(value) -> np.ndarray | float:
    """Degrees from an Angle/Quantity/number or a (lon, lat) pair of them."""
    if isinstance(value, (tuple, list)):
        return np.array([_angle_deg(v) for v in value], dtype=float)
    return Angle(value, "deg").deg


def _vec(lon, lat):
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _tri_area(a, b, c):
    """Solid angle of spherical triangles (Van Oosterom & Strackee)."""
    num = np.abs(np.einsum("...i,...i", a, np.cross(b, c)))
    den = 1 + np.einsum("...i,...i", a, b) + np.einsum("...i,...i", b, c) + np.einsum("...i,...i", c, a)
    return 2 * np.arctan2(num, den)
