"""Spatial template: a 2D sky image (numpy array + astropy WCS), normalised to 1.

The values are interpolated bilinearly in the logarithm of the image (as
gammapy), zero beyond half a pixel outside the image. The centre
(``lon_0``, ``lat_0``, frozen, defaulting to the image centre) may be freed
to shift the template (a planar shift: valid near the image centre).

YAML refers to the image by ``filename`` (a FITS image, as gammapy writes
and reads it); `TemplateSpatialModel.write` writes the image.

Examples
--------
>>> import numpy as np
>>> from astropy.wcs import WCS
>>> from gwidgets.core.models import TemplateSpatialModel
>>> wcs = WCS(naxis=2)
>>> wcs.wcs.ctype = ["GLON-CAR", "GLAT-CAR"]; wcs.wcs.cdelt = [-0.1, 0.1]; wcs.wcs.crpix = [10.5, 10.5]
>>> model = TemplateSpatialModel(np.ones((20, 20)), wcs)
>>> model.frame, round(float(model.integrate_wcs(wcs, (20, 20)).sum()), 6)
('galactic', 1.0)
"""
from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from ...errors import FileNotFoundGwError, UnsupportedFormatError
from ._interp import exp_values, log_values
from ._sphere import frame_of_wcs, pixel_solid_angle
from .core import ParameterDef, register
from .parameter import ParameterError
from .spatial import SpatialModel

__all__ = ["TemplateSpatialModel"]


