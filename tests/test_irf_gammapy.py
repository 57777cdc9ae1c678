"""Every IRF of every shared data set evaluated by gwidgets and by gammapy 2.1 at the same points."""
from __future__ import annotations

import numpy as np
import pytest
import astropy.units as u
from astropy.io import fits

from gwidgets import errors
from gwidgets.core.data import DataStore
from gwidgets.core.io.fits import FitsFile
from gwidgets.core.irf import EffectiveArea2D, load_irf

gdata = pytest.importorskip("gammapy.data")
gmaps = pytest.importorskip("gammapy.maps")

CASES = [
    ("hess-dr1", "", 20136), ("hess-dr1", "", 23523), ("hess-dr1", "", 33787),
    ("jc-magic", "", 5029747), ("jc-veritas", "", 54809), ("jc-fact", "", 20131103106),
    ("cta-1dc", "index/gps", 110380), ("magic-radmax", "", 5029747), ("veritas-ed", "", 64080),
]
N = 3000
RTOL = 1e-6


def _close(ours, theirs):
    theirs = u.Quantity(theirs).to_value(ours.unit)
    ours = ours.value
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-12 * np.nanmax(np.abs(theirs)))


@pytest.mark.parametrize("key,sub,obs_id", CASES)
def test_irfs_match_gammapy(stores, key, sub, obs_id):
    path = stores[key]
    ours = DataStore.from_dir(path).obs(obs_id)
    theirs = gdata.DataStore.from_dir(path / sub if sub else path).obs(obs_id, required_irf="all-optional")
    rng = np.random.default_rng(obs_id % 1000)
    # random points inside and outside the axis ranges
    e = np.exp(rng.uniform(np.log(0.005), np.log(300), N)) * u.TeV
    off = rng.uniform(0, 7, N) * u.deg
    _close(ours.aeff.evaluate(energy_true=e, offset=off), theirs.aeff.evaluate(energy_true=e, offset=off))
    migra = rng.uniform(0, 6, N)
    _close(ours.edisp.evaluate(energy_true=e, migra=migra, offset=off),
           theirs.edisp.evaluate(energy_true=e, migra=migra, offset=off))
    if ours.psf is not None:
        rad = rng.uniform(0, 1, N) * u.deg
        _close(ours.psf.evaluate(energy_true=e, offset=off, rad=rad), theirs.psf.evaluate(energy_true=e, offset=off, rad=rad))
    if ours.bkg is not None:
        lon, lat = rng.uniform(-5, 5, (2, N)) * u.deg
        _close(ours.bkg.evaluate(energy=e, fov_lon=lon, fov_lat=lat), theirs.bkg.evaluate(energy=e, fov_lon=lon, fov_lat=lat))
    if "rad_max" in ours.available_hdus:
        _close(ours.rad_max.evaluate(energy=e, offset=off), theirs.rad_max.evaluate(energy=e, offset=off))
    # the energy-dispersion matrix used by the 1D reduction
    et = gmaps.MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV", name="energy_true")
    er = gmaps.MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV")
    for offset in (0.2, 0.5, 1.3) * u.deg:
        kernel = theirs.edisp.to_edisp_kernel(offset, energy_axis_true=et, energy_axis=er).pdf_matrix
        np.testing.assert_allclose(ours.edisp.pdf_matrix(et.edges, er.edges, offset), kernel, rtol=1e-6, atol=1e-12)


def test_fixed_rad_max_and_thresholds(stores):
    magic = DataStore.from_dir(stores["jc-magic"]).obs(5029747)
    assert magic.is_pointlike
    assert magic.rad_max.fixed_value.deg == pytest.approx(0.1414213, rel=1e-6)
    hess = DataStore.from_dir(stores["hess-dr1"]).obs(23523)
    with fits.open(stores["hess-dr1"] / "data" / "hess_dl3_dr1_obs_id_023523.fits.gz") as h:
        assert hess.aeff.lo_threshold.to_value("TeV") == pytest.approx(h["AEFF"].header["LO_THRES"])
    fact = DataStore.from_dir(stores["jc-fact"]).obs(20131103106)
    assert fact.aeff.lo_threshold is None  # FACT gives no safe threshold


