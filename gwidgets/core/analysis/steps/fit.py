"""Step ``fit``: the joint likelihood fit of ``analysis.datasets`` with ``analysis.models`` → ``analysis.fit_result``.

The fit range is ``fit.e_min``/``fit.e_max`` for every dataset, then a group's
own ``fit`` range for its datasets. A range leaving no bin in any dataset is a
`ConfigError` naming the keys, raised before the fit.
"""
from __future__ import annotations

import numpy as np

from ...config import ConfigError
from .observations import groups

__all__ = ["apply_fit_ranges", "check_fit_range"]


def apply_fit_ranges(datasets, config):
    """Set the datasets' fit ranges from ``fit.e_min`` / ``fit.e_max``, then from each group's own ``fit`` range.

    Parameters
    ----------
    datasets : `~gwidgets.core.datasets.datasets.Datasets`
        The datasets (a group's are found by ``meta["GROUP"]``).
    config : `~gwidgets.core.config.AnalysisConfig` or dict
        The analysis config.
    """
    fit_cfg = config.get("fit", {})
    if fit_cfg.get("e_min") is not None or fit_cfg.get("e_max") is not None:
        datasets.set_fit_range(fit_cfg.get("e_min"), fit_cfg.get("e_max"))
    by_name = {g["name"]: g for g in groups(config)} if config.get("data", {}).get("groups") else {}
    for d in datasets:
        g = by_name.get(d.meta.get("GROUP"))
        if g is not None and g.get("fit"):
            d.set_fit_range(g["fit"].get("e_min"), g["fit"].get("e_max"))


def check_fit_range(datasets, config):
    """Check that the fit range leaves at least one bin in some dataset.

    Parameters
    ----------
    datasets : `~gwidgets.core.datasets.datasets.Datasets`
        The datasets, fit ranges applied.
    config : `~gwidgets.core.config.AnalysisConfig` or dict
        The analysis config (its ``fit`` keys are named in the error).

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If no dataset has a bin in ``mask_safe & mask_fit``.
    """
    if sum(int(np.count_nonzero(d.mask)) for d in datasets) > 0:
        return
    fit_cfg = config.get("fit", {})
    rng = f"{fit_cfg.get('e_min', '-')} – {fit_cfg.get('e_max', '-')}"
    safe = ", ".join(f"{d.name}: {_safe_range(d)}" for d in list(datasets)[:4])
    raise ConfigError(f"'fit.e_min'/'fit.e_max' = {rng}: no dataset has data in this energy range "
                      f"(safe ranges {safe}{' …' if len(datasets) > 4 else ''})")


def _safe_range(d) -> str:
    idx = np.flatnonzero(d.mask_safe)
    if idx.size == 0:
        return "empty"
    e = d.energy_edges
    return f"{e[idx[0]]:.3g}–{e[idx[-1] + 1]:.3g} TeV"


def run(analysis, progress=None):
    """Fit ``analysis.datasets`` with ``analysis.models`` (``fit.tol``, ``fit.strategy``: `~gwidgets.core.fit.Fit`).

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis (datasets and models set).
    progress : callable, optional
        Unused.

    Returns
    -------
    `~gwidgets.core.fit.result.FitResult`
        The result, also stored as ``analysis.fit_result``.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If no model is set or the fit range leaves no data.
    """
    from ...fit import Fit

    if analysis.models is None:
        raise ConfigError("'models' is not set: the fit needs a model (a YAML path or inline components)")
    datasets = analysis.datasets
    datasets.models = analysis.models
    apply_fit_ranges(datasets, analysis.config)
    check_fit_range(datasets, analysis.config)
    fit_cfg = analysis.config.get("fit", {})
    kwargs = {k: fit_cfg[k] for k in ("tol", "strategy") if k in fit_cfg}
    result = Fit(**kwargs).run(datasets)
    analysis.fit_result = result
    analysis.log(f"fit: success={result.success}, total_stat={result.total_stat:.4f}, {result.message}")
    return result
