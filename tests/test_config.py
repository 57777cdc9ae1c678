"""Analysis config validation: clear messages naming the key, round trip through YAML."""
from __future__ import annotations

import pytest
import astropy.units as u

from gwidgets.core.config import AnalysisConfig, ConfigError

GOOD = """
general: {outdir: out, executor: processes}
data:
  datastore: /data/hess
  obs_cone: {frame: icrs, lon: 83.63 deg, lat: 22.01 deg, radius: 5 deg}
datasets:
  type: 1d
  on_region: {frame: icrs, lon: 83.63 deg, lat: 22.01 deg, radius: 0.11 deg}
  geom:
    axes:
      energy: {min: 0.01 TeV, max: 100 TeV, nbins: 80}
      energy_true: {min: 10 GeV, max: 100 TeV, nbins: 80}
  safe_mask: {methods: [aeff-default, edisp-bias], bias_percent: 10}
fit: {e_min: 0.66 TeV, e_max: 30 TeV}
"""


def test_good_config_and_round_trip(tmp_path):
    cfg = AnalysisConfig.from_yaml(GOOD)
    assert cfg["datasets"]["geom"]["axes"]["energy_true"]["min"] == 0.01 * u.TeV
    assert cfg["datasets"]["on_region"]["radius"].unit == u.deg
    assert cfg["general"]["executor"] == "processes" and cfg["general"]["overwrite"] is False  # default kept
    cfg.write(tmp_path / "c.yaml")
    again = AnalysisConfig.read(tmp_path / "c.yaml")
    assert again == cfg
    with pytest.raises(Exception, match="exists"):
        cfg.write(tmp_path / "c.yaml")


@pytest.mark.parametrize(
    "text,message",
    [
        ("datasets: {tpye: 1d}", r"Unknown key 'datasets.tpye'; allowed keys: .*type"),
        ("fit: {e_min: 1 km}", r"'fit.e_min' = '1 km': unit 'km' is not convertible to 'TeV'"),
        ("fit: {e_min: 3}", r"'fit.e_min' = 3 has no unit"),
        ("datasets: {type: 2d}", r"'datasets.type' = '2d' is not allowed; choose one of \['1d', '3d'\]"),
        ("datasets: {safe_mask: {methods: [aeff-default, magic]}}", r"'datasets.safe_mask.methods\[1\]' = 'magic'"),
        ("data: {obs_ids: [1, two]}", r"'data.obs_ids\[1\]' must be an integer"),
        ("colour: red", r"Unknown key 'colour'"),
        ("fit: [1, 2]", r"'fit' must be a mapping"),
        ("fit: {e_min: : :", r"not valid YAML"),
    ],
)
def test_bad_config_messages(text, message):
    with pytest.raises(ConfigError, match=message):
        AnalysisConfig.from_yaml(text)


def test_missing_file(tmp_path):
    from gwidgets.errors import FileNotFoundGwError

    with pytest.raises(FileNotFoundGwError, match="nope.yaml"):
        AnalysisConfig.read(tmp_path / "nope.yaml")


JOINT = """
data:
  required_irf: point-like
  groups:
    - {name: hess, datastore: $GW_TEST_ROOT/hess, on_radius: 0.11 deg, fit: {e_min: 0.66 TeV, e_max: 30 TeV}}
    - {name: fact, datastore: ~/fact, on_radius: 0.1732 deg, stack: true, safe_mask: {methods: [aeff-default], e_min: 400 GeV}}
models:
  - {name: crab, type: SkyModel, spectral: {type: LogParabolaSpectralModel}}
light_curve: {time_intervals: [['2006-07-29T20:00', 53946.0]], per_observation: false}
flux_points: {energy: {edges: [1 TeV, 3 TeV, 10 TeV]}}
"""


def test_groups_env_vars_models_and_time_intervals(monkeypatch, tmp_path):
    import os

    monkeypatch.setenv("GW_TEST_ROOT", "/data/jc")
    cfg = AnalysisConfig.from_yaml(JOINT)
    hess, fact = cfg["data"]["groups"]
    assert hess["datastore"] == "/data/jc/hess" and fact["datastore"] == os.path.expanduser("~/fact")
    assert fact["safe_mask"]["e_min"] == 0.4 * u.TeV and hess["fit"]["e_max"] == 30 * u.TeV
    assert cfg["models"] == {"components": [{"name": "crab", "type": "SkyModel",
                                             "spectral": {"type": "LogParabolaSpectralModel"}}]}
    assert cfg["flux_points"]["energy"]["edges"][1] == 3 * u.TeV
    cfg.write(tmp_path / "j.yaml")
    assert AnalysisConfig.read(tmp_path / "j.yaml") == cfg
    # an unset variable is kept as written (the step using the path reports it)
    monkeypatch.delenv("GW_TEST_ROOT")
    assert AnalysisConfig.from_yaml(JOINT)["data"]["groups"][0]["datastore"] == "$GW_TEST_ROOT/hess"


def test_quantities_round_trip_without_losing_digits(tmp_path):
    cfg = AnalysisConfig.from_dict({"datasets": {"on_region": {"lon": "83.633083 deg", "lat": "22.0145 deg",
                                                               "radius": "0.141421356 deg"}}})
    again = AnalysisConfig.from_yaml(cfg.to_yaml())
    assert again["datasets"]["on_region"]["lon"].value == 83.633083
    assert again["datasets"]["on_region"]["radius"].value == 0.141421356


@pytest.mark.parametrize(
    "text,message",
    [
        ("data: {groups: [{name: a, on_radius: 1 km}]}", r"'data.groups\[0\].on_radius' = '1 km': unit 'km'"),
        ("data: {groups: [{name: a, colour: red}]}", r"Unknown key 'data.groups\[0\].colour'; allowed keys: .*on_radius"),
        ("data: {groups: {name: a}}", r"'data.groups' must be a list of mappings"),
        ("light_curve: {time_intervals: [[2006-07-29, tomorrow]]}", r"'light_curve.time_intervals\[0\]\[1\]' = 'tomorrow' is not a time"),
        ("light_curve: {time_intervals: [[53946.0]]}", r"'light_curve.time_intervals\[0\]' must be a \[start, stop\] pair"),
        ("models: 3", r"'models' must be a model YAML path, a list of model components"),
        ("models: [{name: crab}]", r"'models.components\[0\]' must be a mapping with a 'type'"),
        ("flux_points: {energy: {edges: [1 TeV, 3 m]}}", r"'flux_points.energy.edges\[1\]' = '3 m'"),
    ],
)
def test_bad_extended_config_messages(text, message):
    with pytest.raises(ConfigError, match=message):
        AnalysisConfig.from_yaml(text)


def test_expand_path_names_the_key(monkeypatch):
    from gwidgets.core.config import expand_path

    monkeypatch.delenv("GW_NOPE", raising=False)
    with pytest.raises(ConfigError, match=r"'data.datastore' = '\$\{GW_NOPE\}/x': environment variable GW_NOPE is not set"):
        expand_path("${GW_NOPE}/x", "data.datastore")
    monkeypatch.setenv("GW_NOPE", "/d")
    assert expand_path("${GW_NOPE}/x") == "/d/x"
