"""Curved and cut-off spectral models: log-parabola and exponential-cutoff power law.

Both are evaluated as pure static ``evaluate(energy, **params)`` on floats in
the canonical units (energy TeV, dN/dE cm-2 s-1 TeV-1); parameter names,
defaults and bounds equal gammapy's ``LogParabolaSpectralModel`` and
``ExpCutoffPowerLawSpectralModel`` so gammapy model YAML loads here unchanged.

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

from .core import ParameterDef, register
from .spectral_base import SpectralModel
from .yaml_io import LEGACY_LOG_BASE_KEY, LOG10_BETA_KEY, scale_parameter_entry

__all__ = ["LogParabola", "ExpCutoffPowerLaw"]

_DNDE = "cm-2 s-1 TeV-1"


@register
class LogParabola(SpectralModel):
    r"""Log-parabola :math:`\phi_0 (E/E_0)^{-\alpha - \beta \log(E/E_0)}`.

    ``log_base`` selects the logarithm: ``"e"`` (natural, as gammapy's
    ``LogParabolaSpectralModel``) or ``10`` (as the joint-crab paper; with
    β₁₀ = β_e · ln 10). In YAML a base-10 model is written with gammapy's β_e
    (so gammapy evaluates the same spectrum) and ``gwidgets_log_base: 10``;
    earlier files with ``log_base: 10`` (β₁₀ in the file) still read.

    Parameters
    ----------
    amplitude : float, str or `~astropy.units.Quantity`, optional
        Differential flux at ``reference``. Default 1e-12 cm-2 s-1 TeV-1.
    reference : float, str or `~astropy.units.Quantity`, optional
        Reference energy. Default 10 TeV, frozen.
    alpha : float, str or `~astropy.units.Quantity`, optional
        Spectral index α at ``reference``. Default 2.
    beta : float, str or `~astropy.units.Quantity`, optional
        Curvature β (of the natural log; of log10 with ``log_base=10``). Default 1.
    log_base : {"e", 10}, optional
        Base of the logarithm in the exponent.
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
        """Parameter values in canonical units, with β as the natural-log curvature.

        For ``log_base=10`` the stored β₁₀ is divided by ln 10, so that the static
        ``evaluate`` (natural log) gives the same spectrum.

        Returns
        -------
        dict
            Parameter name → float.
        """
        values = super().canonical_values()
        if self.log_base == "10":
            values["beta"] = values["beta"] / np.log(10)
        return values

    @staticmethod
    def evaluate(energy, amplitude, reference, alpha, beta):
        """dN/dE at ``energy``, on floats in the canonical units.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        amplitude : float
            Differential flux at ``reference``. In cm-2 s-1 TeV-1.
        reference : float
            Reference energy. In TeV.
        alpha : float
            Spectral index α at ``reference``.
        beta : float
            Curvature β (of the natural log; of log10 with ``log_base=10``).

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1.
        """
        xx = energy / reference
        return amplitude * xx ** (-alpha - beta * np.log(xx))

    # YAML: a base-10 log-parabola is written with gammapy's natural-log beta (see yaml_io)
    def to_dict(self, full_output=False, links=None) -> dict:
        """The model in gammapy's YAML layout (β of the natural log, see the class doc).

        ``full_output`` and ``links`` as in `Model.to_dict`.

        Returns
        -------
        dict
            The model entry.
        """
        data = super().to_dict(full_output, links)
        if self.log_base == "10":
            data["parameters"] = [scale_parameter_entry(e, 1 / np.log(10)) if e["name"] == "beta" else e
                                  for e in data["parameters"]]
        return data

    @classmethod
    def from_dict(cls, data: dict):
        """Build from gammapy's YAML layout (also our base-10 and legacy ``log_base`` entries).

        ``data``: the model entry, as in `Model.from_dict`.

        Returns
        -------
        LogParabola
            The model.
        """
        data = cls.unwrap_entry(data)
        if str(data.get(LOG10_BETA_KEY, "")) == "10":
            data = dict(data, parameters=[scale_parameter_entry(e, np.log(10)) if e.get("name") == "beta" else e
                                          for e in data.get("parameters") or []])
        return super().from_dict(data)

    @classmethod
    def _kwargs_from_dict(cls, data):
        return {"log_base": data.get(LOG10_BETA_KEY, data.get(LEGACY_LOG_BASE_KEY, "e"))}

    def _extra_to_dict(self):
        return {LOG10_BETA_KEY: 10} if self.log_base == "10" else {}


@register
class ExpCutoffPowerLaw(SpectralModel):
    r"""Power law with exponential cutoff :math:`\phi_0 (E/E_0)^{-\Gamma} \exp(-(\lambda E)^\alpha)`.

    ``lambda_`` is the inverse cutoff energy (TeV-1), as in gammapy's
    ``ExpCutoffPowerLawSpectralModel``.

    Parameters
    ----------
    index : float, str or `~astropy.units.Quantity`, optional
        Spectral index Γ. Default 1.5.
    amplitude : float, str or `~astropy.units.Quantity`, optional
        Differential flux at ``reference``. Default 1e-12 cm-2 s-1 TeV-1.
    reference : float, str or `~astropy.units.Quantity`, optional
        Reference energy. Default 1 TeV, frozen.
    lambda_ : float, str or `~astropy.units.Quantity`, optional
        Inverse cutoff energy λ. Default 0.1 TeV-1.
    alpha : float, str or `~astropy.units.Quantity`, optional
        Exponent α of the cutoff term. Default 1, frozen.
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
        """dN/dE at ``energy``, on floats in the canonical units.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        index : float
            Spectral index Γ.
        amplitude : float
            Differential flux at ``reference``. In cm-2 s-1 TeV-1.
        reference : float
            Reference energy. In TeV.
        lambda_ : float
            Inverse cutoff energy λ. In TeV-1.
        alpha : float
            Exponent α of the cutoff term.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1.
        """
        return amplitude * (energy / reference) ** (-index) * np.exp(-np.power(energy * lambda_, alpha))

    @property
    def e_peak(self) -> u.Quantity:
        """Peak of E² dN/dE, ``((2 - Γ)/α)^(1/α) / λ`` (NaN if there is none)."""
        p = self.canonical_values()
        with np.errstate(all="ignore"):
            e_peak = np.power((2 - p["index"]) / p["alpha"], 1 / p["alpha"]) / p["lambda_"]
        return u.Quantity(e_peak if np.isfinite(e_peak) and e_peak > 0 else np.nan, "TeV")
