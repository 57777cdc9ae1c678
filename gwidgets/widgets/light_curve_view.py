"""LightCurveView: a light curve from an astropy Table in the GADF light-curve format.

Columns: ``time_min`` / ``time_max`` (MJD, or astropy Time columns) and a flux
quantity with its error — the first of ``flux``/``flux_err``, ``norm``/``norm_err``,
``dnde``/``dnde_err``, ``e2dnde``/``e2dnde_err`` present. Rows with ``is_ul``
are drawn as downward triangles at their UL value (``<quantity>_ul``, when
present). Several energy bins (2D columns) use the first.

With a session, the **Light curve** button asks it for a light curve
(``session.light_curve``: one bin per observation, in the band e_min–e_max,
computed in the worker on the fitted model) and the view draws
``session.light_curve_result`` whenever it changes.

The plot is one canvas (`CanvasFigure`, linear axes, time in MJD): each flux
point with its ±1σ bar and a horizontal bar over its time bin, each upper
limit as a downward triangle; its *PNG* / *SVG* buttons save it, and
``view.save("light-curve.png")`` / ``view.to_svg()`` give the same figure from Python.

>>> import gwidgets as gw
>>> from gwidgets.app.first_look import default_analysis
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)       # all runs, ON region on the bright source, a fitted model "source"
>>> LightCurveView(session).light_curve_button.click()
>>> len(session.light_curve_result.to_table())      # one bin per observation
20
>>> view = LightCurveView()                            # without a session: draws a table
>>> view.set_table(session.light_curve_result.to_table())
"""
from __future__ import annotations

import html

import astropy.units as u
import ipywidgets as w
import numpy as np

from ..errors import GwidgetsError
from ._plot import energy_band_inputs, read_energy_band, set_errorbars
from .base import SessionView
from .canvas_plot import CanvasFigure, CanvasLines, CanvasScatter, Scale
from .save_image import SaveImageMixin

__all__ = ["LightCurveView", "light_curve_arrays", "LC_QUANTITIES"]

#: flux-like columns, in order of preference
LC_QUANTITIES = ("flux", "norm", "dnde", "e2dnde")


def _mjd(col):
    if hasattr(col, "mjd"):
        return np.asarray(col.mjd, float)
    return np.asarray(getattr(col, "value", col), float)


def _first_bin(col):
    a = np.asarray(getattr(col, "value", col), float)
    return a.reshape(len(a), -1)[:, 0] if a.ndim > 1 else a


def light_curve_arrays(table):
    """(t_mid, t_half_width [MJD], value, error, is_ul, quantity name, unit) from a GADF light-curve table."""
    cols = table.colnames
    missing = [c for c in ("time_min", "time_max") if c not in cols]
    if missing:
        raise GwidgetsError(f"Light-curve table needs {missing} (have: {', '.join(cols)})")
    name = next((q for q in LC_QUANTITIES if q in cols), None)
    if name is None:
        raise GwidgetsError(f"Light-curve table needs one of {list(LC_QUANTITIES)} (have: {', '.join(cols)})")
    t0, t1 = _mjd(table["time_min"]), _mjd(table["time_max"])
    value = _first_bin(table[name])
    err = _first_bin(table[f"{name}_err"]) if f"{name}_err" in cols else np.full_like(value, np.nan)
    ul = _first_bin(table["is_ul"]).astype(bool) if "is_ul" in cols else np.zeros(len(value), bool)
    if ul.any() and f"{name}_ul" in cols:  # upper limits are drawn at their UL value, not at the measured one
        value = np.where(ul, _first_bin(table[f"{name}_ul"]), value)
    unit = str(getattr(table[name], "unit", "") or "")
    return (t0 + t1) / 2, (t1 - t0) / 2, value, err, ul, name, unit


class LightCurveView(SaveImageMixin, SessionView):
    """Light curve from a table or from a session (see the module docs); shows nothing until there is one."""

    def __init__(self, session=None, width: int = 520, band=(1.0, 100.0), **kwargs):
        self.sx, self.sy = Scale(pad=0.03), Scale(pad=0.08)
        self.bins = CanvasLines(color="#1f77b4", name="time-bins")
        self.bars = CanvasLines(color="#1f77b4", name="flux-errors")
        self.points = CanvasScatter(color="#1f77b4", size=3.5, name="flux-points")
        self.uls = CanvasScatter(color="#1f77b4", marker="triangle-down", size=5, name="upper-limits")
        self.figure = CanvasFigure([self.bins, self.bars, self.points, self.uls], self.sx, self.sy, "time [MJD]",
                                   "flux", 240, width, "gw-lc-figure", name="light-curve")
        self.info = w.HTML("<i>No light curve yet.</i>")
        self.info.add_class("gw-lc-info")
        self.e_min, self.e_max = energy_band_inputs(*band)
        self.light_curve_button = w.Button(description="Light curve", icon="clock",
                                           tooltip="flux per observation of the fitted model (worker thread)",
                                           disabled=session is None)
        self.light_curve_button.add_class("gw-lc-button")
        self.light_curve_button.on_click(lambda _: self.compute_light_curve())
        controls = [w.HBox([self.light_curve_button, self.e_min, self.e_max])] if session is not None else []
        super().__init__(session, [w.HTML("<b>Light curve</b>"), *controls, self.figure, self.info],
                         **kwargs)
        self.add_class("gw-lc-view")
        if session is not None:
            self.watch(session, self._on_light_curve, "light_curve_result")
            self._on_light_curve()

    def compute_light_curve(self):
        """What the button does: ``session.light_curve`` per observation (errors are shown in the page)."""
        with self.action("Light curve", clear=True):
            lo, hi = read_energy_band(self.e_min, self.e_max, "Light curve")
            self.session.light_curve(energy_edges=[lo, hi] * u.TeV)

    def _on_light_curve(self, *_):
        lc = self.session.light_curve_result
        if lc is not None:
            self.set_table(lc.band(0))

    def set_table(self, table):
        """Draw a light curve from an astropy Table in the GADF format (see `light_curve_arrays`).

        Parameters
        ----------
        table : astropy.table.Table
            ``time_min`` / ``time_max`` and a flux-like column (`LC_QUANTITIES`) with its ``_err``;
            ``is_ul`` rows are drawn as triangles at ``<quantity>_ul`` when present.

        Raises
        ------
        GwidgetsError
            When a needed column is missing (named, with the columns present).
        """
        t, half, value, err, ul, name, unit = light_curve_arrays(table)
        ok = ~ul
        nan = np.full(ok.sum(), np.nan)
        set_errorbars(self.bars, self.points, t[ok], value[ok], err[ok])
        self.bins.x = np.stack([t[ok] - half[ok], t[ok] + half[ok], nan], 1).ravel()  # horizontal: the time bins
        self.bins.y = np.stack([value[ok], value[ok], nan], 1).ravel()
        self.uls.x, self.uls.y = t[ul], value[ul]
        self.figure.y_label = f"{name} [{unit}]" if unit else name
        self.figure.render()
        self.info.value = f"{int(ok.sum())} points, {int(ul.sum())} upper limits ({html.escape(name)})"
