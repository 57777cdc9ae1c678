"""SEDView: the model's E² dN/dE with its 1σ band from the fit covariance, and flux points.

* The band is the core's ``spectral_model.sed_error(energy, "e2dnde",
  method="linear")`` (the covariance `Fit` attached to the model, propagated to
  first order, so that it follows slider moves at once); it is drawn once a
  successful fit has given the model a covariance.
* `SEDView.set_flux_points` takes an astropy Table in the GADF SED format
  (``e_ref`` and ``dnde`` / ``dnde_err``, or ``e2dnde`` / ``e2dnde_err``) and
  draws it with error bars; upper limits (``is_ul``) as downward arrows from
  the UL value (a stem down to half of it, with a downward head), never as
  points with error bars.

* The **Flux points** button asks the session for flux points
  (``session.flux_points``, computed in the worker on the fitted model) in
  ``n bins`` log-spaced bins between ``e_min`` and ``e_max``; the view draws
  ``session.flux_points_result`` whenever it changes.

The plot is one canvas (`CanvasFigure`, log axes laid out so that no tick label collides);
its *PNG* / *SVG* buttons save it, and from Python ``view.save("sed.png")`` / ``view.to_svg()``
give the same figure (matplotlib, `gwidgets.widgets.save_image`).

>>> import gwidgets as gw
>>> from gwidgets.app.first_look import default_analysis
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)       # all runs, ON region on the bright source, a fitted model "source"
>>> view = SEDView(session, source="source")
>>> view.flux_points_button.click()
>>> session.flux_points_result is not None
True
>>> view.set_flux_points(session.flux_points_result.to_table("e2dnde"))
"""
from __future__ import annotations

import html

import astropy.units as u
import ipywidgets as w
import numpy as np

from ..errors import GwidgetsError
from ._plot import energy_band_inputs, errorbar_xy, positive, read_energy_band, set_errorbars
from .base import SessionView
from .canvas_plot import CanvasFigure, CanvasFill, CanvasLines, CanvasScatter, Scale
from .save_image import SaveImageMixin

__all__ = ["SEDView", "flux_points_arrays", "upper_limit_arrows"]

E2_UNIT = u.Unit("TeV cm-2 s-1")
#: how the live band propagates the covariance (see `SpectralModel.evaluate_error`)
BAND_METHOD = "linear"
#: an upper-limit arrow runs from the UL value down to UL × UL_ARROW (log axes: a fixed length)
UL_ARROW = 0.5


def upper_limit_arrows(e, ul):
    """``(stem_x, stem_y, head_x, head_y)``: NaN-broken stems from each UL down to UL × `UL_ARROW`, heads there."""
    e, ul = positive(e, ul)
    stem_x, stem_y = errorbar_xy(e, ul * UL_ARROW, ul)
    return stem_x, stem_y, e, ul * UL_ARROW


def flux_points_arrays(table):
    """(e_ref [TeV], e2dnde, e2dnde_err, is_ul) from a GADF SED table; clear error if columns are missing."""
    cols = table.colnames
    if "e_ref" not in cols:
        raise GwidgetsError(f"Flux points table needs an 'e_ref' column (have: {', '.join(cols)})")
    e = u.Quantity(table["e_ref"]).to(u.TeV) if table["e_ref"].unit else table["e_ref"] * u.TeV
    if "e2dnde" in cols:
        e2 = u.Quantity(table["e2dnde"], E2_UNIT if table["e2dnde"].unit is None else None).to(E2_UNIT)
        err = u.Quantity(table["e2dnde_err"]).to(E2_UNIT) if "e2dnde_err" in cols else e2 * np.nan
    elif "dnde" in cols:
        dnde_unit = u.Unit("TeV-1 cm-2 s-1")
        dnde = u.Quantity(table["dnde"]).to(dnde_unit) if table["dnde"].unit else table["dnde"] * dnde_unit
        e2 = (e ** 2 * dnde).to(E2_UNIT)
        if "dnde_err" in cols:
            de = (u.Quantity(table["dnde_err"]).to(dnde_unit) if table["dnde_err"].unit
                  else table["dnde_err"] * dnde_unit)
            err = (e ** 2 * de).to(E2_UNIT)
        else:
            err = e2 * np.nan
    else:
        raise GwidgetsError(f"Flux points table needs 'dnde' or 'e2dnde' (have: {', '.join(cols)})")
    ul = np.asarray(table["is_ul"], bool) if "is_ul" in cols else np.zeros(len(table), bool)
    e2 = e2.value
    for col, scale in (("e2dnde_ul", None), ("dnde_ul", e ** 2)):  # upper limits drawn at their UL value
        if ul.any() and col in cols:
            q = u.Quantity(table[col])
            q = (q * scale if scale is not None else q).to_value(E2_UNIT)
            e2 = np.where(ul, q, e2)
            break
    return e.value, e2, err.value, ul


