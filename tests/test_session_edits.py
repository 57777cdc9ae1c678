"""The user's edit wins over a running fit (issue 11): values, freezes, models and selection changed during a
background fit are kept, the fit stops, and its result is marked stale; a random storm of edits, fits, stops
and selection changes ends without exception or deadlock and with the last edit in place."""
from __future__ import annotations

import random
import time

import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gwidgets.core.data import DataStore
from gwidgets.core.models import LogParabola, PowerLaw, SkyModel
from gwidgets.state import AnalysisSession

CRAB = SkyCoord(83.633, 22.014, unit="deg")


@pytest.fixture
def session(stores):
    s = AnalysisSession(DataStore.from_dir(stores["jc-hess"]), background=False, required_irf="point-like")
    s.select([23523, 23526])
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    s.set_models(SkyModel(PowerLaw(amplitude="1e-11 cm-2 s-1 TeV-1", index=2.0), name="crab"))
    s.compute("datasets")
    s.background = True
    s.fit_step_delay = 0.05  # slow motion: the fit lasts long enough to be edited
    yield s
    s.stop_fit()
    s.wait(30)
    s.close()


def _wait_running(s, timeout=20):
    t0 = time.time()
    while not (s.fitting and s.fit_progress):
        assert time.time() - t0 < timeout, "the fit did not start"
        time.sleep(0.01)


def _wait_done(s, timeout=60):
    s.wait(timeout)
    t0 = time.time()
    while s.fitting:
        assert time.time() - t0 < timeout, "the fit did not stop"
        time.sleep(0.01)


def test_parameter_value_and_freeze_set_during_a_fit_win(session):
    spec = session.models["crab"].spectral_model
    session.fit()
    _wait_running(session)
    spec.index.value = 2.77          # the user's slider
    spec.amplitude.frozen = True     # and a freeze
    _wait_done(session)
    assert spec.index.value == 2.77 and spec.amplitude.frozen
    assert session.fit_stale and session.fit_result is not None
    assert "index" in session.status and "stale" in session.status
    assert session.fit_result.dataset_names == ["stacked"]  # the default fit stacks the runs


def test_set_models_during_a_fit_leaves_a_stale_result_of_the_old_model(session):
    session.fit()
    _wait_running(session)
    new = SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.3, beta=0.1),
                   name="crab")
    session.set_models(new)
    _wait_done(session)
    assert session.models["crab"] is new and new.spectral_model.alpha.value == 2.3
    assert session.fit_stale
    assert session.fit_result.model_version < session.model_version


def test_selection_change_during_a_fit_marks_the_result_stale(session):
    session.fit()
    _wait_running(session)
    session.select([23523])
    _wait_done(session)
    assert session.selection == [23523] and session.fit_stale
    assert session.fit_result.dataset_names == ["stacked"]  # what it belongs to (the default stacks the runs)


def test_a_clean_fit_is_not_stale_until_an_edit(session):
    session.fit_step_delay = 0.0
    session.fit(wait=True)
    _wait_done(session)
    assert session.fit_result.success and not session.fit_stale
    session.models["crab"].spectral_model.index.value = 3.0
    assert session.fit_stale
    session.fit(wait=True)
    _wait_done(session)
    assert not session.fit_stale


def test_random_storm_of_edits_fits_stops_and_selections(session):
    """1000 random actions: no exception, no deadlock, and the last user edit of each parameter is in place."""
    rng = random.Random(11)
    spec = session.models["crab"].spectral_model
    session.fit_step_delay = 0.0
    last = {}
    errors = []
    session.observe(lambda c: errors.append(c["new"]) if c["new"] else None, "error")
    t0 = time.time()
    for i in range(1000):
        action = rng.random()
        if action < 0.6:
            name, value = rng.choice([("index", rng.uniform(1.8, 3.2)), ("amplitude", rng.uniform(1e-11, 6e-11))])
            getattr(spec, name).value = value
            last[name] = value
        elif action < 0.8:
            session.fit()
        elif action < 0.9:
            session.stop_fit()
        else:
            session.select(rng.choice([[23523, 23526], [23523], [23526, 23559]]))
        if i % 97 == 0:
            time.sleep(0.02)
    _wait_done(session, timeout=120)
    assert time.time() - t0 < 300
    for name, value in last.items():
        assert getattr(spec, name).value == value, name
    assert not session.fitting
    assert not [e for e in errors if "Traceback" in e or "Error:" in e and "Fit failed" in e], errors[:3]
