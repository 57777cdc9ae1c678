"""The observable analysis session shared by all widgets."""
from .graph import Graph
from .session import AnalysisSession
from .worker import Worker

__all__ = ["AnalysisSession", "Graph", "Worker"]
