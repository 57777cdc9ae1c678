"""PSF kernels and energy-dispersion matrices of a map dataset, at one sky position.

A `PSFKernel` is the PSF of each true-energy bin integrated over the pixels
of a small odd-sized image (the PSF IRF evaluated on ``oversample`` × ``oversample`` points
per pixel, summed, normalised to 1), ready for `scipy.signal.fftconvolve`.
`irf_at_position` evaluates the PSF kernel and the EDISP matrix of one
observation at the offset of a sky position; `combine_weighted` merges the
kernels / matrices of several observations weighted by their exposure at
that position in each true-energy bin (what gammapy's exposure-weighted
PSF / EDISP maps give at that position).

Examples
--------
>>> from gwidgets.core.geom import MapAxis
>>> obs = gw.example_store().get_observations([1001])[0]
>>> energy_axis_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 8, name="energy_true")
>>> kernel = PSFKernel.from_irf(obs.psf, energy_axis_true, offset=0.5 * u.deg, binsz=0.02)
>>> kernel.data.shape                        # one odd-sized image per true-energy bin
(8, 81, 81)
>>> bool(np.allclose(kernel.data.sum(axis=(1, 2)), 1))
True
"""
from __future__ import annotations

import functools

import astropy.units as u
import numpy as np

from .base import DatasetError

__all__ = ["PSFKernel", "irf_at_position", "combine_weighted"]

#: largest kernel radius (deg) and the default containment used to size the kernel
MAX_RADIUS_DEG = 1.5
CONTAINMENT = 0.999


