"""The one registry type: every registry refuses a duplicate name, and the "add a model" recipe works.

The recipe of docs/extending.md is followed literally: the toy model is ONE file
(`tests/toy_model_plugin.py`) plus ONE line (``register(ExpSpectrum)``); it must then
round-trip through YAML, evaluate to its analytic formula and fit (simulated counts
give back the true parameter: pulls centred on 0 with width 1).
"""
import importlib
import subprocess
import sys

import numpy as np
import pytest

from gwidgets.core.registry import RegistryError

SMALL = """
data:
  datastore: $GWIDGETS_DATA/joint-crab/data/hess
  obs_ids: [23523, 23526]
  required_irf: point-like
datasets:
  on_region: {frame: icrs, lon: 83.633 deg, lat: 22.014 deg, radius: 0.11 deg}
models:
  - name: crab
    type: SkyModel
    spectral: {type: LogParabolaSpectralModel, log_base: 10}
fit: {e_min: 0.66 TeV, e_max: 30 TeV}
"""

TAGS = ("ExpSpectrum", "ExpSpectrumSpectralModel", "toy-exp")


@pytest.fixture
def toy():
    """The toy model, registered with the recipe's one line for the test, unregistered after it."""
    from toy_model_plugin import ExpSpectrum

    from gwidgets.core.models import KIND_REGISTRY, register

    register(ExpSpectrum)  # the one line of the recipe
    yield ExpSpectrum
    for tag in TAGS:
        KIND_REGISTRY["spectral"].remove(tag)


def test_toy_model_round_trips_through_yaml(toy, tmp_path):
    """Written to models YAML under its tag and read back (also by gammapy's short tag) with its values."""
    from gwidgets.core.models import Models, SkyModel, get_model_class

    assert get_model_class("toy-exp", "spectral") is toy
    models = Models([SkyModel(toy(amplitude="3e-11 cm-2 s-1 TeV-1", e_cut="1.5 TeV"), name="src")])
    models["src"].spectral_model.e_cut.error = 0.25
    models.write(tmp_path / "models.yaml")
    assert "type: ExpSpectrumSpectralModel" in (tmp_path / "models.yaml").read_text()
    back = Models.read(tmp_path / "models.yaml")
    spec = back["src"].spectral_model
    assert type(spec) is toy
    assert spec.amplitude.value == 3e-11 and spec.e_cut.value == 1.5 and spec.e_cut.error == 0.25
    # gammapy's short form of the tag reads too
    alias = Models.from_dict({"components": [{"name": "a", "type": "SkyModel",
                                              "spectral": {"type": "toy-exp",
                                                           "parameters": [{"name": "e_cut", "value": 3.0,
                                                                           "unit": "TeV"}]}}]})
    assert type(alias["a"].spectral_model) is toy and alias["a"].spectral_model.e_cut.value == 3.0


def test_toy_model_evaluates_and_integrates_to_its_formula(toy):
    """dN/dE and the (numeric) bin integrals equal the analytic exponential."""
    import astropy.units as u

    model = toy(amplitude="2e-11 cm-2 s-1 TeV-1", e_cut="0.8 TeV")
    energy = np.geomspace(0.1, 20, 7)
    expected = 2e-11 * np.exp(-energy / 0.8)
    np.testing.assert_allclose(model(energy * u.TeV).to_value("cm-2 s-1 TeV-1"), expected, rtol=1e-12)
    # no evaluate_integral: the numeric integral must equal the analytic one
    e1, e2 = energy[:-1], energy[1:]
    analytic = 2e-11 * 0.8 * (np.exp(-e1 / 0.8) - np.exp(-e2 / 0.8))
    np.testing.assert_allclose(model.integral_values(e1, e2), analytic, rtol=1e-6)


