"""A catalogue of bad inputs (issue 11): each gives a named error (or one warning / a reported skip) where the
value enters, never a raw traceback nor a silently wrong fit, and the user's state is left as it was.

Each case is one row of ``CASES``: a function making the bad input and triggering it (from a copy of a
joint-crab H.E.S.S. store or the paper's Fermi spectrum, changed with astropy), the error class and a
pattern its message must match (naming the file, HDU, key or parameter at fault). Cases whose outcome is a
reported skip or a warning have their own tests below. See also ``test_overwrite_safety.py`` (data loss).
"""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time
from regions import CircleSkyRegion

from gwidgets.cli import main
from gwidgets.core.config import AnalysisConfig, ConfigError
from gwidgets.core.data import DataStore
from gwidgets.core.datasets import Datasets
from gwidgets.core.fit import Fit
from gwidgets.core.fit.fit import FitError
from gwidgets.core.geom import MapAxis
from gwidgets.core.io.ogip import OGIPError
from gwidgets.core.irf.core import IRFWarning
from gwidgets.core.models import Models, PowerLaw, SkyModel
from gwidgets.core.models.parameter import Parameter, ParameterError
from gwidgets.core.reduction import make_spectrum_datasets
from gwidgets.errors import DataFileError, EmptySelectionError, SelectionError

from test_analysis import SMALL

CRAB = SkyCoord(83.633, 22.014, unit="deg")
E_RECO = MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 30)
E_TRUE = MapAxis.from_energy_bounds(0.05 * u.TeV, 150 * u.TeV, 40, name="energy_true")
RUN = "hess_dl3_dr1_obs_id_{:06d}.fits.gz"


@pytest.fixture
def hess_copy(tmp_path, stores):
    """A private copy of the joint-crab H.E.S.S. store (4 runs, 1.5 MB) to damage."""
    dest = tmp_path / "hess"
    shutil.copytree(stores["jc-hess"], dest)
    return dest


def _edit_run(store: Path, obs_id: int, edit):
    path = store / "data" / RUN.format(obs_id)
    with fits.open(path) as hdul:
        hdul = fits.HDUList([h.copy() for h in hdul])
    edit(hdul)
    hdul.writeto(path, overwrite=True)


@pytest.fixture
def fermi_copy(tmp_path, data_dir):
    dest = tmp_path / "fermi"
    shutil.copytree(data_dir / "joint-crab" / "results" / "spectra" / "fermi", dest)
    return dest


def _edit_fits(path: Path, edit):
    with fits.open(path) as hdul:
        hdul = fits.HDUList([h.copy() for h in hdul])
    edit(hdul)
    hdul.writeto(path, overwrite=True)


# ------------------------------------------------------------------------------------------- the catalogue
def case_config_negative_radius(tmp_path, **_):
    AnalysisConfig.from_yaml(SMALL.replace("radius: 0.11 deg", "radius: -0.11 deg"))


def case_config_yaml_syntax_error(tmp_path, **_):
    path = tmp_path / "broken.yaml"
    path.write_text("data:\n  datastore: [unclosed\n")
    AnalysisConfig.read(path)


def case_index_with_a_unit(**_):
    PowerLaw(index="2 TeV")


def case_bounds_reversed(**_):
    Parameter("index", 2.0, min=4, max=1)


def case_bounds_reversed_later(**_):
    p = Parameter("index", 2.0, min=1, max=4)
    p.min = 5


def _model_yaml(parameters: str) -> str:
    return ("components:\n- name: crab\n  type: SkyModel\n  spectral:\n    type: PowerLawSpectralModel\n"
            f"    parameters:\n{parameters}")


def case_model_yaml_bounds_reversed(tmp_path, **_):
    path = tmp_path / "models.yaml"
    path.write_text(_model_yaml("    - {name: index, value: 2, min: 4, max: 1}\n"))
    Models.read(path)


def case_model_yaml_dangling_link(tmp_path, **_):
    path = tmp_path / "models.yaml"
    path.write_text(_model_yaml("    - {name: index, value: 2, link: nowhere}\n"))
    Models.read(path)


