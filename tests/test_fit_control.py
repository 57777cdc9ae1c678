"""`FitControl`, the fit control of both sessions, on its own.

A toy session (the traits a session has) fits a power law to a simulated spectrum whose truth is known.

References: the simulated truth (counts = the truth's npred, so the best fit is the truth), the core ``Fit`` run
directly on an identical dataset (the control adds no change to the fit), and the named errors. The sessions'
own behaviour (1D and 3D) is tested in tests/test_session_edits.py, tests/test_map_live.py and
tests/test_map_joint_fit.py.
"""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from traitlets import Any, Bool, Dict, HasTraits, Int, Unicode

from gwidgets.core.datasets import SpectrumDataset
from gwidgets.core.fit import Fit
from gwidgets.core.models import Models, PowerLaw, SkyModel
from gwidgets.errors import GwidgetsError
from gwidgets.state.fit_control import FitControl, FitPlan
from gwidgets.state.worker import Worker

TRUTH = {"index": 2.5, "amplitude": 2e-12}
EDGES = np.geomspace(1, 30, 11)


class ToySession(HasTraits):
    """The traits and attributes `FitControl` uses."""

    fitting, status, error = Bool(False), Unicode(""), Unicode("")
    fit_progress, fit_result, fit_stale = Dict(), Any(None, allow_none=True), Bool(False)
    model_version, models = Int(0), Any(None, allow_none=True)

    def __init__(self, background=False, **kwargs):
        self.background, self.fit_throttle, self.fit_step_delay = background, 0.0, 0.0
        self.worker = Worker()
        self.changes = 0
        self.control = FitControl(self, on_change=self.count)
        super().__init__(**kwargs)
        self.observe(lambda c: self.control.models_replaced(c["new"]), "models")
        self.control.models_replaced(self.models)

    def count(self):
        """The ``on_change`` hook: count every parameter change."""
        self.changes += 1

    def wait(self, timeout=60):
        """Block until the worker is idle."""
        self.worker.wait(timeout)


def _dataset(name="toy"):
    exposure = np.full(len(EDGES) - 1, 1e14)
    truth = SpectrumDataset(counts=np.zeros(len(EDGES) - 1), exposure=exposure, energy_edges=EDGES, name="truth")
    truth.models = PowerLaw(index=TRUTH["index"], amplitude=f"{TRUTH['amplitude']} cm-2 s-1 TeV-1")
    return SpectrumDataset(counts=truth.npred_signal(), exposure=exposure, energy_edges=EDGES, name=name)


