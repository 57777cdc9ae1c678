"""Config-driven analysis: `gwidgets run` / `Analysis` against the core API by hand, session export round trip,
bad input giving one clear message and no output folder."""
from __future__ import annotations

import runpy
import warnings

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gwidgets.cli import main
from gwidgets.core.analysis import (Analysis, SessionState, StepNotAvailableError, config_to_script, config_to_state,
                                    read_fit_result, session_to_config, state_to_config)
from gwidgets.core.analysis.export import apply_state
from gwidgets.core.config import AnalysisConfig, ConfigError
from gwidgets.core.data import DataStore
from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
from gwidgets.core.fit import Fit
from gwidgets.core.geom import MapAxis
from gwidgets.core.models import LogParabola, Models, SkyModel
from gwidgets.core.reduction.safe_mask import SafeMaskMaker
from gwidgets.core.reduction.spectrum import SpectrumExtractor

CRAB = SkyCoord(83.633, 22.014, unit="deg")
RUNS = [23523, 23526]

SMALL = """
data:
  datastore: $GWIDGETS_DATA/joint-crab/data/hess
  obs_ids: [23523, 23526]
  required_irf: point-like
datasets:
  type: 1d
  stack: false          # one dataset per run, as the by-hand reduction below (the default stacks)
  on_region: {frame: icrs, lon: 83.633 deg, lat: 22.014 deg, radius: 0.11 deg}
  geom:
    axes:
      energy: {min: 0.01 TeV, max: 100 TeV, nbins: 80}
      energy_true: {min: 0.01 TeV, max: 100 TeV, nbins: 80}
  safe_mask: {methods: [aeff-default]}
models:
  - name: crab
    type: SkyModel
    spectral:
      type: LogParabolaSpectralModel
      log_base: 10
      parameters:
        - {name: amplitude, value: 3.0e-11, unit: cm-2 s-1 TeV-1}
        - {name: reference, value: 1.0, unit: TeV, frozen: true}
        - {name: alpha, value: 2.5}
        - {name: beta, value: 0.2}
fit: {e_min: 0.66 TeV, e_max: 30 TeV}
"""


@pytest.fixture(autouse=True)
def _data_env(monkeypatch, data_dir):
    monkeypatch.setenv("GWIDGETS_DATA", str(data_dir))
    warnings.simplefilter("ignore")


def _by_hand(stores):
    """The same analysis with the core API, step by step."""
    obs = DataStore.from_dir(stores["jc-hess"]).get_observations(RUNS, required_irf="point-like")
    e = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80)
    et = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80, name="energy_true")
    extractor = SpectrumExtractor(CircleSkyRegion(CRAB, 0.11 * u.deg), e, et)
    sets = []
    for o, ex in zip(obs, extractor.run_many(obs)):
        ds = SpectrumDatasetOnOff.from_extraction(ex)
        ds.mask_safe, _ = SafeMaskMaker(["aeff-default"]).run(ex, o)
        sets.append(ds)
    datasets = Datasets(sets)
    datasets.models = SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.2),
                               name="crab")
    datasets.set_fit_range(0.66 * u.TeV, 30 * u.TeV)
    return Fit().run(datasets), datasets


def _assert_same_fit(stored: dict, result, rel=1e-9):
    assert stored["success"] and result.success
    assert stored["total_stat"] == pytest.approx(result.total_stat, rel=rel)
    got = {p["name"]: p for p in stored["parameters"]}
    for p in result.parameters:
        assert got[p.name]["value"] == pytest.approx(p.value, rel=rel), p.name
        assert got[p.name]["error"] == pytest.approx(p.error, rel=max(rel, 1e-6)), p.name


@pytest.fixture(scope="module")
def by_hand(stores):
    return _by_hand(stores)


