"""matplotlib plots of spectral models and estimator products (flux points, light curves), outside the core.

* `plot_spectrum_model`: a spectral model with its 1σ band (the core's
  ``model.sed_error``, from the covariance the fit attached) as a shaded area;
* `plot_flux_points`, `plot_light_curve`: measured bins as points with error
  bars, **upper-limit bins as downward arrows** from the UL value (the stem runs
  down to UL × `UL_ARROW`, with an arrow head there): never as points with error bars.

matplotlib is imported when a function is called.

A first look at the simulated example store (a fitted model and its flux points):

>>> import gwidgets as gw
>>> from gwidgets.app.first_look import default_analysis
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)       # all runs, ON region on the bright source, a fitted model "source"
>>> flux_points = session.flux_points([0.5, 2, 8, 30] * u.TeV, wait=True)
>>> model = session.models["source"].spectral_model
>>> from gwidgets.plotting import plot_flux_points, plot_spectrum_model
>>> ax = plot_spectrum_model(model, [0.1, 30] * u.TeV)
>>> ax = plot_flux_points(flux_points, ax=ax, sed_type="e2dnde")
"""
from __future__ import annotations

import astropy.units as u
import numpy as np

__all__ = ["plot_spectrum_model", "plot_flux_points", "plot_light_curve", "plot_upper_limits", "UL_ARROW"]

#: an upper-limit arrow runs from the UL value down to UL × UL_ARROW (a fixed length on log axes)
UL_ARROW = 0.5
#: units of the model curves per SED type
SED_UNITS = {"dnde": u.Unit("TeV-1 cm-2 s-1"), "e2dnde": u.Unit("TeV cm-2 s-1")}
SED_LABELS = {"dnde": "dN/dE", "e2dnde": "E² dN/dE"}


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def plot_spectrum_model(model, energy_bounds, ax=None, sed_type: str = "e2dnde", band: bool = True,
                        n_points: int = 100, band_kwargs=None, **kwargs):
    """Draw a spectral model (``sed_type`` "dnde" or "e2dnde") and its 1σ band; returns the axes.

    The band (``fill_between``, the line's colour, alpha 0.25) is drawn when
    ``band`` and the model has a covariance (after ``gw.Fit().run``): it spans
    ``value - errn`` … ``value + errp`` of ``model.sed_error`` (gammapy 2.1's
    sampled errors). ``kwargs`` go to ``ax.plot``; ``band_kwargs`` to ``fill_between``.
    """
    ax = _axes(ax)
    spectral = getattr(model, "spectral_model", model)
    lo, hi = u.Quantity(energy_bounds, "TeV").to_value("TeV")
    energy = np.geomspace(lo, hi, int(n_points)) * u.TeV
    unit = SED_UNITS.get(sed_type)
    if unit is None:
        from ..core.models import ParameterError

        raise ParameterError(f"Unknown sed_type '{sed_type}' for a model curve (known: {', '.join(SED_UNITS)})")
    value = (spectral(energy) * energy ** (2 if sed_type == "e2dnde" else 0)).to_value(unit)
    kwargs.setdefault("label", getattr(model, "name", None) or type(spectral).__name__)
    (line,) = ax.plot(energy.value, value, **kwargs)
    if band and getattr(spectral, "covariance", None) is not None:
        mid, errn, errp = spectral.sed_error(energy, sed_type).to_value(unit)
        opts = {"color": line.get_color(), "alpha": 0.25, "linewidth": 0}
        opts.update(band_kwargs or {})
        ax.fill_between(energy.value, mid - errn, mid + errp, **opts)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Energy [TeV]")
    ax.set_ylabel(f"{SED_LABELS.get(sed_type, sed_type)} [{unit.to_string()}]")
    return ax