def _simulated_dataset(model, seed):
    from gwidgets.core.datasets import SpectrumDataset

    edges = np.geomspace(0.1, 20, 31)
    exposure = np.full(30, 3e13)  # cm2 s: ~700 counts
    npred = exposure * model.integral_values(edges[:-1], edges[1:])
    counts = np.random.default_rng(seed).poisson(npred).astype(float)
    return SpectrumDataset(counts, exposure, edges, name=f"sim{seed}")


def test_toy_model_fit_recovers_the_simulated_cutoff(toy):
    """Fits of Poisson counts simulated from the toy model: pulls of the cutoff centred on 0, width 1."""
    from gwidgets.core.datasets import Datasets
    from gwidgets.core.fit import Fit
    from gwidgets.core.models import SkyModel

    truth = toy(amplitude="2e-11 cm-2 s-1 TeV-1", e_cut="1.2 TeV")
    pulls = []
    for seed in range(25):
        datasets = Datasets([_simulated_dataset(truth, seed)])
        fitted = toy(amplitude="1e-11 cm-2 s-1 TeV-1", e_cut="3 TeV")
        datasets.models = [SkyModel(fitted, name="src")]
        result = Fit().run(datasets)
        assert result.success, result.message
        e_cut = fitted.e_cut
        pulls.append((e_cut.value - 1.2) / e_cut.error)
    pulls = np.array(pulls)
    # 25 closure fits: mean pull within 3 standard errors of 0, width compatible with 1
    assert abs(pulls.mean()) < 3 / np.sqrt(len(pulls)), pulls
    assert 0.6 < pulls.std(ddof=1) < 1.4, pulls


# ---------------------------------------------------------------------------- duplicates are refused
def _dummy(analysis, folder=None):
    return []


def _registries():
    """(registry, name already in it, how the error names that entry, another object, how it names that one)."""
    from gwidgets.app.first_look import TARGET_FINDERS
    from gwidgets.core.analysis import PLOTS, STEPS, WRITERS, Plot, Step
    from gwidgets.core.io.spectrum_formats import SPECTRUM_READERS, SPECTRUM_WRITERS
    from gwidgets.core.irf import IRF_REGISTRY, PSFKing
    from gwidgets.core.models import KIND_REGISTRY, GaussianSpectral
    from gwidgets.core.models.spectral_errors import PROPAGATIONS
    from gwidgets.state.estimator_jobs import PRODUCTS

    dummy = "test_registries._dummy"
    return {
        "spectral model": (KIND_REGISTRY["spectral"], "PowerLaw", "gwidgets.core.models.spectral_base.PowerLaw",
                           GaussianSpectral, "gwidgets.core.models.spectral.GaussianSpectral"),
        "IRF class": (IRF_REGISTRY, "aeff_2d", "gwidgets.core.irf.aeff.EffectiveArea2D",
                      PSFKing, "gwidgets.core.irf.psf_parametric.PSFKing"),
        "analysis step": (STEPS, "fit", "Step(gwidgets.core.analysis.steps.fit.run, product='fit_result'",
                          Step(_dummy, product="x"), f"Step({dummy}, product='x'"),
        "plot": (PLOTS, "spectrum", "Plot('gwidgets.plotting.analysis_plots:spectrum_png')",
                 Plot("test_registries:_dummy", applies=bool), "Plot('test_registries:_dummy')"),
        "product writer": (WRITERS, "models", "gwidgets.core.analysis.writers._write_models", _dummy, dummy),
        "session product": (PRODUCTS, "profile", "('profile_result', 'likelihood profile')",
                            ("x_result", "x"), "('x_result', 'x')"),
        "error propagation method": (PROPAGATIONS, "sample", "gwidgets.core.models.spectral_errors.propagate_sample",
                                     _dummy, dummy),
        "spectrum reader": (SPECTRUM_READERS, "gadf", "gwidgets.core.io.gadf_spectrum.read_gadf_spectrum",
                            _dummy, dummy),
        "spectrum writer": (SPECTRUM_WRITERS, "ogip", "gwidgets.core.io.spectrum_formats.<lambda>", _dummy, dummy),
        "target finder": (TARGET_FINDERS, "truth", "gwidgets.app.first_look._from_truth", _dummy, dummy),
    }


