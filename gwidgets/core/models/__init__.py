"""Models: parameters, spectral / spatial / temporal models, sky models, YAML I/O.

Every model is a pure ``evaluate`` of floats in canonical units plus a
`Parameters` collection; a registry maps YAML ``type`` tags (ours and
gammapy's) to classes, so gammapy 2.1 model YAML files load here and ours
load in gammapy (see `gwidgets.core.models.yaml_io` for the rules).

Spectral models also answer to their gammapy names (``PowerLawSpectralModel``
is `PowerLaw`, ...).
"""
from .core import KIND_REGISTRY, Model, ParameterDef, get_model_class, register
from .models import Models
from .parameter import Parameter, ParameterError
from .parameters import Parameters
from .sky_model import FoVBackgroundModel, SkyModel
from .spatial import (
                       ConstantSpatialModel,
                       DiskSpatialModel,
                       GaussianSpatialModel,
                       PointSpatialModel,
                       ShellSpatialModel,
                       SpatialModel,
)
from .spatial_template import TemplateSpatialModel
from .spectral import (
                       BrokenPowerLaw,
                       ConstantSpectral,
                       GaussianSpectral,
                       PowerLaw2,
                       PowerLawNorm,
                       SmoothBrokenPowerLaw,
)
from .spectral_base import PowerLaw, SpectralModel, integrate_loglog
from .spectral_compound import AbsorbedSpectral, CompoundSpectral, ScaleSpectral
from .spectral_curved import ExpCutoffPowerLaw, LogParabola
from .spectral_template import EBLAbsorption, TemplateSpectral
from .temporal import (
                       ConstantTemporalModel,
                       ExpDecayTemporalModel,
                       GaussianTemporalModel,
                       LightCurveTemplateTemporalModel,
                       LinearTemporalModel,
                       TemporalModel,
)

# gammapy names of the spectral models
PowerLawSpectralModel = PowerLaw
LogParabolaSpectralModel = LogParabola
PowerLaw2SpectralModel = PowerLaw2
PowerLawNormSpectralModel = PowerLawNorm
ExpCutoffPowerLawSpectralModel = ExpCutoffPowerLaw
BrokenPowerLawSpectralModel = BrokenPowerLaw
SmoothBrokenPowerLawSpectralModel = SmoothBrokenPowerLaw
ConstantSpectralModel = ConstantSpectral
GaussianSpectralModel = GaussianSpectral
TemplateSpectralModel = TemplateSpectral
CompoundSpectralModel = CompoundSpectral
ScaleSpectralModel = ScaleSpectral
EBLAbsorptionNormSpectralModel = EBLAbsorption

__all__ = [
    "KIND_REGISTRY", "Model", "ParameterDef", "get_model_class", "register",
    "Parameter", "ParameterError", "Parameters",
    "SpectralModel", "PowerLaw", "LogParabola", "integrate_loglog",
    "PowerLaw2", "PowerLawNorm", "ExpCutoffPowerLaw", "BrokenPowerLaw", "SmoothBrokenPowerLaw",
    "ConstantSpectral", "GaussianSpectral", "TemplateSpectral", "EBLAbsorption",
    "CompoundSpectral", "ScaleSpectral", "AbsorbedSpectral",
    "SpatialModel", "PointSpatialModel", "GaussianSpatialModel", "DiskSpatialModel", "ShellSpatialModel",
    "ConstantSpatialModel", "TemplateSpatialModel",
    "TemporalModel", "ConstantTemporalModel", "LinearTemporalModel", "ExpDecayTemporalModel",
    "GaussianTemporalModel", "LightCurveTemplateTemporalModel",
    "SkyModel", "FoVBackgroundModel", "Models",
    "PowerLawSpectralModel", "LogParabolaSpectralModel", "PowerLaw2SpectralModel", "PowerLawNormSpectralModel",
    "ExpCutoffPowerLawSpectralModel", "BrokenPowerLawSpectralModel", "SmoothBrokenPowerLawSpectralModel",
    "ConstantSpectralModel", "GaussianSpectralModel", "TemplateSpectralModel", "CompoundSpectralModel",
    "ScaleSpectralModel", "EBLAbsorptionNormSpectralModel",
]