def plot_upper_limits(ax, x, ul, xerr=None, **kwargs):
    """Downward arrows from ``ul`` at ``x`` (bin widths ``xerr`` as a horizontal bar); the errorbar container."""
    ul = np.asarray(ul, float)
    kwargs.pop("marker", None)
    kwargs.setdefault("ls", "none")
    return ax.errorbar(x, ul, xerr=xerr, yerr=[ul * (1 - UL_ARROW), np.zeros_like(ul)], uplims=True,
                       marker="none", **kwargs)


def _split_upper_limits(t, sed_type, y):
    """``(is_ul, ul values)``: the UL bins and where their arrows start (the UL column, else the value)."""
    is_ul = np.asarray(t["is_ul"], bool) if "is_ul" in t.colnames else np.zeros(len(t), bool)
    col = f"{sed_type}_ul"
    ul = t[col].quantity.to_value(y.unit) if col in t.colnames else y.value
    return is_ul & np.isfinite(ul) & (ul > 0), np.asarray(ul, float)


def plot_flux_points(flux_points, ax=None, sed_type: str = "e2dnde", **kwargs):
    """The SED of a `FluxPoints` with matplotlib; upper limits as downward arrows. Returns the axes."""
    ax = _axes(ax)
    t = flux_points.to_table(sed_type)
    x = t["e_ref"].quantity.to_value("TeV")
    xerr = np.array([x - t["e_min"].quantity.to_value("TeV"), t["e_max"].quantity.to_value("TeV") - x])
    y = t[sed_type].quantity
    unit = y.unit
    if f"{sed_type}_errn" in t.colnames:
        yerr = np.array([t[f"{sed_type}_errn"].quantity.to_value(unit), t[f"{sed_type}_errp"].quantity.to_value(unit)])
    else:
        err = t[f"{sed_type}_err"].quantity.to_value(unit)
        yerr = np.array([err, err])
    is_ul, ul = _split_upper_limits(t, sed_type, y)
    kwargs.setdefault("marker", "o")
    kwargs.setdefault("ls", "none")
    kwargs.setdefault("label", "flux points")
    points = ax.errorbar(x[~is_ul], y.value[~is_ul], xerr=xerr[:, ~is_ul], yerr=yerr[:, ~is_ul], **kwargs)
    if is_ul.any():
        color = points.lines[0].get_color()
        plot_upper_limits(ax, x[is_ul], ul[is_ul], xerr=xerr[:, is_ul], color=color,
                          label=f"upper limits ({flux_points.n_sigma_ul:g}σ)" if hasattr(flux_points, "n_sigma_ul")
                          else "upper limits")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Energy [TeV]")
    ax.set_ylabel(f"{SED_LABELS.get(sed_type, sed_type)} [{unit.to_string()}]")
    return ax


def plot_light_curve(light_curve, ax=None, sed_type: str = "flux", band: int = 0, **kwargs):
    """Flux vs time of a `LightCurve` with matplotlib (energy band ``band``); upper limits as arrows.

    Returns the axes.
    """
    ax = _axes(ax)
    t = light_curve.to_table(sed_type)
    bands = np.unique(np.asarray(t["e_min"], float))
    t = t[np.asarray(t["e_min"], float) == bands[band]]
    t0, t1 = np.asarray(t["time_min"], float), np.asarray(t["time_max"], float)
    x = 0.5 * (t0 + t1)
    xerr = np.array([x - t0, t1 - x])
    y = t[sed_type].quantity
    err = t[f"{sed_type}_err"].quantity.to_value(y.unit)
    is_ul, ul = _split_upper_limits(t, sed_type, y)
    kwargs.setdefault("marker", "o")
    kwargs.setdefault("ls", "none")
    points = ax.errorbar(x[~is_ul], y.value[~is_ul], xerr=xerr[:, ~is_ul], yerr=err[~is_ul], **kwargs)
    if is_ul.any():
        plot_upper_limits(ax, x[is_ul], ul[is_ul], xerr=xerr[:, is_ul], color=points.lines[0].get_color())
    ax.set_xlabel("Time [MJD]")
    ax.set_ylabel(f"{sed_type} [{y.unit.to_string()}]")
    return ax
