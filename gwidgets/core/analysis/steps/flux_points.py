"""Step ``flux_points``: flux points of the fitted source in ``flux_points.energy`` bins → ``analysis.flux_points``.

Uses `gwidgets.core.estimators.FluxPointsEstimator` (imported lazily: a clear
`StepNotAvailableError` while that module does not exist).
"""
from __future__ import annotations

from ._estimator import UL_SELECTION, build, default_source, run_on_copies
from .base import require
from .datasets import energy_axis

__all__ = []


def run(analysis, progress=None):
    """Flux points of the fitted source in the ``flux_points.energy`` bins (on copies of the datasets and models).

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis (fitted).
    progress : callable, optional
        Unused.

    Returns
    -------
    `~gwidgets.core.estimators.sed_table.FluxPoints`
        The flux points, also stored as ``analysis.flux_points``.

    Raises
    ------
    StepNotAvailableError
        If the estimators cannot be imported.
    `~gwidgets.core.config.ConfigError`
        If ``flux_points.energy`` or the source is invalid.
    """
    (estimator_cls,) = require("gwidgets.core.estimators", ["FluxPointsEstimator"], "flux_points")
    cfg = analysis.config.get("flux_points", {})
    edges = energy_axis(cfg.get("energy"), "energy", "flux_points.energy").edges
    source = default_source(analysis, "flux_points")
    estimator = build(estimator_cls, energy_edges=edges, source=source, n_sigma_ul=cfg.get("n_sigma_ul"),
                      selection_optional=UL_SELECTION)
    analysis.flux_points = run_on_copies(estimator, analysis.datasets, analysis.models)
    analysis.log(f"flux points: {len(edges) - 1} bins for '{source}'")
    return analysis.flux_points
