"""One 1D reduction pipeline for the three front doors (session, `Analysis` config, exported script).

References: the core's extraction + `SafeMaskMaker` run by hand on the same runs (the IRFs' LO_THRES),
and each front door against the others. One default changed in `SpectrumReductionSettings` must show in
all three: the session's datasets, the `Analysis` datasets and the datasets the exported script makes.
"""
from __future__ import annotations

import ast
import runpy
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

import gwidgets
from gwidgets.core.analysis import Analysis
from gwidgets.core.analysis.export import store_dir
from gwidgets.core.data import DataStore
from gwidgets.core.datasets import SpectrumDatasetOnOff
from gwidgets.core.models import LogParabola, SkyModel
from gwidgets.core.reduction import settings as reduction_settings
from gwidgets.core.reduction.safe_mask import SafeMaskMaker
from gwidgets.core.reduction.spectrum import SpectrumExtractor
from gwidgets.state import AnalysisSession

CRAB = SkyCoord(83.633, 22.014, unit="deg")
RUNS = [23523, 23526]
SOURCE = Path(gwidgets.__file__).parent


@pytest.fixture(autouse=True)
def _quiet():
    warnings.simplefilter("ignore")


@pytest.fixture(scope="module")
def store(stores):
    """The joint-crab H.E.S.S. store (point-like IRFs with LO_THRES)."""
    return DataStore.from_dir(stores["jc-hess"])


def _session(store, **kwargs):
    s = AnalysisSession(store, background=False)
    s.required_irf = "point-like"
    s.select(RUNS)
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    s.set_models(SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.2), name="crab"))
    if kwargs:
        s.set_spectrum_settings(**kwargs)
    return s


def _by_hand(store, settings):
    """The core's extraction and the IRFs' safe range, step by step (not through the pipeline)."""
    obs = store.get_observations(RUNS, required_irf="point-like")
    extractor = SpectrumExtractor(CircleSkyRegion(CRAB, 0.11 * u.deg), settings.energy_axis,
                                  settings.energy_axis_true)
    out = []
    for o in obs:
        e = extractor.run(o)
        d = SpectrumDatasetOnOff.from_extraction(e)
        d.mask_safe, _ = SafeMaskMaker(["aeff-default"]).run(e, o)
        out.append(d)
    return out


def _analysis(config) -> Analysis:
    analysis = Analysis(config)
    analysis.get_datasets()
    return analysis


def _script_datasets(session, tmp_path):
    script = tmp_path / "analysis.py"
    script.write_text(session.export_script())
    ns = runpy.run_path(str(script))
    return ns, script.read_text()


def _assert_same(a, b):
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.counts, y.counts)
        np.testing.assert_array_equal(x.counts_off, y.counts_off)
        np.testing.assert_allclose(x.exposure, y.exposure, rtol=1e-12)
        np.testing.assert_array_equal(x.mask_safe, y.mask_safe)


def test_session_datasets_carry_the_safe_mask_and_equal_the_analysis_datasets(store):
    """The session's 1D datasets now have the IRFs' safe range, and equal `Analysis`'s for the same inputs."""
    s = _session(store)
    try:
        s.set_dataset_mode("joint")
        session_sets = list(s.compute("datasets"))
        ref = _by_hand(store, s.reduction_settings)
        _assert_same(session_sets, ref)
        for d in session_sets:  # a real cut: LO_THRES of these runs is inside the 0.1-100 TeV axis
            assert 0 < d.mask_safe.sum() < len(d.mask_safe)
            lo = d.energy_edges[:-1][d.mask_safe][0]
            assert lo > 0.3, lo
        config = s.export_config()
        analysis = _analysis(config)
        _assert_same(session_sets, analysis.datasets_per_obs)
        assert [d.name for d in analysis.datasets_per_obs] == [d.name for d in session_sets]
    finally:
        s.close()