def test_round_trip_write_read(stores, tmp_path):
    obs = DataStore.from_dir(stores["hess-dr1"]).obs(23523)
    hdus = [obs.aeff.to_hdu("AEFF"), obs.edisp.to_hdu("EDISP"), obs.psf.to_hdu("PSF"), obs.bkg.to_hdu("BKG")]
    fits.HDUList([fits.PrimaryHDU(), *hdus]).writeto(tmp_path / "irf.fits")
    ff = FitsFile(tmp_path / "irf.fits")
    rng = np.random.default_rng(2)
    e = np.exp(rng.uniform(np.log(0.1), np.log(100), 200)) * u.TeV
    off = rng.uniform(0, 2.5, 200) * u.deg
    for name, irf in zip(["AEFF", "EDISP", "PSF", "BKG"], [obs.aeff, obs.edisp, obs.psf, obs.bkg]):
        back = load_irf(ff[name])
        assert type(back) is type(irf)
        coords = {"energy_true": e, "offset": off, "migra": rng.uniform(0.3, 2, 200), "rad": rng.uniform(0, 0.3, 200) * u.deg,
                  "energy": e, "fov_lon": rng.uniform(-2, 2, 200) * u.deg, "fov_lat": rng.uniform(-2, 2, 200) * u.deg}
        kw = {k: coords[k] for k in irf.required_axes}
        np.testing.assert_allclose(back.evaluate(**kw).value, irf.evaluate(**kw).value, rtol=1e-6)
    # gammapy reads our file too
    from gammapy.irf import EffectiveAreaTable2D

    g = EffectiveAreaTable2D.read(tmp_path / "irf.fits", hdu="AEFF")
    np.testing.assert_allclose(g.evaluate(energy_true=e, offset=off).to_value("m2"), obs.aeff.evaluate(energy_true=e, offset=off).value, rtol=1e-5)


def _aeff_hdu(energy_unit="TeV", drop=None, hduclas4="AEFF_2D"):
    e = np.geomspace(0.1, 100, 11)
    th = np.linspace(0, 2, 5)
    cols = {
        "ENERG_LO": (e[:-1], energy_unit), "ENERG_HI": (e[1:], energy_unit),
        "THETA_LO": (th[:-1], "deg"), "THETA_HI": (th[1:], "deg"),
    }
    out = [fits.Column(k, f"{len(v)}E", unit=unit, array=v[None]) for k, (v, unit) in cols.items() if k != drop]
    if drop != "EFFAREA":
        out.append(fits.Column("EFFAREA", "40E", unit="m2", dim="(10,4)", array=np.ones((1, 4, 10))))
    hdu = fits.BinTableHDU.from_columns(out, name="EFFECTIVE AREA")
    hdu.header["HDUCLAS2"] = "EFF_AREA"
    hdu.header["HDUCLAS4"] = hduclas4
    return hdu


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"drop": "THETA_HI"}, errors.MissingColumnError, "Column 'THETA_HI' missing in HDU 'EFFECTIVE AREA' of file '.*bad.fits'"),
        ({"drop": "EFFAREA"}, errors.MissingColumnError, "Column 'EFFAREA' missing"),
        ({"energy_unit": "m"}, errors.UnitError, "Column 'ENERG_LO' in HDU 'EFFECTIVE AREA' of file '.*bad.fits' has unit 'm'"),
        ({"hduclas4": "AEFF_99D"}, errors.UnsupportedFormatError, "bad.fits' has IRF class 'aeff_99d'"),
    ],
)
def test_bad_irf_hdus(tmp_path, kwargs, error, match):
    fits.HDUList([fits.PrimaryHDU(), _aeff_hdu(**kwargs)]).writeto(tmp_path / "bad.fits")
    with pytest.raises(error, match=match):
        load_irf(FitsFile(tmp_path / "bad.fits")["EFFECTIVE AREA"])


def test_good_small_hdu_reads(tmp_path):
    fits.HDUList([fits.PrimaryHDU(), _aeff_hdu()]).writeto(tmp_path / "ok.fits")
    aeff = load_irf(FitsFile(tmp_path / "ok.fits")["EFFECTIVE AREA"])
    assert isinstance(aeff, EffectiveArea2D)
    assert aeff.evaluate(energy_true=1 * u.TeV, offset=0.3 * u.deg).to_value("m2") == pytest.approx(1.0)
