"""ExportPanel: session → config YAML → a new session (same state); session → script → same fit.

References: the restored session's state read back through
`gwidgets.core.analysis.export.session_to_state` and its public traits; the
exported script run in a separate Python process, its fit compared with
``session.fit()`` on the same starting model.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gwidgets.core.analysis.export import session_to_state
from gwidgets.core.data import DataStore
from gwidgets.core.models import LogParabola, SkyModel
from gwidgets.state import AnalysisSession
from gwidgets.widgets import ExportPanel

CRAB = SkyCoord(83.633, 22.014, unit="deg")
IDS = [23523, 23526]


@pytest.fixture(scope="module")
def store(stores):
    return DataStore.from_dir(stores["jc-hess"])


@pytest.fixture(scope="module")
def edited(store):
    """A session as a user leaves it: selection, a moved ON region, an exclusion, an edited model, a fit range."""
    s = AnalysisSession(store, required_irf="point-like", background=False)
    s.select(IDS)
    s.set_on_region(CircleSkyRegion(SkyCoord(83.64, 22.02, unit="deg"), 0.12 * u.deg))
    s.add_exclusion(CircleSkyRegion(SkyCoord(84.5, 21.2, unit="deg"), 0.3 * u.deg))
    model = SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.23), name="crab")
    s.set_models([model])
    model.spectral_model.alpha.value = 2.6
    s.set_dataset_mode("joint", fit_range=(0.7, 30))
    yield s
    s.close()


def _intent(s):
    return {"selection": list(s.selection), "required_irf": s.required_irf,
            "on": (s.on_region.center.ra.deg, s.on_region.center.dec.deg, s.on_region.radius.to_value("deg")),
            "exclusions": [(r.center.ra.deg, r.center.dec.deg, r.radius.to_value("deg")) for r in s.exclusion_regions],
            "params": [(p.name, p.value, p.frozen) for p in s.models.parameters],
            "fit": {k: v.to_value("TeV") for k, v in s.fit_settings.items()}, "spectrum": s.spectrum_settings}


def test_config_round_trip_restores_the_session(edited, store, tmp_path):
    panel = ExportPanel(edited, filename="analysis.yaml", directory=tmp_path)
    panel.save_config_button.click()
    assert (tmp_path / "analysis.yaml").exists() and "saved" in panel.message.value, panel.message.value
    fresh = AnalysisSession(store, background=False)
    target = ExportPanel(fresh, filename=str(tmp_path / "analysis.yaml"))
    target.load_config_button.click()
    assert fresh.error == "" and "loaded" in target.message.value, target.message.value
    a, b = _intent(edited), _intent(fresh)
    assert a["selection"] == b["selection"] == IDS and b["required_irf"] == "point-like"
    np.testing.assert_allclose(b["on"], a["on"], rtol=1e-12)
    np.testing.assert_allclose(b["exclusions"], a["exclusions"], rtol=1e-12)
    assert [n for n, _, _ in b["params"]] == [n for n, _, _ in a["params"]]
    np.testing.assert_allclose([v for _, v, _ in b["params"]], [v for _, v, _ in a["params"]], rtol=1e-12)
    assert [f for *_, f in b["params"]] == [f for *_, f in a["params"]]
    assert b["fit"] == pytest.approx(a["fit"]) and b["spectrum"] == a["spectrum"]
    restored, original = session_to_state(fresh), session_to_state(edited)
    # the models were compared above to 1e-12: a log10 beta is written as gammapy's natural-log beta, so its
    # round trip goes through ln 10 (one ulp); everything else must be identical
    restored.models = original.models = None
    assert restored == original
    # the restored session reduces the same datasets
    d1, d2 = edited.compute("datasets"), fresh.compute("datasets")
    assert d1.names == d2.names
    for x, y in zip(d1, d2):
        np.testing.assert_array_equal(x.counts, y.counts)
        np.testing.assert_array_equal(x.counts_off, y.counts_off)
        np.testing.assert_array_equal(x.mask, y.mask)
    fresh.close()


def test_bad_loads_show_an_error_and_keep_the_users_work(edited, store, tmp_path):
    s = AnalysisSession(store, required_irf="point-like", background=False)
    s.select([23523])
    s.set_on_region(CircleSkyRegion(CRAB, 0.2 * u.deg))
    before = (list(s.selection), s.on_region, s.required_irf)
    panel = ExportPanel(s, filename=str(tmp_path / "missing.yaml"))
    panel.load_config_button.click()
    assert "missing.yaml" in panel.banner.value and "Error" in panel.banner.value and s.error
    assert panel.message.value == "" and "missing.yaml" in s.error
    # a config naming an observation the store does not have
    cfg = edited.export_config()
    cfg["data"]["obs_ids"] = [23523, 999999]
    bad = tmp_path / "bad_obs.yaml"
    cfg.write(bad)
    panel.filename.value = str(bad)
    panel.load_config_button.click()
    assert "999999" in panel.banner.value
    # an unknown key: the config validation names it
    bad_key = tmp_path / "bad_key.yaml"
    bad_key.write_text((tmp_path / "bad_obs.yaml").read_text().replace("obs_ids:", "obs_idz:"))
    panel.filename.value = str(bad_key)
    panel.load_config_button.click()
    assert "obs_idz" in panel.banner.value
    assert (list(s.selection), s.on_region, s.required_irf) == before  # nothing of the user's work was lost
    panel.filename.value = ""
    panel.save_config_button.click()
    assert "file name" in panel.banner.value and not s.busy
    s.close()


def test_exported_script_gives_the_same_fit(edited, tmp_path):
    panel = ExportPanel(edited, filename=str(tmp_path / "crab.yaml"))
    panel.save_script_button.click()
    script = tmp_path / "crab.py"
    assert script.exists(), (panel.message.value, edited.error)
    start = [p.value for p in edited.models.parameters]
    code = ("import json, runpy; g = runpy.run_path(%r); r = g['result']; "
            "print('RESULT', json.dumps({'stat': r.total_stat, 'success': bool(r.success), "
            "'values': {p.name: p.value for p in r.parameters.free_parameters}, "
            "'errors': {p.name: p.error for p in r.parameters.free_parameters}}))" % str(script))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    ref = json.loads(line[len("RESULT "):])
    try:
        result = edited.fit()
        assert result is not None and result.success and ref["success"], edited.error
        assert result.total_stat == pytest.approx(ref["stat"], rel=1e-8)
        for p in result.parameters.free_parameters:
            assert p.value == pytest.approx(ref["values"][p.name], rel=1e-6), p.name
            assert p.error == pytest.approx(ref["errors"][p.name], rel=1e-4), p.name
    finally:
        for p, v in zip(edited.models.parameters, start):
            p.value = v


def test_a_config_is_not_loaded_into_a_session_made_from_datasets(edited, tmp_path):
    from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff

    path = tmp_path / "crab.yaml"
    edited.export_config().write(path)
    ds = SpectrumDatasetOnOff(counts=[5.0, 3.0], exposure=[1e9, 1e9], energy_edges=[1.0, 2.0, 4.0],
                              counts_off=[10.0, 8.0], acceptance_off=5.0, name="d")
    s = AnalysisSession.from_datasets(Datasets([ds]), background=False)
    panel = ExportPanel(s, filename=str(path))
    panel.load_config_button.click()
    assert "made from datasets" in s.error and "made from datasets" in panel.banner.value
    assert s.datasets.names == ["d"] and s.store is None
    s.close()