def case_model_yaml_syntax_error(tmp_path, **_):
    path = tmp_path / "models.yaml"
    path.write_text("components: [\n  - name: a\n  type")
    Models.read(path)


def case_reduce_no_observations(**_):
    make_spectrum_datasets([], CircleSkyRegion(CRAB, 0.11 * u.deg), E_RECO, E_TRUE)


def case_sky_cone_negative_radius(stores, **_):
    DataStore.from_dir(stores["jc-hess"]).obs_table.select_sky_cone(CRAB, -1 * u.deg)


def case_time_range_reversed(stores, **_):
    DataStore.from_dir(stores["jc-hess"]).obs_table.select_time(Time("2005-01-02"), Time("2004-01-01"))


def case_gti_start_after_stop(hess_copy, **_):
    def edit(hdul):
        start = hdul["GTI"].data["START"].copy()
        hdul["GTI"].data["START"], hdul["GTI"].data["STOP"] = hdul["GTI"].data["STOP"].copy(), start
    _edit_run(hess_copy, 23523, edit)
    DataStore.from_dir(hess_copy).obs(23523).gti


def case_ogip_negative_counts(fermi_copy, **_):
    def edit(hdul):
        hdul["SPECTRUM"].data["COUNTS"][3] = -5
    _edit_fits(fermi_copy / "pha_obs0.fits", edit)
    Datasets.read(fermi_copy)


def case_ogip_zero_effective_area(fermi_copy, **_):
    def edit(hdul):
        hdul["SPECRESP"].data["SPECRESP"][:] = 0
    _edit_fits(fermi_copy / "arf_obs0.fits", edit)
    Datasets.read(fermi_copy)


def case_fit_zero_exposure(data_dir, **_):
    datasets = Datasets.read(data_dir / "joint-crab" / "results" / "spectra" / "fermi")
    datasets[0].exposure = np.zeros_like(datasets[0].exposure)
    datasets.models = SkyModel(PowerLaw(), name="crab")
    Fit().run(datasets)


CASES = [
    (case_config_negative_radius, ConfigError, r"'datasets.on_region.radius' = '-0.11 deg' must be positive"),
    (case_config_yaml_syntax_error, ConfigError, r"Configuration file '.*broken.yaml' is not valid YAML.*broken.yaml"),
    (case_index_with_a_unit, ParameterError, r"Parameter 'index': 'TeV' .* not convertible"),
    (case_bounds_reversed, ParameterError, r"Parameter 'index': min 4 is larger than max 1"),
    (case_bounds_reversed_later, ParameterError, r"Parameter 'index': min 5 is larger than max 4"),
    (case_model_yaml_bounds_reversed, ParameterError, r"models.yaml.*Parameter 'index': min 4 is larger than max 1"),
    (case_model_yaml_dangling_link, ParameterError, r"'crab.spectral.index' has link label 'nowhere'.*points nowhere"),
    (case_model_yaml_syntax_error, ParameterError, r"models.yaml'? is not valid YAML.*models.yaml"),
    (case_reduce_no_observations, EmptySelectionError, r"No observations to reduce"),
    (case_sky_cone_negative_radius, SelectionError, r"select_sky_cone: radius \+ border must be positive"),
    (case_time_range_reversed, SelectionError, r"select_time: the stop .* must be after the start"),
    (case_gti_start_after_stop, DataFileError, r"obs_id_023523.fits.gz, HDU GTI: row 0 has START .* STOP"),
    (case_ogip_negative_counts, OGIPError, r"pha_obs0.fits', HDU 'SPECTRUM', column COUNTS: 1 channel.* negative"),
    (case_ogip_zero_effective_area, OGIPError, r"arf_obs0.fits', HDU 'SPECRESP', column SPECRESP"),
    (case_fit_zero_exposure, FitError, r"Dataset '.*' has zero exposure everywhere"),
]


@pytest.mark.parametrize("case,error,pattern", CASES, ids=[c[0].__name__[5:] for c in CASES])
def test_bad_input_gives_a_named_error(case, error, pattern, request, tmp_path, stores, data_dir):
    kwargs = {"tmp_path": tmp_path, "stores": stores, "data_dir": data_dir}
    for name in ("hess_copy", "fermi_copy"):
        if name in case.__code__.co_varnames:
            kwargs[name] = request.getfixturevalue(name)
    with pytest.raises(error, match="(?s)" + pattern):
        case(**kwargs)


