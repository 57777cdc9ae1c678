"""SpectrumView: counts, background and excess spectra of the session's datasets (no model).

Shows one dataset (chosen in the selector) or the sum of all of them;
redraws when ``session.datasets`` changes (new selection, moved ON region).

>>> import gwidgets as gw
>>> from gwidgets.app.first_look import default_analysis
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)       # all runs, ON region on the bright source, a fitted model "source"
>>> view = SpectrumView(session)
"""
from __future__ import annotations

import html

import ipywidgets as w
import numpy as np

from ._plot import figure, set_errorbars
from .base import SessionView
from .save_image import SaveImageMixin, with_save_buttons

__all__ = ["SpectrumView", "SUM"]

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
        import bqplot as bq

        self.sx, self.sy = bq.LogScale(), bq.LogScale()
        sc = {"x": self.sx, "y": self.sy}
        self.counts = bq.Lines(x=[], y=[], scales=sc, colors=["#444"], interpolation="step-after", labels=["counts"])
        self.background = bq.Lines(x=[], y=[], scales=sc, colors=["#ff7f0e"], interpolation="step-after",
                                   line_style="dashed", labels=["background"])
        self.excess_bars = bq.Lines(x=[], y=[], scales=sc, colors=["#1f77b4"])
        self.excess = bq.Scatter(x=[], y=[], scales=sc, colors=["#1f77b4"], default_size=14, labels=["excess"])
        self.figure = figure([self.counts, self.background, self.excess_bars, self.excess], self.sx, self.sy,
                             "E [TeV]", "counts", 260, width, "gw-spectrum-figure")
        self.dataset = w.Dropdown(options=[], description="spectrum", layout=w.Layout(width="300px"))
        self.dataset.add_class("gw-spectrum-dataset")
        self.info = w.HTML()
        self.info.add_class("gw-spectrum-info")
        self.dataset.observe(lambda _: self.redraw(), "value")
        legend = w.HTML("<span style='color:#444'>— counts</span> &nbsp; <span style='color:#ff7f0e'>-- background"
                        "</span> &nbsp; <span style='color:#1f77b4'>● excess</span>")
        super().__init__(session, [w.HBox([w.HTML("<b>Spectrum</b>"), self.dataset]), legend,
                                   with_save_buttons(self.figure), self.info],
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
        with self.figure.hold_sync():
            self.counts.x, self.counts.y = edges[:-1], np.where(counts > 0, counts, np.nan)
            self.background.x, self.background.y = edges[:-1], np.where(bkg > 0, bkg, np.nan)
            set_errorbars(self.excess_bars, self.excess, x, excess, err, log=True)
        self.info.value = (f"{html.escape(str(self.dataset.value))}: {n} dataset(s), counts {counts.sum():.0f}, "
                           f"background {bkg.sum():.1f}, excess {excess.sum():.1f} (safe range)")
