"""Shared by the estimator steps: build an estimator from keyword arguments it accepts, run it on copies."""
from __future__ import annotations

import inspect

__all__ = ["build", "default_source", "run_on_copies"]


#: optional estimates of the config-driven flux points and light curves: asymmetric errors and the upper
#: limits that the plots draw as arrows for bins below sqrt_ts_threshold_ul (as gammapy's "all" minus the scan)
UL_SELECTION = ("errn-errp", "ul")


def build(cls, **kwargs):
    """``cls(**kwargs)`` keeping only the keywords its constructor takes (None values dropped)."""
    try:
        params = inspect.signature(cls).parameters
        accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    except (TypeError, ValueError):  # pragma: no cover
        params, accepts_any = {}, True
    kw = {k: v for k, v in kwargs.items() if v is not None and (accepts_any or k in params)}
    return cls(**kw)


def default_source(analysis, key: str) -> str | None:
    """The source to estimate: the config's, else the first model's name."""
    from ...config import ConfigError

    name = analysis.config.get(key, {}).get("source")
    models = analysis.models
    if models is None:
        raise ConfigError(f"'{key}' needs 'models' (the source model)")
    names = list(getattr(models, "names", []))
    if name is not None and names and name not in names:
        raise ConfigError(f"'{key}.source' = {name!r} is not a model; models: {names}")
    return name or (names[0] if names else None)


def run_on_copies(estimator, datasets, models):
    """``estimator.run`` on a copy of ``datasets`` given a copy of ``models``.

    The estimator may move parameters (it fits norms, re-optimises): the analysis keeps its fitted ones.
    """
    datasets = datasets.copy()
    datasets.models = models.copy()
    return estimator.run(datasets)