def test_gwidgets_run_equals_the_core_api_by_hand(tmp_path, by_hand, capsys):
    cfg = tmp_path / "small.yaml"
    cfg.write_text(SMALL)
    out = tmp_path / "results"
    assert main(["run", str(cfg), "--outdir", str(out), "--quiet"]) == 0
    assert "Results written to" in capsys.readouterr().out
    result, datasets = by_hand
    _assert_same_fit(read_fit_result(out), result, rel=1e-10)
    # every product is there, and each reads back to the same thing
    assert sorted(p.name for p in out.iterdir()) == [".gwidgets-output", "analysis.log", "config.yaml", "datasets",
                                                     "fit_result.ecsv", "fit_result.yaml", "models.yaml",
                                                     "models_covariance.dat", "plots"]
    assert (out / "plots" / "spectrum.png").read_bytes()[:4] == b"\x89PNG"
    back = Datasets.read([out / "datasets" / f"pha_obs{r}.fits" for r in RUNS])
    for a, b in zip(back, datasets):
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.counts_off, b.counts_off)
        np.testing.assert_array_equal(a.mask_safe, b.mask_safe)
    models = Models.read(out / "models.yaml")
    for p in result.parameters:
        assert models["crab"].spectral_model.parameters[p.name].value == pytest.approx(p.value, rel=1e-12)
        # errors from the covariance file (log10 beta: scaled for gammapy on writing, back on reading)
        assert models["crab"].spectral_model.parameters[p.name].error == pytest.approx(p.error, rel=1e-10)
    assert AnalysisConfig.read(out / "config.yaml") == AnalysisConfig.from_yaml(SMALL)
    # refitting the written OGIP files gives the same result (round trip of the datasets)
    back.models = models["crab"]
    back.set_fit_range(0.66 * u.TeV, 30 * u.TeV)
    assert back.stat_sum() == pytest.approx(result.total_stat, rel=1e-6)
    # no temporary folder left next to the output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_steps_callable_alone_and_models_set_by_hand(by_hand):
    analysis = Analysis(SMALL)
    datasets = analysis.get_datasets()  # runs the observations step first
    assert list(analysis.observations) == ["hess"] and datasets.names == ["23523", "23526"]
    assert "datasets" in repr(analysis)
    result, _ = by_hand
    analysis.set_models(SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.2),
                                 name="crab"))
    ours = analysis.run_step("fit")
    assert ours.total_stat == pytest.approx(result.total_stat, rel=1e-10)
    with pytest.raises(StepNotAvailableError, match="Analysis step 'flux_points' is not available"):
        import sys

        saved = sys.modules.get("gwidgets.core.estimators")
        sys.modules["gwidgets.core.estimators"] = None  # as if the estimators were not installed
        try:
            analysis.get_flux_points()
        finally:
            if saved is None:
                sys.modules.pop("gwidgets.core.estimators", None)
            else:
                sys.modules["gwidgets.core.estimators"] = saved


def test_stacked_group_and_group_fit_range(stores):
    cfg = AnalysisConfig.from_yaml(SMALL)
    cfg.update({"data": {"groups": [{"name": "h", "stack": True, "fit": {"e_min": "1 TeV", "e_max": "10 TeV"}}]}})
    analysis = Analysis(cfg)
    result = analysis.run_fit()
    assert analysis.datasets.names == ["h"] and len(analysis.datasets_per_obs) == 2
    stacked = Datasets(list(analysis.datasets_per_obs)).stack_reduce(name="x")
    np.testing.assert_array_equal(analysis.datasets[0].counts, stacked.counts)
    lo, hi = analysis.datasets[0].energy_range
    assert lo >= 1 - 1e-9 and hi <= 10 + 1e-9
    assert result.success


# --------------------------------------------------------------------------- session export
@pytest.fixture(scope="module")
def session_state(stores):
    from gwidgets.state import AnalysisSession

    store = DataStore.from_dir(stores["jc-hess"])
    session = AnalysisSession(store, background=False)
    session.required_irf = "point-like"  # (a trait passed to __init__ is observed before the graph exists)
    session.select(RUNS)
    session.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    session.add_exclusion(CircleSkyRegion(SkyCoord(84.2, 21.2, unit="deg"), 0.3 * u.deg))
    session.set_models(Models([SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5,
                                                    beta=0.2), name="crab")]))
    # the fit a dashboard user gets from the session's own datasets (safe mask set by the one 1D pipeline)
    datasets = session.compute("datasets").copy()
    datasets.models = session.models.copy()
    datasets.set_fit_range(0.66 * u.TeV, 30 * u.TeV)
    result = Fit().run(datasets)
    fit = {"e_min": 0.66 * u.TeV, "e_max": 30 * u.TeV}
    yield session, result, fit
    session.close()


def test_session_export_run_gives_the_identical_fit(session_state, tmp_path):
    session, result, fit = session_state
    config = session_to_config(session, fit=fit, outdir=tmp_path / "out")
    path = tmp_path / "exported.yaml"
    config.write(path)
    assert main(["run", str(path), "--quiet"]) == 0
    _assert_same_fit(read_fit_result(tmp_path / "out"), result, rel=1e-10)


def test_exported_script_gives_the_identical_fit(session_state, tmp_path, capsys):
    session, result, fit = session_state
    script = tmp_path / "analysis.py"
    script.write_text(config_to_script(session_to_config(session, fit=fit)))
    ns = runpy.run_path(str(script))
    assert "gwidgets" in script.read_text() and "ipywidgets" not in script.read_text()
    assert ns["result"].total_stat == pytest.approx(result.total_stat, rel=1e-10)
    for p in result.parameters:
        assert ns["result"].parameters[p.name].value == pytest.approx(p.value, rel=1e-10)


