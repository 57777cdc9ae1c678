"""The 3D session fits per-observation datasets jointly (issue 14), as gammapy 2.1's ``Fit().run(datasets)``.

The four H.E.S.S. DR1 Crab runs, each reduced on its own by gwidgets and by gammapy (tests/crab_cubes.py), with
one point source × power law shared by the runs and one FoV background model per run. The session shows one run's
dataset; its fit must still use all four (the joint fit), not the one shown.

The two codes' npred differ by the documented PSF-kernel discretisation (tests/test_map_fit.py); measured here:
best-fit values within 0.05 σ (relative 2e-3 on the amplitude, < 1e-3 on the others), errors within 0.5 %.
Asserted: 0.1 σ and 2 %.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from crab_cubes import crab_sky_model, gammapy_crab_sky_model, per_observation_crab_cubes
from gw_testdata import STORES

from gwidgets.core.fit import Fit
from gwidgets.core.models import FoVBackgroundModel, Models
from gwidgets.errors import GwidgetsError

pytestmark = pytest.mark.skipif(not STORES["hess-dr1"].exists(), reason="H.E.S.S. DR1 data not found")
gds = pytest.importorskip("gammapy.datasets")
gmodels = pytest.importorskip("gammapy.modeling.models")
gmodeling = pytest.importorskip("gammapy.modeling")

SOURCE = ("lon_0", "lat_0", "index", "amplitude")


@pytest.fixture(scope="module")
def fits():
    """The session's joint fit (showing run 2), gammapy's joint fit, and the session's fit of run 2 alone."""
    from gwidgets.state.map_session import MapSession

    ours, theirs = per_observation_crab_cubes()
    stacked = ours[0].to_masked(name="stacked")
    for ds in ours[1:]:
        stacked = stacked.stack(ds)
    session = MapSession({"stacked": stacked, **{d.name: d for d in ours}}, models=[crab_sky_model()],
                         background=False)
    shown = ours[1].name
    session.show(shown)
    assert session.fit_dataset_names == [d.name for d in ours]
    seen = []
    session.observe(lambda c: seen.append(c["new"]), "fit_progress")
    session.fit_throttle = 0.0
    result = session.fit()
    joint = {"result": result, "models": session.models, "seen": seen, "session": session}

    gmodels_ = gmodels.Models([gammapy_crab_sky_model(), *[gmodels.FoVBackgroundModel(dataset_name=d.name)
                                                           for d in theirs]])
    gdatasets = gds.Datasets(theirs)
    gdatasets.models = gmodels_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gresult = gmodeling.Fit().run(gdatasets)

    single = MapSession(per_observation_crab_cubes()[0][1], models=[crab_sky_model()], background=False)
    single_result = single.fit()
    return joint, (gresult, gmodels_), (single_result, single)


def test_joint_fit_of_the_runs_equals_gammapys_joint_fit(fits):
    """Source and per-run background parameters and errors: as gammapy's joint fit of the same four runs."""
    joint, (gresult, gmodels_), _ = fits
    result, models = joint["result"], joint["models"]
    assert result.success and gresult.success
    assert result.dataset_names == [f"obs-{i}" for i in (23523, 23526, 23559, 23592)]
    pairs = [(models["crab"].parameters[n], gmodels_["crab"].parameters[n]) for n in SOURCE]
    # each run's background norm is fitted on its own run
    pairs += [(models[f"{d}-bkg"].spectral_model.norm, gmodels_[f"{d}-bkg"].spectral_model.norm)
              for d in result.dataset_names]
    for ours_p, g in pairs:
        assert g.error > 0
        pull = abs(ours_p.value - g.value) / g.error
        assert pull < 0.1, f"{ours_p.name}: ours {ours_p.value:.6g} ± {ours_p.error:.3g}, gammapy {g.value:.6g} ± " \
                           f"{g.error:.3g}"
        assert ours_p.error == pytest.approx(g.error, rel=0.02), ours_p.name
    # the stacked cube's background model applies to no fitted dataset: held where it was, not fitted
    stacked_norm = models["stacked-bkg"].spectral_model.norm
    assert stacked_norm.value == 1.0 and not stacked_norm.frozen
    # the same joint statistic: ours at our best fit vs gammapy's at its own (npred differs by the PSF kernels)
    assert result.total_stat == pytest.approx(gresult.total_stat, abs=5.0)


def test_joint_fit_differs_from_the_single_run_fit_and_redraws_the_shown_run(fits):
    """The joint fit is not the fit of the run shown (errors ~halved); the maps drawn are the shown run's."""
    joint, _, (single_result, single) = fits
    models, session = joint["models"], joint["session"]
    assert single_result.success and single_result.dataset_names == ["obs-23526"]
    crab, one = models["crab"].spectral_model, single.models["crab"].spectral_model
    # four runs constrain the source about twice as well as one (errors ~ 1/sqrt(livetime))
    assert 0.35 < crab.index.error / one.index.error < 0.75
    assert 0.35 < crab.amplitude.error / one.amplitude.error < 0.75
    assert abs(crab.index.value - one.index.value) > 0.01  # a different fit, not the same one twice
    # the live and final images are those of the dataset shown (run 2), at the fitted parameters
    live = [p for p in joint["seen"] if not p["final"]]
    assert live and joint["seen"][-1]["final"]
    shown = session.datasets["obs-23526"]
    counts = (shown.counts.data * shown.mask_safe).sum(axis=0)
    for p in (live[-1], joint["seen"][-1]):
        np.testing.assert_array_equal(p["images"]["counts"], counts)
    npred = (shown.npred().data * shown.mask_safe).sum(axis=0)
    np.testing.assert_allclose(joint["seen"][-1]["images"]["npred"], npred, rtol=1e-9, atol=1e-12)
    assert session.dataset_name == "obs-23526"
    # the final statistic is the joint one; the progress names every run's norm once
    assert joint["seen"][-1]["stat"] == pytest.approx(sum(session.datasets[n].stat_sum()
                                                          for n in session.fit_dataset_names), rel=1e-9)
    assert sum(k.startswith("norm") for k in joint["seen"][-1]["values"]) == 4


def test_fit_of_named_datasets_and_a_named_error():
    """``fit(datasets=[...])`` fits the named ones only; an unknown name is a named error."""
    from gwidgets.state.map_session import MapSession

    ours, _ = per_observation_crab_cubes()
    session = MapSession(ours[:2], models=[crab_sky_model()], background=False)
    with pytest.raises(GwidgetsError, match="No 3D dataset 'nope'"):
        session.fit(datasets=["nope"])
    result = session.fit(datasets=[ours[1].name])
    assert result.success and result.dataset_names == [ours[1].name]
    # the other run's background norm was held; the reference: our core fit of that one dataset alone
    assert session.models[f"{ours[0].name}-bkg"].spectral_model.norm.value == 1.0
    ref = ours[1].copy()
    ref.models = Models([crab_sky_model(), FoVBackgroundModel(ref.name)])
    ref_result = Fit().run(ref)
    assert result.total_stat == pytest.approx(ref_result.total_stat, rel=1e-6)
    assert session.models["crab"].spectral_model.index.value == pytest.approx(
        ref.models["crab"].spectral_model.index.value, rel=1e-4)
