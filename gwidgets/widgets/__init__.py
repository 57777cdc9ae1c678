"""Views over an `AnalysisSession` (ipywidgets + bqplot). Each widget talks only to the session."""
from .model_editor import ModelEditor
from .observation_browser import ObservationBrowser
from .sky_view import SkyView
from .status import StatusBar

__all__ = ["ModelEditor", "ObservationBrowser", "SkyView", "StatusBar"]
