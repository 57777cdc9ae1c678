"""The joint-crab paper's joint fit in one command (Nigro et al. 2019, A&A 625, A10), against gammapy 2.1
run on the same recipe with the physically right settings, and against the published result.

``examples/joint_crab_dl3.yaml``: the Fermi-LAT OGIP spectrum (the paper's files, fit 0.03–2 TeV) plus
H.E.S.S., MAGIC, VERITAS and FACT reduced from DL3 (reflected regions, each instrument's ON radius and
fit range, FACT stacked with the 0.4 TeV threshold). H.E.S.S.'s IRFs are full-enclosure: our default
(``containment_correction: auto``) corrects its exposure for the PSF containment in the 0.11° circle, and
gammapy is run with ``containment_correction=True`` for it; the point-like IRFs are never corrected.

* every instrument's own log-parabola fit and the joint fit agree with gammapy's within 0.1σ (gammapy's
  per-run FACT reduction takes ~0.3 s a run, so the comparison uses every 8th FACT run on both sides);
* ``gwidgets run`` on the full recipe (all 125 FACT runs) gives the paper's joint parameters
  (``results/fit/fit_joint.yaml`` of the joint-crab repository) within 1σ, and prints them with errors.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gwidgets.cli import main
from gwidgets.core.analysis import Analysis
from gwidgets.core.config import AnalysisConfig
from gwidgets.core.data import DataStore
from gwidgets.core.datasets import Datasets
from gwidgets.core.fit import Fit
from gwidgets.core.models import LogParabola, SkyModel

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "joint_crab_dl3.yaml"
CRAB = SkyCoord(83.633, 22.014, unit="deg")
LN10 = math.log(10)
FACT_STEP = 8
# the paper's joint log10-parabola (results/fit/fit_joint.yaml of open-gamma-ray-astro/joint-crab)
PAPER = {"amplitude": (3.8491e-11, 1.1435e-12), "alpha": (2.5054, 0.0255), "beta": (0.23621, 0.02451)}
# instrument: (ON radius deg, fit range TeV, user safe e_min TeV, stack, full-enclosure)
RECIPE = {"hess": (0.11, (0.66, 30), None, False, True), "magic": (0.1414, (0.08, 30), None, False, False),
          "veritas": (0.1, (0.15, 30), None, False, False), "fact": (0.1732, (0.4, 30), 0.4, True, False)}
FERMI_RANGE = (0.03, 2)

pytestmark = pytest.mark.slow


def _start_model():
    return LogParabola(log_base=10, amplitude="3.85e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.24)


@pytest.fixture(scope="module")
def fact_ids(stores):
    return sorted(DataStore.from_dir(stores["jc-fact"]).obs_ids)[::FACT_STEP]


@pytest.fixture(scope="module")
def ours(data_dir, fact_ids):
    """examples/joint_crab_dl3.yaml as it is (no containment key needed: auto), FACT thinned out."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GWIDGETS_DATA", str(data_dir))
        cfg = AnalysisConfig.read(CONFIG)
        cfg["datasets"].pop("containment_correction", None)  # the default a user gets
        fact = [g for g in cfg["data"]["groups"] if g["name"] == "fact"][0]
        fact["obs_ids"] = fact_ids
        analysis = Analysis(cfg)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            joint = analysis.run_fit()
    return analysis, joint


@pytest.fixture(scope="module")
def theirs(data_dir, stores, fact_ids):
    """gammapy 2.1 on the same recipe: Fermi OGIP + the four IACTs from DL3, H.E.S.S. containment-corrected."""
    from gammapy.data import DataStore as GStore
    from gammapy.datasets import Datasets as GDatasets, SpectrumDataset, SpectrumDatasetOnOff
    from gammapy.makers import ReflectedRegionsBackgroundMaker, SafeMaskMaker, SpectrumDatasetMaker
    from gammapy.maps import Map as GMap, MapAxis as GAxis, RegionGeom

    root = data_dir / "joint-crab"
    mask = GMap.read(root / "results" / "maps" / "exclusion_mask.fits.gz")
    mask.data = mask.data > 0.5
    e = GAxis.from_energy_bounds(0.01, 100, 80, unit="TeV")
    et = GAxis.from_energy_bounds(0.01, 100, 80, unit="TeV", name="energy_true")
    groups = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fermi = SpectrumDatasetOnOff.read(root / "results" / "spectra" / "fermi" / "pha_obs0.fits", format="ogip")
        fermi.mask_fit = fermi.counts.geom.energy_mask(FERMI_RANGE[0] * u.TeV, FERMI_RANGE[1] * u.TeV)
        groups["fermi"] = GDatasets([fermi])
        for name, (radius, (lo, hi), safe_min, stack, full) in RECIPE.items():
            store = GStore.from_dir(root / "data" / name)
            obs = store.get_observations(fact_ids if name == "fact" else None,
                                         required_irf=["aeff", "edisp", "psf"] if full else "point-like")
            if name == "fact":  # one IRF file for every run: hand gammapy the objects once (same inputs)
                aeff, edisp = obs[0].aeff, obs[0].edisp
                for o in obs:
                    o.aeff, o.edisp = aeff, edisp
            empty = SpectrumDataset.create(geom=RegionGeom.create(CircleSkyRegion(CRAB, radius * u.deg), axes=[e]),
                                           energy_axis_true=et)
            maker = SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"], containment_correction=full)
            bkg = ReflectedRegionsBackgroundMaker(exclusion_mask=mask)
            sets = GDatasets()
            for o in obs:
                d = bkg.run(maker.run(empty.copy(name=f"{name}_{o.obs_id}"), o), o)
                d = SafeMaskMaker(methods=["aeff-default"]).run(d, o)
                if safe_min is not None:
                    d.mask_safe &= d.counts.geom.energy_mask(energy_min=safe_min * u.TeV)
                sets.append(d)
            if stack:
                sets = GDatasets([sets.stack_reduce(name=name)])
            for d in sets:
                d.mask_fit = d.counts.geom.energy_mask(lo * u.TeV, hi * u.TeV)
            groups[name] = sets
    return groups