def test_catalogue_size():
    """The size of the catalogue (the closing note quotes it)."""
    assert len(CASES) >= 15


# ----------------------------------------------------------------------- skipped or reported, never fitted
def _fit_amplitude(datasets):
    datasets.models = SkyModel(PowerLaw(amplitude="4e-11 cm-2 s-1 TeV-1", reference="1 TeV", index=2.6), name="crab")
    datasets.set_fit_range(0.66 * u.TeV, 30 * u.TeV)
    result = Fit().run(datasets)
    assert result.success
    return result.parameters["amplitude"].value


def test_empty_event_list_with_livetime_is_skipped_not_fitted(hess_copy):
    """One run whose EVENTS table is empty (LIVETIME > 0) among two Crab runs: skipped with a reason, so the
    amplitude is that of the two good runs (it used to halve)."""
    _edit_run(hess_copy, 23559, lambda hdul: hdul.__setitem__("EVENTS", fits.BinTableHDU(
        hdul["EVENTS"].data[:0], header=hdul["EVENTS"].header, name="EVENTS")))
    store = DataStore.from_dir(hess_copy)
    on = CircleSkyRegion(CRAB, 0.11 * u.deg)
    with pytest.warns(UserWarning, match=r"EVENTS table is empty.*1 observation \(23559\)"):
        three = make_spectrum_datasets(store.get_observations([23523, 23526, 23559], required_irf="point-like"),
                                       on, E_RECO, E_TRUE)
    assert three.names == ["23523", "23526"] and "EVENTS table is empty" in three.skipped[23559]
    two = make_spectrum_datasets(store.get_observations([23523, 23526], required_irf="point-like"), on, E_RECO, E_TRUE)
    assert _fit_amplitude(three) == pytest.approx(_fit_amplitude(two), rel=1e-9)


def test_nan_energies_are_counted_and_reported(hess_copy):
    def edit(hdul):
        hdul["EVENTS"].data["ENERGY"][:100] = np.nan
    _edit_run(hess_copy, 23523, edit)
    obs = DataStore.from_dir(hess_copy).get_observations([23523], required_irf="point-like")
    assert obs[0].events.n_nonfinite == 100
    with pytest.warns(UserWarning, match=r"NaN ENERGY, RA, DEC or TIME were not used: 1 observation \(23523\)"):
        datasets = make_spectrum_datasets(obs, CircleSkyRegion(CRAB, 0.11 * u.deg), E_RECO, E_TRUE)
    assert datasets.records[0].notes


def test_nan_in_an_irf_warns_naming_file_hdu_and_column(hess_copy):
    def edit(hdul):
        hdul["AEFF"].data["EFFAREA"][0, 0, :5] = np.nan
    _edit_run(hess_copy, 23523, edit)
    obs = DataStore.from_dir(hess_copy).obs(23523)
    with pytest.warns(IRFWarning, match=r"obs_id_023523.fits.gz, HDU AEFF, column EFFAREA: 5 of \d+ values are NaN"):
        aeff = obs.aeff
    assert np.all(np.isfinite(aeff.data))


def test_gwidgets_run_skips_a_corrupt_observation_and_says_so(hess_copy, tmp_path, capsys):
    """As the library: the corrupt run is skipped with its reason (one note), the others are analysed."""
    path = hess_copy / "data" / RUN.format(23523)
    path.write_bytes(path.read_bytes()[:3000])
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(SMALL.replace("$GWIDGETS_DATA/joint-crab/data/hess", str(hess_copy))
                   .replace("obs_ids: [23523, 23526]", "obs_ids: [23523, 23526, 23559]"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["run", str(cfg), "--outdir", str(tmp_path / "out"), "--quiet"]) == 0
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "not a readable FITS file" in notes[0] and "(23523)" in notes[0], out
    from gwidgets.core.analysis import read_fit_result

    assert read_fit_result(tmp_path / "out")["success"]
