"""Round trips with gammapy 2.1 for the files people have.

Each case: written by gammapy -> read by gwidgets, compared value by value with
what gammapy reads from the same file; and written by gwidgets -> read by
gammapy, compared the same way. Spectra (OGIP folders, long file names,
gammapy's default "gadf" format, datasets YAML), flux points in every SED
type, and model YAML (compared as evaluated dN/dE on an energy grid).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from gwidgets.core.datasets import Datasets, SpectrumDataset, SpectrumDatasetOnOff
from gwidgets.core.io.spectrum_formats import find_spectrum_files, spectrum_file_kind
from gwidgets.errors import GwidgetsError, UnsupportedFormatError

gammapy = pytest.importorskip("gammapy")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module")
def hess_pha(data_dir):
    path = data_dir / "joint-crab" / "results" / "spectra" / "hess" / "pha_obs23523.fits"
    if not path.exists():
        pytest.skip("joint-crab OGIP spectra not available")
    return path


@pytest.fixture(scope="module")
def gp_onoff(hess_pha):
    """A gammapy SpectrumDatasetOnOff (H.E.S.S. run 23523 of the joint-crab paper) with a fit mask."""
    from gammapy.datasets import SpectrumDatasetOnOff as GP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = GP.read(hess_pha)
    mask_fit = ds.counts.geom.energy_mask(energy_min=1 * gammapy_unit("TeV"), energy_max=20 * gammapy_unit("TeV"))
    ds.mask_fit = mask_fit
    return ds


def gammapy_unit(text):
    import astropy.units as u

    return u.Unit(text)


# a power law: both integrate it analytically, so the statistics agree to ~1e-10
def _crab_model():
    from gwidgets.core.models import PowerLaw

    return PowerLaw(amplitude="3.8e-11 cm-2 s-1 TeV-1", reference="1 TeV", index=2.6)


def _gp_crab_model():
    from gammapy.modeling.models import PowerLawSpectralModel, SkyModel

    return SkyModel(spectral_model=PowerLawSpectralModel(amplitude="3.8e-11 cm-2 s-1 TeV-1",
                                                          reference="1 TeV", index=2.6), name="crab")


def compare_spectrum(ours, ref, livetime=True, mask_fit=False):
    """Every array of a gwidgets dataset equals gammapy's; the WStat / Cash of the same model too."""
    np.testing.assert_allclose(ours.counts, ref.counts.data.ravel(), rtol=1e-7)
    np.testing.assert_allclose(ours.exposure, ref.exposure.quantity.to_value("cm2 s").ravel(), rtol=1e-12)
    np.testing.assert_allclose(ours.edisp, ref.edisp.get_edisp_kernel().data, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(ours.mask_safe, ref.mask_safe.data.ravel())
    np.testing.assert_allclose(ours.energy_edges, ref.counts.geom.axes["energy"].edges.to_value("TeV"), rtol=1e-12)
    np.testing.assert_allclose(ours.energy_edges_true, ref.exposure.geom.axes["energy_true"].edges.to_value("TeV"),
                               rtol=1e-6)
    if mask_fit:
        np.testing.assert_array_equal(ours.mask_fit, ref.mask_fit.data.ravel())
    if hasattr(ref, "counts_off"):
        np.testing.assert_allclose(ours.counts_off, ref.counts_off.data.ravel(), rtol=1e-7)
        np.testing.assert_allclose(ours.alpha, ref.alpha.data.ravel(), rtol=1e-12)
    else:
        np.testing.assert_allclose(ours.background, ref.background.data.ravel(), rtol=1e-7)
    if livetime:
        assert ours.livetime == pytest.approx(ref.exposure.meta["livetime"].to_value("s"), rel=1e-12)
    assert ours.name == ref.name
    # the same statistic for the same model: nothing lost that the fit uses
    ours.models = _crab_model()
    ref.models = _gp_crab_model()
    assert ours.stat_sum() == pytest.approx(float(ref.stat_sum()), rel=1e-8)


# ------------------------------------------------------------------ OGIP folders
def test_gammapy_ogip_folder_reads(gp_onoff, tmp_path):
    """gammapy's OGIP writer: pha_obs<ID>.fits next to pha_obs<ID>_arf/_bkg/_rmf.fits (the pha_* pattern
    matches all four); a long dataset name makes long-string (CONTINUE) keywords."""
    a = gp_onoff.copy(name="23523")
    long_name = "crab_hess_run_23523_" + "with_a_name_longer_than_one_header_card" * 2
    b = gp_onoff.copy(name=long_name)
    for ds in (a, b):
        ds.mask_fit = gp_onoff.mask_fit
        ds.write(tmp_path / f"pha_obs{ds.name}.fits", format="ogip")
    assert b"CONTINUE" in (tmp_path / f"pha_obs{long_name}.fits").read_bytes()
    assert len(list(tmp_path.glob("pha_*.fits"))) == 8
    datasets = Datasets.read(tmp_path)
    assert datasets.names == sorted(["23523", long_name])
    from gammapy.datasets import SpectrumDatasetOnOff as GP

    for ours in datasets:
        ref = GP.read(tmp_path / f"pha_obs{ours.name}.fits")
        compare_spectrum(ours, ref)
    # an explicit pattern narrows the candidates; the ARF/BKG/RMF files it matches are still left out
    assert Datasets.read(tmp_path, pattern="pha_obs2*").names == ["23523"]


def test_file_kinds_and_refusals(gp_onoff, tmp_path):
    gp_onoff.write(tmp_path / "pha_obs1.fits", format="ogip")
    kinds = {p.name: spectrum_file_kind(p) for p in tmp_path.iterdir()}
    assert kinds == {"pha_obs1.fits": "pha", "pha_obs1_bkg.fits": "bkg", "pha_obs1_arf.fits": "response",
                     "pha_obs1_rmf.fits": "response"}
    with pytest.raises(UnsupportedFormatError, match="pha_obs1_arf.fits.*response"):
        SpectrumDatasetOnOff.read(tmp_path / "pha_obs1_arf.fits")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GwidgetsError, match="No OGIP PHA or gadf spectrum files"):
        Datasets.read(empty)


