"""`Datasets` and `Fit` on mixed lists: 1D OGIP spectra plus any dataset with ``stat_sum()``.

The non-1D dataset here is a minimal class defined in the test: a flux
measurement at one energy with a Gaussian error (``χ² = ((dN/dE(E₀) − m) / σ)²``).
The fast 1D evaluator covers the OGIP spectra; the other dataset adds its own
``stat_sum()``. References: the sum of the separate statistics (exact), the
analytic weighted mean of Gaussian measurements, and gammapy 2.1 fitting the
same combination (its `Dataset` with the same analytic statistic) in the same test.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
from gwidgets.core.fit import Fit
from gwidgets.core.models import LogParabola, PowerLaw, SkyModel

LN10 = math.log(10)
E0, MEASURED, SIGMA = 3.0, 2.2e-12, 0.15e-12  # TeV, cm-2 s-1 TeV-1


class FluxMeasurement:
    """Not a 1D spectrum dataset: ``stat_sum``, ``models``, ``name``, ``stat_type`` only."""

    stat_type = "chi2"

    def __init__(self, name, energy=E0, value=MEASURED, sigma=SIGMA, models=None):
        self.name, self.energy, self.value, self.sigma, self.models = name, energy, value, sigma, models
        self.calls = 0

    def _spectral(self):
        return getattr(self.models, "spectral_model", self.models)

    def stat_sum(self):
        self.calls += 1
        if self.models is None:
            return 0.0
        dnde = float(self._spectral().dnde_values(np.array([self.energy]))[0])
        return ((dnde - self.value) / self.sigma) ** 2


@pytest.fixture(scope="module")
def hess_files(data_dir):
    path = data_dir / "joint-crab" / "results" / "spectra" / "hess"
    files = sorted(path.glob("pha_*.fits"))
    if not files:
        pytest.skip("joint-crab OGIP spectra not available")
    return files


def _lp():
    return LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.1 * LN10)


def _mixed(hess_files):
    sets = [SpectrumDatasetOnOff.read(f) for f in hess_files]
    datasets = Datasets(sets + [FluxMeasurement("flux-point")])
    datasets.set_fit_range(0.66, 30)  # the measurement has no fit range: left alone
    datasets.models = SkyModel(_lp(), name="crab")
    return datasets


def test_stat_sum_is_the_sum_and_follows_parameters(hess_files):
    datasets = _mixed(hess_files)
    point = datasets["flux-point"]
    assert point.models is datasets.models  # the collection's model reached a dataset without _set_models
    spectral = datasets.models.spectral_model
    for amplitude, alpha in [(3e-11, 2.5), (4e-11, 2.3), (2e-11, 2.8)]:
        spectral.amplitude.value, spectral.alpha.value = amplitude, alpha
        separate = sum(d.stat_sum() for d in datasets)
        assert datasets.stat_sum() == pytest.approx(separate, rel=1e-12)
        assert point.stat_sum() > 0
    # the measurement's own data change is seen at once (its stat is never cached by the collection)
    before = datasets.stat_sum()
    point.value *= 2
    assert datasets.stat_sum() != before
    assert datasets.stat_sum() == pytest.approx(sum(d.stat_sum() for d in datasets), rel=1e-12)


def test_models_assignment_on_mixed_lists(hess_files):
    own = SkyModel(PowerLaw(), name="own")
    kept = FluxMeasurement("kept", models=own)
    fresh = FluxMeasurement("fresh")
    datasets = Datasets([SpectrumDatasetOnOff.read(hess_files[0]), kept, fresh])
    first = SkyModel(_lp(), name="first")
    datasets.models = first
    assert fresh.models is first and kept.models is own and datasets[0].models is first
    second = SkyModel(_lp(), name="second")
    datasets.models = second  # replaces the collection's model, not the dataset's own
    assert fresh.models is second and kept.models is own
    assert len(datasets.parameters) == len(second.parameters) + len(own.parameters)


def test_fit_of_non_1d_datasets_only_matches_the_weighted_mean():
    """Two Gaussian measurements of dN/dE at the reference energy: best fit = weighted mean, error analytic."""
    model = PowerLaw(index=2.0, amplitude=1e-12, reference=E0)
    model.index.frozen = True
    a = FluxMeasurement("a", value=2.0e-12, sigma=0.2e-12)
    b = FluxMeasurement("b", value=2.6e-12, sigma=0.4e-12)
    datasets = Datasets([a, b], models=SkyModel(model, name="src"))
    result = Fit().run(datasets)
    w = np.array([1 / 0.2e-12 ** 2, 1 / 0.4e-12 ** 2])
    mean = float(np.sum(w * [2.0e-12, 2.6e-12]) / w.sum())
    assert result.success
    assert model.amplitude.value == pytest.approx(mean, rel=1e-5)
    assert model.amplitude.error == pytest.approx(1 / math.sqrt(w.sum()), rel=1e-3)
    chi2_min = float(np.sum(w * (np.array([2.0e-12, 2.6e-12]) - mean) ** 2))
    assert result.total_stat == pytest.approx(chi2_min, rel=1e-6, abs=1e-9)


def test_mixed_fit_matches_gammapy(hess_files):
    pytest.importorskip("gammapy")
    warnings.simplefilter("ignore")
    import astropy.units as u
    from gammapy.datasets import Dataset, Datasets as GDatasets, SpectrumDatasetOnOff as GOnOff
    from gammapy.modeling import Fit as GFit
    from gammapy.modeling.models import DatasetModels, LogParabolaSpectralModel, SkyModel as GSkyModel

    class GFluxMeasurement(Dataset):
        tag = "FluxMeasurement"
        stat_type = "chi2"

        def __init__(self, name):
            self._name = name
            self._models = None

        @property
        def models(self):
            return self._models

        @models.setter
        def models(self, models):
            self._models = DatasetModels(models) if models is not None else None

        def stat_sum(self):
            dnde = self._models[0].spectral_model(E0 * u.TeV).to_value("cm-2 s-1 TeV-1")
            return ((dnde - MEASURED) / SIGMA) ** 2

    ours = _mixed(hess_files)
    result = Fit().run(ours)

    gp_sets = [GOnOff.read(f, name=str(i)) for i, f in enumerate(hess_files)]
    for d in gp_sets:
        d.mask_fit = d.counts.geom.energy_mask(0.66 * u.TeV, 30 * u.TeV)
    gp = GDatasets(gp_sets + [GFluxMeasurement("flux-point")])
    gp.models = GSkyModel(spectral_model=LogParabolaSpectralModel(
        amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1), name="crab")
    g = GFit().run(gp)
    assert result.success and g.success
    assert result.total_stat == pytest.approx(g.total_stat, rel=1e-4)
    p, gpar = result.parameters, g.parameters
    for name, factor in (("amplitude", 1.0), ("alpha", 1.0), ("beta", LN10)):
        assert p[name].value == pytest.approx(gpar[name].value * factor, rel=1e-3), name
        assert p[name].error == pytest.approx(gpar[name].error * factor, rel=1e-3), f"{name} error"
    # the measurement pulled the fit: its χ² is smaller than at the best fit of the spectra alone
    point = ours["flux-point"]
    chi2_joint = point.stat_sum()
    alone = Datasets(list(ours)[:-1], models=SkyModel(_lp(), name="crab"))
    assert Fit().run(alone).success
    point.models = alone.models
    assert chi2_joint < point.stat_sum()
