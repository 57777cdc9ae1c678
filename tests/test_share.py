"""share_defaults: default Layout / Style models shared (fewer browser models), read-only, others untouched."""
from __future__ import annotations

import ipywidgets as w
import pytest

from gwidgets.widgets._share import SharedWidgetError, share_defaults


def _alive(widgets):
    return {id(x) for x in widgets if getattr(x, "comm", None) is not None}


def test_defaults_are_shared_and_closed_custom_ones_kept():
    own = w.Layout(width="80px")
    box = w.VBox([w.HTML("a"), w.HTML("b"), w.Button(description="c", layout=own),
                  w.HBox([w.HTML("d"), w.Text(description="e", style={"description_width": "initial"})])])
    html_a, html_d = box.children[0], box.children[3].children[0]
    old_layout, old_style = html_a.layout, html_a.style
    removed = share_defaults(box)
    assert html_a.layout is html_d.layout is box.layout  # one Layout for every default one, nested boxes too
    assert html_a.style is html_d.style and type(html_a.style).__name__ == "SharedHTMLStyle"
    assert old_layout.comm is None and old_style.comm is None  # replaced models are closed
    assert box.children[2].layout is own and own.width == "80px"
    text = box.children[3].children[1]
    assert text.style.description_width == "initial" and "Shared" not in type(text.style).__name__
    # the browser model is the same kind of model
    assert html_a.layout._model_name == "LayoutModel" and html_a.style._model_name == "HTMLStyleModel"
    # 6 layouts (VBox, a, b, HBox, d, e) + 3 HTML styles (a, b, d) + 1 button style replaced, 3 shared made
    assert removed == 10 - 3


def test_shared_objects_are_read_only_and_a_second_pass_is_a_no_op():
    box = w.VBox([w.HTML("a"), w.HTML("b")])
    share_defaults(box)
    with pytest.raises(SharedWidgetError, match="shared by many widgets.*own Layout.*'display'"):
        box.children[0].layout.display = "none"
    assert box.children[1].layout.display is None
    assert share_defaults(box) == 0
    # a widget may still get a layout of its own afterwards
    box.children[0].layout = w.Layout(display="none")
    assert box.children[0].layout.display == "none" and box.children[1].layout.display is None


def test_dashboard_has_fewer_models():
    from gw_testdata import STORES
    from gwidgets.app import Dashboard
    from gwidgets.core.data import DataStore
    from gwidgets.state import AnalysisSession

    store = DataStore.from_dir(STORES["jc-hess"])
    dash = Dashboard(session=AnalysisSession(store, background=False, required_irf="point-like"))
    assert dash.n_shared_models > 50
    layouts = {id(x.layout) for x in (dash.browser.summary, dash.sky.info, dash.fit_view.info)}
    assert len(layouts) == 1  # default layouts are one model
    dash.status.dismiss.layout.display = ""  # a layout changed at run time has its own model