@register
class TemplateSpatialModel(SpatialModel):
    """Sky image template (sr-1).

    Parameters
    ----------
    data : array (ny, nx)
        Image; with ``normalize`` (default) any unit, rescaled to integrate to 1.
    wcs : `~astropy.wcs.WCS`
        Celestial WCS of the image; its frame is the model frame.
    normalize : bool
        Divide by the sum and by the pixel solid angles; else ``data`` is in ``unit`` (sr-1).
    filename : str, optional
        FITS file of the image, written in YAML.
    unit : str, optional
        Unit of ``data`` without ``normalize`` (converted to sr-1).
    lon_0, lat_0 : float or `~astropy.units.Quantity`, optional
        Position the image centre is moved to (default: the image centre, frozen).
    frame : str, optional
        Ignored: the frame is that of ``wcs``.

    Raises
    ------
    ParameterError
        If ``data`` is not 2D.
    """

    tag = ("TemplateSpatialModel", "template")
    parameter_defs = (ParameterDef("lon_0", 0.0, "deg", frozen=True),
                      ParameterDef("lat_0", 0.0, "deg", min=-90.0, max=90.0, frozen=True))

    def __init__(self, data, wcs, normalize=True, unit="sr-1", filename=None, lon_0=None, lat_0=None, frame=None):
        data = np.asarray(data, dtype=float)
        if data.ndim != 2:
            raise ParameterError(f"TemplateSpatialModel needs a 2D image, got shape {data.shape}")
        wcs = wcs.celestial
        self.__dict__.update(wcs=wcs, normalize=bool(normalize), filename=filename, unit=str(unit))
        ny, nx = data.shape
        cx, cy = (nx - 1) / 2, (ny - 1) / 2
        clon, clat = (float(v) for v in wcs.pixel_to_world_values(cx, cy))
        self.__dict__["map_center"] = (clon, clat)
        data = np.where(np.isfinite(data), data, 0.0)
        if normalize:
            total = data.sum()
            data = data / total / pixel_solid_angle(wcs, data.shape) if total != 0 else np.zeros_like(data)
        else:
            data = data * u.Unit(unit).to("sr-1")
        self.__dict__["data"] = data
        self.__dict__["_log_data"] = log_values(data)
        super().__init__(frame=frame_of_wcs(wcs), lon_0=clon if lon_0 is None else lon_0,
                         lat_0=clat if lat_0 is None else lat_0)

    @property
    def shape(self):
        """Shape ``(ny, nx)`` of the image."""
        return self.data.shape

    def evaluate(self, lon, lat, lon_0, lat_0):
        """Surface brightness at (``lon``, ``lat``): bilinear interpolation of the log image, 0 outside it.

        The image is shifted by (``lon_0``, ``lat_0``) minus the image centre.

        Parameters
        ----------
        lon, lat : array-like
            Positions in deg, in the model frame.
        lon_0, lat_0 : float
            Position of the image centre in deg.

        Returns
        -------
        numpy.ndarray
            Surface brightness in sr-1.
        """
        lon = np.asarray(lon, float) - (lon_0 - self.map_center[0])
        lat = np.asarray(lat, float) - (lat_0 - self.map_center[1])
        x, y = self.wcs.world_to_pixel_values(lon, lat)
        x, y = np.asarray(x, float), np.asarray(y, float)
        ny, nx = self.data.shape
        ix = np.clip(np.floor(x).astype(int), 0, max(nx - 2, 0))
        iy = np.clip(np.floor(y).astype(int), 0, max(ny - 2, 0))
        tx = x - ix if nx > 1 else np.zeros_like(x)
        ty = y - iy if ny > 1 else np.zeros_like(y)
        ix1, iy1 = np.minimum(ix + 1, nx - 1), np.minimum(iy + 1, ny - 1)
        d = self._log_data
        v = ((1 - tx) * (1 - ty) * d[iy, ix] + tx * (1 - ty) * d[iy, ix1]
             + (1 - tx) * ty * d[iy1, ix] + tx * ty * d[iy1, ix1])
        out = exp_values(v)
        ix, iy = np.floor(x + 0.5), np.floor(y + 0.5)
        outside = (ix < 0) | (ix >= nx) | (iy < 0) | (iy >= ny)
        return np.where(outside | ~np.isfinite(out), 0.0, np.clip(out, 0, None))

    @property
    def evaluation_radius(self):
        """Half the image diagonal (at the larger pixel scale): the circle about the centre that holds the image.

        Also when the image is turned on the map (another frame): its corners are within it.
        """
        ny, nx = self.data.shape
        scale = np.max(np.abs(self.wcs.proj_plane_pixel_scales()[0].to_value(u.deg)))
        return 0.5 * float(np.hypot(nx, ny)) * scale * u.deg

    def copy(self):
        """A copy with copied parameters (the image is shared, never modified).

        Returns
        -------
        TemplateSpatialModel
            The copy.
        """
        new = TemplateSpatialModel.__new__(TemplateSpatialModel)
        new.__dict__.update(self.__dict__)
        new.__dict__["parameters"] = self.parameters.copy()
        return new

    # ------------------------------------------------------------------ I/O
    @classmethod
    def read(cls, filename, normalize=True, **kwargs):
        """Read a FITS sky image (first image HDU; 3D cubes with one plane are squeezed).

        Parameters
        ----------
        filename : str or Path
            FITS file (BUNIT, default sr-1, is the unit without ``normalize``).
        normalize : bool, optional
            Rescale the image to integrate to 1.
        **kwargs
            Other constructor arguments (``lon_0``, ``lat_0``).

        Returns
        -------
        TemplateSpatialModel
            The model (``filename`` set).

        Raises
        ------
        `~gwidgets.errors.FileNotFoundGwError`
            If the file does not exist.
        `~gwidgets.errors.UnsupportedFormatError`
            Without an image HDU, or for an image that is not 2D.
        """
        path = Path(filename)
        if not path.exists():
            raise FileNotFoundGwError(filename, referenced_by="TemplateSpatialModel")
        with fits.open(path) as hdul:
            hdu = next((h for h in hdul if getattr(h, "data", None) is not None and h.is_image and h.data.ndim >= 2),
                       None)
            if hdu is None:
                raise UnsupportedFormatError(f"No image HDU in '{filename}'", filename)
            data = np.asarray(hdu.data, dtype=float)
            header = hdu.header
        while data.ndim > 2 and data.shape[0] == 1:
            data = data[0]
        if data.ndim != 2:
            raise UnsupportedFormatError(
                f"'{filename}': only 2D templates are supported (got shape {data.shape}; energy-dependent "
                "templates are not implemented yet)", filename)
        unit = header.get("BUNIT", "sr-1") or "sr-1"
        return cls(data, WCS(header).celestial, normalize=normalize, unit=unit, filename=str(filename), **kwargs)

    def write(self, filename=None, overwrite=False):
        """Write the (normalised) image as a FITS primary HDU with BUNIT = sr-1.

        Parameters
        ----------
        filename : str or Path, optional
            Output file (it becomes the model's ``filename``); default the model's.
        overwrite : bool, optional
            Replace an existing file.

        Raises
        ------
        ParameterError
            If there is no file name.
        """
        if filename is not None:
            self.__dict__["filename"] = str(filename)
        if self.filename is None:
            raise ParameterError("TemplateSpatialModel.write: no filename given")
        header = self.wcs.to_header()
        header["BUNIT"] = "sr-1"
        fits.PrimaryHDU(self.data, header=header).writeto(self.filename, overwrite=overwrite)

    def _extra_to_dict(self):
        if self.filename is None:
            raise ParameterError("TemplateSpatialModel needs a filename to be serialised; call model.write(filename)")
        return {"frame": self.frame, "filename": str(self.filename), "normalize": self.normalize, "unit": "sr-1"}

    @classmethod
    def from_dict(cls, data):
        """Build from a YAML entry (``filename``, ``normalize``, parameters).

        ``data``: the model entry, as in `Model.from_dict`.

        Returns
        -------
        TemplateSpatialModel
            The model.

        Raises
        ------
        ParameterError
            Without ``filename``.
        """
        data = cls.unwrap_entry(data)
        if "filename" not in data:
            raise ParameterError("TemplateSpatialModel: YAML entry has no 'filename'")
        pars = cls._parameters_from_dict(data)
        return cls.read(data["filename"], normalize=data.get("normalize", True), **pars)
