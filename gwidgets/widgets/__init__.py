"""Views over an `AnalysisSession` (ipywidgets, canvas plots, bqplot). Each widget talks only to the session.

Every view derives from `SessionView` (`gwidgets.widgets.base`): errors in the page, busy state, teardown.
"""
from .base import SessionView
from .export_panel import ExportPanel
from .fit_view import FitView
from .light_curve_view import LightCurveView
from .model_editor import ModelEditor
from .observation_browser import ObservationBrowser
from .sed_view import SEDView
from .sky_view import SkyView
from .spectrum_view import SpectrumView
from .status import StatusBar

__all__ = ["ExportPanel", "FitView", "LightCurveView", "ModelEditor", "ObservationBrowser", "SEDView", "SessionView",
           "SkyView", "SpectrumView", "StatusBar"]
