"""Spectral model base class and the two models every analysis starts with.

Canonical units: energy in TeV, differential flux in cm-2 s-1 TeV-1, integral
flux in cm-2 s-1.

Examples
--------
>>> import astropy.units as u
>>> from gwidgets.core.models.spectral_base import PowerLaw
>>> pl = PowerLaw(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV")
>>> pl(2 * u.TeV)
<Quantity 2.5e-13 1 / (TeV s cm2)>
>>> pl.integral(1 * u.TeV, 10 * u.TeV)
<Quantity 9.e-13 1 / (s cm2)>
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import astropy.units as u

from .core import Model, ParameterDef, register

__all__ = ["SpectralModel", "PowerLaw", "LogParabola", "integrate_loglog"]

_E = u.TeV
_DNDE = u.Unit("cm-2 s-1 TeV-1")

# Gauss-Legendre nodes on [0, 1] for numerical integration in log(E)
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_GL_X = 0.5 * (_GL_X + 1)
_GL_W = 0.5 * _GL_W


def integrate_loglog(func, e_min, e_max, n_sub: int = 4):
    """∫ func(E) dE between float energies (TeV), Gauss-Legendre in log E.

    ``func`` takes an array of energies (TeV, floats) and returns dN/dE.
    Each interval is split into ``n_sub`` log-sub-intervals × 16 nodes:
    exact to ~1e-10 for the smooth spectra used in gamma-ray astronomy.
    """
    e_min = np.asarray(e_min, dtype=float)
    e_max = np.asarray(e_max, dtype=float)
    lmin, lmax = np.log(e_min), np.log(e_max)
    step = (lmax - lmin) / n_sub
    # nodes: shape (..., n_sub, 16)
    k = np.arange(n_sub)[:, None]
    t = (k + _GL_X[None, :])  # in units of step
    log_e = lmin[..., None, None] + step[..., None, None] * t
    energy = np.exp(log_e)
    values = func(energy) * energy  # dE = E dlogE
    return np.sum(values * _GL_W, axis=(-2, -1)) * step


class SpectralModel(Model):
    """dN/dE as a function of energy.

    Subclasses define ``parameter_defs`` and a static ``evaluate(energy, ...)``;
    if they have an analytic integral they define static
    ``evaluate_integral(e_min, e_max, ...)`` (and optionally
    ``evaluate_energy_flux``), else it is integrated numerically.
    """

    kind: ClassVar[str] = "spectral"

    def __call__(self, energy):
        energy = u.Quantity(energy, _E)
        return u.Quantity(self.evaluate(energy.to_value(_E), **self.canonical_values()), _DNDE)

    # float fast path: energies in TeV, results in canonical units
    def dnde_values(self, energy_tev):
        return self.evaluate(np.asarray(energy_tev, dtype=float), **self.canonical_values())

    def integral_values(self, e_min_tev, e_max_tev):
        """∫ dN/dE over [e_min, e_max] (floats in TeV) in cm-2 s-1."""
        params = self.canonical_values()
        analytic = getattr(self, "evaluate_integral", None)
        if analytic is not None:
            return analytic(np.asarray(e_min_tev, float), np.asarray(e_max_tev, float), **params)
        return integrate_loglog(lambda e: self.evaluate(e, **params), e_min_tev, e_max_tev)

    def energy_flux_values(self, e_min_tev, e_max_tev):
        """∫ E dN/dE over [e_min, e_max] (floats in TeV) in TeV cm-2 s-1."""
        params = self.canonical_values()
        analytic = getattr(self, "evaluate_energy_flux", None)
        if analytic is not None:
            return analytic(np.asarray(e_min_tev, float), np.asarray(e_max_tev, float), **params)
        return integrate_loglog(lambda e: e * self.evaluate(e, **params), e_min_tev, e_max_tev)

    # Quantity API
    def integral(self, e_min, e_max):
        """Integral flux between two energies (Quantities), in cm-2 s-1."""
        return u.Quantity(self.integral_values(u.Quantity(e_min, _E).to_value(_E), u.Quantity(e_max, _E).to_value(_E)), "cm-2 s-1")

    def energy_flux(self, e_min, e_max):
        """Energy flux between two energies, in erg cm-2 s-1."""
        q = u.Quantity(self.energy_flux_values(u.Quantity(e_min, _E).to_value(_E), u.Quantity(e_max, _E).to_value(_E)), "TeV cm-2 s-1")
        return q.to("erg cm-2 s-1")

    def e2dnde(self, energy):
        energy = u.Quantity(energy, _E)
        return (energy**2 * self(energy)).to("erg cm-2 s-1")


@register
class PowerLaw(SpectralModel):
    r"""Power law: :math:`\phi(E) = \phi_0 (E / E_0)^{-\Gamma}`."""

    tag = ("PowerLawSpectralModel", "PowerLaw", "pl")
    parameter_defs = (
        ParameterDef("index", 2.0, "", description="spectral index Γ"),
        ParameterDef("amplitude", 1e-12, "cm-2 s-1 TeV-1", is_norm=True, interp="log"),
        ParameterDef("reference", 1.0, "TeV", frozen=True),
    )

    @staticmethod
    def evaluate(energy, index, amplitude, reference):
        return amplitude * (energy / reference) ** (-index)

    @staticmethod
    def evaluate_integral(e_min, e_max, index, amplitude, reference):
        g = 1.0 - index
        with np.errstate(divide="ignore", invalid="ignore"):
            pl = amplitude * reference / g * ((e_max / reference) ** g - (e_min / reference) ** g)
            log = amplitude * reference * np.log(e_max / e_min)
        return np.where(np.abs(g) < 1e-10, log, pl)

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, index, amplitude, reference):
        g = 2.0 - index
        with np.errstate(divide="ignore", invalid="ignore"):
            pl = amplitude * reference**2 / g * ((e_max / reference) ** g - (e_min / reference) ** g)
            log = amplitude * reference**2 * np.log(e_max / e_min)
        return np.where(np.abs(g) < 1e-10, log, pl)


@register
class LogParabola(SpectralModel):
    r"""Log-parabola :math:`\phi_0 (E/E_0)^{-\alpha - \beta \log(E/E_0)}`.

    ``log_base`` selects the logarithm: ``"e"`` (natural, as gammapy's
    ``LogParabolaSpectralModel``) or ``10`` (as the joint-crab paper; with
    β₁₀ = β_e · ln 10). The instance attribute is kept in YAML as ``log_base``.
    """

    tag = ("LogParabolaSpectralModel", "LogParabola", "lp")
    parameter_defs = (
        ParameterDef("amplitude", 1e-12, "cm-2 s-1 TeV-1", is_norm=True, interp="log"),
        ParameterDef("reference", 10.0, "TeV", frozen=True),
        ParameterDef("alpha", 2.0, ""),
        ParameterDef("beta", 1.0, ""),
    )

    def __init__(self, log_base="e", **kwargs):
        super().__init__(**kwargs)
        if str(log_base) not in ("e", "10"):
            from .parameter import ParameterError

            raise ParameterError(f"LogParabola log_base must be 'e' or 10, got {log_base!r}")
        self.__dict__["log_base"] = str(log_base)

    def canonical_values(self):
        values = super().canonical_values()
        if self.log_base == "10":
            values["beta"] = values["beta"] / np.log(10)
        return values

    @staticmethod
    def evaluate(energy, amplitude, reference, alpha, beta):
        xx = energy / reference
        return amplitude * xx ** (-alpha - beta * np.log(xx))

    def to_dict(self):
        d = super().to_dict()
        if self.log_base == "10":
            d["log_base"] = 10
        return d
