"""Views over an `AnalysisSession` (ipywidgets + bqplot). Each widget talks only to the session."""
from .observation_browser import ObservationBrowser
from .sky_view import SkyView
from .status import StatusBar

__all__ = ["ObservationBrowser", "SkyView", "StatusBar"]