def test_config_restores_the_session(session_state, stores):
    from gwidgets.state import AnalysisSession

    session, _, fit = session_state
    config = session_to_config(session, fit=fit)
    state = config_to_state(AnalysisConfig.from_yaml(config.to_yaml()))
    assert state == config_to_state(config)
    again = AnalysisSession(DataStore.from_dir(stores["jc-hess"]), background=False)
    apply_state(again, state)
    assert again.selection == session.selection and again.required_irf == "point-like"
    assert again.on_region.center.separation(session.on_region.center).deg < 1e-12
    assert again.on_region.radius == session.on_region.radius
    assert len(again.exclusion_regions) == 1
    assert again.exclusion_regions[0].radius.to_value("deg") == pytest.approx(0.3, rel=1e-14)
    assert again.models.to_dict() == session.models.to_dict()
    assert session_to_config(again, fit=fit) == config
    again.close()


def test_state_round_trip_without_a_session():
    state = SessionState(datastore="/data/store", obs_ids=[1, 2], on_region=CircleSkyRegion(CRAB, 0.2 * u.deg),
                         fit={"e_min": 1 * u.TeV})
    config = state_to_config(state)
    assert config["data"]["obs_ids"] == [1, 2] and config["fit"]["e_min"] == 1 * u.TeV
    assert config_to_state(config) == state
    with pytest.raises(ConfigError, match="'models' is not set"):
        config_to_script(config)


# --------------------------------------------------------------------------- bad input
BAD = [
    ("fit: {e_mni: 1 TeV}", r"Unknown key 'fit.e_mni'; allowed keys: backend, e_max, e_min"),
    ("fit: {e_min: 1 km}", r"'fit.e_min' = '1 km': unit 'km' is not convertible to 'TeV'"),
    ("data: {datastore: /no/such/store}", r"'data.datastore': data store directory '/no/such/store' does not exist"),
    ("fit: {e_min: 200 TeV, e_max: 300 TeV}", r"'fit.e_min'/'fit.e_max' = 200.0 TeV – 300.0 TeV: no dataset has data"),
    ("light_curve: {time_intervals: [['1990-01-01', '1990-01-02']]}",
     r"'light_curve.time_intervals\[0\]' = \[1990-01-01, 1990-01-02\] contains no observation"),
    ("datasets: {safe_mask: {methods: [user], e_min: 150 TeV}}",
     r"'datasets.safe_mask': the safe energy range leaves no data"),
]


