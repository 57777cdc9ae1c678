"""matplotlib plots of the estimator products (flux points, light curves), outside the core.

matplotlib is imported when a function is called.

>>> from gwidgets.plotting import plot_flux_points, plot_light_curve      # doctest: +SKIP
>>> ax = plot_flux_points(flux_points, sed_type="e2dnde")                  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np

__all__ = ["plot_flux_points", "plot_light_curve"]


def plot_flux_points(flux_points, ax=None, sed_type: str = "e2dnde", **kwargs):
    """The SED of a `FluxPoints` with matplotlib; upper limits as arrows. Returns the axes."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    t = flux_points.to_table(sed_type)
    x = t["e_ref"].quantity.to_value("TeV")
    xerr = [x - t["e_min"].quantity.to_value("TeV"), t["e_max"].quantity.to_value("TeV") - x]
    y = t[sed_type].quantity
    unit = y.unit
    is_ul = np.asarray(t["is_ul"], bool) if "is_ul" in t.colnames else np.zeros(len(t), bool)
    if f"{sed_type}_errn" in t.colnames:
        yerr = [t[f"{sed_type}_errn"].quantity.to_value(unit), t[f"{sed_type}_errp"].quantity.to_value(unit)]
    else:
        yerr = t[f"{sed_type}_err"].quantity.to_value(unit)
        yerr = [yerr, yerr]
    yv = y.value.copy()
    yerr = [np.asarray(yerr[0], float).copy(), np.asarray(yerr[1], float).copy()]
    if is_ul.any() and f"{sed_type}_ul" in t.colnames:
        ul = t[f"{sed_type}_ul"].quantity.to_value(unit)
        yv[is_ul] = ul[is_ul]
        yerr[0][is_ul], yerr[1][is_ul] = 0.5 * ul[is_ul], 0.0
    kwargs.setdefault("marker", "o")
    kwargs.setdefault("ls", "none")
    ax.errorbar(x, yv, xerr=xerr, yerr=yerr, uplims=is_ul, **kwargs)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Energy [TeV]")
    ax.set_ylabel(f"{sed_type} [{unit.to_string()}]")
    return ax


def plot_light_curve(light_curve, ax=None, sed_type: str = "flux", band: int = 0, **kwargs):
    """Flux vs time of a `LightCurve` with matplotlib (energy band ``band``); upper limits as arrows. Returns the axes."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    t = light_curve.to_table(sed_type)
    bands = np.unique(np.asarray(t["e_min"], float))
    t = t[np.asarray(t["e_min"], float) == bands[band]]
    t0, t1 = np.asarray(t["time_min"], float), np.asarray(t["time_max"], float)
    x = 0.5 * (t0 + t1)
    y = t[sed_type].quantity
    err = t[f"{sed_type}_err"].quantity.to_value(y.unit)
    is_ul = np.asarray(t["is_ul"], bool)
    yv = y.value.copy()
    if is_ul.any() and f"{sed_type}_ul" in t.colnames:
        ul = t[f"{sed_type}_ul"].quantity.to_value(y.unit)
        yv[is_ul] = ul[is_ul]
        err = np.where(is_ul, 0.3 * ul, err)
    kwargs.setdefault("marker", "o")
    kwargs.setdefault("ls", "none")
    ax.errorbar(x, yv, xerr=[x - t0, t1 - x], yerr=err, uplims=is_ul, **kwargs)
    ax.set_xlabel("Time [MJD]")
    ax.set_ylabel(f"{sed_type} [{y.unit.to_string()}]")
    return ax
