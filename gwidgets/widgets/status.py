"""StatusBar: shows the session's status, busy state and errors in the page (not the browser console)."""
from __future__ import annotations

import html

import ipywidgets as w

from .base import SessionView

__all__ = ["StatusBar"]


class StatusBar(SessionView):
    """The error banner for every view of the page, and the status line.

    Bound to ``session.error`` / ``session.status`` / ``session.busy``; **dismiss** clears the error.
    """

    def __init__(self, session, **kwargs):
        self.status = w.HTML()
        self.status.add_class("gw-status")
        self.dismiss = w.Button(description="dismiss", layout=w.Layout(width="80px", display="none"))
        self.dismiss.on_click(lambda _: setattr(self.session, "error", ""))
        super().__init__(session, [w.HBox([self.dismiss, self.status])], show_errors=True, **kwargs)
        self.watch(session, self._update_status, ["status", "busy"])
        self._update_status()

    def show_error(self, *_):
        super().show_error()
        self.dismiss.layout.display = "" if self.session.error else "none"

    def _update_status(self, *_):
        busy = "⏳ " if self.session.busy else ""
        self.status.value = f'<span style="color:#555">{busy}{html.escape(self.session.status)}</span>'
