"""AladinView: the session's pointings and regions over a HiPS sky survey (ipyaladin / Aladin Lite).

A view like the others: it only observes the session (``selection``,
``on_region``, ``off_regions``, ``exclusion_regions``) and redraws its overlays.

Offline-safe by construction:

* Aladin Lite's JavaScript comes from a local copy (`~gwidgets.widgets.aladin_assets`),
  inlined into the widget module, never from the CDN ipyaladin uses;
* without that copy (or without ipyaladin) the panel is a short note with a
  *Download Aladin Lite* button, and the canvas sky view keeps showing the same
  regions: nothing else on the page changes;
* survey tiles that cannot be fetched leave the background grey; the overlays
  are drawn all the same.

Overlays are sent only once the widget reports it has loaded (``_is_loaded``),
then redrawn whole on every change, so nothing piles up in ipyaladin's queue
while the page is closed or the script never loads.

**Saving the view.** Aladin Lite makes the picture itself, in the page
(``getViewData``: the survey, the overlays and the markers as shown, with its
logo): the *PNG* button over the view asks the page for it through the kernel
and downloads it; from Python, ``view.save("sky.png")`` has it written there.
Both are a round trip through the page, so the file arrives once the page has
answered (after the cell that asked has finished, in a notebook); ``on_saved``
is told when. Offline the survey is grey, the regions and markers are drawn.

>>> import gwidgets as gw
>>> from gwidgets.app.first_look import default_analysis
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)       # all runs, ON region on the bright source, a fitted model "source"
>>> from gwidgets.widgets.aladin_view import AladinView
>>> view = AladinView(session)
"""
from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import ipywidgets as w

from ..errors import GwidgetsError
from .aladin_assets import ALADIN_LITE_VERSION, AladinAssetError, fetch_aladin_js, find_aladin_js, local_widget_esm
from .base import SessionView
from .download_buttons import SaveButtons

__all__ = ["AladinView"]

#: overlay name -> Aladin Lite graphic options
STYLES = {
    "gw-on": {"color": "#00e676", "line_width": 2},
    "gw-off": {"color": "#40c4ff", "line_width": 1},
    "gw-exclusion": {"color": "#ff5252", "line_width": 1},
}
POINTINGS = "gw-pointings"
#: image formats Aladin Lite can make
IMAGE_FORMATS = ("png", "jpeg", "webp")
_CLASSES: dict[str, type] = {}


def _aladin_class(esm: str) -> type:
    """An ipyaladin ``Aladin`` subclass whose widget module is ``esm`` (one class per module text)."""
    cls = _CLASSES.get(esm)
    if cls is None:
        from ipyaladin import Aladin

        doc = "ipyaladin's Aladin with Aladin Lite loaded from a local copy"
        cls = type("LocalAladin", (Aladin,), {"_esm": esm, "__module__": __name__, "__doc__": doc})
        _CLASSES.clear()
        _CLASSES[esm] = cls
    return cls


def _drawable(regions) -> list:
    """The regions Aladin Lite can draw (circles, ellipses, polygons, rectangles); points are skipped."""
    from regions import CircleSkyRegion, EllipseSkyRegion, PolygonSkyRegion, RectangleSkyRegion

    return [r for r in regions if isinstance(r, (CircleSkyRegion, EllipseSkyRegion, PolygonSkyRegion,
                                                 RectangleSkyRegion))]