@pytest.mark.parametrize("extra,message", BAD)
def test_bad_input_one_clear_line_and_nothing_written(tmp_path, capsys, extra, message):
    import re
    import yaml

    cfg = yaml.safe_load(SMALL)
    for key, value in yaml.safe_load(extra).items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "results"
    assert main(["run", str(path), "--outdir", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("gwidgets: error: ")
    assert re.search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # no output, no partial folder


def test_failed_write_leaves_the_previous_output_untouched(tmp_path, monkeypatch):
    from gwidgets.core.analysis import WRITERS

    from gwidgets.core.outdir import write_marker

    out = tmp_path / "results"
    out.mkdir()
    (out / "old.txt").write_text("previous run")
    write_marker(out)  # a folder gwidgets wrote: --overwrite may replace it

    def broken(analysis, folder):
        (folder / "half.txt").write_text("half")
        raise OSError(28, "No space left on device")

    WRITERS.add("disk_full", broken)  # the last writer: every other product is written by then
    analysis = Analysis(SMALL)
    try:
        with pytest.raises(Exception, match="writing disk_full into .* failed: No space left on device"):
            analysis.run(outdir=out, overwrite=True)
    finally:
        WRITERS.remove("disk_full")
    assert sorted(p.name for p in out.iterdir()) == [".gwidgets-output", "old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]
    # without overwrite the existing folder is refused before any work
    with pytest.raises(ConfigError, match="exists; set general.overwrite"):
        Analysis(SMALL).run(outdir=out)


def test_unset_variable_and_bad_groups():
    import os

    os.environ.pop("GW_NOT_SET", None)
    with pytest.raises(ConfigError, match="environment variable GW_NOT_SET is not set"):
        Analysis({"data": {"datastore": "$GW_NOT_SET/x"}}).get_observations()
    with pytest.raises(ConfigError, match=r"'data.groups\[1\].name' = 'a' is used by two groups"):
        Analysis({"data": {"datastore": "/x", "groups": [{"name": "a"}, {"name": "a"}]}}).get_observations()
    with pytest.raises(ConfigError, match="'data.datastore' is not set"):
        Analysis({}).get_observations()


def test_example_configs_are_valid(data_dir):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "examples"
    jc = AnalysisConfig.read(root / "joint_crab_dl3.yaml")
    groups = jc["data"]["groups"]
    # the paper's joint fit: the Fermi-LAT OGIP spectrum, then the four IACTs from DL3
    assert groups[0]["name"] == "fermi" and str(data_dir) in groups[0]["spectra"]
    radii = {g["name"]: g["on_radius"].to_value("deg") for g in groups[1:]}
    assert radii == {"hess": 0.11, "magic": 0.1414, "veritas": 0.1, "fact": 0.1732}
    assert groups[4]["stack"] and groups[4]["safe_mask"]["e_min"] == 0.4 * u.TeV
    assert str(data_dir) in groups[1]["datastore"]
    lc = AnalysisConfig.read(root / "pks2155_lightcurve.yaml")
    assert lc["light_curve"]["per_observation"] and len(lc["data"]["obs_ids"]) == 15
    # the light-curve config reduces and fits (the estimator itself is the estimators' job)
    analysis = Analysis(root / "pks2155_lightcurve.yaml")
    result = analysis.run_fit()
    assert result.success and len(analysis.datasets_per_obs) == 15
    from gwidgets.core.analysis.steps.light_curve import time_intervals

    intervals = time_intervals(analysis)
    assert len(intervals) == 15 and all(b > a for a, b in intervals)


def test_flux_points_product_is_the_estimator_on_the_fitted_datasets(tmp_path, by_hand):
    """The flux points written by `gwidgets run` are the estimator's, on the same datasets and fitted model."""
    est = pytest.importorskip("gwidgets.core.estimators")
    try:
        FluxPoints, FluxPointsEstimator = est.FluxPoints, est.FluxPointsEstimator
    except (ImportError, AttributeError):
        pytest.skip("estimators not available")
    cfg = tmp_path / "fp.yaml"
    cfg.write_text(SMALL + "flux_points: {source: crab, energy: {min: 1 TeV, max: 10 TeV, nbins: 3}}\n")
    assert main(["run", str(cfg), "--outdir", str(tmp_path / "out"), "--quiet"]) == 0
    written = FluxPoints.read(tmp_path / "out" / "flux_points.ecsv").to_table("dnde")
    _, datasets = by_hand
    fitted = datasets.copy()
    fitted.models = datasets.models.copy()
    edges = MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 3).edges
    ref = FluxPointsEstimator(energy_edges=edges, source="crab").run(fitted).to_table("dnde")
    np.testing.assert_allclose(written["dnde"].quantity.value, ref["dnde"].quantity.value, rtol=1e-6)
    np.testing.assert_allclose(written["dnde_err"].quantity.value, ref["dnde_err"].quantity.value, rtol=1e-6)
    # the upper limits the plots draw as arrows (and asymmetric errors) are computed and written
    uls = FluxPointsEstimator(energy_edges=edges, source="crab", selection_optional=("errn-errp", "ul")).run(fitted)
    np.testing.assert_allclose(written["dnde_ul"].quantity.value, uls.to_table("dnde")["dnde_ul"].quantity.value,
                               rtol=1e-6)
    assert "dnde_errn" in written.colnames and "is_ul" in written.colnames
    assert (tmp_path / "out" / "flux_points.fits").exists()


def test_3d_config_counts_cube_matches_gammapy(tmp_path, stores):
    """datasets.type 3d: the stacked counts cube written to maps/ equals gammapy's MapDatasetMaker counts."""
    gmaps = pytest.importorskip("gammapy.maps")
    from gammapy.data import DataStore as GDataStore
    from gammapy.datasets import MapDataset as GMapDataset
    from gammapy.makers import MapDatasetMaker as GMaker

    from gwidgets.core.geom import Map

    cfg = {"data": {"datastore": str(stores["hess-dr1"]), "obs_ids": RUNS},
           "datasets": {"type": "3d", "stack": True,
                        "geom": {"skydir": {"frame": "icrs", "lon": "83.633 deg", "lat": "22.014 deg"},
                                 "binsize": "0.04 deg", "width": "3 deg",
                                 "axes": {"energy": {"min": "1 TeV", "max": "10 TeV", "nbins": 4},
                                          "energy_true": {"min": "0.5 TeV", "max": "20 TeV", "nbins": 8}}}}}
    out = Analysis(cfg).run(outdir=tmp_path / "out")
    counts = Map.read(out / "maps" / "hess-dl3-dr1_counts.fits")
    e = gmaps.MapAxis.from_energy_bounds(1, 10, 4, unit="TeV")
    geom = gmaps.WcsGeom.create(skydir=(83.633, 22.014), binsz=0.04, width=3, frame="icrs", axes=[e])
    empty = GMapDataset.create(geom)
    total = np.zeros(geom.data_shape)
    for obs in GDataStore.from_dir(stores["hess-dr1"]).get_observations(RUNS):
        total += GMaker(selection=["counts"]).run(empty.copy(), obs).counts.data
    np.testing.assert_array_equal(np.asarray(counts.data), total)
    assert total.sum() > 1000
