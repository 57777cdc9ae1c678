"""Views over an `AnalysisSession` (ipywidgets, canvas plots). Each widget talks only to the session.

Every view derives from `SessionView` (`gwidgets.widgets.base`): errors in the page, busy state, teardown.
"""
from .._lazy import lazy_exports

# each view loads on first use: the dashboard imports the views of its visible panels, and those of its
# other tabs (spectrum, SED, light curve, export) when the tab is opened (memory of every dashboard kernel)
_LAZY = {
    "SessionView": ".base", "ExportPanel": ".export_panel", "FitView": ".fit_view",
    "LightCurveView": ".light_curve_view", "ModelEditor": ".model_editor", "ObservationBrowser": ".observation_browser",
    "SEDView": ".sed_view", "SkyView": ".sky_view", "SpectrumView": ".spectrum_view", "StatusBar": ".status",
}

__all__ = ["ExportPanel", "FitView", "LightCurveView", "ModelEditor", "ObservationBrowser", "SEDView", "SessionView",
           "SkyView", "SpectrumView", "StatusBar"]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
