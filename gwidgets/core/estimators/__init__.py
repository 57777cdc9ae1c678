"""Estimators: science products from fitted datasets (flux points, light curves, maps).

Names are imported lazily (PEP 562), so one estimator module failing to import
does not break the others and ``import gwidgets.core.estimators`` stays cheap.

>>> from gwidgets.core.estimators import FluxPointsEstimator, LightCurveEstimator
>>> FluxPointsEstimator.__module__
'gwidgets.core.estimators.flux_points'
"""
from __future__ import annotations

from ..._lazy import lazy_exports

#: public name → module (inside this package) defining it; a new estimator = one new line
_EXPORTS = {
    "Estimator": "base",
    "FluxPointsEstimator": "flux_points",
    "FluxPoints": "sed_table",
    "LightCurveEstimator": "light_curve",
    "LightCurve": "light_curve",
    "add_time_meta": "light_curve",
    "fixed_time_intervals": "light_curve",
    "chi2_constant": "variability",
    "fractional_variance": "variability",
    "variability_tests": "variability",
    "NormLikelihood": "norm_fit",
    "EstimatorError": "norm_fit",
    # map estimators (another module set)
    "ExcessMapEstimator": "excess_map",
    "TSMapEstimator": "ts_map",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, {k: "." + v for k, v in _EXPORTS.items()}, globals())
