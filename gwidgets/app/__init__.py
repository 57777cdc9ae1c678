"""Dashboards composed of gwidgets views."""
from .dashboard import Dashboard

__all__ = ["Dashboard"]