def test_gwidgets_ogip_folder_round_trip(hess_pha, tmp_path):
    """gwidgets' own writer (pha_obs<name>.fits + _bkg/_arf/_rmf): read back by gwidgets and by gammapy."""
    ours = SpectrumDatasetOnOff.read(hess_pha)
    for fmt, folder in (("ogip", tmp_path / "ogip"), ("ogip-sherpa", tmp_path / "sherpa")):
        Datasets([ours]).write(folder, format=fmt)
        back = Datasets.read(folder)
        assert back.names == ["23523"]
        np.testing.assert_array_equal(back[0].counts, ours.counts)
        np.testing.assert_allclose(back[0].exposure, ours.exposure, rtol=1e-12)
        from gammapy.datasets import SpectrumDatasetOnOff as GP

        compare_spectrum(back[0], GP.read(folder / "pha_obs23523.fits"))


# ------------------------------------------------------------------ gadf
def test_gammapy_gadf_onoff_reads(gp_onoff, tmp_path):
    """gammapy's default format (SpectrumDatasetOnOff.write(filename), format="gadf")."""
    from gammapy.datasets import SpectrumDatasetOnOff as GP

    path = tmp_path / "23523.fits"
    gp_onoff.write(path)  # gammapy's default format is "gadf"
    assert spectrum_file_kind(path) == "gadf"
    ours = SpectrumDatasetOnOff.read(path)
    ref = GP.read(path)
    # gammapy's gadf files do not store the livetime: NaN, as gammapy's info_dict shows
    assert np.isnan(ours.livetime) and np.isnan(ref.info_dict()["livetime"].value)
    compare_spectrum(ours, ref, livetime=False, mask_fit=True)
    assert Datasets.read(tmp_path).names == ["23523"]


