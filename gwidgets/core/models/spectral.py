"""Analytic spectral models beyond the power law and log-parabola.

Each model is a pure static ``evaluate(energy, **params)`` on floats in the
canonical units (energy TeV, dN/dE cm-2 s-1 TeV-1), with analytic
``evaluate_integral`` / ``evaluate_energy_flux`` where one exists; parameter
names, defaults and bounds equal gammapy's same-named models so gammapy model
YAML loads here unchanged.

Examples
--------
>>> from gwidgets.core.models import ExpCutoffPowerLaw
>>> ecpl = ExpCutoffPowerLaw(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1", lambda_="0.1 TeV-1")
>>> round(float(ecpl.dnde_values(10.0)) / 1e-14, 6)
0.367879
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from scipy.special import erf

from .core import ParameterDef, register
from .spectral_base import SpectralModel, pl_integral

__all__ = [
    "PowerLaw2", "PowerLawNorm", "ExpCutoffPowerLaw", "BrokenPowerLaw", "SmoothBrokenPowerLaw",
    "ConstantSpectral", "GaussianSpectral",
]

_DNDE = "cm-2 s-1 TeV-1"


@register
class PowerLaw2(SpectralModel):
    r"""Power law normalised by its integral flux between ``emin`` and ``emax``.

    :math:`\phi(E) = F_0 \frac{1-\Gamma}{E_{max}^{1-\Gamma} - E_{min}^{1-\Gamma}} E^{-\Gamma}`
    (amplitude in cm-2 s-1).
    """

    tag = ("PowerLaw2SpectralModel", "pl-2")
    parameter_defs = (
        ParameterDef("amplitude", 1e-12, "cm-2 s-1", is_norm=True, interp="log"),
        ParameterDef("index", 2.0, ""),
        ParameterDef("emin", 0.1, "TeV", frozen=True),
        ParameterDef("emax", 100.0, "TeV", frozen=True),
    )

    @staticmethod
    def evaluate(energy, amplitude, index, emin, emax):
        top = -index + 1
        bottom = emax - emin * (emin / emax) ** (-index)
        return amplitude * (top / bottom) * np.power(energy / emax, -index)

    @staticmethod
    def evaluate_integral(e_min, e_max, amplitude, index, emin, emax):
        top = pl_integral(e_min / emax, e_max / emax, index, 1.0)
        bottom = pl_integral(emin / emax, 1.0, index, 1.0)
        return amplitude * top / bottom

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, amplitude, index, emin, emax):
        top = pl_integral(e_min / emax, e_max / emax, index - 1.0, emax)
        bottom = pl_integral(emin / emax, 1.0, index, 1.0)
        return amplitude * top / bottom


@register
class PowerLawNorm(SpectralModel):
    r"""Dimensionless power law :math:`n (E/E_0)^{-t}`: a spectral correction (background norm/tilt)."""

    tag = ("PowerLawNormSpectralModel", "pl-norm")
    _value_unit = u.one
    parameter_defs = (
        ParameterDef("tilt", 0.0, "", frozen=True),
        ParameterDef("norm", 1.0, "", is_norm=True, interp="log"),
        ParameterDef("reference", 1.0, "TeV", frozen=True),
    )

    @staticmethod
    def evaluate(energy, tilt, norm, reference):
        return norm * np.power(energy / reference, -tilt)

    @staticmethod
    def evaluate_integral(e_min, e_max, tilt, norm, reference):
        return pl_integral(e_min / reference, e_max / reference, tilt, norm * reference)

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, tilt, norm, reference):
        return pl_integral(e_min / reference, e_max / reference, tilt - 1.0, norm * reference**2)


@register
class ExpCutoffPowerLaw(SpectralModel):
    r"""Power law with exponential cutoff :math:`\phi_0 (E/E_0)^{-\Gamma} \exp(-(\lambda E)^\alpha)`.

    ``lambda_`` is the inverse cutoff energy (TeV-1), as in gammapy's
    ``ExpCutoffPowerLawSpectralModel``.
    """

    tag = ("ExpCutoffPowerLawSpectralModel", "ExponentialCutoffPowerLawSpectralModel", "ecpl")
    parameter_defs = (
        ParameterDef("index", 1.5, ""),
        ParameterDef("amplitude", 1e-12, _DNDE, is_norm=True, interp="log"),
        ParameterDef("reference", 1.0, "TeV", frozen=True),
        ParameterDef("lambda_", 0.1, "TeV-1"),
        ParameterDef("alpha", 1.0, "", frozen=True),
    )

    @staticmethod
    def evaluate(energy, index, amplitude, reference, lambda_, alpha):
        return amplitude * (energy / reference) ** (-index) * np.exp(-np.power(energy * lambda_, alpha))

    @property
    def e_peak(self) -> u.Quantity:
        """Peak of E² dN/dE, ``((2 - Γ)/α)^(1/α) / λ`` (NaN if there is none)."""
        p = self.canonical_values()
        with np.errstate(all="ignore"):
            e_peak = np.power((2 - p["index"]) / p["alpha"], 1 / p["alpha"]) / p["lambda_"]
        return u.Quantity(e_peak if np.isfinite(e_peak) and e_peak > 0 else np.nan, "TeV")


@register
class BrokenPowerLaw(SpectralModel):
    r"""Broken power law: index ``index1`` below ``ebreak``, ``index2`` above; continuous at the break."""

    tag = ("BrokenPowerLawSpectralModel", "bpl")
    parameter_defs = (
        ParameterDef("index1", 2.0, ""),
        ParameterDef("index2", 2.0, ""),
        ParameterDef("amplitude", 1e-12, _DNDE, is_norm=True, interp="log"),
        ParameterDef("ebreak", 1.0, "TeV"),
    )

    @staticmethod
    def evaluate(energy, index1, index2, amplitude, ebreak):
        x = np.asarray(energy) / ebreak
        return amplitude * np.where(x < 1, x ** (-index1), x ** (-index2))

    @staticmethod
    def _integral(e_min, e_max, index1, index2, scale, ebreak):
        x1, x2 = e_min / ebreak, e_max / ebreak
        low = pl_integral(np.minimum(x1, 1.0), np.minimum(x2, 1.0), index1, scale)
        high = pl_integral(np.maximum(x1, 1.0), np.maximum(x2, 1.0), index2, scale)
        return low + high

    @staticmethod
    def evaluate_integral(e_min, e_max, index1, index2, amplitude, ebreak):
        return BrokenPowerLaw._integral(e_min, e_max, index1, index2, amplitude * ebreak, ebreak)

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, index1, index2, amplitude, ebreak):
        return BrokenPowerLaw._integral(e_min, e_max, index1 - 1, index2 - 1, amplitude * ebreak**2, ebreak)

    def breakpoints(self):
        return np.atleast_1d(self.canonical_values()["ebreak"])


@register
class SmoothBrokenPowerLaw(SpectralModel):
    r"""Smoothly broken power law (gammapy's parametrisation).

    :math:`\phi_0 (E/E_0)^{-\Gamma_1} [1 + (E/E_{break})^{(\Gamma_2-\Gamma_1)/\beta}]^{-\beta}`,
    with β taking the sign of Γ₂ − Γ₁. For Γ₁ = Γ₂ the break term is 1 (a plain power law), as
    gammapy 2.1 evaluates it (its ``0/0`` exponent gives ``nan ** -0 = 1``); the one-sided limits
    Γ₂ → Γ₁± are 2^∓β, so no value is continuous there and "no break" is the meaningful one.
    """

    tag = ("SmoothBrokenPowerLawSpectralModel", "sbpl")
    parameter_defs = (
        ParameterDef("index1", 2.0, ""),
        ParameterDef("index2", 2.0, ""),
        ParameterDef("amplitude", 1e-12, _DNDE, is_norm=True, interp="log"),
        ParameterDef("ebreak", 1.0, "TeV"),
        ParameterDef("reference", 1.0, "TeV", frozen=True),
        ParameterDef("beta", 1.0, "", frozen=True),
    )

    @staticmethod
    def evaluate(energy, index1, index2, amplitude, ebreak, reference, beta):
        sign = np.sign(index2 - index1)
        pwl = amplitude * (energy / reference) ** (-index1)
        if np.all(sign == 0):
            return pwl * np.ones(np.shape(energy))
        beta = beta * np.where(sign == 0, 1.0, sign)
        brk = (1 + (energy / ebreak) ** ((index2 - index1) / beta)) ** (-beta)
        return pwl * np.where(sign == 0, 1.0, brk)


@register
class ConstantSpectral(SpectralModel):
    """Constant dN/dE ``const``."""

    tag = ("ConstantSpectralModel", "const")
    parameter_defs = (ParameterDef("const", 1e-12, _DNDE, is_norm=True),)

    @staticmethod
    def evaluate(energy, const):
        return np.ones(np.shape(energy)) * const

    @staticmethod
    def evaluate_integral(e_min, e_max, const):
        return const * (e_max - e_min)

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, const):
        return const * 0.5 * (e_max**2 - e_min**2)


@register
class GaussianSpectral(SpectralModel):
    r"""Gaussian line :math:`\frac{N_0}{\sigma\sqrt{2\pi}} e^{-(E-\bar E)^2 / 2\sigma^2}` (amplitude in cm-2 s-1)."""

    tag = ("GaussianSpectralModel", "gauss")
    parameter_defs = (
        ParameterDef("amplitude", 1e-12, "cm-2 s-1", is_norm=True, interp="log"),
        ParameterDef("mean", 1.0, "TeV"),
        ParameterDef("sigma", 2.0, "TeV"),
    )

    @staticmethod
    def evaluate(energy, amplitude, mean, sigma):
        return amplitude / (sigma * np.sqrt(2 * np.pi)) * np.exp(-((energy - mean) ** 2) / (2 * sigma**2))

    @staticmethod
    def evaluate_integral(e_min, e_max, amplitude, mean, sigma):
        u_min, u_max = (e_min - mean) / (np.sqrt(2) * sigma), (e_max - mean) / (np.sqrt(2) * sigma)
        return amplitude / 2 * (erf(u_max) - erf(u_min))

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, amplitude, mean, sigma):
        u_min, u_max = (e_min - mean) / (np.sqrt(2) * sigma), (e_max - mean) / (np.sqrt(2) * sigma)
        a = amplitude * sigma / np.sqrt(2 * np.pi)
        return a * (np.exp(-(u_min**2)) - np.exp(-(u_max**2))) + amplitude * mean / 2 * (erf(u_max) - erf(u_min))
