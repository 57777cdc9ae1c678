"""Predicted counts of one sky model on a map dataset (the fit's hot path for 3D).

For a `SkyModel` with a spatial model, on a cut-out around the source:

1. flux per true-energy bin: the spectral integral over each bin (cm-2 s-1);
2. fraction of the flux in each pixel: the spatial model integrated over the
   pixels (the model oversamples small sources; a point source shares its
   flux among the four nearest pixels, as gammapy);
3. PSF: that image convolved with the kernel of each true-energy bin
   (FFT, the kernels' transforms kept per cut-out shape; as gammapy 2.1, before the exposure);
4. × exposure (cm² s) → predicted counts in true energy;
5. EDISP: folded into reconstructed energy with the dataset's matrix.

What does not depend on the parameters — the cut-out, its exposure, the
kernel, the matrix — is prepared once; the cut-out is rebuilt only when the
source moves by more than a few pixels. The last result is cached by the
parameter values, so unchanged models cost one tuple comparison.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from scipy import fft as sp_fft

from .base import DatasetError

__all__ = ["MapEvaluator"]

#: pixels added around the source + kernel radius; the cut-out is rebuilt when the source moves more than half of it
MARGIN_PIX = 8
#: spatial images with at most this many non-zero pixels (a point source: 4) are convolved by placing kernels
DIRECT_MAX_PIXELS = 16


def _place_kernels(image, nonzero, kernel):
    """Convolution ("same") of a sparse ``image`` (ny, nx) with ``kernel`` (n_e, k, k), k odd.

    Computed by adding shifted kernels.
    """
    n_e, k = kernel.shape[0], kernel.shape[1]
    h = k // 2
    ny, nx = image.shape
    out = np.zeros((n_e, ny, nx))
    for flat in nonzero:
        iy, ix = divmod(int(flat), nx)
        w = image[iy, ix]
        y0, y1 = max(iy - h, 0), min(iy + h + 1, ny)
        x0, x1 = max(ix - h, 0), min(ix + h + 1, nx)
        out[:, y0:y1, x0:x1] += w * kernel[:, y0 - iy + h: y1 - iy + h, x0 - ix + h: x1 - ix + h]
    return out


class MapEvaluator:
    """npred (reco energy) of ``model`` on ``dataset``'s geometry, evaluated on a cut-out.

    Parameters
    ----------
    model : `~gwidgets.core.models.SkyModel`
        The source model; it needs a spatial model.
    dataset : `~gwidgets.core.datasets.map.MapDataset`
        The dataset whose geometry, exposure (m² s), PSF kernel and EDISP matrix are used.

    Raises
    ------
    DatasetError
        If ``model`` has no spatial model.
    """

    def __init__(self, model, dataset):
        if model.spatial_model is None:
            raise DatasetError(f"Model '{model.name}' has no spatial model: a map dataset needs one")
        self.model = model
        self.dataset = dataset
        self._key = None
        self._result = None
        self._center = None
        e = dataset.exposure.geom.axis("energy_true").edges.to_value(u.TeV)
        self._e_lo, self._e_hi = e[:-1], e[1:]
        self._setup_cutout()

    # ---------------------------------------------------------------- cut-out
    def _lonlat_in_geom_frame(self):
        """Model centre (lon, lat) in degrees in the frame of the map (no SkyCoord when the frames agree)."""
        sm = self.model.spatial_model
        geom = self.dataset.counts.geom
        if getattr(sm, "frame", "icrs") == geom.frame:
            return float(sm.lon_0.quantity.to_value(u.deg)), float(sm.lat_0.quantity.to_value(u.deg))
        c = sm.position.transform_to(geom.frame).spherical
        return float(c.lon.deg), float(c.lat.deg)

    def _source_pixel(self, wcs=None):
        wcs = self.dataset.counts.geom.wcs if wcs is None else wcs
        lon, lat = self._lonlat_in_geom_frame()
        x, y = wcs.wcs_world2pix(np.array([[lon, lat]]), 0)[0]
        return float(x), float(y)

    def _integrate_spatial(self):
        sm = self.model.spatial_model
        if type(sm).__name__ == "PointSpatialModel":
            # bilinear share among the four nearest pixels, as PointSpatialModel.integrate_wcs, without SkyCoord
            x0, y0 = self._source_pixel(self._wcs)
            ny, nx = self._shape
            wx = np.clip(1 - np.abs(np.arange(nx) - x0), 0, None)
            wy = np.clip(1 - np.abs(np.arange(ny) - y0), 0, None)
            return wy[:, None] * wx[None, :]
        return sm.integrate_wcs(self._wcs, self._shape)

    def _setup_cutout(self):
        ds = self.dataset
        geom = ds.counts.geom
        binsz = geom.binsz
        kernel = ds.psf
        k_half = 0 if kernel is None else kernel.data.shape[1] // 2
        src_r = float(self.model.spatial_model.evaluation_radius.to_value(u.deg))
        if not np.isfinite(src_r) or src_r <= 0 and type(self.model.spatial_model).__name__ != "PointSpatialModel":
            src_r = max(geom.width.deg)  # extended without a radius (e.g. constant): the whole map
        half = int(np.ceil(src_r / binsz)) + k_half + MARGIN_PIX
        x, y = self._source_pixel()
        nx, ny = geom.npix
        ix, iy = int(np.round(x)), int(np.round(y))
        x0, x1 = max(ix - half, 0), min(ix + half + 1, nx)
        y0, y1 = max(iy - half, 0), min(iy + half + 1, ny)
        if x0 >= x1 or y0 >= y1:
            self._slices = None  # source (and its PSF) entirely outside the map
        else:
            self._slices = (slice(y0, y1), slice(x0, x1))
            wcs = geom.wcs.deepcopy()
            wcs.wcs.crpix = [wcs.wcs.crpix[0] - x0, wcs.wcs.crpix[1] - y0]
            wcs.wcs.set()
            self._wcs = wcs
            self._shape = (y1 - y0, x1 - x0)
            self._exposure = ds.exposure.data[:, y0:y1, x0:x1] * 1e4  # m2 s -> cm2 s
        self._center = (x, y)
        self._spatial_key = None
        self._spatial = None

    def _moved(self):
        x, y = self._source_pixel()
        return max(abs(x - self._center[0]), abs(y - self._center[1])) > MARGIN_PIX / 2

    # --------------------------------------------------------------- compute
    def _values_key(self):
        return tuple(p.value for p in self.model.parameters)

    def compute(self):
        """Predicted counts of the model on its cut-out, cached by the parameter values.

        The cut-out is re-centred when the source moved by more than half the margin.

        Returns
        -------
        slices : tuple of slice or None
            (y, x) slices of the cut-out in the dataset's image; None if the source is off the map.
        npred : numpy.ndarray or None
            Predicted counts (n_reco, ny, nx) on the cut-out; None if the source is off the map.

        Raises
        ------
        DatasetError
            If the dataset has no EDISP and its true and reco energy axes have different numbers of bins.
        """
        key = self._values_key()
        if key == self._key:
            return self._result
        if self._moved():
            self._setup_cutout()
        if self._slices is None:
            result = (None, None)
        else:
            result = (self._slices, self._npred_cutout())
        self._key, self._result = key, result
        return result

    def spatial_psf(self):
        """Spatial flux fraction per pixel convolved with the PSF of each true-energy bin.

        Cached by the spatial parameters.

        As gammapy 2.1, the PSF acts on the spatial flux before the exposure is applied.

        Returns
        -------
        numpy.ndarray
            Shape (n_true, ny, nx) on the cut-out, or (1, ny, nx) without PSF (or when the model does
            not apply it): the fraction of the model's flux in each pixel.
        """
        sm = self.model.spatial_model
        key = tuple(p.value for p in sm.parameters)
        if key == self._spatial_key:
            return self._spatial
        spatial = self._integrate_spatial()
        ds = self.dataset
        apply = getattr(self.model, "apply_irf", {})
        if ds.psf is not None and apply.get("psf", True) and ds.psf.data.shape[1] > 1:
            kernel = ds.psf.data
            nonzero = np.flatnonzero(spatial)
            if len(nonzero) <= DIRECT_MAX_PIXELS:
                values = _place_kernels(spatial, nonzero, kernel)
            else:
                values = self._fft_convolve(spatial, kernel)
                np.clip(values, 0, None, out=values)
        else:
            values = spatial[None]
        self._spatial_key, self._spatial = key, values
        return values

    def _fft_convolve(self, image, kernel):
        """``fftconvolve(image, kernel[i], mode="same")`` for every true-energy bin i.

        The kernels' transforms are kept for the cut-out's shape: one forward transform of the image per call.
        """
        ny, nx = image.shape
        k_y, k_x = kernel.shape[1:]
        fshape = (sp_fft.next_fast_len(ny + k_y - 1, True), sp_fft.next_fast_len(nx + k_x - 1, True))
        cache = self.__dict__.get("_kernel_fft")
        if cache is None or cache[0] != fshape or cache[1] is not kernel:
            cache = self._kernel_fft = (fshape, kernel, sp_fft.rfft2(kernel, s=fshape, axes=(1, 2)))
        full = sp_fft.irfft2(sp_fft.rfft2(image, s=fshape)[None] * cache[2], s=fshape, axes=(1, 2))
        y0, x0 = (k_y - 1) // 2, (k_x - 1) // 2  # "same": centred on the input, as scipy.signal.fftconvolve
        return full[:, y0:y0 + ny, x0:x0 + nx]

    def npred_true(self):
        """Predicted counts in true energy on the cut-out (flux × PSF-convolved spatial fraction × exposure).

        Returns
        -------
        numpy.ndarray
            Predicted counts (n_true, ny, nx): integral flux (cm⁻² s⁻¹) × spatial fraction × exposure (cm² s).
        """
        flux = self.model.spectral_model.integral_values(self._e_lo, self._e_hi)
        return flux[:, None, None] * self.spatial_psf() * self._exposure

    def _npred_cutout(self):
        npred = self.npred_true()
        apply = getattr(self.model, "apply_irf", {})
        ds = self.dataset
        if ds.edisp is not None and apply.get("edisp", True):
            n_true = npred.shape[0]
            # einsum, not BLAS: these products are small, and threaded BLAS is slow on a busy machine
            npred = np.einsum("ij,ik->jk", ds.edisp, npred.reshape(n_true, -1), optimize=False).reshape(
                (ds.edisp.shape[1],) + npred.shape[1:])
        elif npred.shape[0] != ds.counts.data.shape[0]:
            raise DatasetError(f"Dataset '{ds.name}': without energy dispersion the true and reco energy axes "
                               "must have the same bins")
        return npred

    def __repr__(self):
        return f"MapEvaluator(model='{self.model.name}', cutout={getattr(self, '_shape', None)})"