def test_gammapy_gadf_spectrum_dataset_reads(gp_onoff, tmp_path):
    """A Cash SpectrumDataset (known background) in gadf reads as a gwidgets SpectrumDataset."""
    from gammapy.datasets import SpectrumDataset as GPS

    path = tmp_path / "cash.fits"
    gp_onoff.to_spectrum_dataset(name="cash").write(path)
    datasets = Datasets.read(tmp_path)
    assert type(datasets[0]) is SpectrumDataset
    compare_spectrum(datasets[0], GPS.read(path), livetime=False, mask_fit=True)
    with pytest.raises(GwidgetsError, match="no OFF counts"):
        SpectrumDatasetOnOff.read(path)


def test_gwidgets_gadf_read_by_gammapy(hess_pha, tmp_path):
    from gammapy.datasets import SpectrumDataset as GPS
    from gammapy.datasets import SpectrumDatasetOnOff as GP

    ours = SpectrumDatasetOnOff.read(hess_pha)
    ours.set_fit_range(1, 20)
    ours.write(tmp_path / "onoff.fits", format="gadf")
    compare_spectrum(ours, GP.read(tmp_path / "onoff.fits", format="gadf"), livetime=False, mask_fit=True)
    back = SpectrumDatasetOnOff.read(tmp_path / "onoff.fits")
    assert back.livetime == ours.livetime  # kept in a keyword gammapy ignores
    cash = ours.to_spectrum_dataset(name="cash")
    cash.write(tmp_path / "cash.fits")
    compare_spectrum(cash, GPS.read(tmp_path / "cash.fits"), livetime=False, mask_fit=True)
    # a folder of them: Datasets.write(format="gadf") writes <name>.fits, read back as the right classes
    Datasets([ours, cash]).write(tmp_path / "folder", format="gadf")
    back = Datasets.read(tmp_path / "folder")
    assert back.names == ["23523", "cash"] and [type(d) for d in back] == [SpectrumDatasetOnOff, SpectrumDataset]
    np.testing.assert_array_equal(back["cash"].background, cash.background)


def test_gammapy_datasets_yaml_reads(gp_onoff, tmp_path):
    """gammapy's Datasets.write: a datasets YAML listing gadf files (with CHECKSUM cards)."""
    from gammapy.datasets import Datasets as GPDatasets

    gp = GPDatasets([gp_onoff.copy(name="a"), gp_onoff.copy(name="b")])
    gp.write(tmp_path / "datasets.yaml")
    ours = Datasets.read(tmp_path / "datasets.yaml")
    assert ours.names == ["a", "b"]
    from gammapy.datasets import SpectrumDatasetOnOff as GP

    # compared with gammapy's direct read of each file: its Datasets.read(yaml) drops MASK_FIT
    for d in ours:
        compare_spectrum(d, GP.read(tmp_path / f"pha_obs{d.name}.fits"), livetime=False, mask_fit=True)
    assert [p.name for p in find_spectrum_files(tmp_path)] == ["pha_obsa.fits", "pha_obsb.fits"]


# ------------------------------------------------------------------ flux points
SED_TYPES = ("dnde", "e2dnde", "flux", "eflux")


