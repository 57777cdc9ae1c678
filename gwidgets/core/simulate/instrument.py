"""An analytic, H.E.S.S.-like instrument, tabulated into GADF IRFs.

Pure functions of (energy, offset) give the effective area, the energy
migration, the PSF and the background rate; :func:`make_irfs` tabulates them
into gwidgets IRF objects (written to FITS with ``to_hdu``). Events are then
sampled from the *tabulated* IRFs, so the files are self-consistent.
"""
from __future__ import annotations

import numpy as np
import astropy.units as u

from ..geom import MapAxis
from ..irf import Background3D, EffectiveArea2D, EnergyDispersion2D, PSFTable

__all__ = ["aeff", "edisp_pdf", "psf_sigma", "psf_profile", "bkg_rate", "make_irfs", "FOV_MAX"]

FOV_MAX = 3.0  # deg, edge of the IRF offset axis


def energy_threshold(offset):
    """Energy threshold (TeV) rising with offset."""
    return 0.35 * (1 + 0.08 * np.asarray(offset) ** 2)


def aeff(energy, offset):
    """Effective area in m² (energy in TeV, offset in deg)."""
    e = np.asarray(energy, float)
    th = energy_threshold(offset)
    return 1.2e5 * (1 / (1 + (th / e) ** 4)) * np.exp(-0.5 * (np.asarray(offset) / 2.2) ** 2) * (1 + 0.1 * np.log10(np.maximum(e, 1e-3)))


def edisp_pdf(migra, energy, offset):
    """Log-normal migration pdf (per unit migra) with a positive bias near threshold."""
    e = np.asarray(energy, float)
    sigma = 0.09 + 0.08 * (e / 0.3) ** -0.5
    bias = 0.12 * np.exp(-e / 0.4)
    m = np.asarray(migra, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.log(m) - np.log1p(bias)
        pdf = np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma * m)
    return np.where(m > 0, pdf, 0.0)


def psf_sigma(energy, offset):
    """Gaussian PSF width in deg (68 % containment ≈ 1.5 σ)."""
    e = np.asarray(energy, float)
    return (0.045 + 0.05 * (e / 0.5) ** -0.6) * (1 + 0.08 * np.asarray(offset))


def psf_profile(rad, energy, offset):
    """PSF density in sr-1 (rad in deg), normalised over the plane."""
    s = np.deg2rad(psf_sigma(energy, offset))
    r = np.deg2rad(np.asarray(rad, float))
    return np.exp(-0.5 * (r / s) ** 2) / (2 * np.pi * s**2)


def bkg_rate(energy, offset):
    """Hadronic background rate in s-1 MeV-1 sr-1 (energy in TeV)."""
    e = np.asarray(energy, float)
    th = energy_threshold(offset)
    return 1.5e-4 * e**-2.7 / (1 + (th / e) ** 4) * np.exp(-0.5 * (np.asarray(offset) / 1.6) ** 2)


def make_irfs():
    """(aeff, edisp, psf, bkg) gwidgets IRF objects tabulated from the analytic functions."""
    e_true = MapAxis.from_energy_bounds(0.05 * u.TeV, 150 * u.TeV, 42, name="energy_true")
    offset = MapAxis.from_bounds(0, FOV_MAX, 6, unit="deg", name="offset")
    migra = MapAxis.from_bounds(0.2, 5, 300, name="migra")
    rad = MapAxis.from_bounds(0, 1.0, 66, unit="deg", name="rad")
    e_reco = MapAxis.from_energy_bounds(0.05 * u.TeV, 150 * u.TeV, 28, name="energy")
    fov = MapAxis.from_bounds(-FOV_MAX, FOV_MAX, 36, unit="deg", name="fov_lon")
    ec, oc = e_true.center.value, offset.center.value
    meta = {"TELESCOP": "GWSIM", "INSTRUME": "analytic", "LO_THRES": float(energy_threshold(0.5) * 1.3), "HI_THRES": 100.0}
    a = EffectiveArea2D([e_true, offset], aeff(ec[:, None], oc[None, :]), "m2", meta)
    mc = migra.center.value
    pdf = edisp_pdf(mc[None, :, None], ec[:, None, None], oc[None, None, :]) * np.ones((1, 1, len(oc)))
    d = EnergyDispersion2D([e_true, migra, offset], pdf, "", meta)
    rc = rad.center.value
    p = PSFTable([e_true, offset, rad], psf_profile(rc[None, None, :], ec[:, None, None], oc[None, :, None]), "sr-1", meta)
    fc = fov.center.value
    r = np.hypot(fc[None, :, None], fc[None, None, :])
    erc = e_reco.center.value
    b = Background3D([e_reco, fov, fov.copy(name="fov_lat")], bkg_rate(erc[:, None, None], r), "s-1 MeV-1 sr-1", meta)
    return a, d, p, b
