"""Models: parameters, spectral / spatial / temporal models, sky models."""
from .core import MODEL_REGISTRY, Model, ParameterDef, get_model_class, register
from .parameter import Parameter, ParameterError, Parameters
from .spectral_base import LogParabola, PowerLaw, SpectralModel, integrate_loglog

__all__ = [
    "MODEL_REGISTRY", "Model", "ParameterDef", "get_model_class", "register",
    "Parameter", "ParameterError", "Parameters",
    "SpectralModel", "PowerLaw", "LogParabola", "integrate_loglog",
]
