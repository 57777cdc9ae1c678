"""Light curves: gwidgets' LightCurveEstimator vs gammapy 2.1's, and the variability tests.

* the four H.E.S.S. Crab runs of the joint-crab DL3 store, reduced from DL3 with our
  extractor and with gammapy's makers (ON 0.11°, reflected regions, aeff-default safe
  mask), per-run light curve in two energy bands with the same fixed reference model:
  norms and errors within 1 %, upper limits within 2 %;
* the simulated example store: the flaring source is detected as variable
  (χ² to a constant, p < 1e-3), the steady bright source is not (p > 0.01);
* the fractional variance against gammapy's ``compute_fvar``; bad input.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from gwidgets.core.data import DataStore
from gwidgets.core.estimators import (EstimatorError, LightCurve, LightCurveEstimator, chi2_constant,
                                      fixed_time_intervals, fractional_variance)
from gwidgets.core.geom import MapAxis
from gwidgets.core.models import PowerLaw, SkyModel

from test_flux_points import reduce_onoff

CRAB = SkyCoord(83.633, 22.014, unit="deg")
BANDS = [0.7, 3, 30]
SELECTION = ["errn-errp", "ul"]


def _ref_model():
    return SkyModel(PowerLaw(index=2.6, amplitude=3.5e-11, reference=1.0), name="crab")


@pytest.fixture(scope="module")
def hess(stores):
    pytest.importorskip("gammapy")
    e_reco = MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 60)
    e_true = MapAxis.from_energy_bounds(0.05 * u.TeV, 200 * u.TeV, 70, name="energy_true")
    store = DataStore.from_dir(stores["jc-hess"])
    # H.E.S.S. full-enclosure IRFs: PSF containment correction on both sides (the physically right setting)
    datasets = reduce_onoff(store, CRAB, 0.11 * u.deg, e_reco, e_true,
                            obs=store.get_observations(required_irf="point-like"), containment=True)
    for d in datasets:
        d.models = _ref_model()
    ours = LightCurveEstimator(energy_edges=BANDS * u.TeV, source="crab", selection_optional=SELECTION).run(datasets)
    return ours, _gammapy_lc(stores["jc-hess"]), datasets


def _gammapy_lc(path):
    from regions import CircleSkyRegion
    from gammapy.data import DataStore as GStore
    from gammapy.datasets import SpectrumDataset
    from gammapy.estimators import LightCurveEstimator as GLCE
    from gammapy.makers import ReflectedRegionsBackgroundMaker, SafeMaskMaker, SpectrumDatasetMaker
    from gammapy.maps import MapAxis as GAxis, RegionGeom
    from gammapy.modeling.models import PowerLawSpectralModel, SkyModel as GSkyModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obs = GStore.from_dir(path).get_observations(required_irf=["aeff", "edisp", "psf"])
        geom = RegionGeom.create(region=CircleSkyRegion(CRAB, 0.11 * u.deg),
                                 axes=[GAxis.from_energy_bounds(0.1, 100, 60, unit="TeV")])
        empty = SpectrumDataset.create(geom=geom, energy_axis_true=GAxis.from_energy_bounds(
            0.05, 200, 70, unit="TeV", name="energy_true"))
        maker = SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"], containment_correction=True)
        bkg, safe = ReflectedRegionsBackgroundMaker(), SafeMaskMaker(methods=["aeff-default"])
        datasets = [safe.run(bkg.run(maker.run(empty.copy(name=str(o.obs_id)), o), o), o) for o in obs]
        model = GSkyModel(PowerLawSpectralModel(index=2.6, amplitude="3.5e-11 cm-2 s-1 TeV-1", reference="1 TeV"),
                          name="crab")
        for d in datasets:
            d.models = model
        lc = GLCE(energy_edges=BANDS * u.TeV, source="crab", selection_optional=SELECTION).run(datasets)
    return lc.to_table(sed_type="likelihood", format="lightcurve")


def test_hess_light_curve_matches_gammapy(hess):
    ours, gp, datasets = hess
    t = ours.table
    assert len(t) == 4 * 2 and ours.n_bands == 2
    # gammapy: one row per time bin with (n_energy,) columns
    # gammapy: one row per time bin, (n_energy,) columns
    g = {k: np.asarray(gp[k], float).reshape(-1) for k in ("norm", "norm_err", "norm_errn", "norm_errp", "norm_ul",
                                                            "ts")}
    g_counts = np.nansum(np.asarray(gp["counts"], float), axis=-1).reshape(-1)
    g_tmin = np.repeat(np.asarray(gp["time_min"], float), 2)
    order = np.lexsort((np.asarray(t["e_min"], float), np.asarray(t["time_min"], float)))
    t = t[order]
    np.testing.assert_allclose(np.asarray(t["time_min"], float), g_tmin, atol=1e-6)
    # same ON counts (same events, same bins); OFF counts and exposure differ slightly between the reductions
    np.testing.assert_array_equal(np.asarray(t["counts"], float), g_counts)
    for name in ("norm", "norm_err", "norm_errn", "norm_errp"):
        np.testing.assert_allclose(np.asarray(t[name]), g[name], rtol=0.01, err_msg=name)
    np.testing.assert_allclose(np.asarray(t["norm_ul"]), g["norm_ul"], rtol=0.02)
    np.testing.assert_allclose(np.asarray(t["ts"]), g["ts"], rtol=0.02)
    # the flux table and its variability numbers
    flux = ours.to_table("flux")
    assert flux["flux"].unit == u.Unit("cm-2 s-1") and "flux_ul" in flux.colnames and "time_max" in flux.colnames
    assert np.all(np.asarray(flux["counts"]) > 0) and not np.any(ours.is_ul)
    v = ours.variability(band=0)
    assert v["dof"] == 3 and 0 <= v["pvalue"] <= 1
    assert "LightCurve(source='crab', time bins=4, energy bands=2" in repr(ours)


def test_light_curve_round_trip(hess, tmp_path):
    ours, _, _ = hess
    for ext in ("fits", "ecsv"):
        path = tmp_path / f"lc.{ext}"
        ours.write(path)
        back = LightCurve.read(path)
        np.testing.assert_allclose(back.time_min.mjd, ours.time_min.mjd, rtol=0, atol=1e-9)
        np.testing.assert_allclose(np.asarray(back.table["norm_ul"]), np.asarray(ours.table["norm_ul"]), rtol=1e-12)


def test_time_bins_and_bad_input(hess):
    _, _, datasets = hess
    starts = sorted(d.meta["time_start"] for d in datasets)
    t0, t_end = starts[0], max(d.meta["time_stop"] for d in datasets)
    # one bin holding every run (joint fit of the four runs) and one empty bin before them
    empty = (t0 - 10 * u.d, t0 - 9 * u.d)
    lc = LightCurveEstimator(time_intervals=[empty, (t0 - 1 * u.min, t_end + 1 * u.min)], energy_edges=[0.7, 30] * u.TeV,
                             source="crab", selection_optional=["ul"]).run(datasets)
    t = lc.table
    assert t["reason"][0] == "no observation in this time bin" and np.isnan(t["norm"][0]) and not t["success"][0]
    assert t["success"][1] and t["datasets"][1].count(",") == 3
    # the joint fit of the four runs is the error-weighted combination of the runs (within a few %)
    per_run = LightCurveEstimator(energy_edges=[0.7, 30] * u.TeV, source="crab").run(datasets).table
    w = 1 / np.asarray(per_run["norm_err"]) ** 2
    assert t["norm"][1] == pytest.approx(np.sum(w * per_run["norm"]) / w.sum(), rel=0.03)
    # fixed 1-day bins over the 4 nights: every run lands in the bin of its night, the other bins are empty rows
    daily = LightCurveEstimator(time_intervals=fixed_time_intervals(t0 - 1 * u.h, t_end + 1 * u.h, 1 * u.d),
                                energy_edges=[0.7, 30] * u.TeV, source="crab").run(datasets).table
    used = [name for names in daily["datasets"] for name in names.split(",") if name]
    assert sorted(used) == sorted(d.name for d in datasets)
    assert all(r == "no observation in this time bin" for r, n in zip(daily["reason"], daily["datasets"]) if not n)
    with pytest.raises(EstimatorError, match="No data for the light curve"):
        LightCurveEstimator(time_intervals=[empty], energy_edges=[0.7, 30] * u.TeV, source="crab").run(datasets)
    with pytest.raises(EstimatorError, match="stop .* is not after start"):
        LightCurveEstimator(time_intervals=[(t0, t0 - 1 * u.s)])
    bare = datasets[0].copy(name="bare")
    bare.meta = {k: v for k, v in bare.meta.items() if not k.startswith("time_")}
    bare.models = _ref_model()
    with pytest.raises(EstimatorError, match="Dataset 'bare' has no time range.*add_time_meta"):
        LightCurveEstimator(source="crab").run([bare])


# --------------------------------------------------------------------------- simulated store
@pytest.fixture(scope="module")
def simulated():
    import yaml

    from gwidgets.core.simulate.example import example_store, example_store_path

    truth = yaml.safe_load((example_store_path() / "truth.yaml").read_text())["simulation"]["sources"]
    store = example_store()
    obs = store.get_observations()
    e_reco = MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 24)
    e_true = MapAxis.from_energy_bounds(0.05 * u.TeV, 200 * u.TeV, 48, name="energy_true")
    out = {}
    for name in ("variable", "bright"):
        src = truth[name]
        pos = SkyCoord(src["position"]["ra"], src["position"]["dec"], unit="deg")
        datasets = reduce_onoff(store, pos, 0.2 * u.deg, e_reco, e_true, obs=obs, containment=True)
        model = SkyModel(PowerLaw(index=2.5, amplitude=src["spectral"]["amplitude"]["value"], reference=1.0),
                         name=name)
        for d in datasets:
            d.models = model
        out[name] = LightCurveEstimator(energy_edges=[0.3, 100] * u.TeV, source=name,
                                        selection_optional=["ul"]).run(datasets)
    return out


def test_simulated_variability(simulated):
    var = simulated["variable"].variability()
    steady = simulated["bright"].variability()
    assert var["n"] >= 15 and steady["n"] >= 15
    assert var["pvalue"] < 1e-3, var
    assert steady["pvalue"] > 0.01, steady
    assert var["fvar"] > 3 * var["fvar_err"]
    assert not (steady["fvar"] > 3 * steady["fvar_err"])  # NaN (no excess variance) or not significant


def test_variability_functions_against_references():
    pytest.importorskip("gammapy")
    from gammapy.stats.variability import compute_fvar
    from scipy.stats import chi2

    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 0.3, 30)
    e = rng.uniform(0.05, 0.15, 30)
    fv, fv_err = compute_fvar(x, e)
    ours = fractional_variance(x, e)
    assert ours["fvar"] == pytest.approx(float(fv), rel=1e-10)
    assert ours["fvar_err"] == pytest.approx(float(fv_err), rel=1e-10)
    # χ² to a constant: the weighted mean minimises it, and the p-value is chi2.sf
    r = chi2_constant(x, e)
    grid = np.linspace(r["mean"] - 0.01, r["mean"] + 0.01, 201)
    chis = [np.sum(((x - m) / e) ** 2) for m in grid]
    assert grid[int(np.argmin(chis))] == pytest.approx(r["mean"], abs=1e-4)
    assert r["pvalue"] == pytest.approx(chi2.sf(min(chis), 29), rel=1e-3)
    with pytest.raises(EstimatorError, match="at least two points"):
        chi2_constant([1.0], [0.1])