class PSFKernel:
    """Per-true-energy PSF images, each summing to 1: ``data`` of shape (n_true, n, n), n odd.

    Parameters
    ----------
    data : array-like
        Kernel images, shape (n_true, n, n) with n odd (the centre pixel is the source position).
    binsz_deg : float
        Pixel size in deg.

    Raises
    ------
    DatasetError
        If ``data`` is not of shape (n_energy, n, n) with n odd.

    Examples
    --------
    >>> kernel = PSFKernel.delta(3, 0.02)
    >>> kernel.data.shape, kernel.radius_deg
    ((3, 1, 1), 0.0)
    """

    def __init__(self, data, binsz_deg: float):
        data = np.asarray(data, dtype=float)
        if data.ndim != 3 or data.shape[1] != data.shape[2] or data.shape[1] % 2 != 1:
            raise DatasetError(f"PSF kernel must have shape (n_energy, n, n) with n odd, got {data.shape}")
        self.data = data
        self.binsz_deg = float(binsz_deg)

    @property
    def radius_deg(self) -> float:
        """Kernel half-width in deg (``n // 2`` pixels)."""
        return (self.data.shape[1] // 2) * self.binsz_deg

    @classmethod
    def delta(cls, n_energy: int, binsz_deg: float) -> PSFKernel:
        """No PSF: a unit pixel.

        Parameters
        ----------
        n_energy : int
            Number of true-energy bins.
        binsz_deg : float
            Pixel size in deg.

        Returns
        -------
        PSFKernel
            Kernel of shape (n_energy, 1, 1) filled with 1.
        """
        return cls(np.ones((n_energy, 1, 1)), binsz_deg)

    @classmethod
    def from_irf(cls, psf, energy_axis_true, offset, binsz, max_radius=None, oversample: int = 3) -> PSFKernel:
        """Kernel of the PSF IRF ``psf`` at field-of-view ``offset`` for pixels of ``binsz``.

        The size is the largest 99.9 % containment radius over the energies
        (capped at 1.5°) unless ``max_radius`` is given.

        Parameters
        ----------
        psf : PSF IRF
            Any PSF with ``containment_radius(fraction, energy_true, offset)`` and
            ``evaluate(rad, energy_true, offset)`` (e.g. `~gwidgets.core.irf.psf_table.PSFTable`).
        energy_axis_true : `~gwidgets.core.geom.MapAxis`
            True-energy axis; the kernel is evaluated at its bin centres.
        offset : `~astropy.units.Quantity` or float
            Field-of-view offset (floats in deg).
        binsz : `~astropy.units.Quantity` or float
            Pixel size (floats in deg).
        max_radius : `~astropy.units.Quantity` or float, optional
            Kernel radius (floats in deg); None uses the containment radius described above.
        oversample : int, optional
            Sub-pixels per pixel side for the pixel integration (made odd).

        Returns
        -------
        PSFKernel
            Kernel of n × n pixels (n = 2 ⌈r / binsz⌉ + 1), each energy's image summing to 1
            (a delta where the PSF is 0 everywhere).
        """
        e_true = energy_axis_true.center.to_value(u.TeV)
        offset = u.Quantity(offset, u.deg)
        binsz = float(u.Quantity(binsz, u.deg).to_value(u.deg))
        if max_radius is None:
            radii = psf.containment_radius(CONTAINMENT, energy_true=e_true * u.TeV, offset=offset)
            radii = np.asarray(radii.to_value(u.deg))
            radii = radii[np.isfinite(radii)]
            r = float(radii.max()) if radii.size else 0.5
        else:
            r = float(u.Quantity(max_radius, u.deg).to_value(u.deg))
        r = float(np.clip(r, 2 * binsz, MAX_RADIUS_DEG))
        n_half = int(np.ceil(r / binsz))
        n = 2 * n_half + 1
        os_ = int(max(1, oversample)) | 1  # odd: sub-pixel centres on an integer lattice of step binsz / os
        r2_unique, inverse = _lattice(n, os_)
        r_unique = np.sqrt(r2_unique) * binsz / os_
        # the profile on a fine radial grid (step binsz / 50), interpolated at the distinct sub-pixel radii
        r_grid = np.linspace(0.0, r_unique[-1] * (1 + 1e-9), int(np.ceil(r_unique[-1] / (binsz / 50.0))) + 2)
        profile = psf.evaluate(rad=r_grid[None, :] * u.deg, energy_true=e_true[:, None] * u.TeV, offset=offset)
        profile = np.clip(np.nan_to_num(np.asarray(u.Quantity(profile).value, dtype=float)), 0, None)
        at_unique = np.stack([np.interp(r_unique, r_grid, p) for p in profile])
        values = at_unique[:, inverse]
        data = values.reshape(len(e_true), n, os_, n, os_).sum(axis=(2, 4))
        rad = (np.sqrt(r2_unique) * binsz / os_)[inverse].reshape(n * os_, n * os_)
        data[:, rad.reshape(n, os_, n, os_).min(axis=(1, 3)) > r] = 0  # keep the kernel circular
        return cls(_normalise(data), binsz)

    def __repr__(self):
        return f"PSFKernel(n_energy={self.data.shape[0]}, npix={self.data.shape[1]}, radius={self.radius_deg:.3f}°)"


@functools.lru_cache(maxsize=8)
def _lattice(n, os_):
    """Distinct squared radii (in sub-pixel units) of an (n·os)² lattice centred on 0, and the inverse index."""
    m = np.arange(n * os_) - (n * os_ - 1) // 2
    r2 = (m[None, :] ** 2 + m[:, None] ** 2).ravel()
    return np.unique(r2, return_inverse=True)


def _normalise(data):
    total = data.sum(axis=(1, 2), keepdims=True)
    empty = total[:, 0, 0] <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        data = np.where(total > 0, data / total, 0.0)
    if np.any(empty):  # no PSF known at this energy: a delta
        c = data.shape[1] // 2
        data[empty, c, c] = 1.0
    return data


def irf_at_position(obs, position, energy_axis_true, energy_axis, binsz, max_radius=None, with_psf=True,
                    with_edisp=True):
    """PSF kernel, EDISP matrix and exposure weights of one observation at a sky position.

    Parameters
    ----------
    obs : `~gwidgets.core.data.Observation`
        The observation (its pointing, live time, AEFF, PSF and EDISP are used).
    position : `~astropy.coordinates.SkyCoord`
        Sky position; the IRFs are taken at its offset from the pointing.
    energy_axis_true : `~gwidgets.core.geom.MapAxis`
        True-energy axis.
    energy_axis : `~gwidgets.core.geom.MapAxis`
        Reconstructed-energy axis.
    binsz : `~astropy.units.Quantity` or float
        Pixel size of the PSF kernel (floats in deg).
    max_radius : `~astropy.units.Quantity` or float, optional
        PSF kernel radius (see `PSFKernel.from_irf`).
    with_psf, with_edisp : bool, optional
        Whether to compute the PSF kernel / EDISP matrix (None is returned otherwise).

    Returns
    -------
    kernel : PSFKernel or None
        PSF kernel per true-energy bin.
    matrix : numpy.ndarray or None
        EDISP matrix (n_true, n_reco).
    weights : numpy.ndarray
        Exposure per true-energy bin at that offset, in m² s (AEFF × live time).

    Raises
    ------
    DatasetError
        If the PSF (EDISP) is asked for and the observation has none.
    """
    offset = position.separation(obs.pointing_radec).to(u.deg)
    e_true = energy_axis_true.center
    aeff = obs.aeff.evaluate(energy_true=e_true, offset=offset).to_value("m2")
    weights = np.nan_to_num(aeff) * obs.livetime.to_value("s")
    kernel = None
    if with_psf:
        if obs.psf is None:
            raise DatasetError(f"Observation {obs.obs_id}: no PSF IRF, cannot build the PSF kernel")
        kernel = PSFKernel.from_irf(obs.psf, energy_axis_true, offset, binsz, max_radius=max_radius)
    matrix = None
    if with_edisp:
        if obs.edisp is None:
            raise DatasetError(f"Observation {obs.obs_id}: no EDISP IRF, cannot build the energy dispersion")
        matrix = obs.edisp.pdf_matrix(energy_axis_true, energy_axis, offset)
    return kernel, matrix, weights


def combine_weighted(items, weights):
    """Exposure-weighted mean of PSF kernels (padded to the largest) or of EDISP matrices, per true bin.

    Where no item has exposure in a true-energy bin, the plain mean is taken.

    Parameters
    ----------
    items : list of PSFKernel, or list of numpy.ndarray
        Kernels (same number of energies and pixel size) or EDISP matrices (n_true, n_reco); Nones are dropped.
    weights : array-like
        Weights (n_items, n_true), e.g. exposures in m² s.

    Returns
    -------
    PSFKernel, numpy.ndarray or None
        The weighted mean (None when every item is None).

    Examples
    --------
    >>> import numpy as np
    >>> combine_weighted([np.eye(2), np.ones((2, 2))], [[1, 0], [3, 0]])
    array([[1.  , 0.75],
           [0.5 , 1.  ]])
    """
    items = [i for i in items if i is not None]
    if not items:
        return None
    w = np.asarray(weights, dtype=float)  # (n_obs, n_true)
    total = w.sum(axis=0)
    norm = np.where(total > 0, total, 1.0)
    if isinstance(items[0], PSFKernel):
        n = max(k.data.shape[1] for k in items)
        acc = np.zeros((items[0].data.shape[0], n, n))
        for k, wi in zip(items, w):
            p = (n - k.data.shape[1]) // 2
            acc[:, p: n - p, p: n - p] += k.data * wi[:, None, None]
        acc /= norm[:, None, None]
        # where no observation has exposure, use the plain mean
        if np.any(total <= 0):
            plain = np.zeros_like(acc)
            for k in items:
                p = (n - k.data.shape[1]) // 2
                plain[:, p: n - p, p: n - p] += k.data / len(items)
            acc[total <= 0] = plain[total <= 0]
        return PSFKernel(acc, items[0].binsz_deg)
    acc = sum(m * wi[:, None] for m, wi in zip(items, w)) / norm[:, None]
    if np.any(total <= 0):
        acc[total <= 0] = (sum(items) / len(items))[total <= 0]
    return acc