def _models():
    return Models([SkyModel(PowerLaw(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1"), name="src")])


def _session(background=False):
    dataset = _dataset()
    session = ToySession(background=background, models=_models())
    dataset.models = session.models
    return session, dataset


def _plan(session, dataset, **kwargs):
    return lambda token: FitPlan(dataset, session.models, [dataset.name],
                                 live=lambda: {"stat_now": dataset.stat_sum()}, **kwargs)


def test_synchronous_fit_recovers_the_truth_and_equals_the_core_fit():
    """A synchronous fit through the control: the truth, and what the core fit gives on its own."""
    session, dataset = _session()
    result = session.control.start(Fit(), _plan(session, dataset))
    spec = session.models["src"].spectral_model
    assert result.success and session.fit_result is result and not session.fitting
    for p in (spec.index, spec.amplitude):  # counts = the truth's npred: the best fit is the truth
        assert abs(p.value - TRUTH[p.name]) < 0.01 * p.error, p.name
    ref = _dataset()
    ref.models = _models()
    ref_result = Fit().run(ref)
    assert result.total_stat == pytest.approx(ref_result.total_stat, rel=1e-12)
    assert spec.index.error == pytest.approx(ref.models["src"].spectral_model.index.error, rel=1e-9)
    # the result names what it belongs to; the final update carries the plan's payload at the best fit
    assert result.dataset_names == ["toy"] and result.model_version == session.model_version
    final = session.fit_progress
    assert final["final"] and final["stat_now"] == pytest.approx(dataset.stat_sum(), rel=1e-12)
    assert final["values"]["index"] == spec.index.value
    assert session.status.startswith("fit done") and session.error == "" and not session.fit_stale


def test_the_fits_own_steps_are_not_user_edits():
    """During the fit model_version does not move (once at the end); on_change still sees every step."""
    session, dataset = _session()
    versions = []
    session.observe(lambda c: versions.append(session.model_version) if not c["new"]["final"] else None,
                    "fit_progress")
    v0, changes0 = session.model_version, session.changes
    session.control.start(Fit(), _plan(session, dataset))
    assert versions and set(versions) == {v0}
    assert session.model_version == v0 + 1
    assert session.changes - changes0 > len(versions)


def test_held_parameters_are_frozen_during_the_fit_and_released_after():
    """Held parameters stay fixed during the fit and are free again after it, also after a failure."""
    session, dataset = _session()
    amplitude = session.models["src"].spectral_model.amplitude
    frozen_seen = []
    session.observe(lambda c: frozen_seen.append(amplitude.frozen) if not c["new"]["final"] else None,
                    "fit_progress")
    result = session.control.start(Fit(), _plan(session, dataset, held=[amplitude]))
    assert result.success and frozen_seen and all(frozen_seen)
    assert not amplitude.frozen and amplitude.value == 1e-12  # not fitted
    assert "amplitude" not in session.fit_progress["values"]
    # released on a failed fit too: a start value outside its bounds is a named error in ``error``
    index = session.models["src"].spectral_model.index
    index.max = 1.5
    v0 = session.model_version
    assert session.control.start(Fit(), _plan(session, dataset, held=[amplitude])) is None
    assert "index" in session.error and session.status == "fit failed"
    assert not amplitude.frozen and not session.fitting and session.control.thread is None
    assert session.model_version == v0 + 1


def test_a_plan_error_is_shown_not_raised():
    """A plan that cannot be made: its message in ``error``."""
    session, _ = _session()

    def plan(token):
        raise GwidgetsError("No datasets to fit: select observations")

    assert session.control.start(Fit(), plan) is None
    assert session.error == "No datasets to fit: select observations" and session.status == "fit failed"
    assert not session.fitting and session.control.thread is None


def test_the_users_edit_during_a_background_fit_wins():
    """A value set during a background fit stops it and stays; the result is stale."""
    session, dataset = _session(background=True)
    session.fit_step_delay = 0.05
    index = session.models["src"].spectral_model.index
    started = threading.Event()
    session.observe(lambda c: started.set() if not c["new"]["final"] else None, "fit_progress")
    session.control.start(Fit(), _plan(session, dataset))
    assert started.wait(30) and session.control.active()
    version = session.model_version
    index.value = 3.1  # the user's slider, from the kernel's thread
    session.wait()
    deadline = time.monotonic() + 30
    while session.fitting and time.monotonic() < deadline:
        time.sleep(0.01)
    assert index.value == 3.1 and session.fit_stale and session.fit_result is not None
    assert session.status.startswith("fit stopped because parameter 'index' (value) was edited")
    assert session.fit_result.model_version == version  # the version the fit worked on, before the edit
    assert session.model_version > version
    # a new fit clears the flag; an edit after it marks its result stale again
    session.fit_step_delay = 0.0
    session.control.start(Fit(), _plan(session, dataset), wait=True)
    assert not session.fit_stale and session.fit_result.success
    assert abs(index.value - TRUTH["index"]) < 0.01 * index.error
    index.value = 2.0
    assert session.fit_stale
    session.worker.shutdown()


def test_stop_keeps_a_better_point_and_replaced_models_are_an_edit():
    """Stop keeps a point no worse than the start; new models during a fit stop it (stale)."""
    session, dataset = _session(background=True)
    session.fit_step_delay = 0.2
    start_stat = dataset.stat_sum()
    started = threading.Event()
    session.observe(lambda c: started.set() if not c["new"]["final"] else None, "fit_progress")
    session.control.start(Fit(), _plan(session, dataset))
    assert started.wait(30)
    session.control.stop()
    session.wait()
    assert session.fit_result.cancelled and not session.fit_stale
    assert dataset.stat_sum() <= start_stat and session.status.startswith("fit stopped")
    # replacing the models while a fit runs stops it; the result is stale and says why
    started.clear()
    session.control.start(Fit(), _plan(session, dataset))
    assert started.wait(30)
    session.models = _models()
    session.wait()
    assert session.fit_stale and "the models were replaced" in session.status
    assert len(session.control.watched) == len(session.models.parameters)
    session.control.unwatch()
    assert session.control.watched == []
    session.worker.shutdown()