@pytest.fixture(scope="module")
def likelihood_sed():
    """A likelihood SED (log-parabola reference, norms with errors, ULs, TS) as gammapy and gwidgets objects."""
    import astropy.units as u
    from astropy.table import Table
    from gammapy.estimators import FluxPoints as GFP
    from gammapy.modeling.models import LogParabolaSpectralModel

    from gwidgets.core.estimators import FluxPoints
    from gwidgets.core.estimators.sed_table import reference_columns
    from gwidgets.core.models import LogParabola

    edges = np.geomspace(0.5, 50, 7)
    ref = reference_columns(LogParabola(amplitude="3.8e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1),
                            edges[:-1], edges[1:])
    t = Table(meta={"SED_TYPE": "likelihood"})
    for k in ("e_ref", "e_min", "e_max"):
        t[k] = ref[k] * u.TeV
    t["ref_dnde"] = ref["ref_dnde"] * u.Unit("cm-2 s-1 TeV-1")
    t["ref_flux"] = ref["ref_flux"] * u.Unit("cm-2 s-1")
    t["ref_eflux"] = ref["ref_eflux"] * u.Unit("TeV cm-2 s-1")
    t["norm"] = [1.1, 0.95, 1.02, 0.8, 1.3, 0.4]
    t["norm_err"], t["norm_errn"], t["norm_errp"] = 0.1, 0.09, 0.11
    t["norm_ul"] = t["norm"] + 0.25
    t["ts"] = [100.0, 50, 25, 9, 2, 0.5]
    t["sqrt_ts"] = np.sqrt(t["ts"])
    t["is_ul"] = t["sqrt_ts"] < 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gp = GFP.from_table(t.copy(), reference_model=LogParabolaSpectralModel(
            amplitude="3.8e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1))
    return gp, FluxPoints(t.copy())


def _gp_values(gp, sed_type, suffix=""):
    return getattr(gp, sed_type + suffix).quantity.ravel()


@pytest.mark.parametrize("ext", ["fits", "ecsv"])
@pytest.mark.parametrize("sed_type", SED_TYPES)
def test_gammapy_flux_points_every_sed_type_read(likelihood_sed, tmp_path, sed_type, ext):
    """gammapy's FluxPoints.write(sed_type=...) -> FluxPoints.read: the file's values exactly, the other
    SED types converted with the same default reference model as gammapy's FluxPoints.read."""
    from gammapy.estimators import FluxPoints as GFP

    from gwidgets.core.estimators import FluxPoints

    gp, _ = likelihood_sed
    path = tmp_path / f"sed.{ext}"
    gp.write(path, sed_type=sed_type)
    ours = FluxPoints.read(path)
    assert ours.table.meta["sed_type_init"] == sed_type
    for suffix in ("", "_err", "_errn", "_errp", "_ul"):
        written = ours.to_table(sed_type)[sed_type + suffix].quantity
        np.testing.assert_allclose(written, _gp_values(gp, sed_type, suffix).to(written.unit), rtol=1e-12)
    np.testing.assert_array_equal(ours.is_ul, gp.is_ul.data.ravel())
    np.testing.assert_allclose(np.asarray(ours.table["ts"]), gp.ts.data.ravel())
    back = GFP.read(path)
    for other in SED_TYPES:
        q = ours.to_table(other)[other].quantity
        np.testing.assert_allclose(q, _gp_values(back, other).to(q.unit), rtol=1e-12)


@pytest.mark.parametrize("sed_type", ("likelihood",) + SED_TYPES)
def test_gwidgets_flux_points_read_by_gammapy(likelihood_sed, tmp_path, sed_type):
    from gammapy.estimators import FluxPoints as GFP

    _, ours = likelihood_sed
    path = tmp_path / "sed.fits"
    ours.write(path, sed_type=sed_type)
    back = GFP.read(path)
    # a likelihood file: gammapy re-derives ref_flux / ref_eflux from a template through (e_ref, ref_dnde)
    # instead of reading the columns, so only dnde / e2dnde (and the norms) can agree exactly
    for st in ("dnde", "e2dnde") if sed_type == "likelihood" else (sed_type,):
        for suffix in ("", "_err", "_errn", "_errp", "_ul"):
            q = ours.to_table(st)[st + suffix].quantity
            np.testing.assert_allclose(_gp_values(back, st, suffix).to(q.unit), q, rtol=1e-12)
    np.testing.assert_array_equal(back.is_ul.data.ravel(), ours.is_ul)
    if sed_type == "likelihood":
        np.testing.assert_allclose(back.norm.data.ravel(), np.asarray(ours.table["norm"]), rtol=1e-12)
        ratio = back.flux.quantity.ravel() / ours.to_table("flux")["flux"].quantity
        assert np.max(np.abs(ratio.to_value("") - 1)) < 0.02  # gammapy's template integral: ~1 % here


def test_dnde_table_with_only_e_ref(tmp_path):
    """A published-style table (e_ref, dnde, dnde_err; no bin edges): the bins around the nodes, as gammapy."""
    import astropy.units as u
    from astropy.table import Table
    from gammapy.estimators import FluxPoints as GFP

    from gwidgets.core.estimators import FluxPoints

    t = Table(meta={"SED_TYPE": "dnde"})
    t["e_ref"] = [0.5, 1.2, 3.0, 8.0] * u.TeV
    t["dnde"] = [4e-10, 4e-11, 3e-12, 1.5e-13] * u.Unit("cm-2 s-1 TeV-1")
    t["dnde_err"] = t["dnde"] * 0.1
    t.write(tmp_path / "pub.ecsv")
    ours, ref = FluxPoints.read(tmp_path / "pub.ecsv"), GFP.read(tmp_path / "pub.ecsv")
    np.testing.assert_allclose(ours.energy_edges.to_value("TeV"), ref.energy_axis.edges.to_value("TeV"), rtol=1e-12)
    np.testing.assert_allclose(ours.energy_ref.to_value("TeV"), t["e_ref"].value, rtol=1e-12)
    for st in ("dnde", "e2dnde"):
        q = ours.to_table(st)[st].quantity
        np.testing.assert_allclose(q, _gp_values(ref, st).to(q.unit), rtol=1e-12)
    with pytest.raises(ValueError, match="Missing energy range"):  # gammapy has no flux without bin edges;
        ref.flux                                                    # gwidgets integrates over the node bins
    assert np.all(ours["flux"].value > 0)
    np.testing.assert_allclose(ours["dnde"].to_value("cm-2 s-1 TeV-1"), t["dnde"].value, rtol=1e-12)


def test_sed_table_bad_input(tmp_path):
    import astropy.units as u
    from astropy.table import Table

    from gwidgets.core.estimators import FluxPoints

    t = Table({"e_min": [1.0] * u.TeV, "e_max": [2.0] * u.TeV, "dnde": [1.0] * u.m}, meta={"SED_TYPE": "dnde"})
    t.write(tmp_path / "bad_unit.ecsv")
    with pytest.raises(GwidgetsError, match="dnde.*bad_unit.ecsv|bad_unit.ecsv.*dnde"):
        FluxPoints.read(tmp_path / "bad_unit.ecsv")
    Table({"e_min": [1.0], "x": [1.0]}, meta={"SED_TYPE": "sigma"}).write(tmp_path / "bad_type.ecsv")
    with pytest.raises(GwidgetsError, match="bad_type.ecsv.*SED_TYPE 'sigma'"):
        FluxPoints.read(tmp_path / "bad_type.ecsv")


# ------------------------------------------------------------------ model YAML
E_GRID = np.geomspace(0.03, 100, 41)


def _gp_dnde(spectral, energies=E_GRID):
    import astropy.units as u

    return spectral(energies * u.TeV).to_value("cm-2 s-1 TeV-1")


def _write_read_gammapy(models, tmp_path):
    from gammapy.modeling.models import Models as GModels

    path = tmp_path / "ours.yaml"
    models.write(path, overwrite=True)
    return GModels.read(path)


def test_log10_parabola_yaml_gives_gammapy_the_same_spectrum(tmp_path):
    """beta_e = beta_10 / ln 10 (gammapy's exponent is -alpha - beta ln(E/E0)); error and bounds alike."""
    import math

    from gwidgets.core.models import LogParabola, Models, SkyModel

    lp = LogParabola(log_base=10, amplitude="3.85e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.47, beta=0.24)
    beta = lp.parameters["beta"]
    beta.error, beta.min, beta.max = 0.02, 0.0, 1.5
    models = Models([SkyModel(lp, name="crab")])
    gp = _write_read_gammapy(models, tmp_path)
    np.testing.assert_allclose(_gp_dnde(gp["crab"].spectral_model), lp.dnde_values(E_GRID), rtol=1e-12)
    gbeta = gp["crab"].spectral_model.beta
    assert gbeta.value == pytest.approx(0.24 / math.log(10), rel=1e-14)
    assert gbeta.error == pytest.approx(0.02 / math.log(10), rel=1e-14)
    assert (gbeta.min, gbeta.max) == (pytest.approx(0.0), pytest.approx(1.5 / math.log(10), rel=1e-14))
    # gammapy's own log10 constructor gives the same model
    from gammapy.modeling.models import LogParabolaSpectralModel

    ref = LogParabolaSpectralModel.from_log10(amplitude="3.85e-11 cm-2 s-1 TeV-1", reference="1 TeV",
                                              alpha=2.47, beta=0.24)
    np.testing.assert_allclose(_gp_dnde(ref), lp.dnde_values(E_GRID), rtol=1e-12)
    # and gwidgets reads its file back in base 10
    back = Models.read(tmp_path / "ours.yaml")["crab"].spectral_model
    assert back.log_base == "10"
    b = back.parameters["beta"]
    assert (b.value, b.error, b.max) == (pytest.approx(0.24, rel=1e-14), pytest.approx(0.02, rel=1e-14),
                                         pytest.approx(1.5, rel=1e-14))
    # after a gammapy round trip (gammapy drops the gwidgets key): natural-log beta, the same spectrum
    gp.write(tmp_path / "gp.yaml", overwrite=True, write_covariance=False)
    again = Models.read(tmp_path / "gp.yaml")["crab"].spectral_model
    np.testing.assert_allclose(again.dnde_values(E_GRID), lp.dnde_values(E_GRID), rtol=1e-12)


def test_old_gwidgets_log_base_files_still_read(tmp_path):
    """Files of earlier gwidgets versions: ``log_base: 10`` with beta_10 in the file."""
    from gwidgets.core.models import LogParabola, Models

    text = """components:
-   name: crab
    type: SkyModel
    spectral:
        type: LogParabolaSpectralModel
        log_base: 10
        parameters:
        -   {name: amplitude, value: 3.85e-11, unit: cm-2 s-1 TeV-1}
        -   {name: reference, value: 1.0, unit: TeV, frozen: true}
        -   {name: alpha, value: 2.47}
        -   {name: beta, value: 0.24, error: 0.02}
"""
    (tmp_path / "old.yaml").write_text(text)
    model = Models.read(tmp_path / "old.yaml")["crab"].spectral_model
    direct = LogParabola(log_base=10, amplitude="3.85e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.47, beta=0.24)
    assert model.log_base == "10" and model.parameters["beta"].error == 0.02
    np.testing.assert_allclose(model.dnde_values(E_GRID), direct.dnde_values(E_GRID), rtol=1e-15)
    # rewritten, gammapy now evaluates it the same
    gp = _write_read_gammapy(Models.read(tmp_path / "old.yaml"), tmp_path)
    np.testing.assert_allclose(_gp_dnde(gp["crab"].spectral_model), direct.dnde_values(E_GRID), rtol=1e-12)


@pytest.mark.parametrize("indices", [(2.0, 2.0), (2.5, 2.5), (1.5, 3.1), (3.1, 1.5)])
@pytest.mark.parametrize("beta", [0.7, 2.0])
def test_smooth_broken_power_law_matches_gammapy(indices, beta):
    """Equal indices: gammapy's break term is 1 (a plain power law); was 2^-beta here."""
    from gammapy.modeling.models import SmoothBrokenPowerLawSpectralModel

    from gwidgets.core.models import SmoothBrokenPowerLaw

    i1, i2 = indices
    ours = SmoothBrokenPowerLaw(index1=i1, index2=i2, ebreak="2 TeV", beta=beta, amplitude="1e-12 cm-2 s-1 TeV-1")
    ref = SmoothBrokenPowerLawSpectralModel(index1=i1, index2=i2, ebreak="2 TeV", beta=beta)
    np.testing.assert_allclose(ours.dnde_values(E_GRID), _gp_dnde(ref), rtol=1e-13)


def test_every_spectral_model_yaml_evaluates_the_same_in_gammapy(tmp_path):
    """Every spectral model type both know, at its defaults, written by gwidgets: gammapy's dN/dE on a grid."""
    from gammapy.modeling.models import SPECTRAL_MODEL_REGISTRY

    from gwidgets.core.models import KIND_REGISTRY, Models, SkyModel

    gp_tags = {t for cls in SPECTRAL_MODEL_REGISTRY for t in np.atleast_1d(cls.tag)}
    models, checked = [], []
    for cls in dict.fromkeys(KIND_REGISTRY["spectral"].values()):
        if not cls.tag or cls.tag[0] not in gp_tags:
            continue
        try:
            model = cls()
        except TypeError:  # needs data (templates, compound parts): covered in test_models
            continue
        if not model.value_unit.is_equivalent("cm-2 s-1 TeV-1"):  # norm models: not a source's spectrum
            continue
        models.append(SkyModel(model, name=cls.__name__))
        checked.append(cls.__name__)
    assert {"PowerLaw", "LogParabola", "SmoothBrokenPowerLaw", "ExpCutoffPowerLaw", "BrokenPowerLaw"} <= set(checked)
    gp = _write_read_gammapy(Models(models), tmp_path)
    for m in models:
        np.testing.assert_allclose(_gp_dnde(gp[m.name].spectral_model), m.spectral_model.dnde_values(E_GRID),
                                   rtol=1e-12, err_msg=m.name)


def _random_covariance(n, seed):
    a = np.random.default_rng(seed).normal(size=(n, n))
    return a @ a.T * 1e-3


def test_gammapy_covariance_file_reads(tmp_path):
    """gammapy's Models.write also writes <stem>_covariance.dat: each spectral model gets its block."""
    from gammapy.modeling.models import LogParabolaSpectralModel, Models as GModels, PointSpatialModel, \
        PowerLawSpectralModel, SkyModel as GSkyModel

    from gwidgets.core.models import Models

    gp = GModels([GSkyModel(LogParabolaSpectralModel(), name="a"),
                  GSkyModel(PowerLawSpectralModel(), PointSpatialModel(lon_0="1 deg", lat_0="2 deg", frame="icrs"),
                            name="b")])
    cov = _random_covariance(len(gp.parameters), 0)
    gp.covariance = cov
    gp.write(tmp_path / "gp.yaml")
    assert (tmp_path / "gp_covariance.dat").exists()
    ours = Models.read(tmp_path / "gp.yaml")
    names = gp.parameters_unique_names
    for model in ours:
        spectral = model.spectral_model
        idx = [names.index(f"{model.name}.spectral.{p.name}") for p in spectral.parameters]
        np.testing.assert_allclose(spectral.parameters.covariance, cov[np.ix_(idx, idx)], rtol=1e-12)
        errors = [p.error for p in spectral.parameters]
        np.testing.assert_allclose(errors, np.sqrt(np.diag(cov)[idx]), rtol=1e-12)


def test_log10_parabola_covariance_scaled_for_gammapy(tmp_path):
    """beta_e = beta_10 / ln 10: the beta row and column of the covariance are divided by ln 10 for gammapy."""
    import math

    from gammapy.modeling.models import Models as GModels

    from gwidgets.core.models import LogParabola, Models, PowerLaw, SkyModel

    lp = LogParabola(log_base=10, amplitude="3.85e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.47, beta=0.24)
    cov = _random_covariance(4, 1)
    cov[1, :] = cov[:, 1] = 0  # the reference is frozen
    lp.covariance = cov
    pl = PowerLaw()
    models = Models([SkyModel(lp, name="crab"), SkyModel(pl, name="other")])
    models.write(tmp_path / "m.yaml")
    gp = GModels.read(tmp_path / "m.yaml")
    names = gp.parameters_unique_names
    idx = [names.index(f"crab.spectral.{n}") for n in ("amplitude", "reference", "alpha", "beta")]
    scale = np.array([1, 1, 1, 1 / math.log(10)])
    np.testing.assert_allclose(gp.covariance.data[np.ix_(idx, idx)], cov * np.outer(scale, scale), rtol=1e-12)
    assert gp["crab"].spectral_model.beta.error == pytest.approx(math.sqrt(cov[3, 3]) / math.log(10), rel=1e-12)
    assert not np.any(gp.covariance.data[np.ix_(idx, [names.index("other.spectral.index")])])
    back = Models.read(tmp_path / "m.yaml")["crab"].spectral_model
    np.testing.assert_allclose(back.parameters.covariance, cov, rtol=1e-12, atol=1e-18)
    # gwidgets writes no covariance file when no model has a covariance
    Models([SkyModel(PowerLaw(), name="x")]).write(tmp_path / "plain.yaml")
    assert not (tmp_path / "plain_covariance.dat").exists()
    assert "covariance" not in (tmp_path / "plain.yaml").read_text()
