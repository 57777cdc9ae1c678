"""SpectrumView: counts, background and excess spectra of the session's datasets (no model).

Shows one dataset (chosen in the selector) or the sum of all of them;
redraws when ``session.datasets`` changes (new selection, moved ON region).
The plot is one canvas (`CanvasFigure`, log-log): counts and background as
step lines over the energy bins, the excess as points with ±1σ error bars
(the datasets' ``excess_error``); its *PNG* / *SVG* buttons save it, and
``view.save("spectrum.png")`` / ``view.to_svg()`` give the same figure from Python.

>>> import gwidgets as gw
>>> from gwidgets.app.first_look import default_analysis
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)       # all runs, ON region on the bright source, a fitted model "source"
>>> view = SpectrumView(session)
>>> edges, counts, *_ = spectrum_arrays(session.datasets, view.dataset.value)
>>> bool(np.array_equal(view.counts.y[0::2], np.where(counts > 0, counts, np.nan), equal_nan=True))
True
"""
from __future__ import annotations

import html

import ipywidgets as w
import numpy as np

from ._plot import set_errorbars, step_xy
from .base import SessionView
from .canvas_plot import CanvasFigure, CanvasLines, CanvasScatter, Scale
from .save_image import SaveImageMixin

__all__ = ["SpectrumView", "SUM", "spectrum_arrays"]

#: selector entry summing all datasets (same energy binning required)
SUM = "all datasets (sum)"


def spectrum_arrays(datasets, which: str):
    """(energy_edges, counts, background, excess, excess_err, n) of one dataset or of the sum of all.

    The sum is over the ``n`` datasets with the first one's binning, in the safe range; the errors are the
    datasets' `excess_error` added in quadrature.
    """
    chosen = list(datasets) if which == SUM else [datasets[which]]
    edges = chosen[0].energy_edges
    chosen = [d for d in chosen if len(d.energy_edges) == len(edges) and np.allclose(d.energy_edges, edges)]
    counts = sum(d.counts * d.mask_safe for d in chosen)
    bkg = sum((d.background if d.background is not None else 0 * d.counts) * d.mask_safe for d in chosen)
    var = sum(d.excess_error ** 2 * d.mask_safe for d in chosen)
    return edges, counts, bkg, counts - bkg, np.sqrt(var), len(chosen)


class SpectrumView(SaveImageMixin, SessionView):
    """Counts / background / excess spectra bound to ``session.datasets``."""

    def __init__(self, session, width: int = 520, **kwargs):
        self.sx, self.sy = Scale(log=True), Scale(log=True)
        self.counts = CanvasLines(color="#444", name="counts")
        self.background = CanvasLines(color="#ff7f0e", dash=True, name="background")
        self.excess_bars = CanvasLines(color="#1f77b4", name="excess-errors")
        self.excess = CanvasScatter(color="#1f77b4", size=3.5, name="excess")
        self.figure = CanvasFigure([self.counts, self.background, self.excess_bars, self.excess], self.sx, self.sy,
                                   "E [TeV]", "counts", 260, width, "gw-spectrum-figure", name="spectrum")
        self.dataset = w.Dropdown(options=[], description="spectrum", layout=w.Layout(width="300px"))
        self.dataset.add_class("gw-spectrum-dataset")
        self.info = w.HTML()
        self.info.add_class("gw-spectrum-info")
        self.dataset.observe(lambda _: self.redraw(), "value")
        legend = w.HTML("<span style='color:#444'>— counts</span> &nbsp; <span style='color:#ff7f0e'>-- background"
                        "</span> &nbsp; <span style='color:#1f77b4'>● excess</span>")
        super().__init__(session, [w.HBox([w.HTML("<b>Spectrum</b>"), self.dataset]), legend,
                                   self.figure, self.info],
                         **kwargs)
        self.add_class("gw-spectrum-view")
        self.watch(session, self._on_datasets, "datasets")
        self._on_datasets()

    def _on_datasets(self, *_):
        ds = self.session.datasets
        names = ([SUM] if ds is not None and len(ds) > 1 else []) + (list(ds.names) if ds is not None else [])
        if list(self.dataset.options) != names:
            self.dataset.options = names
            if names:
                self.dataset.value = names[0]
        self.redraw()

    def redraw(self):
        ds = self.session.datasets
        if ds is None or len(ds) == 0 or self.dataset.value is None:
            self.info.value = "<i>No spectra yet: select observations and place an ON region.</i>"
            return
        edges, counts, bkg, excess, err, n = spectrum_arrays(ds, self.dataset.value)
        x = np.sqrt(edges[:-1] * edges[1:])
        self.counts.x, self.counts.y = step_xy(edges, counts, log=True)
        self.background.x, self.background.y = step_xy(edges, bkg, log=True)
        set_errorbars(self.excess_bars, self.excess, x, excess, err, log=True)
        self._set_ranges(edges, counts, bkg, excess, err)
        self.figure.render()
        self.info.value = (f"{html.escape(str(self.dataset.value))}: {n} dataset(s), counts {counts.sum():.0f}, "
                           f"background {bkg.sum():.1f}, excess {excess.sum():.1f} (safe range)")

    def _set_ranges(self, edges, counts, bkg, excess, err):
        """The bins' energy range; y from 0.3 × the smallest positive value to 2 × the highest bar.

        Error bars of small excesses reach far down on a log axis: they are cut at the frame, not allowed
        to squeeze the data into the top of the plot.
        """
        values = np.concatenate([counts, bkg, excess])
        pos = values[np.isfinite(values) & (values > 0)]
        top = np.concatenate([counts, excess + err])
        top = top[np.isfinite(top)]
        hi = float(top.max()) * 2.0 if top.size and top.max() > 0 else 10.0
        lo = float(pos.min()) * 0.3 if pos.size else hi * 1e-3
        self.sx.min, self.sx.max = float(edges[0]), float(edges[-1])
        self.sy.min, self.sy.max = max(lo, hi * 1e-6), hi
