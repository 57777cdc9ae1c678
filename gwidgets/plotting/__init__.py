"""Plots of gwidgets products with matplotlib, kept out of `gwidgets.core` (which never imports a plotting library).

* `plot_spectrum_model`: a spectral model with its 1σ band from the fit covariance;
* `plot_flux_points`, `plot_light_curve`: draw a `FluxPoints` / `LightCurve` on matplotlib axes
  (upper limits as downward arrows);
* `gwidgets.plotting.analysis_plots`: the PNG plots that ``gwidgets run`` writes into
  ``plots/`` (listed in `gwidgets.core.analysis.plots.PLOTS`, which imports them when drawn).

matplotlib itself is imported only when something is drawn.
"""
from __future__ import annotations

from .sed import plot_flux_points, plot_light_curve, plot_spectrum_model

__all__ = ["plot_flux_points", "plot_light_curve", "plot_spectrum_model"]
