"""OGIP spectra: read the 10 joint-crab datasets like gammapy, write files gammapy reads back, clear errors."""
from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
from gwidgets.core.io.ogip import OGIPError, OGIPMismatchError, read_ogip, read_rmf
from gwidgets.errors import FileNotFoundGwError, GwidgetsError, MissingColumnError, UnitError

INSTRUMENTS = ["fermi", "magic", "veritas", "fact", "hess"]


@pytest.fixture(scope="module")
def spectra_dir(data_dir):
    path = data_dir / "joint-crab" / "results" / "spectra"
    if not path.exists():
        pytest.skip("joint-crab OGIP spectra not available")
    return path


@pytest.fixture(scope="module")
def pha_files(spectra_dir):
    files = sorted(f for inst in INSTRUMENTS for f in (spectra_dir / inst).glob("pha_*.fits"))
    assert len(files) == 10
    return files


@pytest.fixture(scope="module")
def gp():
    pytest.importorskip("gammapy")
    warnings.simplefilter("ignore")
    from gammapy.datasets import SpectrumDatasetOnOff as GammapyOnOff

    return GammapyOnOff


def _compare(ours, ref, edisp_rtol=0.0, name=True):
    np.testing.assert_array_equal(ours.counts, ref.counts.data.ravel())
    np.testing.assert_array_equal(ours.counts_off, ref.counts_off.data.ravel())
    np.testing.assert_allclose(ours.alpha, ref.alpha.data.ravel(), rtol=1e-12)
    np.testing.assert_allclose(ours.exposure, ref.exposure.quantity.to_value("cm2 s").ravel(), rtol=1e-12)
    np.testing.assert_allclose(ours.edisp, ref.edisp.get_edisp_kernel().data, rtol=edisp_rtol, atol=1e-12)
    np.testing.assert_array_equal(ours.mask_safe, ref.mask_safe.data.ravel())
    np.testing.assert_allclose(ours.energy_edges, ref.counts.geom.axes["energy"].edges.to_value("TeV"), rtol=1e-12)
    np.testing.assert_allclose(ours.energy_edges_true, ref.exposure.geom.axes["energy_true"].edges.to_value("TeV"),
                               rtol=1e-6)
    assert ours.livetime == pytest.approx(ref.exposure.meta["livetime"].to_value("s"), rel=1e-12)
    if name:
        assert ours.name == ref.name


def test_read_all_joint_crab_like_gammapy(pha_files, gp):
    for f in pha_files:
        ours = SpectrumDatasetOnOff.read(f)
        ref = gp.read(f)
        # the stacked FACT file repeats OBS_ID (one card per run): gammapy's name is the list of
        # all of them as a string, ours the file name without "pha_" ("stacked")
        _compare(ours, ref, name="fact" not in str(f))
    assert SpectrumDatasetOnOff.read(pha_files[0]).name == "stacked"


def test_read_values_and_units(spectra_dir):
    spec = read_ogip(spectra_dir / "hess" / "pha_obs23523.fits")
    assert spec.name == "23523"
    assert spec.energy_edges[0] == pytest.approx(0.01) and spec.energy_edges[-1] == pytest.approx(100.0)
    assert spec.edisp.shape == (80, 80)
    # the migration matrix is a probability: rows sum to <= 1
    assert np.all(spec.edisp.sum(axis=1) <= 1 + 1e-6)
    assert spec.livetime == pytest.approx(1581.736758410931)
    assert set(spec.filenames) == {"pha", "arf", "rmf", "bkg"}


def test_datasets_read_directory(spectra_dir):
    datasets = Datasets.read(spectra_dir / "hess")
    assert datasets.names == ["23523", "23526", "23559", "23592"]
    table = datasets.info_table()
    assert len(table) == 4 and "sqrt_ts" in table.colnames and "alpha" in table.colnames


@pytest.mark.parametrize("fmt", ["ogip", "ogip-sherpa"])
def test_write_read_back_with_gammapy(pha_files, gp, tmp_path, fmt):
    for f in [pha_files[1], pha_files[2], pha_files[-1]]:  # fermi, hess, veritas
        ours = SpectrumDatasetOnOff.read(f)
        out = tmp_path / fmt / f"pha_obs{ours.name}.fits"
        written = ours.write(out, format=fmt)
        assert set(written) == {"pha", "arf", "bkg", "rmf"}
        # gammapy reads what we wrote...
        ref = gp.read(out)
        _compare(ours, ref, edisp_rtol=1e-6)  # the RMF stores the matrix as float32, as gammapy does
        # ...and so do we
        again = SpectrumDatasetOnOff.read(out)
        np.testing.assert_array_equal(again.counts, ours.counts)
        np.testing.assert_allclose(again.alpha, ours.alpha, rtol=1e-12)
        np.testing.assert_allclose(again.exposure, ours.exposure, rtol=1e-12)
        np.testing.assert_allclose(again.edisp, ours.edisp, rtol=1e-6, atol=1e-12)
        np.testing.assert_array_equal(again.mask_safe, ours.mask_safe)
        np.testing.assert_allclose(again.energy_edges, ours.energy_edges, rtol=1e-12)


def test_gammapy_written_files_read_by_us(pha_files, gp, tmp_path):
    ref = gp.read(pha_files[3])
    out = tmp_path / "gp" / "pha_obs23526.fits"
    ref.write(out, format="ogip")
    ours = SpectrumDatasetOnOff.read(out)
    _compare(ours, ref, edisp_rtol=1e-6)