@pytest.mark.parametrize("kind", ["spectral model", "IRF class", "analysis step", "plot", "product writer",
                                  "session product", "error propagation method", "spectrum reader",
                                  "spectrum writer", "target finder"])
def test_every_registry_refuses_a_second_entry_under_a_taken_name(kind):
    """A taken name is refused with a RegistryError naming the registered and the refused entry."""
    registry, name, before_named, other, other_named = _registries()[kind]
    before = registry[name]
    with pytest.raises(RegistryError, match=f"^{kind} '{name}' is already registered") as info:
        registry.add(name, other)
    message = str(info.value)
    # both entries are named: the one registered and the one refused
    registered, refused = message.split("; cannot register ")
    assert before_named in registered and other_named in refused, message
    assert registry[name] is before  # nothing replaced


def test_a_model_class_with_a_taken_tag_is_refused_whole(toy):
    """``register`` refuses a class whose tag another class of the same kind has, and registers none of its names."""
    from gwidgets.core.models import KIND_REGISTRY, get_model_class, register

    clash = type("ClashSpectrum", (toy,), {"tag": ("ClashSpectrumSpectralModel", "toy-exp")})
    with pytest.raises(RegistryError, match=r"spectral model 'toy-exp' is already registered "
                                            r"\(toy_model_plugin.ExpSpectrum\); cannot register .*ClashSpectrum"):
        register(clash)
    assert "ClashSpectrum" not in KIND_REGISTRY["spectral"]
    # the same short alias in another kind is no clash: lookups are per kind
    assert get_model_class("gauss", "spectral").kind == "spectral"
    assert get_model_class("gauss", "temporal").kind == "temporal"


def test_unknown_name_lists_the_known_ones():
    """An unknown step name is a RegistryError listing the registered ones."""
    from gwidgets.core.analysis import STEPS

    with pytest.raises(RegistryError, match="unknown analysis step 'fti'; known: datasets, fit, flux_points"):
        STEPS["fti"]


def test_a_new_step_is_one_file_plus_one_line(tmp_path, monkeypatch):
    """A step registered with one ``STEPS.add`` line is planned, run after its needs, and its product kept."""
    from gwidgets.core.analysis import STEPS, Analysis, Step

    calls = []

    def count(analysis, progress=None):
        calls.append(analysis.models)
        analysis.n_components = len(analysis.models)
        return analysis.n_components

    STEPS.add("n_components", Step(count, product="n_components", needs=("models",)))
    try:
        config = {"models": {"components": [{"name": "src", "type": "SkyModel",
                                             "spectral": {"type": "PowerLawSpectralModel"}}]}}
        analysis = Analysis(config)
        assert "n_components" in analysis.planned_steps()
        assert analysis.run_step("n_components") == 1  # ran the models step first
        assert analysis.models.names == ["src"] and calls == [analysis.models]
    finally:
        STEPS.remove("n_components")


def test_analysis_draws_its_plots_without_importing_the_plotting_package():
    """``gw.Analysis`` is the core class: the PNG plots exist without ``gwidgets.plotting`` being imported."""
    code = ("import sys, gwidgets as gw; A = gw.Analysis;"
            "from gwidgets.core.analysis import PLOTS;"
            "assert A.__module__ == 'gwidgets.core.analysis.analysis', A.__module__;"
            "assert 'gwidgets.plotting' not in sys.modules;"
            "print(sorted(PLOTS)); [p.load() for p in PLOTS.values()]")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['light_curve', 'spectrum']"
    for plot in importlib.import_module("gwidgets.core.analysis").PLOTS.values():
        assert callable(plot.load())


EXCESS_PLOT = '''
from gwidgets.plotting.analysis_plots import new_figure


def excess_png(analysis, folder):
    fig, ax = new_figure()
    ax.bar(analysis.datasets.names, [float(d.excess.sum()) for d in analysis.datasets])
    fig.savefig(folder / "excess.png")
    return "excess.png"
'''