class SEDView(SaveImageMixin, SessionView):
    """Model SED (with error band after a fit) and flux points, bound to an `AnalysisSession`."""

    def __init__(self, session, source: str | None = None, energy_range=(0.03, 100.0), width: int = 520,
                 delay: float = 0.05, fp_range=(0.1, 30.0), fp_bins: int = 8, **kwargs):
        self.source = source
        self.energies = np.geomspace(*energy_range, 60)
        self.sx, self.sy = Scale(log=True, pad=0.03), Scale(log=True, pad=0.05)
        self.model_line = CanvasLines(color="#d62728", width=2, name="model")
        self.band = CanvasFill(color="#d62728", opacity=0.25, name="band")
        self.fp_bars = CanvasLines(color="#222", name="flux-point-errors")
        self.fp = CanvasScatter(color="#222", size=3.5, name="flux-points")
        self.fp_ul_stems = CanvasLines(color="#222", name="upper-limit-stems")
        self.fp_ul = CanvasScatter(color="#222", marker="triangle-down", size=5, name="upper-limits")
        self.figure = CanvasFigure([self.band, self.model_line, self.fp_bars, self.fp, self.fp_ul_stems, self.fp_ul],
                                   self.sx, self.sy, "E [TeV]", "E² dN/dE [TeV cm⁻² s⁻¹]", 280, width,
                                   "gw-sed-figure", name="sed")
        self.info = w.HTML()
        self.info.add_class("gw-sed-info")
        self.fp_info = w.HTML()
        self.fp_info.add_class("gw-sed-fp-info")
        self.e_min, self.e_max = energy_band_inputs(*fp_range)
        self.n_bins = w.BoundedIntText(value=fp_bins, min=1, max=100, description="n bins", layout=self.e_min.layout)
        self.flux_points_button = w.Button(description="Flux points", icon="chart-line",
                                           tooltip="compute flux points of the fitted model (worker thread)")
        self.flux_points_button.add_class("gw-sed-fp-button")
        self.flux_points_button.on_click(lambda _: self.compute_flux_points())
        super().__init__(session, [w.HTML("<b>SED</b> (model, 1σ band after a fit, flux points)"),
                                   w.HBox([self.flux_points_button, self.e_min, self.e_max, self.n_bins]),
                                   self.figure, self.info, self.fp_info], **kwargs)
        self._coalescer = self.coalescer(self.redraw, delay)
        self.watch(session, lambda _: self._coalescer.request(), ["model_version", "fit_result"])
        if hasattr(session, "flux_points_result"):
            self.watch(session, self._on_flux_points, "flux_points_result")
        self.add_class("gw-sed-view")
        self.redraw()
        self._on_flux_points()

    def energy_edges(self) -> u.Quantity:
        """The flux point bins chosen in the view: ``n bins`` log-spaced between e_min and e_max."""
        lo, hi = read_energy_band(self.e_min, self.e_max, "Flux points")
        return np.geomspace(lo, hi, int(self.n_bins.value) + 1) * u.TeV

    def compute_flux_points(self):
        """What the button does: ``session.flux_points`` (errors are shown in the page)."""
        with self.action("Flux points", clear=True):
            self.session.flux_points(self.energy_edges(), source=self.source)

    def _on_flux_points(self, *_):
        fp = getattr(self.session, "flux_points_result", None)
        if fp is not None:
            self.set_flux_points(fp.to_table("e2dnde"))

    def _spectral(self):
        models = self.session.models
        if models is None or len(models) == 0:
            return None, None
        m = models[self.source] if self.source is not None else models[0]
        return m.name, getattr(m, "spectral_model", m)

    def redraw(self):
        name, spectral = self._spectral()
        if spectral is None:
            self.info.value = "<i>No model.</i>"
            self.figure.render()
            return
        result = self.session.fit_result
        fitted = result is not None and result.success and spectral.covariance is not None
        energy = self.energies * u.TeV
        e2 = spectral.e2dnde(energy).to_value(E2_UNIT)
        with self.figure.hold_sync():
            self.model_line.x, self.model_line.y = self.energies, e2
            if fitted:
                # linear propagation: the band follows every slider move in ~1 ms (sampling takes ~50 ms);
                # the written plots use the sampled band (gammapy's evaluate_error)
                mid, errn, errp = spectral.sed_error(energy, "e2dnde", method=BAND_METHOD).to_value(E2_UNIT)
                self.band.x = np.concatenate([self.energies, self.energies[::-1]])
                self.band.y = np.concatenate([np.maximum(mid - errn, mid * 1e-3), (mid + errp)[::-1]])
            else:
                self.band.x, self.band.y = [], []
        self.figure.render()
        band = "with 1σ band from the fit covariance" if fitted else "no fit covariance yet"
        self.info.value = f"model '{html.escape(name)}' {band}"

    def set_flux_points(self, table):
        """Draw flux points from an astropy Table (GADF SED columns, see the module docs)."""
        e, e2, err, ul = flux_points_arrays(table)
        stem_x, stem_y, head_x, head_y = upper_limit_arrows(e[ul], e2[ul])
        with self.figure.hold_sync():
            set_errorbars(self.fp_bars, self.fp, e[~ul], e2[~ul], err[~ul], log=True)
            self.fp_ul_stems.x, self.fp_ul_stems.y = stem_x, stem_y
            self.fp_ul.x, self.fp_ul.y = head_x, head_y
        self.figure.render()
        self.fp_info.value = f"{int((~ul).sum())} flux points, {int(ul.sum())} upper limits"