class AladinView(SessionView):
    """Pointings (markers) and ON / OFF / exclusion regions of ``session`` in Aladin Lite.

    Parameters
    ----------
    session : AnalysisSession
    survey : str
        HiPS survey id or URL (tiles need network; offline the background stays grey).
    height : int
        Height of the view in pixels.
    fov : float
        Initial field of view in degrees.
    aladin_js : path, optional
        ``aladin.js`` to use (default: `find_aladin_js`).
    """

    def __init__(self, session, survey: str = "P/DSS2/color", height: int = 420, fov: float = 5.0, aladin_js=None,
                 **kwargs):
        self.survey, self.height, self.fov = survey, int(height), float(fov)
        self.aladin = None
        self.n_redraws = 0
        self._overlays: set[str] = set()
        self.note = w.HTML()
        self.note.add_class("gw-aladin-note")
        self.download_button = w.Button(description="Download Aladin Lite", icon="download",
                                        tooltip=f"fetch aladin-lite {ALADIN_LITE_VERSION} from the npm registry "
                                                "into the user cache (about 0.9 MB)",
                                        layout=w.Layout(width="220px", display="none"))
        self.download_button.add_class("gw-aladin-download")
        self.download_button.on_click(self._on_download)
        self.n_saved = 0
        self._save_requests: dict = {}
        self.save_buttons = SaveButtons("aladin", ("png",), tooltips={
            "png": "save the Aladin view as PNG (made by Aladin Lite in the page: survey, regions, markers)"})
        self.save_buttons.on_save(self._on_save_button)
        super().__init__(session, [self.note, self.download_button], **kwargs)
        self.add_class("gw-aladin-view")
        self.watch(session, self._redraw, ["selection", "on_region", "off_regions", "exclusion_regions"])
        self._start(aladin_js)

    # ------------------------------------------------------------------ set-up
    def _say(self, text: str, offer_download: bool = False):
        self.note.value = f"<span style='color:#555'>{text}</span>"
        self.download_button.layout.display = "" if offer_download else "none"

    def _start(self, aladin_js=None) -> bool:
        try:
            import ipyaladin  # noqa: F401
        except ImportError:
            self._say("Aladin view unavailable: ipyaladin is not installed (<code>pip install ipyaladin</code>). "
                      "The sky view shows the same pointings and regions.")
            return False
        try:
            path = aladin_js if aladin_js is not None else find_aladin_js()
            if path is None:
                self._say("Aladin Lite runs from a local copy, which is not on this machine yet: click "
                          "<b>Download Aladin Lite</b> or run <code>gwidgets download aladin-lite</code>. "
                          "Until then the sky view shows the same pointings and regions.", offer_download=True)
                return False
            esm = local_widget_esm(path)
        except (AladinAssetError, OSError) as exc:
            self._say(f"Aladin view unavailable: {html.escape(str(exc))}. The sky view shows the same pointings "
                      "and regions.", offer_download=True)
            return False
        self.aladin = _aladin_class(esm)(target=self._target(), fov=self.fov, survey=self.survey,
                                         height=self.height)
        self.watch(self.aladin, self._redraw, "_is_loaded")
        self.aladin.on_msg(self._on_aladin_message)
        self._intro = (f"Aladin Lite {ALADIN_LITE_VERSION} (local copy). Green: ON region, blue: OFF regions, red: "
                       "exclusions, markers: selected pointings. Survey tiles need network; without it the "
                       "background stays grey.")
        self._say(self._intro + " Loading…")
        self.children = [self.note, self.save_buttons, self.aladin]
        self._redraw()
        return True

    def _on_download(self, _=None):
        self._say("Downloading Aladin Lite…")
        with self.action("Download Aladin Lite", busy="downloading Aladin Lite…"):
            fetch_aladin_js()
            self._start()
            return
        self._say(f"Download failed: {html.escape(self.session.error)}", offer_download=True)

    # ------------------------------------------------------------------ saving
    def save(self, path, with_logo: bool = True, on_saved=None) -> Path:
        """Have the page write the Aladin view to ``path`` (.png, .jpeg/.jpg or .webp), as Aladin Lite draws it.

        The picture is made in the page and travels back through the kernel: the file exists once the page
        has answered (in a notebook, after the current cell has run; a call before Aladin Lite has loaded
        waits for it).

        Parameters
        ----------
        path : str or Path
            Where to write; the suffix picks the format.
        with_logo : bool
            Keep Aladin Lite's logo in the corner.
        on_saved : callable, optional
            ``on_saved(path)``, called in the kernel once the file is written.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        GwidgetsError
            If Aladin Lite is not available here (the note says why).
        ValueError
            For a suffix Aladin Lite cannot make (named with the path).
        """
        path = Path(path)
        fmt = {"jpg": "jpeg"}.get(path.suffix.lower().lstrip("."), path.suffix.lower().lstrip("."))
        if fmt not in IMAGE_FORMATS:
            raise ValueError(f"cannot save the Aladin view as {path}: the suffix must be one of .png, .jpeg, .jpg, "
                             ".webp")
        if self.aladin is None:
            raise GwidgetsError("The Aladin view cannot be saved: Aladin Lite is not running here (see the note "
                                "above the view)")
        self._save_requests[str(path)] = on_saved
        self.aladin.save_view_as_image(str(path), image_format=fmt, with_logo=with_logo)
        return path

    def _on_save_button(self, fmt):
        with self.action("Save the Aladin view"):
            handle, tmp = tempfile.mkstemp(prefix="gwidgets-aladin-", suffix=f".{fmt}")
            os.close(handle)

            def deliver(path):
                data = Path(path).read_bytes()
                Path(path).unlink(missing_ok=True)
                self.save_buttons.send_file(data, fmt)

            try:
                self.save(tmp, on_saved=deliver)
            except Exception:
                Path(tmp).unlink(missing_ok=True)
                raise
        return None  # the file follows when the page has made it

    def _on_aladin_message(self, _widget, content, buffers):
        """The page's answer to ``save_view_as_image`` (ipyaladin has written the file by now)."""
        if not isinstance(content, dict) or content.get("event_type") != "save_view_as_image":
            return
        path = str(content.get("path", ""))
        if path not in self._save_requests:
            return
        callback = self._save_requests.pop(path)
        if not Path(path).is_file() and buffers:  # written here if ipyaladin did not
            Path(path).write_bytes(bytes(buffers[0]))
        self.n_saved += 1
        if callback is not None:
            with self.action("Save the Aladin view"):
                callback(path)

    def _target(self) -> str:
        s = self.session
        if s.on_region is not None:
            c = s.on_region.center.icrs
        else:
            _, coords = self._pointings()
            c = coords[0].icrs if coords else None
        return "0 0" if c is None else f"{c.ra.deg:.5f} {c.dec.deg:+.5f}"

    def _pointings(self) -> tuple[list[int], list]:
        """(obs ids, pointing SkyCoords) of the selected observations, in the table's order."""
        s = self.session
        if s.store is None or not s.selection:
            return [], []
        table = s.store.obs_table
        selected = set(s.selection)
        rows = [i for i, oid in enumerate(table["OBS_ID"]) if int(oid) in selected]
        if not rows:
            return [], []
        return [int(table["OBS_ID"][i]) for i in rows], list(table.pointing_radec[rows])

    # ------------------------------------------------------------------ drawing
    @property
    def loaded(self) -> bool:
        """True once Aladin Lite runs in the page."""
        return bool(self.aladin is not None and getattr(self.aladin, "_is_loaded", False))

    def overlays(self) -> dict:
        """What is drawn: overlay name -> list of regions (for the markers: (obs id, pointing SkyCoord) pairs)."""
        s = self.session
        out = {"gw-on": _drawable([s.on_region] if s.on_region is not None else []),
               "gw-off": _drawable([r for res in (s.off_regions or {}).values() for r in res.regions]),
               "gw-exclusion": _drawable(s.exclusion_regions)}
        out[POINTINGS] = list(zip(*self._pointings()))
        return out

    def _redraw(self, *_):
        if not self.loaded:
            return
        from ipyaladin import Marker

        aladin = self.aladin
        stale = [name for name in self._overlays if name in aladin._overlay_manager]
        if stale:
            aladin.remove_overlay(stale)
        self._overlays.clear()
        drawn = self.overlays()
        for name, items in drawn.items():
            if not items:
                continue
            if name == POINTINGS:
                aladin.add_markers([Marker(c.icrs, f"OBS_ID {oid}", "pointing of the selected observation")
                                    for oid, c in items], name=name, color="#ffd740")
            else:
                aladin.add_graphic_overlay_from_region(items, name=name, **STYLES[name])
            self._overlays.add(name)
        self.n_redraws += 1
        counts = {name: len(items) for name, items in drawn.items()}
        self._say(self._intro + f" <span class='gw-aladin-drawn'>drawn: {counts['gw-on']} ON, {counts['gw-off']} "
                  f"OFF, {counts['gw-exclusion']} exclusion regions, {counts[POINTINGS]} pointings</span>")
