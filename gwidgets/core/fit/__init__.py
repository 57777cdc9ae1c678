"""Fitting: `Fit` (iminuit MIGRAD + HESSE), results, profiles, contours and likelihood-ratio tests."""
from .fit import Fit, FitError, as_datasets
from .objective import StopFit
from .profile import confidence, sqrt_ts, stat_contour, stat_profile, ts, ts_nested
from .result import Covariance, CovarianceResult, FitResult, OptimizeResult

__all__ = ["Fit", "FitError", "StopFit", "FitResult", "OptimizeResult", "CovarianceResult", "Covariance",
           "stat_profile", "stat_contour", "confidence", "ts", "sqrt_ts", "ts_nested", "as_datasets"]
