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