def test_one_default_changed_shows_in_session_analysis_and_script(store, tmp_path, monkeypatch, data_dir):
    """One default changed in the settings module shows in the session, the Analysis and the script.

    The default safe-mask threshold raised to 2 TeV (and 20 reco bins): the session's datasets, the
    datasets of an `Analysis` whose config does not set a safe mask, and the datasets the exported script
    makes, all start at 2 TeV (they start near LO_THRES, < 1 TeV, with the shipped default).
    """
    monkeypatch.setenv("GWIDGETS_DATA", str(data_dir))
    shipped = _by_hand(store, reduction_settings.SpectrumReductionSettings())
    assert all(d.energy_edges[:-1][d.mask_safe][0] < 1.1 for d in shipped)  # LO_THRES 0.87 and 0.71 TeV
    monkeypatch.setattr(reduction_settings, "DEFAULT_SAFE_MASK", {"methods": ["aeff-default"], "e_min": 2 * u.TeV})
    # also the binning default: 20 reco bins instead of 30
    monkeypatch.setattr(reduction_settings, "DEFAULT_ENERGY", dict(reduction_settings.DEFAULT_ENERGY, nbins=20))
    s = _session(store)
    try:
        assert s.reduction_settings.safe_mask["e_min"] == 2 * u.TeV
        s.set_dataset_mode("joint")
        session_sets = list(s.compute("datasets"))
        for d in session_sets:
            assert len(d.counts) == 20
            lo = d.energy_edges[:-1][d.mask_safe][0]
            assert 2.0 - 1e-9 <= lo < 2.0 * 10 ** (3 / 20), lo  # the first bin starting at or above 2 TeV
        # the Analysis: a config that says nothing about the safe mask or the energy axes
        config = {"data": {"datastore": store_dir(store), "obs_ids": RUNS,
                           "required_irf": "point-like"},
                  "datasets": {"type": "1d", "stack": False,
                               "on_region": {"frame": "icrs", "lon": "83.633 deg", "lat": "22.014 deg",
                                             "radius": "0.11 deg"}}}
        analysis = _analysis(config)
        assert analysis.config["datasets"]["safe_mask"]["e_min"] == 2 * u.TeV
        _assert_same(session_sets, analysis.datasets_per_obs)
        # the exported script writes the value out and its datasets are the same
        ns, text = _script_datasets(s, tmp_path)
        assert "'e_min': 2.0 * u.Unit('TeV')" in text
        assert 'MapAxis.from_energy_bounds(0.1 * u.TeV, 100.0 * u.TeV, 20, name="energy")' in text
        _assert_same(session_sets, ns["per_observation"])
    finally:
        s.close()
    # the fit of the script and of the session agree (stacking as the settings say)
    assert ns["settings"].stack is False  # the session's mode (joint) was exported


def test_the_1d_reduction_is_written_once():
    """The 1D reduction exists once in the package (and the 3D maker is built in one place).

    Only the pipeline (`spectrum_maker`) turns extractions into datasets and builds a `SpectrumExtractor`;
    the session (its graph nodes in `state/session_graph.py`), the Analysis step and the script template call
    `reduce_spectra`.
    """
    calls = {}
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in ("SpectrumExtractor", "from_extraction", "reduce_spectra", "SafeMaskMaker",
                            "MapDatasetMaker"):
                    calls.setdefault(name, set()).add(str(path.relative_to(SOURCE)))
    assert calls["SpectrumExtractor"] == {"core/reduction/spectrum_maker.py"}
    assert calls["from_extraction"] == {"core/reduction/spectrum_maker.py"}
    assert calls["SafeMaskMaker"] == {"core/reduction/settings.py", "core/reduction/spectrum_maker.py"}
    # and the 3D maker is built from its settings object only (Analysis 3d, the 3D map session)
    assert calls["MapDatasetMaker"] == {"core/reduction/map_settings.py"}
    assert {"state/session_graph.py", "core/analysis/steps/datasets.py"} <= calls["reduce_spectra"]
    # the script template calls it too
    assert "reduce_spectra(observations, on_region, settings" in (SOURCE / "core/analysis/export.py").read_text()


