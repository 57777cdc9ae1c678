"""SessionView, the base of the views: errors in one banner, busy state, teardown, the kernel's thread.

Driven headless through the widgets' traits, on small simulated ON/OFF datasets (no data files needed).
"""
from __future__ import annotations

import asyncio
import threading

import ipywidgets as w
import numpy as np
import pytest

from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
from gwidgets.core.models import PowerLaw, SkyModel
from gwidgets.errors import GwidgetsError
from gwidgets.state import AnalysisSession
from gwidgets.widgets.base import SessionView, error_html
from gwidgets.widgets.spectrum_view import SUM, SpectrumView

EDGES = np.geomspace(1.0, 10.0, 6)


def _datasets(seed=1, n=2):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        off = rng.poisson(40.0, 5).astype(float)
        on = rng.poisson(30.0, 5).astype(float)
        out.append(SpectrumDatasetOnOff(counts=on, exposure=np.full(5, 1e10), energy_edges=EDGES, counts_off=off,
                                        acceptance_off=4.0 + i, name=f"obs{i}"))
    return Datasets(out)


@pytest.fixture
def session():
    s = AnalysisSession.from_datasets(_datasets(), models=[SkyModel(PowerLaw(), name="src")], background=False)
    yield s
    s.close()


class Toy(SessionView):
    """The recipe of docs/extending.md ("Add a view"): a line showing how many datasets there are."""

    def __init__(self, session, **kwargs):
        self.label = w.HTML()
        self.calls = 0
        super().__init__(session, [self.label], **kwargs)
        self.watch(session, self.redraw, "datasets")
        self.redraw()

    def redraw(self, *_):
        self.calls += 1
        ds = self.session.datasets
        self.label.value = f"{0 if ds is None else len(ds)} datasets"

    def fail(self, exc):
        with self.action("Toy action"):
            raise exc


def test_a_toy_view_follows_the_session_until_closed(session):
    view = Toy(session)
    assert view.label.value == "2 datasets" and view.watching(session)
    session.datasets = _datasets(n=3)
    assert view.label.value == "3 datasets" and view.calls == 2
    view.close()
    assert not view.watching(session) and view.comm is None and view.label.comm is None
    session.datasets = _datasets(n=1)
    assert view.calls == 2 and view.label.value == "3 datasets"  # never called again


def test_close_removes_every_observer_the_view_registered(session):
    param = session.models["src"].spectral_model.index
    seen = []
    view = Toy(session)
    view.watch(param, lambda p, attr, old, new: seen.append(new))
    param.value = 2.1
    assert seen == [2.1]
    view.close()
    param.value = 2.2
    assert seen == [2.1]
    assert not view.watching(session) and not view.watching(param)
    # a second close is harmless
    view.close()


def test_errors_name_their_culprit_and_keep_the_users_work(session):
    view = Toy(session, show_errors=True)
    before = list(session.models.parameters.values)
    view.fail(GwidgetsError("Parameter 'src.spectral.index': 'abc' is not a number"))
    assert session.error == "Parameter 'src.spectral.index': 'abc' is not a number"   # as it is: it names the culprit
    assert "src.spectral.index" in view.banner.value and "gw-error" in view.banner._dom_classes
    assert view.banner.value == error_html(session.error)
    assert "Traceback" in view.last_traceback
    view.fail(ZeroDivisionError("division by zero"))   # a bug still reaches the page, with its type
    assert session.error == "Toy action: ZeroDivisionError: division by zero"
    assert list(session.models.parameters.values) == before
    # a success clears the error this view showed ...
    with view.action():
        pass
    assert session.error == "" and view.banner.value == ""
    # ... but never another's
    session.error = "No observations selected"
    with view.action():
        pass
    assert session.error == "No observations selected"
    with view.action(clear=True):  # an action starting a new computation clears it
        pass
    assert session.error == ""
    # without show_errors there is no banner (the StatusBar shows the errors)
    assert Toy(session).banner is None


