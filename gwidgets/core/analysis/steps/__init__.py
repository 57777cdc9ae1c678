"""The analysis steps, registered by name: one module per step, one registry line each.

A step is a function ``step(analysis, progress=None)`` that reads
``analysis.config`` and the products of earlier steps from ``analysis`` and
stores its own product on it. `Analysis` calls them through `STEPS`, so a new
step is one new module plus one ``@register_step`` line.

>>> from gwidgets.core.analysis.steps import STEPS
>>> list(STEPS)
['observations', 'datasets', 'models', 'fit', 'flux_points', 'light_curve']
"""
from __future__ import annotations

from collections.abc import Callable

from ...config import ConfigError

__all__ = ["STEPS", "register_step", "StepNotAvailableError", "require"]

#: name -> step function, in the order `Analysis.run` calls them
STEPS: dict[str, Callable] = {}


class StepNotAvailableError(ConfigError):
    """A step needs a part of gwidgets that is not installed / not built yet."""


def register_step(name: str):
    """Decorator registering a step function under ``name``."""

    def deco(func):
        STEPS[name] = func
        return func

    return deco


def require(module: str, names, step: str):
    """Import ``names`` from ``module`` lazily; a one-line `StepNotAvailableError` when it is not there."""
    import importlib

    try:
        mod = importlib.import_module(module)
        return [getattr(mod, n) for n in names]
    except (ImportError, AttributeError) as exc:
        raise StepNotAvailableError(
            f"Analysis step '{step}' is not available: {module} ({', '.join(names)}) is missing ({exc})") from None


# the built-in steps (import order = run order)
from . import datasets, fit, flux_points, light_curve, models, observations  # noqa: E402,F401
