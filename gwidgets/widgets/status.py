"""StatusBar: shows the session's status, busy state and errors in the page (not the browser console)."""
from __future__ import annotations

import html

import ipywidgets as w

__all__ = ["StatusBar"]


class StatusBar(w.VBox):
    """Error area + status line, bound to ``session.error`` / ``session.status`` / ``session.busy``."""

    def __init__(self, session, **kwargs):
        self.session = session
        self.error_box = w.HTML()
        self.error_box.add_class("gw-error")
        self.status = w.HTML()
        self.status.add_class("gw-status")
        self.dismiss = w.Button(description="dismiss", layout=w.Layout(width="80px", display="none"))
        self.dismiss.on_click(lambda _: setattr(self.session, "error", ""))
        session.observe(self._update, ["error", "status", "busy"])
        super().__init__([w.HBox([self.error_box, self.dismiss]), self.status], **kwargs)
        self._update()

    def _update(self, *_):
        err = self.session.error
        if err:
            self.error_box.value = (
                '<div style="background:#fdecea;color:#611a15;border-left:4px solid #f44336;'
                f'padding:4px 8px;font-family:sans-serif"><b>Error:</b> {html.escape(err)}</div>'
            )
            self.dismiss.layout.display = ""
        else:
            self.error_box.value = ""
            self.dismiss.layout.display = "none"
        busy = "⏳ " if self.session.busy else ""
        self.status.value = f'<span style="color:#555">{busy}{html.escape(self.session.status)}</span>'
