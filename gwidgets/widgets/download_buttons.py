"""SaveButtons: a row of small *PNG* / *SVG* buttons whose files the kernel makes and the browser downloads.

For views whose image is not a `~gwidgets.widgets.canvas_plot.CanvasFigure`
(those have the buttons built in): the 3D map (drawn by matplotlib in the
kernel, `~gwidgets.widgets.map_figure`) and the Aladin view (whose picture the
page makes and sends to the kernel first). A click sends ``{"event": "save",
"format": fmt}`` to the kernel; the kernel calls the handler given to `on_save`
and sends the bytes back (`send_file`, one binary buffer), which the page saves
as a download named ``<name>.<fmt>``. ``data-saved`` on the element is the name of
the last file downloaded, ``data-asked`` the format last asked (tests).

>>> buttons = SaveButtons("map", formats=("png", "svg"))
>>> made = []
>>> buttons.on_save(lambda fmt: made.append(fmt) or b"...")
>>> buttons.handle_message({"event": "save", "format": "svg"})   # what a click on SVG sends
>>> made
['svg']
"""
from __future__ import annotations

from collections.abc import Callable

import traitlets as t

__all__ = ["SaveButtons", "MIME"]

#: format -> MIME type of the download
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "jpeg": "image/jpeg"}

ESM = r"""
export default {
  render({ model, el }) {
    const bar = document.createElement("div");
    bar.style.cssText = "display:flex;gap:2px;justify-content:flex-end";
    const css = model.get("css_prefix");
    for (const fmt of model.get("formats")) {
      const b = document.createElement("button");
      b.textContent = fmt.toUpperCase();
      b.className = `${css}-${fmt}`;
      b.title = model.get("tooltips")[fmt] || `save as ${fmt.toUpperCase()}`;
      b.style.cssText = "font:11px sans-serif;padding:1px 6px;border:1px solid #bbb;background:#fff;cursor:pointer";
      b.onclick = ev => { ev.stopPropagation(); el.dataset.asked = fmt; model.send({event: "save", format: fmt}); };
      bar.appendChild(b);
    }
    el.appendChild(bar);
    model.on("msg:custom", (msg, buffers) => {
      if (!msg || msg.kind !== "file" || !buffers || !buffers.length) return;
      const v = buffers[0], bytes = v.buffer ? new Uint8Array(v.buffer, v.byteOffset || 0, v.byteLength) : v;
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([bytes], {type: msg.mime}));
      a.download = msg.name; document.body.appendChild(a); a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      el.dataset.saved = msg.name;
    });
  }
};
"""


def _widget_base():
    import anywidget

    return anywidget.AnyWidget


class SaveButtons(_widget_base()):
    """Buttons that download a file the kernel makes (see the module doc).

    Parameters
    ----------
    name : str
        File name of the downloads, without suffix.
    formats : sequence of str
        One button per format, in this order (keys of `MIME`).
    css_prefix : str, optional
        The buttons' CSS classes are ``<css_prefix>-<format>`` (default ``gw-<name>-save``).
    tooltips : dict, optional
        format -> tooltip.
    """

    _esm = ESM
    name = t.Unicode("figure").tag(sync=True)
    formats = t.List(t.Unicode()).tag(sync=True)
    css_prefix = t.Unicode("").tag(sync=True)
    tooltips = t.Dict().tag(sync=True)

    def __init__(self, name: str, formats=("png", "svg"), css_prefix: str | None = None, tooltips=None, **kwargs):
        unknown = [f for f in formats if f not in MIME]
        if unknown:
            raise ValueError(f"SaveButtons cannot offer {unknown}: known formats are {', '.join(MIME)}")
        super().__init__(name=name, formats=list(formats), css_prefix=css_prefix or f"gw-{name}-save",
                         tooltips=dict(tooltips or {}), **kwargs)
        self._handler: Callable[[str], bytes | None] | None = None
        self.on_msg(lambda _, content, buffers: self.handle_message(content))

    def on_save(self, handler: Callable[[str], bytes | None]):
        """Call ``handler(fmt)`` on a click; bytes it returns are downloaded at once.

        Parameters
        ----------
        handler : callable
            ``handler(fmt) -> bytes or None``. A handler that returns None sends the file later itself
            (`send_file`), e.g. once the page has made the picture.
        """
        self._handler = handler

    def handle_message(self, content: dict):
        """Do what the page's message asks for: ``{"event": "save", "format": fmt}`` calls the handler.

        Parameters
        ----------
        content : dict
            The message; others, and formats not offered, are ignored.
        """
        if not isinstance(content, dict) or content.get("event") != "save" or self._handler is None:
            return
        fmt = str(content.get("format", ""))
        if fmt not in self.formats:
            return
        data = self._handler(fmt)
        if data is not None:
            self.send_file(data, fmt)

    def send_file(self, data: bytes, fmt: str, name: str | None = None):
        """Have the page download ``data`` as ``<name>.<fmt>``.

        Parameters
        ----------
        data : bytes
            The file's content (sent as one binary buffer).
        fmt : str
            Its format: the suffix, and the MIME type (`MIME`).
        name : str, optional
            File name without suffix (default ``self.name``).
        """
        self.send({"kind": "file", "name": f"{name or self.name}.{fmt}", "mime": MIME.get(fmt, "")},
                  buffers=[bytes(data)])
