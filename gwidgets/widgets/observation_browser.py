"""ObservationBrowser: filter, sort and select observations of the session's data store.

A thin view: it reads ``session.store.obs_table`` and writes only
``session.selection``; it redraws when ``session.selection`` changes (e.g.
from clicks on pointing markers in the SkyView).
"""
from __future__ import annotations

import astropy.units as u
import ipywidgets as w
import numpy as np

from .base import SessionView

__all__ = ["ObservationBrowser"]

_SORT_KEYS = {"OBS_ID": "OBS_ID", "target": "OBJECT", "zenith": "ZEN_PNT", "livetime": "LIVETIME", "time": "TSTART"}


class ObservationBrowser(SessionView):
    """Observation table with filters (target, zenith, offset from the ON region, livetime) and multi-select.

    Parameters
    ----------
    session : AnalysisSession
    rows : int
        Visible rows of the list.
    """

    def __init__(self, session, rows: int = 12, **kwargs):
        table = session.store.obs_table
        self._table = table
        zen = np.asarray(table["ZEN_PNT"]) if "ZEN_PNT" in table.colnames else np.zeros(len(table))
        lt = np.asarray(table["LIVETIME"]) if "LIVETIME" in table.colnames else np.zeros(len(table))
        self.target = w.Text(placeholder="target name contains…", description="Target", layout=w.Layout(width="260px"))
        self.zenith = w.FloatRangeSlider(value=[0, 90], min=0, max=90, step=1, description="Zenith [°]",
                                         continuous_update=False)
        self.offset_max = w.FloatSlider(value=10, min=0, max=10, step=0.1, description="Offset ≤ [°]",
                                        continuous_update=False, tooltip="distance of the pointing from the ON region")
        self.min_livetime = w.FloatText(value=0.0, description="Livetime ≥ [min]",
                                        style={"description_width": "initial"},
                                        layout=w.Layout(width="200px"))
        self.sort = w.Dropdown(options=list(_SORT_KEYS), value="OBS_ID", description="Sort by",
                               layout=w.Layout(width="200px"))
        self.listing = w.SelectMultiple(options=[], rows=rows, layout=w.Layout(width="100%", font_family="monospace"))
        self.listing.add_class("gw-obs-list")
        self.select_shown = w.Button(description="Select all shown", icon="check-square")
        self.clear = w.Button(description="Clear selection", icon="square")
        self.summary = w.HTML()
        self.summary.add_class("gw-obs-summary")
        self._updating = False
        self._zen, self._lt = zen, lt

        for control in (self.target, self.zenith, self.offset_max, self.min_livetime, self.sort):
            control.observe(self._redraw, "value")
        self.listing.observe(self._on_pick, "value")
        self.select_shown.on_click(lambda _: self._select_ids(self.shown_ids()))
        self.clear.on_click(lambda _: self._select_ids([]))
        header = w.HTML("<b>Observations</b> — " + f"{len(table)} in '{session.store.name}'")
        super().__init__(
            session,
            [header, w.HBox([self.target, self.sort]), w.HBox([self.zenith, self.offset_max]),
             self.min_livetime, self.listing, w.HBox([self.select_shown, self.clear]), self.summary],
            **kwargs,
        )
        self.watch(session, self._redraw, ["selection", "on_region"])
        self._redraw()

    # ------------------------------------------------------------ filtering
    def shown_mask(self) -> np.ndarray:
        t = self._table
        mask = np.ones(len(t), dtype=bool)
        text = self.target.value.strip().lower().replace(" ", "")
        if text and "OBJECT" in t.colnames:
            mask &= np.array([text in str(o).lower().replace(" ", "") for o in t["OBJECT"]])
        lo, hi = self.zenith.value
        mask &= (self._zen >= lo) & (self._zen <= hi)
        mask &= self._lt >= 60 * float(self.min_livetime.value or 0)
        on = self.session.on_region
        if on is not None and hasattr(on, "center") and self.offset_max.value < self.offset_max.max:
            sep = t.pointing_radec.separation(on.center).deg
            mask &= sep <= self.offset_max.value
        return mask

    def shown_ids(self) -> list[int]:
        t = self._table[self.shown_mask()]
        key = _SORT_KEYS[self.sort.value]
        if key in t.colnames and len(t):
            t = t[np.argsort(np.asarray(t[key]), kind="stable")]
        return [int(x) for x in t["OBS_ID"]]

    def _label(self, row) -> str:
        obj = str(row["OBJECT"]).strip()[:18] if "OBJECT" in row.colnames else ""
        zen = f"{float(row['ZEN_PNT']):5.1f}°" if "ZEN_PNT" in row.colnames else ""
        lt = f"{float(row['LIVETIME']) / 60:6.1f} min" if "LIVETIME" in row.colnames else ""
        return f"{int(row['OBS_ID']):>12}  {obj:<18} {zen} {lt}"

    # -------------------------------------------------------------- drawing
    def _redraw(self, *_):
        ids = self.shown_ids()
        index = {int(oid): i for i, oid in enumerate(self._table["OBS_ID"])}
        options = [(self._label(self._table[index[oid]]), oid) for oid in ids]
        selected = tuple(oid for oid in self.session.selection if oid in set(ids))
        self._updating = True
        try:
            self.listing.options = options
            self.listing.value = selected
        finally:
            self._updating = False
        sel = self.session.selection
        rows = self._table[np.isin(np.asarray(self._table["OBS_ID"]), sel)] if sel else self._table[:0]
        has_livetime = len(rows) and "LIVETIME" in rows.colnames
        lt = (np.asarray(rows["LIVETIME"]).sum() * u.s).to_value("h") if has_livetime else 0.0
        self.summary.value = f"<b>{len(sel)}</b> selected, livetime <b>{lt:.2f} h</b> — {len(ids)} shown"

    def _on_pick(self, change):
        if self._updating:
            return
        shown = set(self.shown_ids())
        hidden_selected = [oid for oid in self.session.selection if oid not in shown]
        self._select_ids(hidden_selected + list(change["new"]))

    def _select_ids(self, ids):
        with self.action("Select observations"):
            self.session.select(sorted(set(int(i) for i in ids)))