def test_step_plot_and_writer_recipes_of_the_docs(tmp_path, monkeypatch, data_dir):
    """docs/extending.md's step, plot and writer recipes: each one function plus one line, and ``run`` uses them."""
    import warnings

    from gwidgets.core.analysis import PLOTS, STEPS, WRITERS, Analysis, Plot, Step

    monkeypatch.setenv("GWIDGETS_DATA", str(data_dir))
    warnings.simplefilter("ignore")
    (tmp_path / "excess_plot.py").write_text(EXCESS_PLOT)
    monkeypatch.syspath_prepend(str(tmp_path))

    def run(analysis, progress=None):
        analysis.excess = sum(float(d.excess.sum()) for d in analysis.datasets)
        return analysis.excess

    def write_excess(analysis, folder):
        (folder / "excess.txt").write_text(f"{analysis.excess}\n")
        return ["excess.txt"]

    STEPS.add("excess", Step(run, product="excess", needs=("datasets",)))
    PLOTS.add("excess", Plot("excess_plot:excess_png", applies=lambda a: a.datasets is not None))
    WRITERS.add("excess", write_excess)
    try:
        analysis = Analysis(SMALL)
        assert analysis.planned_steps() == ["observations", "datasets", "models", "fit", "excess", "write"]
        out = analysis.run(outdir=tmp_path / "out")
    finally:
        STEPS.remove("excess"), PLOTS.remove("excess"), WRITERS.remove("excess")
    excess = sum(float(np.sum(d.counts - d.alpha * d.counts_off)) for d in analysis.datasets)  # ON - alpha OFF
    assert float((out / "excess.txt").read_text()) == pytest.approx(excess, rel=1e-12) and excess > 100
    assert (out / "plots" / "excess.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "plots" / "spectrum.png").exists()


def test_irf_class_recipe_of_the_docs():
    """docs/extending.md's IRF recipe: a subclass with the GADF names plus one ``IRF_REGISTRY.add`` line.

    `load_irf` reads it and gives back the values it was written with; before the line the HDU class is refused.
    """
    import io

    import astropy.units as u
    from astropy.io import fits

    from gwidgets.core.io.fits import FitsFile
    from gwidgets.core.irf import IRF, IRF_REGISTRY, IRFAxis, load_irf
    from gwidgets.errors import UnsupportedFormatError

    class PSFGauss2D(IRF):
        """One Gaussian PSF width vs (true energy, offset)."""

        tag = "psf_gauss2d"
        required_axes = ("energy_true", "offset")
        column = "SIGMA"
        default_unit = u.deg
        extname = "PSF"
        hduclas2 = "RPSF"

    sigma = np.array([[0.2, 0.25, 0.3], [0.1, 0.12, 0.15]])
    axes = [IRFAxis([0.1, 1, 10], "energy_true", unit="TeV"), IRFAxis([0, 1, 2, 3], "offset", unit="deg")]
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), PSFGauss2D(axes, sigma).to_hdu()]).writeto(buf)
    hdu = FitsFile("psf.fits", data=buf.getvalue())["PSF"]
    with pytest.raises(UnsupportedFormatError, match="HDU 'PSF' of file 'psf.fits' has IRF class 'psf_gauss2d'"):
        load_irf(hdu, "psf_gauss2d")
    IRF_REGISTRY.add("psf_gauss2d", PSFGauss2D)  # the one line
    try:
        psf = load_irf(hdu, "psf_gauss2d")
    finally:
        IRF_REGISTRY.remove("psf_gauss2d")
    assert type(psf) is PSFGauss2D
    np.testing.assert_array_equal(psf.quantity.to_value("deg"), sigma)
    # evaluated at a node it is the tabulated value (log-energy interpolation)
    value = psf.evaluate(energy_true=np.sqrt(10) * u.TeV, offset=1.5 * u.deg)
    assert value.to_value("deg") == pytest.approx(0.12)