def test_write_refuses_to_overwrite(pha_files, tmp_path):
    ds = SpectrumDatasetOnOff.read(pha_files[2])
    ds.write(tmp_path / "x.fits")
    with pytest.raises(OGIPError, match="exists"):
        ds.write(tmp_path / "x.fits")
    ds.write(tmp_path / "x.fits", overwrite=True)


# --------------------------------------------------------------------------- bad input
@pytest.fixture
def hess_copy(spectra_dir, tmp_path):
    src = spectra_dir / "hess"
    for kind in ("pha", "bkg", "arf", "rmf"):
        shutil.copy(src / f"{kind}_obs23523.fits", tmp_path / f"{kind}_obs23523.fits")
    return tmp_path


def _edit(path, hdu, func):
    """Apply ``func`` to one HDU of a FITS file, in place."""
    from astropy.io import fits

    tmp = path.with_name(path.name + ".tmp")
    with fits.open(path, memmap=False) as hdul:
        for h in hdul:
            _ = h.data  # load (also the heap of variable-length columns)
        func(hdul[hdu])
        hdul.writeto(tmp)
    tmp.replace(path)


def test_missing_respfile(hess_copy):
    (hess_copy / "rmf_obs23523.fits").unlink()
    with pytest.raises(FileNotFoundGwError) as exc:
        SpectrumDatasetOnOff.read(hess_copy / "pha_obs23523.fits")
    msg = str(exc.value)
    assert "rmf_obs23523.fits" in msg and "RESPFILE" in msg and "pha_obs23523.fits" in msg


def test_rmf_grid_mismatch(hess_copy):
    def shift(hdu):
        hdu.data["ENERG_LO"] = hdu.data["ENERG_LO"] * 1.1
        hdu.data["ENERG_HI"] = hdu.data["ENERG_HI"] * 1.1

    _edit(hess_copy / "rmf_obs23523.fits", "MATRIX", shift)
    with pytest.raises(OGIPMismatchError) as exc:
        SpectrumDatasetOnOff.read(hess_copy / "pha_obs23523.fits")
    assert "rmf_obs23523.fits" in str(exc.value) and "ARF" in str(exc.value)


def test_rmf_channel_mismatch(hess_copy):
    _edit(hess_copy / "rmf_obs23523.fits", "MATRIX", lambda hdu: hdu.header.__setitem__("DETCHANS", 60))
    with pytest.raises(OGIPError) as exc:
        SpectrumDatasetOnOff.read(hess_copy / "pha_obs23523.fits")
    assert "rmf_obs23523.fits" in str(exc.value) and "DETCHANS" in str(exc.value)


def test_wrong_unit(hess_copy):
    def unit(hdu):
        hdu.columns["ENERG_LO"].unit = "cm"
        hdu.header["TUNIT1"] = "cm"

    _edit(hess_copy / "arf_obs23523.fits", "SPECRESP", unit)
    with pytest.raises(UnitError) as exc:
        SpectrumDatasetOnOff.read(hess_copy / "pha_obs23523.fits")
    assert "arf_obs23523.fits" in str(exc.value) and "ENERG_LO" in str(exc.value)


def test_missing_column(hess_copy):
    from astropy.io import fits

    path = hess_copy / "pha_obs23523.fits"
    with fits.open(path) as hdul:
        hdul = fits.HDUList([h.copy() for h in hdul])
    spec = hdul["SPECTRUM"]
    cols = [c for c in spec.columns if c.name != "COUNTS"]
    new = fits.BinTableHDU.from_columns(cols, header=spec.header, name="SPECTRUM")
    hdul["SPECTRUM"] = new
    hdul.writeto(path, overwrite=True)
    with pytest.raises(MissingColumnError) as exc:
        SpectrumDatasetOnOff.read(path)
    assert "COUNTS" in str(exc.value) and "pha_obs23523.fits" in str(exc.value)


def test_missing_exposure_keyword(hess_copy):
    _edit(hess_copy / "pha_obs23523.fits", "SPECTRUM", lambda hdu: hdu.header.remove("EXPOSURE"))
    with pytest.raises(OGIPError, match="EXPOSURE"):
        SpectrumDatasetOnOff.read(hess_copy / "pha_obs23523.fits")


def test_backscal_as_keyword(hess_copy):
    from astropy.io import fits

    path = hess_copy / "bkg_obs23523.fits"
    ref = read_ogip(hess_copy / "pha_obs23523.fits")
    with fits.open(path) as hdul:
        hdul = fits.HDUList([h.copy() for h in hdul])
    spec = hdul["SPECTRUM"]
    value = float(spec.data["BACKSCAL"][0])
    cols = [c for c in spec.columns if c.name != "BACKSCAL"]
    header = spec.header.copy()
    header["BACKSCAL"] = value
    hdul["SPECTRUM"] = fits.BinTableHDU.from_columns(cols, header=header, name="SPECTRUM")
    hdul.writeto(path, overwrite=True)
    spec2 = read_ogip(hess_copy / "pha_obs23523.fits")
    np.testing.assert_allclose(spec2.acceptance_off, np.full(80, value))
    np.testing.assert_allclose(spec2.acceptance / spec2.acceptance_off, ref.acceptance / ref.acceptance_off)


def test_not_a_file(tmp_path):
    with pytest.raises(FileNotFoundGwError):
        SpectrumDatasetOnOff.read(tmp_path / "nope.fits")
    with pytest.raises(GwidgetsError):
        read_rmf(tmp_path / "nope.fits")
