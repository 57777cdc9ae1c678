"""ModelEditor driven headless through its traits (no browser): widgets ↔ parameters ↔ session."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import ipywidgets as w
from astropy.coordinates import SkyCoord

from gwidgets.core.data import DataStore
from gwidgets.core.models import GaussianSpatialModel, Models, PowerLaw, SkyModel
from gwidgets.state import AnalysisSession
from gwidgets.widgets.model_editor import ModelEditor, default_models, default_position, model_types
from gwidgets.widgets.parameter_row import parse_value, slider_range
from gwidgets.widgets.sky_draw import CircleClickDrawer

CRAB = SkyCoord(83.633, 22.014, unit="deg")
NOW = datetime.now(timezone.utc)


@pytest.fixture
def session(stores):
    s = AnalysisSession(DataStore.from_dir(stores["jc-hess"]), background=False)
    s.set_models(default_models(s))
    yield s
    s.close()


@pytest.fixture
def editor(session):
    return ModelEditor(session)


def spectral(session, name="source"):
    return session.models[name].spectral_model


# ------------------------------------------------------------------ layout
def test_rows_and_sliders_follow_the_models(session, editor):
    assert [r.path for r in editor.rows] == [
        "source.spectral.amplitude", "source.spectral.reference", "source.spectral.alpha", "source.spectral.beta",
        "source.spatial.lon_0", "source.spatial.lat_0"]
    assert session.models["source"].spatial_model.position.separation(CRAB).deg < 0.05  # the pointings' centre
    amp, alpha, lat = editor.row("source.spectral.amplitude"), editor.row("source.spectral.alpha"), editor.row(
        "source.spatial.lat_0")
    assert isinstance(amp.slider, w.FloatLogSlider) and amp.is_log
    assert 10 ** amp.slider.min < 3.5e-11 < 10 ** amp.slider.max
    assert isinstance(alpha.slider, w.FloatSlider) and (alpha.slider.min, alpha.slider.max) == (0.0, 5.0)
    assert lat.bounds.value == "[-90, 90]" and lat.slider.max - lat.slider.min == pytest.approx(4.0)
    assert editor.row("source.spectral.reference").frozen.value is True
    assert alpha.text.value == "2.5" and "TeV" in editor.row("source.spectral.reference").unit.value
    assert "model version" in editor.version.value
    assert "LogParabola" in editor.spectral_type.options and "PointSpatialModel" in editor.spatial_type.options
    assert editor.spatial_type.options[0] == "none" and "TemplateSpectral" not in model_types("spectral")
    with pytest.raises(KeyError, match="source.spectral.alpha"):
        editor.row("nope")
    for cls in ("gw-model-editor",):
        assert cls in editor._dom_classes
    assert "gw-param-source-spectral-alpha" in alpha._dom_classes and "gw-param-value" in alpha.text._dom_classes


def test_slider_range_rules():
    from gwidgets.core.models import Parameter

    assert slider_range(Parameter("index", 2.0)) == (0.0, 4.0, False)
    assert slider_range(Parameter("tilt", 0.0)) == (-1.0, 1.0, False)
    assert slider_range(Parameter("e", 0.3, min=0, max=1)) == (0, 1, False)
    lo, hi, log = slider_range(Parameter("amplitude", 3e-12, "cm-2 s-1 TeV-1", interp="log"))
    assert log and lo == pytest.approx(1e-14) and hi == pytest.approx(1e-9)
    # a log parameter at or below zero gets a linear slider
    assert slider_range(Parameter("norm", -1.0, interp="log"))[2] is False


# ------------------------------------------------------------- slider → model
def test_slider_sets_parameter_and_bumps_model_version(session, editor):
    row = editor.row("source.spectral.alpha")
    v0 = session.model_version
    row.slider.value = 2.75
    assert spectral(session).alpha.value == 2.75
    assert session.model_version == v0 + 1
    assert row.text.value == "2.75"
    amp = editor.row("source.spectral.amplitude")
    amp.slider.value = 1e-11
    assert spectral(session).amplitude.value == pytest.approx(1e-11)
    editor.flush()
    assert f"model version {session.model_version}" in editor.version.value


def test_slider_grid_echo_does_not_change_the_model(session, editor):
    # the browser snaps a value to the slider grid when it renders and sends it back: not an edit
    amp = editor.row("source.spectral.amplitude")
    v0 = session.model_version
    amp.slider.value = 10 ** (amp.slider.min + round((-10.456 - amp.slider.min) / amp.slider.step) * amp.slider.step)
    assert spectral(session).amplitude.value == 3.5e-11 and session.model_version == v0
    alpha = editor.row("source.spectral.alpha")
    alpha.slider.value = 2.5 + 0.4 * alpha.slider.step
    assert spectral(session).alpha.value == 2.5 and session.model_version == v0


# ----------------------------------------------------------- text box → model
def test_text_box_good_and_bad_values(session, editor):
    row = editor.row("source.spectral.alpha")
    v0 = session.model_version
    row.text.value = "abc"
    assert "source.spectral.alpha" in session.error and "'abc' is not a number" in session.error
    assert spectral(session).alpha.value == 2.5 and row.text.value == "2.5" and session.model_version == v0
    row.text.value = "nan"
    assert "finite" in session.error and spectral(session).alpha.value == 2.5
    # out of bounds: the value is kept
    lat = editor.row("source.spatial.lat_0")
    before = lat.param.value
    lat.text.value = "95"
    assert "outside its bounds [-90, 90]" in session.error and lat.param.value == before
    # a wrong unit
    amp = editor.row("source.spectral.amplitude")
    amp.text.value = "5 TeV"
    assert "does not convert" in session.error and amp.param.value == 3.5e-11
    # a good value (with a unit) clears the editor's error and moves the slider too
    amp.text.value = "2e-11 cm-2 s-1 TeV-1"
    assert session.error == "" and amp.param.value == pytest.approx(2e-11)
    assert amp.slider.value == pytest.approx(2e-11)
    ref = editor.row("source.spectral.reference")
    ref.text.value = "500 GeV"
    assert ref.param.value == pytest.approx(0.5) and ref.text.value == "0.5"
    row.text.value = "7.5"  # outside the slider range (no bounds): the slider range follows
    assert spectral(session).alpha.value == 7.5 and row.slider.min <= 7.5 <= row.slider.max and row.slider.value == 7.5
    assert session.model_version == v0 + 3


def test_errors_of_others_are_not_cleared(session, editor):
    session.error = "something else went wrong"
    editor.row("source.spectral.alpha").text.value = "2.6"
    assert session.error == "something else went wrong"


def test_parse_value_messages():
    from gwidgets.core.models import Parameter, ParameterError

    p = Parameter("sigma", 0.2, "deg", min=0)
    assert parse_value(" 0.3 ", p) == 0.3
    assert parse_value("30 arcmin", p) == pytest.approx(0.5)
    for text, match in (("", "empty"), ("x1", "not a number"), ("-1", "outside its bounds"), ("inf", "finite")):
        with pytest.raises(ParameterError, match=match):
            parse_value(text, p, "src.spatial.sigma")


# ------------------------------------------------------------------- frozen
def test_freeze_toggle(session, editor):
    row = editor.row("source.spectral.beta")
    v0 = session.model_version
    row.frozen.value = True
    assert spectral(session).beta.frozen is True and session.model_version == v0 + 1
    spectral(session).beta.frozen = False  # e.g. a script
    editor.flush()
    assert row.frozen.value is False


# ------------------------------------------------------ structure and files
def test_add_and_remove_components(session, editor):
    editor.name.value = "ext"
    editor.spectral_type.value = "PowerLaw"
    editor.spatial_type.value = "GaussianSpatialModel"
    editor.add_button.click()
    assert session.models.names == ["source", "ext"] and session.error == ""
    ext = session.models["ext"]
    assert isinstance(ext.spectral_model, PowerLaw) and isinstance(ext.spatial_model, GaussianSpatialModel)
    assert ext.spatial_model.position.separation(default_position(session)).deg < 1e-6
    assert "ext.spatial.sigma" in [r.path for r in editor.rows]
    # the session watches the new parameters
    v0 = session.model_version
    editor.row("ext.spectral.index").slider.value = 2.9
    assert session.model_version == v0 + 1
    # duplicate names are refused, nothing changes
    editor.add_button.click()
    assert "unique" in session.error and session.models.names == ["source", "ext"]
    # an empty name box: an automatic name; spatial "none": a spectrum-only component
    editor.name.value = ""
    editor.spatial_type.value = "none"
    editor.add_button.click()
    assert session.models.names == ["source", "ext", "source-2"] and session.models["source-2"].spatial_model is None
    editor.name.value = "ext"
    editor.remove_button.click()
    assert session.models.names == ["source", "source-2"]
    assert not any(r.path.startswith("ext.") for r in editor.rows)
    editor.name.value = "nope"
    editor.remove_button.click()
    assert "No model component named 'nope'" in session.error
    editor.name.value = ""
    editor.remove_button.click()
    assert "Type the name" in session.error and session.models.names == ["source", "source-2"]


def test_yaml_round_trip_through_the_widget(session, editor, tmp_path):
    path = tmp_path / "models.yaml"
    editor.row("source.spectral.alpha").slider.value = 2.8
    editor.row("source.spectral.beta").frozen.value = True
    editor.path.value = str(path)
    editor.save_button.click()
    assert path.exists() and session.error == "" and "written" in session.status
    editor.row("source.spectral.alpha").slider.value = 2.2
    old_rows = editor.rows
    editor.load_button.click()
    assert session.error == "" and editor.rows is not old_rows
    assert spectral(session).alpha.value == 2.8 and spectral(session).beta.frozen is True
    assert editor.row("source.spectral.alpha").slider.value == 2.8
    assert editor.row("source.spectral.beta").frozen.value is True
    # upload (what the browser's FileUpload sends)
    other = Models([SkyModel(PowerLaw(index=3.1), name="uploaded")])
    content = other.to_yaml().encode()
    editor.upload.value = ({"name": "m.yaml", "type": "application/x-yaml", "size": len(content),
                            "content": memoryview(content), "last_modified": NOW},)
    assert session.models.names == ["uploaded"] and editor.row("uploaded.spectral.index").text.value == "3.1"
    assert editor.upload.value == ()
    # errors: a missing file, a broken upload
    editor.path.value = str(tmp_path / "missing.yaml")
    editor.load_button.click()
    assert "missing.yaml" in session.error and session.models.names == ["uploaded"]
    editor.upload.value = ({"name": "bad.yaml", "type": "", "size": 3, "content": memoryview(b"\xff\xfe\x00"),
                            "last_modified": NOW},)
    assert "bad.yaml" in session.error and session.models.names == ["uploaded"]


def test_save_without_models(session, editor, tmp_path):
    session.set_models(None)
    assert "No models" in editor.body.children[0].value
    editor.save(tmp_path / "x.yaml")
    assert "no models to save" in session.error


# -------------------------------------------------- model → widgets (a fit)
def test_programmatic_changes_move_the_sliders(session, editor):
    row = editor.row("source.spectral.alpha")
    changes = []
    row.slider.observe(lambda ch: changes.append(ch["new"]), "value")
    p = spectral(session).alpha
    for i in range(1000):  # what a fit does: many fast changes
        p.set_value_unchecked(2.0 + i * 1e-3)
    p.error = 0.05
    editor.flush()
    assert row.slider.value == pytest.approx(2.999) and row.text.value == "2.999"
    assert changes == [pytest.approx(2.999)]  # one widget update for the burst
    assert row.err.value == "± 0.05"
    # a value outside the slider's range moves the range
    p.value = 12.0
    editor.flush()
    assert row.slider.min <= 12.0 <= row.slider.max and row.slider.value == 12.0
    # without an explicit flush the widgets follow by themselves shortly after
    p.value = 3.3
    deadline = time.monotonic() + 5
    while row.text.value != "3.3" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert row.text.value == "3.3" and row.slider.value == 3.3
    # no feedback: the sync did not write the parameter again
    assert p.value == 3.3


def test_replacing_models_rebuilds_and_unwatches(session, editor):
    old = spectral(session).alpha
    new_models = Models([SkyModel(PowerLaw(), name="pl")])
    session.set_models(new_models)
    assert [r.path for r in editor.rows] == ["pl.spectral.index", "pl.spectral.amplitude", "pl.spectral.reference"]
    assert not editor.watching(old)
    old.value = 1.0  # the old model is not shown any more: nothing happens
    editor.flush()
    assert editor.row("pl.spectral.index").text.value == "2"


def test_dashboard_has_a_model_editor(session):
    from gwidgets.app import Dashboard

    session.set_models(None)
    dash = Dashboard(session=session)
    assert isinstance(dash.models, ModelEditor) and dash.models in dash.children
    assert session.models.names == ["source"] and isinstance(session.models["source"].spectral_model, type(
        default_models(session)["source"].spectral_model))


# --------------------------------------- sky_draw helper (wired by the lead into SkyView)
def test_circle_click_drawer():
    from gwidgets.widgets.canvas_plot import CanvasFigure, Scale

    fig = CanvasFigure([], Scale(), Scale())
    circles = []
    drawer = CircleClickDrawer(fig, on_circle=lambda *c: circles.append(c))
    assert drawer.marker in fig.marks
    fig.dispatch({"event": "click", "x": 1.0, "y": 2.0})  # what a click in the page sends
    assert list(drawer.marker.x) == [1.0] and circles == []
    assert fig.series[-1]["x"] == [1.0]  # the pending centre is shown
    fig.dispatch({"event": "click", "x": 4.0, "y": 6.0})
    assert circles == [(1.0, 2.0, 5.0)] and len(drawer.marker.x) == 0
    drawer.enabled = False
    drawer.click(0, 0)
    drawer.click(1, 1)
    assert len(circles) == 1
    drawer.enabled = True
    drawer.click(0, 0)
    drawer.click(0, 0)  # zero radius: nothing
    assert len(circles) == 1


def test_a_closed_editor_is_never_called_again(session, editor):
    rows, param = editor.rows, spectral(session).alpha
    assert editor.watching(session) and editor.watching(param)
    editor.close()
    assert not editor.watching(session) and not editor.watching(param)
    assert all(r.comm is None and r.slider.comm is None for r in rows)  # the rows left the page too
    param.value = 2.9
    session.set_models(Models([SkyModel(PowerLaw(), name="pl")]))
    assert editor.rows is rows