def _gammapy_fit(datasets):
    from gammapy.datasets import Datasets as GDatasets
    from gammapy.modeling import Fit as GFit
    from gammapy.modeling.models import LogParabolaSpectralModel, SkyModel as GSkyModel

    datasets = GDatasets(list(datasets))
    datasets.models = GSkyModel(LogParabolaSpectralModel(amplitude="3.85e-11 cm-2 s-1 TeV-1", reference="1 TeV",
                                                         alpha=2.5, beta=0.24 / LN10), name="crab")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = GFit().run(datasets)
    assert result.success, result.message
    p = result.parameters
    # gammapy's beta is per ln(E/E0); ours (log_base 10) per log10(E/E0): beta10 = beta_ln * ln 10
    return {"amplitude": (p["amplitude"].value, p["amplitude"].error), "alpha": (p["alpha"].value, p["alpha"].error),
            "beta": (p["beta"].value * LN10, p["beta"].error * LN10)}


def _our_fit(datasets):
    datasets = Datasets(list(datasets))
    datasets.models = SkyModel(_start_model(), name="crab")
    result = Fit().run(datasets)
    assert result.success, result.message
    return {n: (result.parameters[n].value, result.parameters[n].error) for n in ("amplitude", "alpha", "beta")}


def _assert_within(mine, gp, what, sigma=0.1, err_rel=0.05):
    for name in ("amplitude", "alpha", "beta"):
        (v, e), (gv, ge) = mine[name], gp[name]
        assert abs(v - gv) < sigma * ge, f"{what} {name}: ours {v:.5g} ± {e:.3g}, gammapy {gv:.5g} ± {ge:.3g}"
        assert e == pytest.approx(ge, rel=err_rel), f"{what} {name} error: ours {e:.4g}, gammapy {ge:.4g}"


def test_recipe_has_fermi_and_the_containment_correction_where_needed(ours):
    analysis, _ = ours
    by_group = {}
    for d in analysis.datasets:
        by_group.setdefault(d.meta["GROUP"], []).append(d)
    assert list(by_group) == ["fermi", "hess", "magic", "veritas", "fact"]
    assert [len(v) for v in by_group.values()] == [1, 4, 2, 2, 1]
    # the default ("auto") corrected H.E.S.S. (full-enclosure IRFs) and nothing else
    applied = {g: {bool(d.meta.get("CONTAINMENT_CORRECTION", False)) for d in v} for g, v in by_group.items()}
    assert applied == {"fermi": {False}, "hess": {True}, "magic": {False}, "veritas": {False}, "fact": {False}}


@pytest.mark.parametrize("group", ["fermi", "hess", "magic", "veritas", "fact"])
def test_each_instrument_fit_matches_gammapy(ours, theirs, group):
    analysis, _ = ours
    mine = [d for d in analysis.datasets if d.meta["GROUP"] == group]
    _assert_within(_our_fit(mine), _gammapy_fit(theirs[group]), group)


def test_joint_fit_matches_gammapy(ours, theirs):
    _, joint = ours
    mine = {n: (joint.parameters[n].value, joint.parameters[n].error) for n in ("amplitude", "alpha", "beta")}
    gp = _gammapy_fit([d for sets in theirs.values() for d in sets])
    _assert_within(mine, gp, "joint")


def test_gwidgets_run_gives_the_paper_joint_fit(data_dir, tmp_path, monkeypatch, capsys):
    """The README's command on the full recipe (125 FACT runs): the paper's joint parameters within 1σ."""
    monkeypatch.setenv("GWIDGETS_DATA", str(data_dir))
    assert main(["run", str(CONFIG), "--outdir", str(tmp_path / "jc"), "--quiet"]) == 0
    out = capsys.readouterr().out
    from gwidgets.core.analysis import read_fit_result

    fitted = read_fit_result(tmp_path / "jc")
    params = {p["name"]: p for p in fitted["parameters"]}
    for name, (value, error) in PAPER.items():
        got = params[name]
        assert abs(got["value"] - value) < error, f"{name}: {got['value']:.5g} vs paper {value:.5g} ± {error:.3g}"
        assert got["error"] == pytest.approx(error, rel=0.15), f"{name} error"
        # printed with its error
        row = [line for line in out.splitlines() if line.split() and line.split()[0] == name]
        assert row and float(row[0].split()[1]) == pytest.approx(got["value"], rel=1e-3), out
        assert float(row[0].split()[2]) == pytest.approx(got["error"], rel=1e-3), out
    assert np.isfinite(fitted["total_stat"])
