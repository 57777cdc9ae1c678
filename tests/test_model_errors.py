"""Spectral model uncertainties (`SpectralModel.evaluate_error` & co.) against gammapy 2.1 and analytic results.

gammapy 2.1's ``evaluate_error`` samples ``3500 × n_parameters`` parameter
vectors from the covariance and returns median, errn, errp (percentiles).
Given the same parameter samples, ours must give the same numbers; our own
draws are made in standardised units, so their spread must reproduce the
covariance (gammapy's raw-unit draws lose the 1e-24 amplitude block: that is
why the default-draw comparison is statistical, for a power law only).
The linear method is checked against the analytic power-law propagation.
"""
from __future__ import annotations

import numpy as np
import pytest
import astropy.units as u

from gwidgets.core.models import ExpCutoffPowerLaw, LogParabola, Parameters, PowerLaw, SkyModel
from gwidgets.core.models.parameter import ParameterError
from gwidgets.core.models.spectral_errors import draw_parameters

gm = pytest.importorskip("gammapy.modeling.models")

ENERGY = np.geomspace(0.1, 100, 9) * u.TeV


def _cov(sigma, corr):
    return np.outer(sigma, sigma) * np.asarray(corr, float)


CASES = {
    "PowerLaw": (lambda: PowerLaw(index=2.3, amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV"),
                 lambda: gm.PowerLawSpectralModel(index=2.3, amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV"),
                 _cov([0.06, 2e-12, 0], [[1, 0.17, 0], [0.17, 1, 0], [0, 0, 1]])),
    "LogParabola": (lambda: LogParabola(amplitude="3.8e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1),
                    lambda: gm.LogParabolaSpectralModel(amplitude="3.8e-11 cm-2 s-1 TeV-1", reference="1 TeV",
                                                        alpha=2.5, beta=0.1),
                    _cov([2e-12, 0, 0.05, 0.03], [[1, 0, 0.5, -0.3], [0, 1, 0, 0], [0.5, 0, 1, 0.6], [-0.3, 0, 0.6, 1]])),
    "ExpCutoffPowerLaw": (
        lambda: ExpCutoffPowerLaw(index=1.8, amplitude="2e-12 cm-2 s-1 TeV-1", reference="1 TeV", lambda_="0.1 TeV-1"),
        lambda: gm.ExpCutoffPowerLawSpectralModel(index=1.8, amplitude="2e-12 cm-2 s-1 TeV-1", reference="1 TeV",
                                                  lambda_="0.1 TeV-1"),
        _cov([0.1, 3e-13, 0, 0.02, 0], [[1, 0.6, 0, 0.7, 0], [0.6, 1, 0, 0.4, 0], [0, 0, 1, 0, 0],
                                        [0.7, 0.4, 0, 1, 0], [0, 0, 0, 0, 1]])),
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_samples_give_gammapys_errors(name):
    make_ours, make_theirs, cov = CASES[name]
    ours, theirs = make_ours(), make_theirs()
    ours.covariance, theirs.covariance = cov, cov
    samples = draw_parameters([p.value for p in ours.parameters], cov, 3500 * len(cov), random_state=7)
    as_quantities = [samples[:, k] * p.unit for k, p in enumerate(theirs.parameters)]
    for ours_q, theirs_q, rtol in (
            (ours.evaluate_error(ENERGY, samples=samples), theirs.evaluate_error(ENERGY, samples=as_quantities), 1e-10),
            # integrals: gammapy integrates numerically (trapezoids in log-log), we exactly or by Gauss-Legendre
            (ours.integral_error(ENERGY[:-1], ENERGY[1:], samples=samples),
             theirs.integral_error(ENERGY[:-1], ENERGY[1:], samples=as_quantities), 1e-3),
            (ours.energy_flux_error(ENERGY[:-1], ENERGY[1:], samples=samples),
             theirs.energy_flux_error(ENERGY[:-1], ENERGY[1:], samples=as_quantities), 1e-3)):
        assert ours_q.shape == theirs_q.shape
        np.testing.assert_allclose(ours_q.to_value(theirs_q.unit), theirs_q.value, rtol=rtol)
    assert ours.parameters.values.tolist() == [p.value for p in make_ours().parameters]  # model untouched


def test_default_draws_match_gammapy_statistically_for_a_power_law():
    make_ours, make_theirs, cov = CASES["PowerLaw"]
    ours, theirs = make_ours(), make_theirs()
    ours.covariance, theirs.covariance = cov, cov
    a, b = ours.evaluate_error(ENERGY), theirs.evaluate_error(ENERGY)
    np.testing.assert_allclose(a[0].value, b[0].value, rtol=0.01)   # medians: MC noise ≪ 1 %
    np.testing.assert_allclose(a[1:].value, b[1:].value, rtol=0.05)  # percentile errors: MC noise of 10500 draws


@pytest.mark.parametrize("name", list(CASES))
def test_draws_reproduce_the_covariance(name):
    make_ours, _, cov = CASES[name]
    values = [p.value for p in make_ours().parameters]
    draws = draw_parameters(values, cov, 200_000, random_state=1)
    sigma = np.sqrt(np.diag(cov))
    free = sigma > 0
    np.testing.assert_allclose(draws.std(axis=0)[free], sigma[free], rtol=0.01)
    np.testing.assert_allclose(np.corrcoef(draws[:, free].T), cov[np.ix_(free, free)] / np.outer(sigma[free], sigma[free]),
                               atol=0.01)
    assert np.all(draws[:, ~free] == np.asarray(values)[~free])  # frozen parameters stay exact


def test_power_law_linear_propagation_is_analytic():
    amp, index = 2e-11, 2.3
    s_a, s_g, c_ag = 2e-12, 0.05, 3e-14
    pl = PowerLaw(index=index, amplitude=amp, reference="1 TeV")
    pl.covariance = [[s_g ** 2, c_ag, 0], [c_ag, s_a ** 2, 0], [0, 0, 0]]
    e = np.geomspace(0.1, 50, 7)
    value, errn, errp = pl.evaluate_error(e * u.TeV, method="linear").to_value("cm-2 s-1 TeV-1")
    dnde = amp * e ** -index
    d_a, d_g = dnde / amp, -np.log(e) * dnde  # ∂/∂amplitude, ∂/∂index
    var = d_a ** 2 * s_a ** 2 + 2 * d_a * d_g * c_ag + d_g ** 2 * s_g ** 2
    np.testing.assert_allclose(value, dnde, rtol=1e-12)
    np.testing.assert_allclose(errn, np.sqrt(var), rtol=1e-6)
    np.testing.assert_array_equal(errn, errp)
    # at the reference energy the relative error of dN/dE is that of the amplitude, for both methods
    at_ref = pl.evaluate_error(1 * u.TeV, method="linear").value
    assert at_ref[1] / at_ref[0] == pytest.approx(s_a / amp, rel=1e-8)
    sampled = pl.evaluate_error(1 * u.TeV).value
    assert sampled[1] / sampled[0] == pytest.approx(s_a / amp, rel=0.03)  # MC noise of 10500 draws
    assert sampled[2] / sampled[0] == pytest.approx(s_a / amp, rel=0.03)
    # E² dN/dE scales value and errors by E²
    e2 = pl.sed_error(e * u.TeV, "e2dnde", method="linear").to_value("TeV cm-2 s-1")
    np.testing.assert_allclose(e2, np.array([value, errn, errp]) * e ** 2, rtol=1e-12)


def test_sampled_errors_are_asymmetric_where_the_model_is_nonlinear():
    # far from the reference a 10 % index error makes dN/dE log-normal-like: errp > errn
    pl = PowerLaw(index=2.0, amplitude=1e-12, reference="1 TeV")
    pl.covariance = np.diag([0.1 ** 2, 0.0, 0.0])
    value, errn, errp = pl.evaluate_error(100 * u.TeV).value
    ln = np.log(100.0)
    # the index is Gaussian: dN/dE = A E^-Γ is exactly log-normal, percentiles at Γ ± σ
    assert value == pytest.approx(1e-12 * 100 ** -2.0, rel=0.01)
    assert errp == pytest.approx(1e-16 * (np.exp(0.1 * ln) - 1), rel=0.03)
    assert errn == pytest.approx(1e-16 * (1 - np.exp(-0.1 * ln)), rel=0.03)


def test_fit_attaches_the_covariance_to_the_fitted_components(data_dir):
    from gwidgets.core.datasets import Datasets
    from gwidgets.core.fit import Fit

    path = data_dir / "joint-crab" / "results" / "spectra" / "hess"
    if not path.exists():
        pytest.skip("joint-crab H.E.S.S. spectra not available")
    datasets = Datasets.read(path)
    sky = SkyModel(LogParabola(amplitude="3.8e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1), name="crab")
    datasets.models = sky
    result = Fit().run(datasets)
    assert result.success
    spectral = sky.spectral_model
    cov = spectral.covariance
    names = [p.name for p in spectral.parameters]
    for a in ("amplitude", "alpha", "beta"):
        for b in ("amplitude", "alpha", "beta"):
            assert cov[names.index(a), names.index(b)] == pytest.approx(result.covariance[a, b], rel=1e-12)
    assert np.all(cov[names.index("reference")] == 0)  # frozen
    # the copy in the fit result keeps it; the band is there and brackets the model
    assert np.array_equal(result.models.spectral_model.covariance, cov)
    mid, errn, errp = spectral.evaluate_error(ENERGY[2:7]).value
    best = spectral(ENERGY[2:7]).value
    assert np.all(mid - errn < best) and np.all(best < mid + errp)


def test_bad_inputs_name_the_problem():
    pl = PowerLaw()
    with pytest.raises(ParameterError, match="no covariance"):
        pl.evaluate_error(1 * u.TeV)
    with pytest.raises(ParameterError, match="3 × 3"):
        pl.covariance = np.eye(2)
    pl.covariance = np.diag([0.01, 1e-26, 0])
    with pytest.raises(ParameterError, match="Unknown error propagation method 'mc'"):
        pl.evaluate_error(1 * u.TeV, method="mc")
    with pytest.raises(ParameterError, match="Unknown sed_type 'flux'"):
        pl.sed_error(1 * u.TeV, "flux")
    with pytest.raises(ParameterError, match=r"samples must be an array \(n, 3\)"):
        pl.evaluate_error(1 * u.TeV, samples=np.ones((10, 2)))
    # a named covariance (as FitResult.covariance) maps by parameter name
    from gwidgets.core.fit import Covariance

    pl.covariance = Covariance([[1e-26, 0.0], [0.0, 0.04]], ["amplitude", "index"])
    assert pl.index.error == pytest.approx(0.2) and pl.covariance[2, 2] == 0
    assert isinstance(pl.parameters, Parameters)
