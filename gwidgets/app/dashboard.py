"""The dashboard: all views over one session; the same object runs in a notebook and in Voilà.

>>> import gwidgets as gw
>>> from gwidgets.app import Dashboard
>>> dashboard = Dashboard()            # the simulated example data set
>>> Dashboard(gw.data_path("hess-dl3-dr1"))   # after `gwidgets download hess-dl3-dr1`   # doctest: +SKIP

First paint: the browser must create a model and a view for every widget
before the page shows anything, so only the panels seen at once are built
with the page (observation list, sky map, model editor, fit view); the
spectrum, SED, 3D maps and Aladin panels sit in tabs of a `LazyTabs` and are built
the first time their tab is opened (or their attribute is read).
"""
from __future__ import annotations

from pathlib import Path

import ipywidgets as w

from ..core.data import DataStore
from ..state import AnalysisSession
from .lazy_tabs import LazyTabs

__all__ = ["Dashboard"]


class Dashboard(w.VBox):
    """The dashboard: every view over one `AnalysisSession`.

    Observation browser + sky view/region editor + model editor + fit view + spectrum / SED / Aladin tabs
    + status (errors shown in the page).

    Parameters
    ----------
    store : DataStore, path or None
        None opens the simulated example data store.
    session : AnalysisSession, optional
        Reuse an existing session (its store wins).
    aladin : bool
        Add the Aladin Lite tab (built on first opening; a note + nothing else when ipyaladin is missing).
    first_look : bool
        Open with an analysis done (`gwidgets.app.first_look`): all observations selected, the ON region
        on the main source, the default model fitted — computed in the session's worker after the
        widgets are built, so the page is not held up — and a banner saying so (``self.banner``).
    first_look_start : {"auto", "now", "shown"}
        When the first look's computations start: at once, or when the browser has displayed the
        dashboard's tabs; "auto" waits only in a Voilà kernel started for a waiting page (see
        `gwidgets.app.first_look.start_when`).
    """

    def __init__(self, store=None, session: AnalysisSession | None = None, aladin: bool = True,
                 first_look: bool = False, first_look_start: str = "auto", **kwargs):
        from ..widgets.fit_view import FitView
        from ..widgets.model_editor import ModelEditor, default_models
        from ..widgets.observation_browser import ObservationBrowser
        from ..widgets.sky_view import SkyView
        from ..widgets.status import StatusBar

        if session is None:
            if store is None:
                from ..core.simulate.example import example_store

                store = example_store()
            elif isinstance(store, (str, Path)):
                store = DataStore.from_dir(store)
            session = AnalysisSession(store, background=True)
        self.session = session
        #: what the first look chose (`FirstLook`), None without it
        self.first_look = None
        self.banner = None  # the first look's banner (an HTML line)
        if first_look:
            self._apply_first_look()
        self.status = StatusBar(session)
        self.browser = ObservationBrowser(session, layout=w.Layout(width="46%"))
        self.sky = SkyView(session)
        if session.models is None:
            session.set_models(default_models(session))
        self.models = ModelEditor(session)
        self.fit_view = FitView(session, show_errors=False)  # the StatusBar shows the errors
        panels = [("Fit", lambda: self.fit_view), ("Spectrum", self._make_spectrum), ("SED", self._make_sed),
                  ("3D maps", self._make_maps)]
        if aladin:
            panels.append(("Aladin sky", self._make_aladin))
        self.tabs = LazyTabs(panels)
        self.tabs.add_class("gw-dashboard-tabs")
        title = w.HTML(f"<h3 style='margin:4px 0'>gwidgets — {session.store.name or 'data store'}</h3>")
        header = [title, self.banner] if self.first_look is not None else [title]
        super().__init__([*header, self.status, w.HBox([self.browser, self.sky]), self.models, self.tabs], **kwargs)
        self.add_class("gw-dashboard")
        from ..widgets._share import share_defaults

        #: widget models removed before the first paint (one shared read-only instance per default
        #: Layout / Style class)
        self.n_shared_models = share_defaults(self)
        if self.first_look is not None:
            from .first_look import start_first_look

            # the session's worker computes; the views update as the results arrive
            self.first_look_started = start_first_look(session, self.tabs, first_look_start)

    def close(self):
        """Close the dashboard: every view stops observing the session, and the page's widgets are closed.

        The session stays usable (another dashboard or a script can take it over).
        """
        from ..widgets.base import close_tree

        for child in list(self.children):
            close_tree(child)
        super().close()

    def _apply_first_look(self):
        from .first_look import apply_first_look, banner_html

        with self.session.capture_errors():  # a store the first look cannot handle still opens, with the reason
            self.first_look = apply_first_look(self.session)
            self.banner = w.HTML(banner_html(self.first_look, self.session.store.name))
            self.banner.add_class("gw-first-look")

    # ------------------------------------------------------- lazy panels
    def _make_spectrum(self):
        from ..widgets.spectrum_view import SpectrumView

        return SpectrumView(self.session)

    def _make_sed(self):
        from ..widgets.sed_view import SEDView

        return SEDView(self.session)

    def _make_maps(self):
        """The 3D mode: a `MapSession` following this session, and its `MapView`.

        The selected runs are stacked into a MapDataset in the 3D session's worker when the tab opens.
        """
        from ..state.map_session import MapSession
        from ..widgets.map_view import MapView

        self.map_session = MapSession.from_analysis(self.session)
        view = MapView(self.map_session, show_errors=True)
        if self.session.selection:
            view.build()
        return view

    def _make_aladin(self):
        from ..widgets.aladin_view import AladinView

        return AladinView(self.session)

    @property
    def spectrum(self):
        """The `SpectrumView` (built now if its tab was never opened)."""
        return self.tabs.panel("Spectrum")

    @property
    def sed(self):
        """The `SEDView` (built now if its tab was never opened)."""
        return self.tabs.panel("SED")

    @property
    def maps(self):
        """The 3D `MapView` (built now, and its dataset reduced, if its tab was never opened)."""
        return self.tabs.panel("3D maps")

    @property
    def aladin(self):
        """The `AladinView` (built now if its tab was never opened)."""
        return self.tabs.panel("Aladin sky")