def test_makers_and_estimators_follow_the_protocols():
    """Every maker is an `ObservationMaker` or a `DatasetMaker`; every estimator's ``run`` takes ``datasets``."""
    from gwidgets.core.estimators import (
        Estimator,
        EstimatorError,
        ExcessMapEstimator,
        FluxPointsEstimator,
        LightCurveEstimator,
        TSMapEstimator,
    )
    from gwidgets.core.reduction import (
        DatasetMaker,
        FoVBackgroundMaker,
        MapDatasetMaker,
        MapMaker,
        ObservationMaker,
        RingBackgroundMaker,
        SpectrumDatasetMaker,
    )

    for cls in (SpectrumDatasetMaker, MapDatasetMaker, MapMaker):
        assert issubclass(cls, ObservationMaker) and cls.kind == "observation", cls
    for cls in (RingBackgroundMaker, FoVBackgroundMaker):
        assert issubclass(cls, DatasetMaker) and cls.kind == "dataset", cls
    for cls in (FluxPointsEstimator, LightCurveEstimator, ExcessMapEstimator, TSMapEstimator):
        assert issubclass(cls, Estimator), cls
        assert list(__import__("inspect").signature(cls.run).parameters) == ["self", "datasets"], cls
    with pytest.raises(EstimatorError, match="TSMapEstimator works on one dataset, got 2"):
        TSMapEstimator().run([object(), object()])


def test_settings_reject_bad_values_naming_the_key():
    """A bad reduction setting in a config is a `ConfigError` naming its key."""
    from gwidgets.core.analysis.steps.datasets import spectrum_settings
    from gwidgets.core.config import ConfigError

    with pytest.raises(ConfigError, match=r"'datasets.background.method' = 'ring' is not available for a 1d"):
        spectrum_settings({"datasets": {"type": "1d", "background": {"method": "ring"}}})
    with pytest.raises(ConfigError, match=r"'data.groups\[0\].safe_mask': .*Unknown safe-mask method"):
        spectrum_settings({"datasets": {}}, {"key": "data.groups[0]", "safe_mask": {"methods": ["magic"]}})
    with pytest.raises(ConfigError, match=r"'datasets.geom.axes.energy.nbins' must be at least 1"):
        spectrum_settings({"datasets": {"geom": {"axes": {"energy": {"nbins": 0}}}}})
    with pytest.raises(reduction_settings.ReductionSettingsError, match="Unknown spectrum setting"):
        reduction_settings.SpectrumReductionSettings().replace(nbins=3)


def test_stacked_session_fits_one_dataset_and_keeps_the_runs_for_light_curves(store):
    """A stacked session fits one dataset and keeps the runs for light curves.

    ``set_dataset_mode("stacked")`` (the settings' default for the config) fits the stack of the runs'
    safe ranges, while the light curve still has one bin per run: the same as in joint mode.
    """
    s = _session(store)
    try:
        s.set_dataset_mode("joint", fit_range=(0.7, 30))
        joint = s.compute("datasets")
        s.light_curve(energy_edges=[1, 100] * u.TeV, wait=True)
        lc_joint = s.light_curve_result
        assert s.error == "" and len(lc_joint.table) == len(RUNS)
        s.set_dataset_mode("stacked", fit_range=(0.7, 30))
        stacked = s.compute("datasets")
        assert stacked.names == ["stacked"] and stacked[0].meta["OBS_IDS"] == RUNS
        assert stacked[0].counts.sum() == sum((d.counts * d.mask_safe).sum() for d in joint)
        s.light_curve(energy_edges=[1, 100] * u.TeV, wait=True)
        lc = s.light_curve_result
        assert s.error == "" and len(lc.table) == len(RUNS)
        for col in ("norm", "norm_err", "ts"):
            np.testing.assert_allclose(lc[col], lc_joint[col], rtol=1e-10, err_msg=col)
        assert s.export_config()["datasets"]["stack"] is True
    finally:
        s.close()
