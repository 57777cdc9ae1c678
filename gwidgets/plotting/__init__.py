"""Plots of gwidgets products with matplotlib, kept out of `gwidgets.core` (which never imports a plotting library).

* `plot_spectrum_model`: a spectral model with its 1σ band from the fit covariance;
* `plot_flux_points`, `plot_light_curve`: draw a `FluxPoints` / `LightCurve` on matplotlib axes
  (upper limits as downward arrows);
* importing this package registers the PNG plots that ``gwidgets run`` writes into
  ``plots/`` (`gwidgets.plotting.products`); ``gw.Analysis`` comes from here, so the
  config-driven analysis of the top-level package writes them too.

matplotlib itself is imported only when something is drawn.
"""
from __future__ import annotations

from ..core.analysis import Analysis
from . import products  # noqa: F401 - registers the analysis PNG plots
from .sed import plot_flux_points, plot_light_curve, plot_spectrum_model

__all__ = ["Analysis", "plot_flux_points", "plot_light_curve", "plot_spectrum_model"]
