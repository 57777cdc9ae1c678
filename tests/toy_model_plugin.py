"""A model written by a user, following the "add a model" recipe of docs/extending.md: this one file.

`tests/test_registries.py` adds the one line (``register(ExpSpectrum)``) and checks that the model
then reads and writes YAML, evaluates and fits like a built-in one.
"""
import numpy as np

from gwidgets.core.models import ParameterDef, SpectralModel


class ExpSpectrum(SpectralModel):
    r"""Pure exponential spectrum :math:`\phi(E) = \phi_0 e^{-E/E_c}` (no analytic integral: integrated numerically)."""

    tag = ("ExpSpectrumSpectralModel", "toy-exp")
    parameter_defs = (
        ParameterDef("amplitude", 1e-11, "cm-2 s-1 TeV-1", is_norm=True, interp="log"),
        ParameterDef("e_cut", 2.0, "TeV", min=0),
    )

    @staticmethod
    def evaluate(energy, amplitude, e_cut):
        """dN/dE at ``energy`` (TeV) in the canonical units (cm-2 s-1 TeV-1)."""
        return amplitude * np.exp(-energy / e_cut)
