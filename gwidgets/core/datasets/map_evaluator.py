"""Predicted counts of one sky model on a map dataset (the fit's hot path for 3D).

For a `SkyModel` with a spatial model, on a cut-out around the source:

1. flux per true-energy bin: the spectral integral over each bin (cm-2 s-1);
2. fraction of the flux in each pixel: the spatial model integrated over the
   pixels (the model oversamples small sources; a point source shares its
   flux among the four nearest pixels, as gammapy);
3. PSF: that image convolved with the kernel of each true-energy bin
   (FFT, the kernels' transforms kept per FFT shape, `kernel_transform`; as gammapy 2.1, before the exposure);
   true-energy bins without exposure on the cut-out are skipped (their npred is 0);
4. × exposure (cm² s) → predicted counts in true energy;
5. EDISP: folded into reconstructed energy with the dataset's matrix.

What does not depend on the parameters — the cut-out, its exposure, the
kernel, the matrix — is prepared once; the cut-out is rebuilt only when the
source moves by a few pixels or its size changes by a few pixels. The last
result is cached by the parameter values, so unchanged models cost one tuple
comparison.

Two windows around the source: the model is evaluated on the *input window*,
and its predicted counts fill the *cut-out*: the input window grown by the PSF
kernel's radius, so that every pixel the convolution reaches is kept. Both are
clipped to the map. The input window is a square centred on the source pixel
rounded to a multiple of `BLOCK_PIX`, of half-width `TAIL` × the model's
``evaluation_radius`` rounded up to a multiple of `BLOCK_PIX`, + `MARGIN_PIX`:
a function of the parameters alone, so two evaluators of the same model give
the same numbers whatever moves came before, and it reaches at least
``TAIL × evaluation_radius + MARGIN_PIX − BLOCK_PIX / 2`` from the source. The
flux of the model outside it is left out (truncation): for a Gaussian (radius
5σ) the window reaches more than 5.5σ on each axis from its centre, which
leaves out less than ``2 × P(|x| > 5.5σ) ≈ 8e-8`` of its flux
(``tests/test_map_live.py`` checks it is below 1e-6 of the total npred and of
the source's own, against the model evaluated on the whole map); a disk
(radius 1.1 r_0 (1 + edge_width)) loses nothing.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import astropy.units as u
import numpy as np
from scipy import fft as sp_fft

from .base import DatasetError

__all__ = ["MapEvaluator", "axis_plan", "kernel_transform"]

#: the model is evaluated within TAIL × its evaluation radius (+ the margin) of its centre (see the module doc)
TAIL = 1.1
#: pixels added to the input window's half-width
MARGIN_PIX = 4
#: input windows are centred on multiples of BLOCK_PIX pixels, their half-widths (without the margin) too
BLOCK_PIX = 4
#: spatial images with at most this many non-zero pixels (a point source: 4) are convolved by placing kernels
DIRECT_MAX_PIXELS = 16


def _place_kernels(image, nonzero, kernel, offset, shape):
    """Convolution of a sparse ``image`` (ny, nx) with ``kernel`` (n_e, k, k), k odd, on an output of ``shape``.

    Pixel (iy, ix) of ``image`` is pixel (iy + offset[0], ix + offset[1]) of the output. Computed by adding
    shifted kernels.
    """
    n_e, k = kernel.shape[0], kernel.shape[1]
    h = k // 2
    ny, nx = shape
    out = np.zeros((n_e, ny, nx))
    for flat in nonzero:
        iy, ix = divmod(int(flat), image.shape[1])
        w = image[iy, ix]
        iy, ix = iy + offset[0], ix + offset[1]
        y0, y1 = max(iy - h, 0), min(iy + h + 1, ny)
        x0, x1 = max(ix - h, 0), min(ix + h + 1, nx)
        out[:, y0:y1, x0:x1] += w * kernel[:, y0 - iy + h: y1 - iy + h, x0 - ix + h: x1 - ix + h]
    return out


def axis_plan(n_in: int, offset: int, n_out: int, k: int) -> tuple:
    """Length and crop of a circular (FFT) convolution that equals the linear one on an output window, one axis.

    The input has ``n_in`` pixels starting at pixel ``offset`` of an output of ``n_out`` pixels; the kernel
    has ``k`` pixels (odd), centred on its middle one. With input and kernel zero-padded to any length
    ``n >= n_min``, the circular convolution at indices ``[a, b)`` equals the linear convolution at output
    pixels ``[p0, p0 + b - a)``: the linear convolution has ``n_in + k - 1`` samples, and none of those that
    wrap around lands on ``[a, b)``. Only the part that falls on the output is asked for, so ``n_min`` can
    be shorter than the linear convolution when the output is clipped on both sides.

    Parameters
    ----------
    n_in : int
        Input pixels.
    offset : int
        Output pixel of the first input pixel (may be negative or beyond the output).
    n_out : int
        Output pixels.
    k : int
        Kernel pixels (odd).

    Returns
    -------
    n_min, a, b, p0 : int
        Shortest circular length, the crop ``[a, b)`` of the circular result, and its first output pixel
        (``b <= a`` when the convolution does not reach the output).

    Examples
    --------
    An input of 5 pixels in the middle of an output of 9, a kernel of 5: the full linear convolution (9 samples).

    >>> axis_plan(5, 2, 9, 5)
    (9, 0, 9, 0)

    An output clipped on both sides (the input's own 5 pixels): 7 samples suffice.

    >>> axis_plan(5, 0, 5, 5)
    (7, 2, 7, 0)
    """
    h = k // 2
    full = n_in + k - 1
    a = max(0, h - offset)
    b = min(full, n_out - offset + h)
    return max(b, full - a), a, b, a + offset - h


#: the kernels' transforms kept (`kernel_transform`): at most this many, and at most this many bytes (but the last)
KERNEL_FFT_ENTRIES = 4
KERNEL_FFT_BYTES = 48 * 2**20
_KERNEL_FFTS: OrderedDict = OrderedDict()
_KERNEL_FFTS_LOCK = threading.Lock()  # a fit's worker thread and the kernel's thread evaluate at the same time


def kernel_transform(kernel, fshape) -> np.ndarray:
    """``rfft2`` of each kernel image zero-padded to ``fshape``, kept for the next calls with the same arguments.

    Shared by all evaluators (a dataset's, a live view's): a source dragged across cut-outs of a few FFT
    lengths, or two sources, reuse them. Kept for the same kernel array object only (its identity is checked,
    so a new or replaced kernel is transformed anew); the least recently used are dropped beyond
    `KERNEL_FFT_ENTRIES` or `KERNEL_FFT_BYTES`.

    Parameters
    ----------
    kernel : numpy.ndarray
        Kernel images (n_e, k_y, k_x).
    fshape : tuple of int
        FFT shape (n_y, n_x).

    Returns
    -------
    numpy.ndarray
        Complex (n_e, n_y, n_x // 2 + 1), read-only.

    Examples
    --------
    >>> import numpy as np
    >>> k = np.zeros((1, 3, 3)); k[0, 1, 1] = 1.0
    >>> t = kernel_transform(k, (4, 4))
    >>> t.shape, kernel_transform(k, (4, 4)) is t
    ((1, 4, 3), True)
    """
    key = (id(kernel), tuple(fshape))
    with _KERNEL_FFTS_LOCK:
        hit = _KERNEL_FFTS.get(key)
        if hit is not None and hit[0] is kernel:
            _KERNEL_FFTS.move_to_end(key)
            return hit[1]
    value = sp_fft.rfft2(kernel, s=fshape, axes=(1, 2))
    value.flags.writeable = False
    with _KERNEL_FFTS_LOCK:
        _KERNEL_FFTS[key] = (kernel, value)
        while len(_KERNEL_FFTS) > 1 and (len(_KERNEL_FFTS) > KERNEL_FFT_ENTRIES
                                         or sum(v.nbytes for _, v in _KERNEL_FFTS.values()) > KERNEL_FFT_BYTES):
            _KERNEL_FFTS.popitem(last=False)
    return value


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
        self._window_key = None
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
        """Flux fraction per pixel of the input window."""
        sm = self.model.spatial_model
        if type(sm).__name__ == "PointSpatialModel":
            # bilinear share among the four nearest pixels, as PointSpatialModel.integrate_wcs, without SkyCoord
            x0, y0 = self._source_pixel(self._in_wcs)
            ny, nx = self._in_shape
            wx = np.clip(1 - np.abs(np.arange(nx) - x0), 0, None)
            wy = np.clip(1 - np.abs(np.arange(ny) - y0), 0, None)
            return wy[:, None] * wx[None, :]
        return sm.integrate_wcs(self._in_wcs, self._in_shape)

    def _window(self) -> tuple:
        """``(iy, ix, half)``: centre and half-width (pixels) of the input window for the current parameters."""
        geom = self.dataset.counts.geom
        src_r = float(self.model.spatial_model.evaluation_radius.to_value(u.deg))
        if not np.isfinite(src_r) or src_r <= 0 and type(self.model.spatial_model).__name__ != "PointSpatialModel":
            src_r = max(geom.width.deg)  # extended without a radius (e.g. constant): the whole map
        x, y = self._source_pixel()
        b = BLOCK_PIX
        half = b * int(np.ceil(TAIL * src_r / geom.binsz / b)) + MARGIN_PIX
        return int(b * np.round(y / b)), int(b * np.round(x / b)), half

    def _setup_cutout(self, window=None):
        """The input window (the model evaluated) and the cut-out (its npred), see the module doc."""
        ds = self.dataset
        geom = ds.counts.geom
        kernel = ds.psf
        k_half = 0 if kernel is None else kernel.data.shape[1] // 2
        self._window_key = iy, ix, half = self._window() if window is None else window
        nx, ny = geom.npix
        xi0, xi1 = max(ix - half, 0), min(ix + half + 1, nx)
        yi0, yi1 = max(iy - half, 0), min(iy + half + 1, ny)
        if xi0 >= xi1 or yi0 >= yi1:
            self._slices = self._in_slices = None  # source (within its truncation radius) entirely off the map
        else:
            x0, x1 = max(xi0 - k_half, 0), min(xi1 + k_half, nx)
            y0, y1 = max(yi0 - k_half, 0), min(yi1 + k_half, ny)
            self._slices = (slice(y0, y1), slice(x0, x1))
            self._in_slices = (slice(yi0, yi1), slice(xi0, xi1))
            self._in_offset = (yi0 - y0, xi0 - x0)
            self._in_shape = (yi1 - yi0, xi1 - xi0)
            wcs = geom.wcs.deepcopy()
            wcs.wcs.crpix = [wcs.wcs.crpix[0] - xi0, wcs.wcs.crpix[1] - yi0]
            wcs.wcs.set()
            self._in_wcs = wcs
            self._shape = (y1 - y0, x1 - x0)
            self._exposure = ds.exposure.data[:, y0:y1, x0:x1] * 1e4  # m2 s -> cm2 s
            lit = np.flatnonzero(self._exposure.reshape(self._exposure.shape[0], -1).any(axis=1))
            # true-energy bins from the first to the last with exposure on the cut-out (the others give npred 0)
            self._lit = slice(int(lit[0]), int(lit[-1]) + 1) if lit.size else slice(0, 0)
        self._spatial_key = None
        self._spatial = None

    @property
    def input_slices(self):
        """(y, x) slices of the map pixels on which the model is evaluated (None if off the map).

        The current window; `compute` may move it when the source has moved.
        """
        return self._in_slices

    def _update_window(self):
        """A new input window and cut-out if the current parameters need another one (see the module doc)."""
        window = self._window()
        if window != self._window_key:
            self._setup_cutout(window)

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
        self._update_window()  # a new one if the source moved or changed size
        if self._slices is None:
            result = (None, None)
        else:
            result = (self._slices, self._npred_cutout())
        self._key, self._result = key, result
        return result

    def spatial_psf(self):
        """Spatial flux fraction per pixel convolved with the PSF of each true-energy bin.

        Cached by the spatial parameters.

        As gammapy 2.1, the PSF acts on the spatial flux before the exposure is applied. The model is
        evaluated on the input window (`input_slices`) and its convolution fills the cut-out. Convolved
        by FFT, the true-energy bins before the first and after the last with exposure on the cut-out are
        left at 0 (their predicted counts are 0 whatever the flux).

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
                values = _place_kernels(spatial, nonzero, kernel, self._in_offset, self._shape)
            else:
                values = self._fft_convolve(spatial, kernel)
        else:
            values = np.zeros((1,) + self._shape)
            (oy, ox), (ny, nx) = self._in_offset, self._in_shape
            values[0, oy:oy + ny, ox:ox + nx] = spatial
        self._spatial_key, self._spatial = key, values
        return values

    def _fft_convolve(self, image, kernel):
        """``image`` (the input window) convolved with ``kernel[i]`` on the cut-out, negative values set to 0.

        For the true-energy bins with exposure (see `spatial_psf`), one bin at a time (faster than one
        transform of the whole cube: each bin stays in the CPU cache). The FFT length per axis is the shortest
        fast length without wrap-around on the cut-out (`axis_plan`); the kernels' transforms are kept per
        length (`kernel_transform`): one forward transform of the image per call.
        """
        n_e = kernel.shape[0]
        ny, nx = self._shape
        (ly, ay, by, py), (lx, ax, bx, px) = (axis_plan(image.shape[i], self._in_offset[i], self._shape[i],
                                                        kernel.shape[i + 1]) for i in (0, 1))
        fshape = (sp_fft.next_fast_len(ly, True), sp_fft.next_fast_len(lx, True))
        kernel_fft = kernel_transform(kernel, fshape)
        spectrum = sp_fft.rfft2(image, s=fshape)
        product = np.empty_like(spectrum)
        out = np.zeros((n_e, ny, nx))
        window = out[:, py:py + by - ay, px:px + bx - ax]
        for i in range(self._lit.start, self._lit.stop):
            np.multiply(spectrum, kernel_fft[i], out=product)
            np.maximum(sp_fft.irfft2(product, s=fshape, overwrite_x=True)[ay:by, ax:bx], 0, out=window[i])
        return out

    def npred_true(self):
        """Predicted counts in true energy on the cut-out (flux × PSF-convolved spatial fraction × exposure).

        Returns
        -------
        numpy.ndarray
            Predicted counts (n_true, ny, nx): integral flux (cm⁻² s⁻¹) × spatial fraction × exposure (cm² s).
        """
        flux = self.model.spectral_model.integral_values(self._e_lo, self._e_hi)
        return flux[:, None, None] * self.spatial_psf() * self._exposure

    def _edisp(self):
        """The EDISP matrix (n_true, n_reco) the model applies, or None (true bins = reco bins)."""
        ds = self.dataset
        if ds.edisp is not None and getattr(self.model, "apply_irf", {}).get("edisp", True):
            return ds.edisp
        if ds.exposure.data.shape[0] != ds.counts.data.shape[0]:
            raise DatasetError(f"Dataset '{ds.name}': without energy dispersion the true and reco energy axes "
                               "must have the same bins")
        return None

    def _npred_cutout(self):
        npred = self.npred_true()
        edisp = self._edisp()
        if edisp is not None:
            lit = self._lit  # the other true-energy bins have no exposure: npred 0
            # einsum, not BLAS: these products are small, and threaded BLAS is slow on a busy machine
            npred = np.einsum("ij,ik->jk", edisp[lit], npred[lit].reshape(lit.stop - lit.start, -1),
                              optimize=False).reshape((edisp.shape[1],) + npred.shape[1:])
        return npred

    def compute_image(self, reco_bins):
        """Predicted counts summed over the reco-energy bins ``[i0, i1)`` on the cut-out, cached by parameter values.

        Equals ``compute()[1][i0:i1].sum(axis=0)`` to round-off, without the cube per reco bin: the EDISP
        matrix's columns ``i0..i1`` are summed first, so the true-energy bins are summed once (the live
        residual map's path).

        Parameters
        ----------
        reco_bins : tuple of int
            ``(i0, i1)``: the reco-energy bins summed.

        Returns
        -------
        slices : tuple of slice or None
            (y, x) slices of the cut-out in the dataset's image; None if the source is off the map.
        image : numpy.ndarray or None
            Predicted counts (ny, nx) on the cut-out; None if the source is off the map.

        Raises
        ------
        DatasetError
            If the dataset has no EDISP and its true and reco energy axes have different numbers of bins.
        """
        i0, i1 = int(reco_bins[0]), int(reco_bins[1])
        key = (self._values_key(), i0, i1)
        cached = self.__dict__.get("_image_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        self._update_window()  # a new one if the source moved or changed size
        result = (None, None) if self._slices is None else (self._slices, self._image(i0, i1))
        self._image_cache = (key, result)
        return result

    def _image(self, i0, i1):
        lit = self._lit
        edisp = self._edisp()
        if edisp is not None:
            weights = edisp[lit, i0:i1].sum(axis=1)
        else:
            weights = (np.arange(self._exposure.shape[0]) >= i0) & (np.arange(self._exposure.shape[0]) < i1)
            weights = weights[lit].astype(float)
        weights = weights * self.model.spectral_model.integral_values(self._e_lo[lit], self._e_hi[lit])
        spatial = self.spatial_psf()
        if spatial.shape[0] == 1:
            return spatial[0] * np.einsum("t,tyx->yx", weights, self._exposure[lit], optimize=False)
        return np.einsum("t,tyx->yx", weights, spatial[lit] * self._exposure[lit], optimize=False)

    def __repr__(self):
        return f"MapEvaluator(model='{self.model.name}', cutout={getattr(self, '_shape', None)})"
