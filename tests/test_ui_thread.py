"""Every widget change happens in the kernel's thread (issue 11): results computed in the session's worker
(reductions, the fit and its live progress) reach the views through the kernel's asyncio loop.

A real asyncio loop runs in the test's main thread as a kernel's would; every ipywidgets trait change is
recorded with its thread. The test fails if any widget is changed from another thread (as the SkyView, the
StatusBar and the views did when the worker set the session's traits).
"""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

import ipywidgets

from gwidgets.core.data import DataStore
from gwidgets.core.models import PowerLaw, SkyModel
from gwidgets.state import AnalysisSession

CRAB = SkyCoord(83.633, 22.014, unit="deg")


def _run_until(loop, predicate, timeout=90.0):
    async def wait():
        t0 = time.time()
        while not predicate():
            assert time.time() - t0 < timeout, "timed out"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # let the last scheduled notifications and flushes run
    loop.run_until_complete(wait())


def test_worker_results_reach_every_view_in_the_kernel_thread(stores, monkeypatch):
    """The "kernel" is a thread of its own running an asyncio loop (the test's main thread may already have a
    loop registered by another library, e.g. Playwright's sync API)."""
    kernel = {}
    foreign = []
    original = ipywidgets.Widget.notify_change

    def notify_change(self, change):
        if threading.get_ident() != kernel.get("ident"):
            foreign.append((type(self).__name__, change["name"], threading.current_thread().name))
        return original(self, change)

    monkeypatch.setattr(ipywidgets.Widget, "notify_change", notify_change)
    outcome = {}

    def kernel_thread():
        from gwidgets.app import Dashboard

        kernel["ident"] = threading.get_ident()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            session = AnalysisSession(DataStore.from_dir(stores["jc-hess"]), background=True,
                                      required_irf="point-like")
            session.use_ui_loop(loop)
            dashboard = Dashboard(session=session, aladin=False)
            dashboard.sed  # build the lazy SED panel too
            session.set_models(SkyModel(PowerLaw(amplitude="3e-11 cm-2 s-1 TeV-1", index=2.5), name="crab"))
            session.select([23523, 23526])
            session.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
            _run_until(loop, lambda: session.datasets is not None and session.counts_map is not None
                       and not session.busy)
            session.fit_step_delay = 0.01
            session.fit()
            _run_until(loop, lambda: session.fit_result is not None and not session.fitting)
            outcome.update(success=session.fit_result.success, error=session.error,
                           params=dashboard.fit_view.params.value)
            session.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            outcome["exception"] = exc
        finally:
            loop.close()

    t = threading.Thread(target=kernel_thread, name="kernel")
    t.start()
    t.join(300)
    assert not t.is_alive(), "the kernel thread did not finish"
    if "exception" in outcome:
        raise outcome["exception"]
    assert outcome["success"], outcome["error"]
    assert "final" in outcome["params"]  # the fit view shows the final values
    assert not foreign, f"{len(foreign)} widget changes off the kernel thread, e.g. {foreign[:5]}"


def test_without_a_loop_notifications_run_at_once():
    """Scripts and tests without a kernel: a trait set in another thread notifies there, at once."""
    session = AnalysisSession(None, background=False)
    seen = []
    session.observe(lambda c: seen.append(threading.get_ident()), "status")
    t = threading.Thread(target=lambda: setattr(session, "status", "from a thread"))
    t.start()
    t.join()
    assert len(seen) == 1 and seen[0] == t.ident


def test_a_cancelled_computation_is_recomputed_not_cached():
    """A job cancelled while it computes a node must not leave the node "fresh" with the cancellation as its
    value: the next request (same inputs) computes it. (The graph stored Cancelled as the node's error, and
    the next worker job for the same inputs re-raised it: the counts map never arrived.)"""
    from gwidgets.core.progress import Cancelled, CancelToken
    from gwidgets.state.graph import Graph

    graph = Graph()
    graph.add_input("x", 1)
    calls = []

    def compute(x, token=None):
        calls.append(x)
        token.raise_if_cancelled("computing")
        return 10 * x

    graph.add_derived("y", ["x"], compute, heavy=True, pass_token=True)
    cancelled = CancelToken()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        graph.get("y", cancelled)
    assert graph.is_stale("y")
    assert graph.get("y", CancelToken()) == 10 and calls == [1, 1]
