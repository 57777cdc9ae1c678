"""PNG plots of the analysis products, drawn by ``gwidgets run`` (listed in `gwidgets.core.analysis.plots.PLOTS`).

matplotlib is imported inside each function (optional). No pyplot: figures
are drawn with the Agg canvas so that no global matplotlib state changes.
"""
from __future__ import annotations

import numpy as np

__all__ = ["new_figure", "spectrum_figure", "spectrum_png", "light_curve_png"]


def new_figure():
    """A 6 x 4 inch figure on an Agg canvas (no pyplot) and its one axes.

    Returns
    -------
    tuple
        ``(figure, axes)``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _energy_range(analysis):
    ranges = np.array([getattr(d, "energy_range", (np.nan, np.nan)) for d in analysis.datasets], dtype=float)
    lo, hi = np.nanmin(ranges[:, 0]), np.nanmax(ranges[:, 1])
    return (lo, hi) if np.isfinite(lo) and np.isfinite(hi) else (0.1, 100.0)


def spectrum_figure(analysis):
    """The figure of spectrum.png.

    E² dN/dE of every fitted model with its 1σ band (shaded), and the flux points (upper-limit bins
    as downward arrows).
    """
    from .sed import plot_flux_points, plot_spectrum_model

    fig, ax = new_figure()
    lo, hi = _energy_range(analysis)
    for model in analysis.models:
        if getattr(model, "spectral_model", None) is not None:
            plot_spectrum_model(model, [lo, hi], ax=ax, sed_type="e2dnde")
    fp = analysis.flux_points
    if fp is not None and hasattr(fp, "to_table"):
        try:
            plot_flux_points(fp, ax=ax, sed_type="e2dnde", color="k", markersize=4)
        except Exception:  # a plot must never fail the analysis
            pass
    ax.set(xscale="log", yscale="log", xlabel="Energy [TeV]", ylabel="E² dN/dE [TeV cm⁻² s⁻¹]")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def spectrum_png(analysis, folder):
    """Write `spectrum_figure` as ``spectrum.png``."""
    spectrum_figure(analysis).savefig(folder / "spectrum.png")
    return "spectrum.png"


def light_curve_png(analysis, folder):
    """Flux per time bin (first energy band); upper limits as arrows."""
    from .sed import plot_light_curve

    fig, ax = new_figure()
    try:
        plot_light_curve(analysis.light_curve, ax=ax, sed_type="flux")
    except Exception:  # a plot must never fail the analysis
        ax.text(0.5, 0.5, "light curve table not plottable", ha="center", transform=ax.transAxes)
    ax.set(xlabel="Time [MJD]", ylabel="Flux [cm⁻² s⁻¹]")
    fig.tight_layout()
    fig.savefig(folder / "light_curve.png")
    return "light_curve.png"
