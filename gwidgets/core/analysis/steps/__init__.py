"""The analysis steps, registered by name: one module per step, one registry line each.

A step is a function ``run(analysis, progress=None)`` that reads
``analysis.config`` and the products of earlier steps from ``analysis`` and
stores its own product on it. `Analysis` calls them through `STEPS`, in the
order of the lines below, so a new step is one new module plus one
``STEPS.add(...)`` line here (see docs/extending.md and `Step`).

>>> from gwidgets.core.analysis.steps import STEPS
>>> list(STEPS)
['observations', 'datasets', 'models', 'fit', 'flux_points', 'light_curve']
>>> STEPS["fit"].needs
('datasets', 'models')
"""
from __future__ import annotations

from ...registry import Registry
from . import datasets, fit, flux_points, light_curve, models, observations
from .base import Step, StepNotAvailableError, require

__all__ = ["STEPS", "Step", "StepNotAvailableError", "require"]


def _has_models(analysis) -> bool:
    return analysis.config.get("models") is not None or analysis.models is not None


#: name -> `Step`, in the order `Analysis.run` runs them
STEPS = Registry("analysis step")
STEPS.add("observations", Step(observations.run, product="observations"))
STEPS.add("datasets", Step(datasets.run, product="datasets", needs=("observations",)))
STEPS.add("models", Step(models.run, product="models",
                         planned=lambda a: a.config.get("models") is not None or a.models is None))
STEPS.add("fit", Step(fit.run, product="fit_result", needs=("datasets", "models"), planned=_has_models))
STEPS.add("flux_points", Step(flux_points.run, product="flux_points", needs=("fit",),
                              planned=lambda a: _has_models(a) and "flux_points" in a.config))
STEPS.add("light_curve", Step(light_curve.run, product="light_curve", needs=("fit",),
                              planned=lambda a: _has_models(a) and "light_curve" in a.config))