def test_busy_is_shown_while_an_action_runs(session):
    view = Toy(session)
    seen = []
    session.observe(lambda c: seen.append(c["new"]), "busy")
    with view.action(busy="saving…"):
        assert session.busy and session.status == "saving…"
    assert not session.busy and seen == [True, False] and session.status == ""
    with view.action(busy="loading…"):
        raise GwidgetsError("no such file 'x.yaml'")
    assert not session.busy and session.error == "no such file 'x.yaml'"


def test_on_ui_and_coalescers_run_in_the_kernels_thread(session):
    loop = asyncio.new_event_loop()
    ready, done = threading.Event(), threading.Event()
    where = {}

    def kernel():
        asyncio.set_event_loop(loop)
        where["kernel"] = threading.get_ident()
        loop.call_soon(ready.set)
        loop.run_forever()

    thread = threading.Thread(target=kernel, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        session.use_ui_loop(loop)
        session.ui.ident = where["kernel"]
        view = Toy(session)
        view.on_ui(lambda: (where.setdefault("on_ui", threading.get_ident()), done.set()))
        assert done.wait(5) and where["on_ui"] == where["kernel"] != threading.get_ident()
        flushed = threading.Event()
        c = view.coalescer(lambda: (where.setdefault("flush", threading.get_ident()), flushed.set()))
        for _ in range(50):
            c.request()
        assert flushed.wait(5) and where["flush"] == where["kernel"]
        # a request made just before close never flushes
        flushed.clear()
        c.delay = 0.3
        c.request()
        view.close()
        assert not flushed.wait(0.6)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


# ------------------------------------------------------------ the converted views
def test_spectrum_view_error_bars_are_the_datasets_excess_errors(session):
    from gammapy.stats import WStatCountsStatistic

    view = SpectrumView(session)
    ds = session.datasets
    assert view.dataset.value == SUM
    n_on = sum(d.counts for d in ds)
    var = sum(WStatCountsStatistic(d.counts, d.counts_off, d.alpha).error ** 2 for d in ds)  # gammapy's error
    x = np.sqrt(EDGES[:-1] * EDGES[1:])
    excess = n_on - sum(d.alpha * d.counts_off for d in ds)
    np.testing.assert_allclose(view.excess.x, x[excess > 0])
    bars = np.asarray(view.excess_bars.y, float).reshape(-1, 3)
    np.testing.assert_allclose(bars[:, 1] - view.excess.y, np.sqrt(var)[excess > 0], rtol=1e-12)
    for d in ds:
        np.testing.assert_allclose(d.excess_error, WStatCountsStatistic(d.counts, d.counts_off, d.alpha).error)
    view.close()
    session.datasets = _datasets(seed=7)
    np.testing.assert_allclose(view.excess.x, x[excess > 0])  # a closed view does not redraw


def test_the_add_a_view_recipe_of_the_docs(session):
    """docs/extending.md, "Add a view": the code as written there, run on a session."""
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "extending.md").read_text()
    section = text.split("## Add a view", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(compile(code, "docs/extending.md", "exec"), namespace)
    view = namespace["DatasetCount"](session, show_errors=True)
    assert isinstance(view, SessionView) and view.label.value == "2 datasets"
    session.datasets = _datasets(n=3)
    assert view.label.value == "3 datasets"
    # a bad action: shown in the page, named, the session unchanged
    view.ids.value = "23523"
    view.button.click()
    assert "has no data store" in session.error and "has no data store" in view.banner.value
    assert session.selection == [] and len(session.datasets) == 3
    view.ids.value = "a, b"
    view.button.click()
    assert session.error == "Select observations: ValueError: invalid literal for int() with base 10: 'a'"
    view.close()
    session.datasets = _datasets(n=1)
    assert view.label.value == "3 datasets" and view.comm is None
