"""What an analysis step is: `Step`, and the helpers step modules share (`require`, `StepNotAvailableError`).

A step module defines a function ``run(analysis, progress=None)``; the one line
that registers it (in `gwidgets.core.analysis.steps`) wraps it in a `Step`
saying where its product goes, which steps it needs and when `Analysis.run`
runs it.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ...config import ConfigError

__all__ = ["Step", "StepNotAvailableError", "require", "always"]


class StepNotAvailableError(ConfigError):
    """A step needs a part of gwidgets that is not installed / not built yet."""


def always(analysis) -> bool:
    """The default `Step.planned`: `Analysis.run` always runs the step.

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis (unused).

    Returns
    -------
    bool
        True.
    """
    return True


@dataclass(frozen=True)
class Step:
    """One analysis step: its function and how `Analysis` schedules it.

    Parameters
    ----------
    run : callable
        ``run(analysis, progress=None) -> product``; stores the product on ``analysis`` as ``product``.
    product : str
        The `Analysis` attribute the step fills (``"fit_result"``); None there means "not run yet".
    needs : tuple of str, optional
        Steps whose product must exist before this one runs; `Analysis.run_step` runs those that
        did not run yet.
    planned : callable, optional
        ``planned(analysis) -> bool``: whether `Analysis.run` runs the step (default: always).

    Examples
    --------
    >>> def count(analysis, progress=None):
    ...     analysis.n_datasets = len(analysis.datasets)
    ...     return analysis.n_datasets
    >>> step = Step(count, product="n_datasets", needs=("datasets",))
    >>> step.needs, step.planned(None)
    (('datasets',), True)
    """

    run: Callable
    product: str
    needs: tuple[str, ...] = ()
    planned: Callable = always

    def __repr__(self):
        run = f"{getattr(self.run, '__module__', '')}.{getattr(self.run, '__qualname__', self.run)}"
        return f"Step({run}, product={self.product!r}, needs={self.needs!r})"


def require(module: str, names, step: str) -> list:
    """Import ``names`` from ``module`` lazily, or raise a one-line `StepNotAvailableError`.

    Parameters
    ----------
    module : str
        The absolute module name (``"gwidgets.core.estimators"``).
    names : sequence of str
        The names to take from it.
    step : str
        The step asking (named in the error).

    Returns
    -------
    list
        The objects, in the order of ``names``.

    Raises
    ------
    StepNotAvailableError
        If the module or one of the names does not exist.

    Examples
    --------
    >>> require("math", ["sqrt"], "demo")[0](4.0)
    2.0
    >>> require("math", ["nothing"], "demo")
    Traceback (most recent call last):
    ...
    gwidgets.core.analysis.steps.base.StepNotAvailableError: Analysis step 'demo' is not available: \
math (nothing) is missing (module 'math' has no attribute 'nothing')
    """
    try:
        mod = importlib.import_module(module)
        return [getattr(mod, n) for n in names]
    except (ImportError, AttributeError) as exc:
        raise StepNotAvailableError(
            f"Analysis step '{step}' is not available: {module} ({', '.join(names)}) is missing ({exc})") from None
