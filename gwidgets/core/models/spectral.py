"""Analytic spectral models beyond the power law: power-law variants, constant and Gaussian line.

Each model is a pure static ``evaluate(energy, **params)`` on floats in the
canonical units (energy TeV, dN/dE cm-2 s-1 TeV-1), with analytic
``evaluate_integral`` / ``evaluate_energy_flux`` where one exists; parameter
names, defaults and bounds equal gammapy's same-named models so gammapy model
YAML loads here unchanged.

Examples
--------
>>> from gwidgets.core.models import BrokenPowerLaw
>>> bpl = BrokenPowerLaw(index1=2.0, index2=3.0, amplitude="1e-12 cm-2 s-1 TeV-1", ebreak="1 TeV")
>>> round(float(bpl.dnde_values(10.0)) / 1e-15, 6)   # index 3 above the break
1.0
"""
from __future__ import annotations

import astropy.units as u
import numpy as np

from .core import ParameterDef, register
from .spectral_base import SpectralModel, pl_integral

__all__ = [
    "PowerLaw2", "PowerLawNorm", "BrokenPowerLaw", "SmoothBrokenPowerLaw",
    "ConstantSpectral", "GaussianSpectral",
]

_DNDE = "cm-2 s-1 TeV-1"


@register
class PowerLaw2(SpectralModel):
    r"""Power law normalised by its integral flux between ``emin`` and ``emax``.

    :math:`\phi(E) = F_0 \frac{1-\Gamma}{E_{max}^{1-\Gamma} - E_{min}^{1-\Gamma}} E^{-\Gamma}`
    (amplitude in cm-2 s-1).

    Parameters
    ----------
    amplitude : float, str or `~astropy.units.Quantity`, optional
        Integral flux between ``emin`` and ``emax``. Default 1e-12 cm-2 s-1.
    index : float, str or `~astropy.units.Quantity`, optional
        Spectral index Γ. Default 2.
    emin : float, str or `~astropy.units.Quantity`, optional
        Lower end of the energy range of ``amplitude``. Default 0.1 TeV, frozen.
    emax : float, str or `~astropy.units.Quantity`, optional
        Upper end of the energy range of ``amplitude``. Default 100 TeV, frozen.
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
        """dN/dE at ``energy``, on floats in the canonical units.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        amplitude : float
            Integral flux between ``emin`` and ``emax``. In cm-2 s-1.
        index : float
            Spectral index Γ.
        emin : float
            Lower end of the energy range of ``amplitude``. In TeV.
        emax : float
            Upper end of the energy range of ``amplitude``. In TeV.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1.
        """
        top = -index + 1
        bottom = emax - emin * (emin / emax) ** (-index)
        return amplitude * (top / bottom) * np.power(energy / emax, -index)

    @staticmethod
    def evaluate_integral(e_min, e_max, amplitude, index, emin, emax):
        """Analytic ∫ dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        amplitude, index, emin, emax : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Integral flux in cm-2 s-1.
        """
        top = pl_integral(e_min / emax, e_max / emax, index, 1.0)
        bottom = pl_integral(emin / emax, 1.0, index, 1.0)
        return amplitude * top / bottom

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, amplitude, index, emin, emax):
        """Analytic ∫ E dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        amplitude, index, emin, emax : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Energy flux in TeV cm-2 s-1.
        """
        top = pl_integral(e_min / emax, e_max / emax, index - 1.0, emax)
        bottom = pl_integral(emin / emax, 1.0, index, 1.0)
        return amplitude * top / bottom


@register
class PowerLawNorm(SpectralModel):
    """Dimensionless power law :math:`n (E/E_0)^{-t}`: a spectral correction (background norm/tilt).

    Parameters
    ----------
    tilt : float, str or `~astropy.units.Quantity`, optional
        Spectral tilt t. Default 0, frozen.
    norm : float, str or `~astropy.units.Quantity`, optional
        Normalisation n. Default 1.
    reference : float, str or `~astropy.units.Quantity`, optional
        Reference energy. Default 1 TeV, frozen.
    """

    tag = ("PowerLawNormSpectralModel", "pl-norm")
    _value_unit = u.one
    parameter_defs = (
        ParameterDef("tilt", 0.0, "", frozen=True),
        ParameterDef("norm", 1.0, "", is_norm=True, interp="log"),
        ParameterDef("reference", 1.0, "TeV", frozen=True),
    )

    @staticmethod
    def evaluate(energy, tilt, norm, reference):
        """dN/dE at ``energy``, on floats in the canonical units.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        tilt : float
            Spectral tilt t.
        norm : float
            Normalisation n.
        reference : float
            Reference energy. In TeV.

        Returns
        -------
        numpy.ndarray
            The dimensionless norm.
        """
        return norm * np.power(energy / reference, -tilt)

    @staticmethod
    def evaluate_integral(e_min, e_max, tilt, norm, reference):
        """Analytic ∫ dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        tilt, norm, reference : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Integral in TeV.
        """
        return pl_integral(e_min / reference, e_max / reference, tilt, norm * reference)

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, tilt, norm, reference):
        """Analytic ∫ E dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        tilt, norm, reference : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Integral in TeV2.
        """
        return pl_integral(e_min / reference, e_max / reference, tilt - 1.0, norm * reference**2)


@register
class BrokenPowerLaw(SpectralModel):
    """Broken power law: index ``index1`` below ``ebreak``, ``index2`` above; continuous at the break.

    Parameters
    ----------
    index1 : float, str or `~astropy.units.Quantity`, optional
        Spectral index below the break. Default 2.
    index2 : float, str or `~astropy.units.Quantity`, optional
        Spectral index above the break. Default 2.
    amplitude : float, str or `~astropy.units.Quantity`, optional
        Differential flux at ``ebreak``. Default 1e-12 cm-2 s-1 TeV-1.
    ebreak : float, str or `~astropy.units.Quantity`, optional
        Break energy. Default 1 TeV.
    """

    tag = ("BrokenPowerLawSpectralModel", "bpl")
    parameter_defs = (
        ParameterDef("index1", 2.0, ""),
        ParameterDef("index2", 2.0, ""),
        ParameterDef("amplitude", 1e-12, _DNDE, is_norm=True, interp="log"),
        ParameterDef("ebreak", 1.0, "TeV"),
    )

    @staticmethod
    def evaluate(energy, index1, index2, amplitude, ebreak):
        """dN/dE at ``energy``, on floats in the canonical units.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        index1 : float
            Spectral index below the break.
        index2 : float
            Spectral index above the break.
        amplitude : float
            Differential flux at ``ebreak``. In cm-2 s-1 TeV-1.
        ebreak : float
            Break energy. In TeV.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1.
        """
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
        """Analytic ∫ dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        index1, index2, amplitude, ebreak : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Integral flux in cm-2 s-1.
        """
        return BrokenPowerLaw._integral(e_min, e_max, index1, index2, amplitude * ebreak, ebreak)

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, index1, index2, amplitude, ebreak):
        """Analytic ∫ E dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        index1, index2, amplitude, ebreak : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Energy flux in TeV cm-2 s-1.
        """
        return BrokenPowerLaw._integral(e_min, e_max, index1 - 1, index2 - 1, amplitude * ebreak**2, ebreak)

    def breakpoints(self):
        """The break energy, where numerical integration splits.

        Returns
        -------
        numpy.ndarray
            ``[ebreak]`` in TeV.
        """
        return np.atleast_1d(self.canonical_values()["ebreak"])


@register
class SmoothBrokenPowerLaw(SpectralModel):
    r"""Smoothly broken power law (gammapy's parametrisation).

    :math:`\phi_0 (E/E_0)^{-\Gamma_1} [1 + (E/E_{break})^{(\Gamma_2-\Gamma_1)/\beta}]^{-\beta}`,
    with β taking the sign of Γ₂ − Γ₁. For Γ₁ = Γ₂ the break term is 1 (a plain power law), as
    gammapy 2.1 evaluates it (its ``0/0`` exponent gives ``nan ** -0 = 1``); the one-sided limits
    Γ₂ → Γ₁± are 2^∓β, so no value is continuous there and "no break" is the meaningful one.

    Parameters
    ----------
    index1 : float, str or `~astropy.units.Quantity`, optional
        Spectral index below the break. Default 2.
    index2 : float, str or `~astropy.units.Quantity`, optional
        Spectral index above the break. Default 2.
    amplitude : float, str or `~astropy.units.Quantity`, optional
        Normalisation φ₀: the power law ``index1`` at ``reference``, times the break term. Default 1e-12 cm-2 s-1 TeV-1.
    ebreak : float, str or `~astropy.units.Quantity`, optional
        Break energy. Default 1 TeV.
    reference : float, str or `~astropy.units.Quantity`, optional
        Reference energy. Default 1 TeV, frozen.
    beta : float, str or `~astropy.units.Quantity`, optional
        Smoothness β of the break. Default 1, frozen.
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
        """dN/dE at ``energy``, on floats in the canonical units.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        index1 : float
            Spectral index below the break.
        index2 : float
            Spectral index above the break.
        amplitude : float
            Normalisation φ₀: the power law ``index1`` at ``reference``, times the break term. In cm-2 s-1 TeV-1.
        ebreak : float
            Break energy. In TeV.
        reference : float
            Reference energy. In TeV.
        beta : float
            Smoothness β of the break.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1.
        """
        sign = np.sign(index2 - index1)
        pwl = amplitude * (energy / reference) ** (-index1)
        if np.all(sign == 0):
            return pwl * np.ones(np.shape(energy))
        beta = beta * np.where(sign == 0, 1.0, sign)
        brk = (1 + (energy / ebreak) ** ((index2 - index1) / beta)) ** (-beta)
        return pwl * np.where(sign == 0, 1.0, brk)


@register
class ConstantSpectral(SpectralModel):
    """Constant dN/dE ``const``.

    Parameters
    ----------
    const : float, str or `~astropy.units.Quantity`, optional
        Value of dN/dE. Default 1e-12 cm-2 s-1 TeV-1.
    """

    tag = ("ConstantSpectralModel", "const")
    parameter_defs = (ParameterDef("const", 1e-12, _DNDE, is_norm=True),)

    @staticmethod
    def evaluate(energy, const):
        """dN/dE at ``energy``, on floats in the canonical units.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        const : float
            Value of dN/dE. In cm-2 s-1 TeV-1.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1.
        """
        return np.ones(np.shape(energy)) * const

    @staticmethod
    def evaluate_integral(e_min, e_max, const):
        """Analytic ∫ dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        const : float
            Value of dN/dE. In cm-2 s-1 TeV-1.

        Returns
        -------
        numpy.ndarray
            Integral flux in cm-2 s-1.
        """
        return const * (e_max - e_min)

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, const):
        """Analytic ∫ E dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        const : float
            Value of dN/dE. In cm-2 s-1 TeV-1.

        Returns
        -------
        numpy.ndarray
            Energy flux in TeV cm-2 s-1.
        """
        return const * 0.5 * (e_max**2 - e_min**2)


