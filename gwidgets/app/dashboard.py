"""The dashboard: all views over one session; the same object runs in a notebook and in Voilà.

>>> from gwidgets.app import Dashboard
>>> Dashboard()            # the simulated example data set          # doctest: +SKIP
>>> Dashboard("../shared/data/hess-dl3-dr1")                          # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

import ipywidgets as w

from ..core.data import DataStore
from ..state import AnalysisSession
from ..widgets import FitView, ObservationBrowser, SEDView, SkyView, SpectrumView, StatusBar
from ..widgets.model_editor import ModelEditor, default_models

__all__ = ["Dashboard"]


class Dashboard(w.VBox):
    """Observation browser + sky view/region editor + model editor + fit view + spectrum / SED views + status
    (errors shown in the page), over one `AnalysisSession`.

    Parameters
    ----------
    store : DataStore, path or None
        None opens the simulated example data store.
    session : AnalysisSession, optional
        Reuse an existing session (its store wins).
    """

    def __init__(self, store=None, session: AnalysisSession | None = None, **kwargs):
        if session is None:
            if store is None:
                from ..core.simulate.example import example_store

                store = example_store()
            elif isinstance(store, (str, Path)):
                store = DataStore.from_dir(store)
            session = AnalysisSession(store, background=True)
        self.session = session
        self.status = StatusBar(session)
        self.browser = ObservationBrowser(session, layout=w.Layout(width="46%"))
        self.sky = SkyView(session)
        if session.models is None:
            session.set_models(default_models(session))
        self.models = ModelEditor(session)
        self.fit = FitView(session, show_errors=False)  # the StatusBar shows the errors
        self.spectrum = SpectrumView(session)
        self.sed = SEDView(session)
        title = w.HTML(f"<h3 style='margin:4px 0'>gwidgets — {session.store.name or 'data store'}</h3>")
        super().__init__([title, self.status, w.HBox([self.browser, self.sky]), self.models,
                          w.HBox([self.fit, w.VBox([self.spectrum, self.sed])])], **kwargs)
        self.add_class("gw-dashboard")
