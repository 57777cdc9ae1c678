"""PNG plots of the analysis products, registered into `gwidgets.core.analysis.plots.PLOTS` on import.

matplotlib is imported inside each function (optional). No pyplot: figures
are drawn with the Agg canvas so that no global matplotlib state changes.
"""
from __future__ import annotations

import numpy as np

from ..core.analysis.plots import register_plot

__all__ = ["spectrum_png", "light_curve_png"]


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _energy_range(analysis):
    ranges = np.array([getattr(d, "energy_range", (np.nan, np.nan)) for d in analysis.datasets], dtype=float)
    lo, hi = np.nanmin(ranges[:, 0]), np.nanmax(ranges[:, 1])
    return (lo, hi) if np.isfinite(lo) and np.isfinite(hi) else (0.1, 100.0)


@register_plot("spectrum", lambda a: a.fit_result is not None and a.models is not None)
def spectrum_png(analysis, folder):
    import astropy.units as u

    fig, ax = _figure()
    lo, hi = _energy_range(analysis)
    energy = np.geomspace(lo, hi, 100) * u.TeV
    for model in analysis.models:
        spectral = getattr(model, "spectral_model", None)
        if spectral is None:
            continue
        e2dnde = spectral.e2dnde(energy).to("TeV cm-2 s-1")
        ax.plot(energy.value, e2dnde.value, label=model.name)
    fp = analysis.flux_points
    if fp is not None and hasattr(fp, "to_table"):
        try:
            t = fp.to_table(sed_type="e2dnde")
            ax.errorbar(t["e_ref"].quantity.to_value("TeV"), t["e2dnde"].quantity.to_value("TeV cm-2 s-1"),
                        yerr=t["e2dnde_err"].quantity.to_value("TeV cm-2 s-1"), fmt="o", label="flux points")
        except Exception:  # noqa: BLE001 - a plot must never fail the analysis
            pass
    ax.set(xscale="log", yscale="log", xlabel="Energy [TeV]", ylabel="E² dN/dE [TeV cm⁻² s⁻¹]")
    ax.legend()
    fig.savefig(folder / "spectrum.png")
    return "spectrum.png"


@register_plot("light_curve", lambda a: a.light_curve is not None and hasattr(a.light_curve, "to_table"))
def light_curve_png(analysis, folder):
    fig, ax = _figure()
    try:
        t = analysis.light_curve.to_table(sed_type="flux")
        times = t if "time_min" in t.colnames else analysis.light_curve.table
        x = 0.5 * (np.asarray(times["time_min"]) + np.asarray(times["time_max"]))
        flux = np.asarray(t["flux"]).reshape(len(t), -1)[:, 0]
        err = np.asarray(t["flux_err"]).reshape(len(t), -1)[:, 0] if "flux_err" in t.colnames else None
        ax.errorbar(x, flux, yerr=err, fmt="o")
    except Exception:  # noqa: BLE001
        ax.text(0.5, 0.5, "light curve table not plottable", ha="center", transform=ax.transAxes)
    ax.set(xlabel="Time [MJD]", ylabel="Flux [cm⁻² s⁻¹]")
    fig.savefig(folder / "light_curve.png")
    return "light_curve.png"