@register
class GaussianSpectral(SpectralModel):
    r"""Gaussian line :math:`\frac{N_0}{\sigma\sqrt{2\pi}} e^{-(E-\bar E)^2 / 2\sigma^2}` (amplitude in cm-2 s-1).

    Parameters
    ----------
    amplitude : float, str or `~astropy.units.Quantity`, optional
        Integral flux of the line. Default 1e-12 cm-2 s-1.
    mean : float, str or `~astropy.units.Quantity`, optional
        Mean energy of the line. Default 1 TeV.
    sigma : float, str or `~astropy.units.Quantity`, optional
        Width σ of the line. Default 2 TeV.
    """

    tag = ("GaussianSpectralModel", "gauss")
    parameter_defs = (
        ParameterDef("amplitude", 1e-12, "cm-2 s-1", is_norm=True, interp="log"),
        ParameterDef("mean", 1.0, "TeV"),
        ParameterDef("sigma", 2.0, "TeV"),
    )

    @staticmethod
    def evaluate(energy, amplitude, mean, sigma):
        """dN/dE at ``energy``, on floats in the canonical units.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        amplitude : float
            Integral flux of the line. In cm-2 s-1.
        mean : float
            Mean energy of the line. In TeV.
        sigma : float
            Width σ of the line. In TeV.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1.
        """
        return amplitude / (sigma * np.sqrt(2 * np.pi)) * np.exp(-((energy - mean) ** 2) / (2 * sigma**2))

    @staticmethod
    def evaluate_integral(e_min, e_max, amplitude, mean, sigma):
        """Analytic ∫ dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        amplitude, mean, sigma : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Integral flux in cm-2 s-1.
        """
        from scipy.special import erf  # here: scipy.special costs ~16 MiB, only the Gaussian line uses it

        u_min, u_max = (e_min - mean) / (np.sqrt(2) * sigma), (e_max - mean) / (np.sqrt(2) * sigma)
        return amplitude / 2 * (erf(u_max) - erf(u_min))

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, amplitude, mean, sigma):
        """Analytic ∫ E dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        amplitude, mean, sigma : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Energy flux in TeV cm-2 s-1.
        """
        from scipy.special import erf

        u_min, u_max = (e_min - mean) / (np.sqrt(2) * sigma), (e_max - mean) / (np.sqrt(2) * sigma)
        a = amplitude * sigma / np.sqrt(2 * np.pi)
        return a * (np.exp(-(u_min**2)) - np.exp(-(u_max**2))) + amplitude * mean / 2 * (erf(u_max) - erf(u_min))
