"""The analytic instrument: H.E.S.S.-like response functions as pure functions.

Every function takes plain floats or arrays (energies in TeV, angles in deg)
and broadcasts. They are the *truth* of the simulated instrument;
:mod:`.tables` tabulates them into the GADF IRF HDUs that are written to the
files and from which the events are then sampled.

- effective area: threshold ~0.3 TeV on axis rising with offset, plateau ~1e5 m²
- energy dispersion: log-normal migration, resolution 10–20 %, upward bias near threshold
- PSF: King profile (γ = 3), 68 % containment ~0.1° at 1 TeV, wider at low energy and off axis
- background: power law (index 2.7) with a threshold roll-off, times a smooth radial
  acceptance that falls to ~5 % at 3° (field of view ~5–6° across)

Examples
--------
>>> round(float(aeff(1.0, 0.5)) / 1e5, 3)      # m², at 1 TeV and 0.5° offset
1.001
>>> round(float(psf_containment_radius(1.0, 0.0)), 3)
0.11
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "energy_threshold", "aeff", "edisp_bias", "edisp_resolution", "edisp_pdf", "psf_containment_radius",
    "psf_sigma", "psf_profile", "psf_containment", "fov_acceptance", "bkg_rate", "bkg_rate_offset",
    "AEFF_MAX", "PSF_GAMMA", "BKG_NORM", "BKG_INDEX",
]

#: effective-area scale in m²
AEFF_MAX = 1.0e5
#: King-profile tail index
PSF_GAMMA = 3.0
#: background rate at 1 TeV on axis (well above threshold) in s-1 MeV-1 sr-1
BKG_NORM = 1.0e-4
#: background spectral index
BKG_INDEX = 2.7


def energy_threshold(offset):
    """Energy threshold in TeV (effective area at half its plateau) vs offset in deg.

    Parameters
    ----------
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        ``0.3 (1 + 0.12 offset²)`` TeV.
    """
    offset = np.asarray(offset, dtype=float)
    return 0.3 * (1.0 + 0.12 * offset**2)


def fov_acceptance(offset):
    """Smooth radial acceptance of the camera (1 on axis) vs offset in deg.

    Parameters
    ----------
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        Dimensionless acceptance.
    """
    offset = np.asarray(offset, dtype=float)
    return np.exp(-0.5 * (offset / 1.5) ** 2) / (1.0 + (offset / 3.0) ** 8)


def aeff(energy, offset):
    """Full-enclosure effective area in m² (energy in TeV, offset in deg).

    Parameters
    ----------
    energy : array-like
        True energy in TeV.
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        Effective area in m².
    """
    e = np.asarray(energy, dtype=float)
    x = (e / energy_threshold(offset)) ** 3.5
    return AEFF_MAX * x / (1.0 + x) * (1.0 + 0.25 * np.log10(1.0 + e)) * fov_acceptance(offset)


def edisp_bias(energy, offset):
    """Mean of ln(E_reco / E_true): an upward bias near threshold, vanishing at high energy.

    Parameters
    ----------
    energy : array-like
        True energy in TeV.
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        ``0.2 exp(−E / E_threshold)``.
    """
    e = np.asarray(energy, dtype=float)
    return 0.2 * np.exp(-e / energy_threshold(offset))


def edisp_resolution(energy, offset):
    """Standard deviation of ln(E_reco / E_true).

    Parameters
    ----------
    energy : array-like
        True energy in TeV.
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        The resolution (dimensionless).
    """
    e = np.asarray(energy, dtype=float)
    offset = np.asarray(offset, dtype=float)
    return (0.10 + 0.08 * (e / energy_threshold(offset)) ** -0.5) * (1.0 + 0.03 * offset**2)


def edisp_pdf(migra, energy, offset):
    """Probability density of the migration ``E_reco / E_true`` (log-normal), per unit migra.

    Parameters
    ----------
    migra : array-like
        ``E_reco / E_true``.
    energy : array-like
        True energy in TeV.
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        Density per unit migra (0 for ``migra <= 0``).
    """
    m = np.asarray(migra, dtype=float)
    mu, sigma = edisp_bias(energy, offset), edisp_resolution(energy, offset)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(m) - mu) / sigma
        pdf = np.exp(-0.5 * z**2) / (np.sqrt(2 * np.pi) * sigma * m)
    return np.where(m > 0, pdf, 0.0)


def psf_containment_radius(energy, offset, fraction=0.68):
    """PSF containment radius in deg (68 % by default).

    Parameters
    ----------
    energy : array-like
        True energy in TeV.
    offset : array-like
        Field-of-view offset in deg.
    fraction : float or array-like, optional
        Containment fraction.

    Returns
    -------
    numpy.ndarray
        Radius in deg.
    """
    return psf_sigma(energy, offset) * _king_radius_factor(fraction)


def _king_radius_factor(fraction):
    """r_f / σ for the King profile: containment 1 − (1 + r²/(2γσ²))^(1−γ) = f."""
    g = PSF_GAMMA
    return np.sqrt(2 * g * ((1.0 - np.asarray(fraction, float)) ** (1.0 / (1.0 - g)) - 1.0))


def psf_sigma(energy, offset):
    """King σ in deg; chosen so that the 68 % radius is (0.05 + 0.06 E^-0.4)(1 + 0.04 θ²) deg.

    Parameters
    ----------
    energy : array-like
        True energy in TeV.
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        σ in deg.
    """
    e = np.asarray(energy, dtype=float)
    offset = np.asarray(offset, dtype=float)
    r68 = (0.05 + 0.06 * e**-0.4) * (1.0 + 0.04 * offset**2)
    return r68 / _king_radius_factor(0.68)


def psf_profile(rad, energy, offset):
    """PSF density in sr-1 at angular distance ``rad`` (deg), normalised over the (small-angle) plane.

    Parameters
    ----------
    rad : array-like
        Angular distance from the source in deg.
    energy : array-like
        True energy in TeV.
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        dP/dΩ in sr-1.
    """
    s = np.deg2rad(psf_sigma(energy, offset))
    r = np.deg2rad(np.asarray(rad, dtype=float))
    g = PSF_GAMMA
    return (1.0 - 1.0 / g) / (2 * np.pi * s**2) * (1.0 + r**2 / (2 * g * s**2)) ** -g


def psf_containment(rad, energy, offset):
    """Fraction of the PSF within ``rad`` (deg), small-angle approximation.

    Parameters
    ----------
    rad : array-like
        Radius in deg.
    energy : array-like
        True energy in TeV.
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        Fraction in [0, 1].

    Examples
    --------
    >>> round(float(psf_containment(psf_containment_radius(1.0, 0.5), 1.0, 0.5)), 6)
    0.68
    """
    s = np.deg2rad(psf_sigma(energy, offset))
    r = np.deg2rad(np.asarray(rad, dtype=float))
    return 1.0 - (1.0 + r**2 / (2 * PSF_GAMMA * s**2)) ** (1.0 - PSF_GAMMA)


def bkg_rate_offset(energy, offset):
    """Hadronic background rate in s-1 MeV-1 sr-1 vs reco energy (TeV) and offset (deg).

    Parameters
    ----------
    energy : array-like
        Reconstructed energy in TeV.
    offset : array-like
        Field-of-view offset in deg.

    Returns
    -------
    numpy.ndarray
        Rate in s-1 MeV-1 sr-1.
    """
    e = np.asarray(energy, dtype=float)
    x = (e / energy_threshold(offset)) ** 3
    return BKG_NORM * e**-BKG_INDEX * x / (1.0 + x) * fov_acceptance(offset)


def bkg_rate(energy, fov_lon, fov_lat):
    """Background rate in s-1 MeV-1 sr-1 at field-of-view coordinates (deg; radially symmetric).

    The offset is the exact angular distance from the pointing of the point at
    spherical offsets (fov_lon, fov_lat).

    Parameters
    ----------
    energy : array-like
        Reconstructed energy in TeV.
    fov_lon, fov_lat : array-like
        Field-of-view coordinates in deg.

    Returns
    -------
    numpy.ndarray
        Rate in s-1 MeV-1 sr-1.
    """
    lon, lat = np.deg2rad(fov_lon), np.deg2rad(fov_lat)
    hav = np.sin(lat / 2) ** 2 + np.cos(lat) * np.sin(lon / 2) ** 2
    offset = np.rad2deg(2 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0))))
    return bkg_rate_offset(energy, offset)
