"""Sky maps: a `WcsGeom`, a data array and a unit; FITS I/O in gammapy's map format.

Examples
--------
>>> from gwidgets.core.geom import WcsGeom
>>> obs = gw.example_store().get_observations([1001])[0]
>>> geom = WcsGeom.create(obs.pointing_radec, binsz=0.02, width=4 * u.deg)
>>> m = Map.from_geom(geom, unit="")
>>> m.fill_events(obs.events)
Map(shape=(200, 200), unit='', geom=WcsGeom(npix=(200, 200), binsz=0.02°, ...))
>>> m.data.shape, bool(0 < m.data.sum() <= len(obs.events))
((200, 200), True)
>>> m.write("counts.fits")                             # gammapy's Map.read() reads it
>>> bool((Map.read("counts.fits").data == m.data).all())
True
"""
from __future__ import annotations

import json

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.table import Table

from ...errors import GwidgetsError, MissingHDUError
from .axes import MapAxis
from .wcs import WcsGeom

__all__ = ["Map"]


class Map:
    """Data on a `WcsGeom` (shape ``geom.data_shape``) with a unit.

    Parameters
    ----------
    geom : WcsGeom
        The geometry.
    data : array-like, optional
        Values, shape ``geom.data_shape``; zeros if None.
    unit : str or `~astropy.units.Unit`, optional
        Unit of the values.
    meta : dict, optional
        Metadata (str, int, float and bool values are written to FITS).

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If the data shape does not match the geometry.

    Examples
    --------
    >>> import tempfile
    >>> from astropy.coordinates import SkyCoord
    >>> from gwidgets.core.geom import MapAxis, WcsGeom
    >>> energy = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2)
    >>> geom = WcsGeom.create(SkyCoord(83.63, 22.01, unit="deg"), binsz=0.1, npix=(4, 3), axes=[energy])
    >>> m = Map.from_geom(geom, unit="cm-2 s-1", fill=1.0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     m.write(f"{tmp}/map.fits")
    ...     back = Map.read(f"{tmp}/map.fits")
    >>> back.data.shape, back.unit, back.geom == geom
    ((2, 3, 4), Unit("1 / (s cm2)"), True)
    """

    def __init__(self, geom: WcsGeom, data=None, unit="", meta=None):
        self.geom = geom
        if data is None:
            data = np.zeros(geom.data_shape)
        data = np.asarray(data)
        if data.shape != geom.data_shape:
            raise GwidgetsError(f"Map data shape {data.shape} does not match the geometry {geom.data_shape}")
        self.data = data
        self.unit = u.Unit(unit)
        self.meta = dict(meta or {})

    @classmethod
    def from_geom(cls, geom: WcsGeom, unit="", dtype=float, fill=0):
        """A map on ``geom`` filled with ``fill``.

        Parameters
        ----------
        geom : WcsGeom
            The geometry.
        unit : str or `~astropy.units.Unit`, optional
            Unit of the values.
        dtype : data-type, optional
            Data type.
        fill : scalar, optional
            Value of every pixel.

        Returns
        -------
        Map
            The map.
        """
        return cls(geom, np.full(geom.data_shape, fill, dtype=dtype), unit)

    @property
    def quantity(self) -> u.Quantity:
        """The data with its unit (no copy)."""
        return u.Quantity(self.data, self.unit, copy=False)

    def copy(self, **kwargs) -> Map:
        """A copy with a copied data array; ``kwargs`` replace constructor arguments.

        Parameters
        ----------
        **kwargs
            ``geom``, ``data``, ``unit`` or ``meta``.

        Returns
        -------
        Map
            The new map (with a copy of the meta dict).
        """
        kw = dict(geom=self.geom, data=self.data.copy(), unit=self.unit, meta=self.meta)
        kw.update(kwargs)
        return Map(**kw)

    # ------------------------------------------------------------- filling
    def fill_events(self, events, weights=None) -> Map:
        """Histogram an `~gwidgets.core.data.events.EventList` (sky position and, if the map has one, reco energy).

        Parameters
        ----------
        events : `~gwidgets.core.data.events.EventList`
            The events; those outside the map (or its energy axis) are ignored.
        weights : array-like, optional
            Weight of each event (default 1).

        Returns
        -------
        Map
            This map, filled in place.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            If the map has a non-spatial axis other than ``energy``.
        """
        iy, ix = self.geom.coord_to_idx(events.radec)
        idx = [iy, ix]
        good = iy >= 0
        for ax in reversed(self.geom.axes):
            if ax.name != "energy":
                raise GwidgetsError(f"fill_events cannot fill axis '{ax.name}' from events")
            ie = ax.coord_to_idx(events.energy)
            good &= ie >= 0
            idx.insert(0, ie)
        flat = np.ravel_multi_index(tuple(i[good] for i in idx), self.data.shape)
        w = None if weights is None else np.asarray(weights)[good]
        self.data += np.bincount(flat, weights=w, minlength=self.data.size).reshape(self.data.shape)
        return self

    # ----------------------------------------------------------- reductions
    def sum_over_axes(self, keepdims: bool = False) -> Map:
        """Sum over the non-spatial axes.

        Parameters
        ----------
        keepdims : bool, optional
            Keep each axis as one bin spanning it; else return an image.

        Returns
        -------
        Map
            The summed map.
        """
        n = len(self.geom.axes)
        data = self.data.sum(axis=tuple(range(n)), keepdims=keepdims)
        geom = self.geom.to_cube([a.squash() for a in self.geom.axes]) if keepdims else self.geom.to_image()
        return Map(geom, data, self.unit, self.meta)

    def cutout(self, position, width) -> Map:
        """A cut-out of ``width`` centred (to the nearest pixel) on ``position``; pixels beyond the map are 0.

        Parameters
        ----------
        position : `~astropy.coordinates.SkyCoord`
            Centre of the cut-out.
        width : `~astropy.coordinates.Angle` or pair of them
            Size (one value, or (lon, lat)).

        Returns
        -------
        Map
            The cut-out, with the same non-spatial axes.
        """
        geom = self.geom.cutout(position, width)
        sy, sx = geom._cutout_slices
        ny, nx = self.geom.npix[1], self.geom.npix[0]
        out = np.zeros(geom.data_shape, dtype=self.data.dtype)
        ys = slice(max(sy.start, 0), min(sy.stop, ny))
        xs = slice(max(sx.start, 0), min(sx.stop, nx))
        if ys.start < ys.stop and xs.start < xs.stop:
            dy, dx = slice(ys.start - sy.start, ys.stop - sy.start), slice(xs.start - sx.start, xs.stop - sx.start)
            out[..., dy, dx] = self.data[..., ys, xs]
        return Map(geom, out, self.unit, self.meta)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.data, dtype=dtype)

    # ------------------------------------------------------------------ I/O
    def to_hdulist(self, hdu: str = "PRIMARY") -> fits.HDUList:
        """HDUs in gammapy's "gadf" map format (image + ``<HDU>_BANDS`` table).

        float64 data are written as float32, bool as uint8.

        Parameters
        ----------
        hdu : str, optional
            Name of the image HDU; ``"PRIMARY"`` writes the image in the primary HDU.

        Returns
        -------
        astropy.io.fits.HDUList
            The HDUs.
        """
        header = self.geom.to_header()
        bands_name = f"{hdu}_BANDS"
        if self.geom.axes:
            for i, ax in enumerate(self.geom.axes, start=1):
                lo, hi = ax._colnames()[1:]
                header[f"AXCOLS{i}"] = f"{lo},{hi}"
                header[f"INTERP{i}"] = ax.interp
            shape = (*self.geom.npix, *(a.nbin for a in self.geom.axes))
            header["WCSSHAPE"] = "(" + ",".join(str(n) for n in shape) + ")"
            header["BANDSHDU"] = bands_name
        header["META"] = json.dumps({k: v for k, v in self.meta.items() if isinstance(v, (str, int, float, bool))})
        header["BUNIT"] = self.unit.to_string("fits") if self.unit != u.one else ""
        data = self.data.astype(np.float32) if self.data.dtype == np.float64 else self.data
        if data.dtype == bool:
            data = data.astype(np.uint8)
        image = fits.PrimaryHDU(data, header) if hdu == "PRIMARY" else fits.ImageHDU(data, header, name=hdu)
        hdus = [image] if hdu == "PRIMARY" else [fits.PrimaryHDU(), image]
        if self.geom.axes:
            shape = tuple(a.nbin for a in self.geom.axes)
            idx = np.unravel_index(np.arange(int(np.prod(shape))), shape, order="F")
            table = Table()
            table["CHANNEL"] = np.arange(int(np.prod(shape)), dtype=np.int64)
            for ax, ii in zip(self.geom.axes, idx):
                ax.to_bands_columns(table, ii)
            bands = fits.table_to_hdu(table)
            bands.name = bands_name
            for i, ax in enumerate(self.geom.axes, start=1):
                bands.header[f"AXCOLS{i}"] = header[f"AXCOLS{i}"]
                bands.header[f"INTERP{i}"] = ax.interp
            hdus.append(bands)
        return fits.HDUList(hdus)

    def write(self, path, hdu: str = "PRIMARY", overwrite: bool = False):
        """Write in gammapy's "gadf" map format (see `to_hdulist`).

        Parameters
        ----------
        path : str or Path
            Output file.
        hdu : str, optional
            Name of the image HDU.
        overwrite : bool, optional
            Replace an existing file.
        """
        self.to_hdulist(hdu).writeto(path, overwrite=overwrite)

    @classmethod
    def read(cls, path, hdu: str | None = None) -> Map:
        """Read a map written by gwidgets or gammapy ("gadf" WCS format).

        Parameters
        ----------
        path : str or Path
            The FITS file.
        hdu : str, optional
            Name of the image HDU; default the first image with at least two axes.

        Returns
        -------
        Map
            The map, with its non-spatial axes from the BANDS HDU.

        Raises
        ------
        `~gwidgets.errors.MissingHDUError`
            If there is no image HDU (or no HDU ``hdu``).
        """
        from ..io.fits import FitsFile

        ff = FitsFile(path)
        if hdu is None:
            image = next((h for h in ff.hdus if not hasattr(h, "columns") and h.header.get("NAXIS", 0) >= 2), None)
            if image is None:
                raise MissingHDUError("(image)", path, ff.names)
        else:
            image = ff[hdu]
        header = image.header.to_astropy()
        axes = []
        bands_name = image.header.get("BANDSHDU")
        if bands_name:
            bands = ff[bands_name].to_table()
            i = 1
            while f"AXCOLS{i}" in image.header:
                cols = str(image.header[f"AXCOLS{i}"]).split(",")
                interp = str(image.header.get(f"INTERP{i}", "log")).strip()
                axes.append(MapAxis.from_bands_columns(bands, cols, interp))
                i += 1
        geom = WcsGeom.from_header(header, axes)
        unit = str(image.header.get("BUNIT", "") or "")
        meta = {}
        if image.header.get("META"):
            try:
                meta = json.loads(image.header["META"])
            except ValueError:
                meta = {}
        data = np.array(image.data)
        return cls(geom, data.reshape(geom.data_shape), unit, meta)

    def __repr__(self):
        return f"Map(shape={self.data.shape}, unit='{self.unit}', geom={self.geom!r})"
