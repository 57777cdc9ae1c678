"""Dashboards composed of gwidgets views (imported lazily: the CLI must start fast)."""
from __future__ import annotations

__all__ = ["Dashboard"]


def __getattr__(name):
    if name == "Dashboard":
        from .dashboard import Dashboard

        return Dashboard
    raise AttributeError(f"module 'gwidgets.app' has no attribute '{name}'")
