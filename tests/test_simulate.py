"""The simulated DL3 store: GADF-valid (gammapy 2.1 as the independent reader), IRFs equal to the
analytic instrument, deterministic, statistically right, and generated atomically into the cache."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time
from scipy import stats

from gwidgets.core.progress import Cancelled
from gwidgets.core.simulate import default_sky, example_store_path, read_truth, simulate_datastore
from gwidgets.core.simulate import instrument, sphere, tables
from gwidgets.core.simulate.sampling import E_RECO_RANGE, InstrumentSampler, sample_piecewise_linear
from gwidgets.errors import GwidgetsError

gdata = pytest.importorskip("gammapy.data")
from gammapy.maps import MapAxis  # noqa: E402
from gammapy.modeling.models import Models  # noqa: E402

N_OBS = 12  # three nights: includes the run with two GTIs (1007) and the flare night (1009-1012)
SKY = {s.name: s for s in default_sky()}
BRIGHT = SkyCoord(SKY["bright"].ra, SKY["bright"].dec, unit="deg")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return simulate_datastore(tmp_path_factory.mktemp("sim") / "store", n_obs=N_OBS)


@pytest.fixture(scope="module")
def gstore(sim):
    return gdata.DataStore.from_dir(sim)


@pytest.fixture(scope="module")
def gobs(gstore):
    return gstore.get_observations()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- format
def test_gammapy_reads_store_events_and_every_irf(sim, gstore, gobs):
    assert len(gstore.obs_table) == N_OBS and len(gobs) == N_OBS
    for name in ("OBS_ID", "RA_PNT", "DEC_PNT", "ZEN_PNT", "ALT_PNT", "AZ_PNT", "ONTIME", "LIVETIME", "DEADC",
                 "TSTART", "TSTOP", "OBJECT", "N_TELS"):
        assert name in gstore.obs_table.colnames, name
    assert gstore.hdu_table.colnames[:6] == ["OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME"]
    assert len(gstore.hdu_table) == 6 * N_OBS
    for obs in gobs:
        meta = obs.events.table.meta
        for key in ("OBS_ID", "TSTART", "TSTOP", "ONTIME", "LIVETIME", "DEADC", "RA_PNT", "DEC_PNT", "ALT_PNT",
                    "AZ_PNT", "MJDREFI", "MJDREFF", "TIMESYS", "TIMEUNIT", "TIMEREF", "OBJECT", "EQUINOX", "RADECSYS"):
            assert key in meta, key
        assert meta["TELESCOP"] == "GWSIM" and meta["HDUCLASS"] == "GADF" and meta["HDUVERS"] == "0.3"
        assert meta["HDUCLAS1"] == "EVENTS" and meta["TIMESYS"] == "TT" and "DATE" not in meta
        assert 0.85 < meta["DEADC"] < 0.95
        np.testing.assert_allclose(meta["LIVETIME"], meta["ONTIME"] * meta["DEADC"])
        np.testing.assert_allclose(obs.gti.time_sum.to_value("s"), meta["ONTIME"])
        for irf in (obs.aeff, obs.edisp, obs.psf, obs.bkg):
            assert irf is not None and np.all(np.isfinite(irf.data))
        t = obs.events.table
        e = t["ENERGY"].quantity.to_value("TeV")
        assert e.min() >= E_RECO_RANGE[0] and e.max() <= E_RECO_RANGE[1]
    for path in sorted((sim / "data").glob("*.fits.gz")):
        with fits.open(path) as f:
            assert [h.name for h in f] == ["PRIMARY", "EVENTS", "GTI", "AEFF", "EDISP", "PSF", "BKG"]
            met, start, stop = f["EVENTS"].data["TIME"], f["GTI"].data["START"], f["GTI"].data["STOP"]
            assert f["EVENTS"].header["TSTART"] == start[0] and f["EVENTS"].header["TSTOP"] == stop[-1]
            assert f["AEFF"].header["HDUCLAS4"] == "AEFF_2D" and f["BKG"].header["HDUCLAS2"] == "BKG"
            np.testing.assert_array_equal(f["EVENTS"].data["EVENT_ID"], np.arange(1, len(met) + 1))
        assert np.all(np.diff(met) >= 0)
        assert np.all(np.any([(met >= a) & (met <= b) for a, b in zip(start, stop)], axis=0))
    assert len(gstore.obs(1007).gti.table) == 2  # the run with a gap
    assert gstore.obs(1007).events.table.meta["ONTIME"] == 1500


def test_gwidgets_reads_store(sim):
    from gwidgets.core.data import DataStore

    store = DataStore.from_dir(sim)
    assert store.check() == [] and len(store.obs_ids) == N_OBS
    obs = store.obs(1001)
    assert len(obs.events) > 1000 and obs.aeff is not None and obs.bkg is not None


def test_truth_yaml_reads_in_gammapy_and_gwidgets(sim):
    from gwidgets.core.models import Models as GwModels

    truth = read_truth(sim)
    assert truth["simulation"]["format"] == "gwidgets-simulation-truth"
    assert [o["obs_id"] for o in truth["simulation"]["observations"]] == list(range(1001, 1001 + N_OBS))
    gm = Models.read(sim / "truth.yaml")
    ours = GwModels.read(sim / "truth.yaml")
    assert gm.names == ["bright", "extended", "variable", "variable-flare"] == list(ours.names)
    assert gm["bright"].spectral_model.alpha.value == SKY["bright"].spectrum["alpha"]
    assert gm["extended"].spatial_model.sigma.quantity.to_value("deg") == SKY["extended"].sigma
    # the flare: gammapy's temporal model peaks at the flare time (MET TT -> UTC)
    t_peak = Time(51910 + 0.000742870370370241 + SKY["variable"].flare["t_peak"] / 86400, format="mjd", scale="tt")
    assert abs((gm["variable-flare"].temporal_model.reference_time - t_peak).to_value("s")) < 1e-3


# ----------------------------------------------------------------------------- IRFs
def test_gammapy_irfs_equal_the_analytic_instrument(gobs):
    o = gobs[0]
    c = tables.axis_centers
    # at the interpolation nodes: only the 12-bit rounding
    ea, oa = c(tables.AXES["energy_true_aeff"], log=True), c(tables.AXES["offset_aeff"])
    np.testing.assert_allclose(o.aeff.evaluate(energy_true=ea[:, None] * u.TeV, offset=oa * u.deg).to_value("m2"),
                               instrument.aeff(ea[:, None], oa), rtol=3e-4)
    et, ot = c(tables.AXES["energy_true"], log=True), c(tables.AXES["offset"])
    m = c(tables.AXES["migra"])[::7]
    v = o.edisp.evaluate(energy_true=et[::4, None, None] * u.TeV, migra=m[:, None], offset=ot * u.deg).value
    ref = instrument.edisp_pdf(m[:, None], et[::4, None, None], ot)
    np.testing.assert_allclose(v, np.where(ref < 1e-6, 0, ref), rtol=3e-4, atol=1e-9)
    r = c(tables.AXES["rad"])
    np.testing.assert_allclose(o.psf.evaluate(energy_true=et[::4, None, None] * u.TeV, offset=ot[:, None] * u.deg,
                                              rad=r * u.deg).to_value("sr-1"),
                               instrument.psf_profile(r, et[::4, None, None], ot[:, None]), rtol=3e-4)
    er, f = c(tables.AXES["energy"], log=True), c(tables.AXES["fov"])
    np.testing.assert_allclose(o.bkg.evaluate(energy=er[::5, None, None] * u.TeV, fov_lon=f * u.deg,
                                              fov_lat=f[:, None] * u.deg).to_value("s-1 MeV-1 sr-1"),
                               instrument.bkg_rate(er[::5, None, None], f, f[:, None]), rtol=3e-4)
    # between the nodes: the tabulation error, 1-2 % where it matters
    e = np.geomspace(0.3, 100, 23)
    th = np.array([0.1, 0.4, 0.7, 1.1, 1.6])
    np.testing.assert_allclose(o.aeff.evaluate(energy_true=e[:, None] * u.TeV, offset=th * u.deg).to_value("m2"),
                               instrument.aeff(e[:, None], th), rtol=0.02)
    migra = np.linspace(0.4, 2.5, 43)
    for ei, oi in [(0.35, 0.3), (1.3, 0.7), (7.0, 1.2), (40.0, 1.8)]:
        ref = instrument.edisp_pdf(migra, ei, oi)
        got = o.edisp.evaluate(energy_true=ei * u.TeV, migra=migra, offset=oi * u.deg).value
        assert np.max(np.abs(got - ref)) < 0.02 * ref.max()
    rad = np.linspace(0, 0.5, 51)
    for ei, oi in [(0.35, 0.3), (1.3, 0.7), (7.0, 1.2), (40.0, 1.8)]:
        ref = instrument.psf_profile(rad, ei, oi)
        got = o.psf.evaluate(energy_true=ei * u.TeV, offset=oi * u.deg, rad=rad * u.deg).value
        assert np.max(np.abs(got - ref)) < 0.02 * ref.max()
        r68 = o.psf.containment_radius(0.68, energy_true=ei * u.TeV, offset=oi * u.deg).to_value("deg")
        assert abs(r68 / instrument.psf_containment_radius(ei, oi) - 1) < 0.03
    lon, lat = np.meshgrid(np.linspace(-2.3, 2.3, 9), np.linspace(-1.9, 2.1, 7))
    for ei in (0.15, 0.45, 2.2, 30.0):
        got = o.bkg.evaluate(energy=ei * u.TeV, fov_lon=lon * u.deg, fov_lat=lat * u.deg).value
        np.testing.assert_allclose(got, instrument.bkg_rate(ei, lon, lat), rtol=0.02)
    assert o.aeff.meta["LO_THRES"] == pytest.approx(instrument.energy_threshold(0.5), rel=1e-2)
    assert o.bkg.fov_alignment.name == "RADEC"


def test_sampler_densities_are_the_gammapy_interpolation(gobs):
    """Event sampling draws from exactly the IRF values gammapy interpolates from the files."""
    irfs = tables.read_tables(tables.irf_hdus())
    sampler = InstrumentSampler(irfs)
    o = gobs[0]
    rng = np.random.default_rng(1)
    migra = np.linspace(0.25, 2.9, 200)
    rad = np.linspace(0.0, 0.9, 200)
    e, th = np.exp(rng.uniform(np.log(0.04), np.log(250), 500)), rng.uniform(0, 4, 500)
    np.testing.assert_allclose(irfs["aeff"].evaluate(energy_true=e, offset=th),
                               o.aeff.evaluate(energy_true=e * u.TeV, offset=th * u.deg).to_value("m2"), rtol=1e-6)
    lon, lat = rng.uniform(-4, 4, 500), rng.uniform(-4, 4, 500)
    e = np.exp(rng.uniform(np.log(0.06), np.log(170), 500))
    np.testing.assert_allclose(irfs["bkg"].evaluate(energy=e, fov_lon=lon, fov_lat=lat),
                               o.bkg.evaluate(energy=e * u.TeV, fov_lon=lon * u.deg, fov_lat=lat * u.deg).value,
                               rtol=1e-5)
    for ei, oi in zip(np.exp(rng.uniform(np.log(0.05), np.log(200), 8)), rng.uniform(0, 3.8, 8)):
        ref = o.edisp.evaluate(energy_true=ei * u.TeV, migra=migra, offset=oi * u.deg).value
        np.testing.assert_allclose(sampler.edisp_density(migra, ei, oi)[0], ref, rtol=1e-5, atol=1e-6 * ref.max())
        ref = o.psf.evaluate(energy_true=ei * u.TeV, offset=oi * u.deg, rad=rad * u.deg).value
        np.testing.assert_allclose(sampler.psf_density(rad, ei, oi)[0], ref, rtol=1e-5, atol=1e-6 * ref.max())


def test_sample_piecewise_linear_is_exact():
    x = np.array([0.0, 1.0, 3.0])
    f = np.array([[0.0, 2.0, 0.0]])  # triangle: CDF x²/3 up to x = 1, then 1 - (3 - x)²/6
    u = np.linspace(0.01, 0.99, 99)
    got = sample_piecewise_linear(x, np.repeat(f, len(u), 0), u)
    expect = np.where(u <= 1 / 3, np.sqrt(3 * u), 3 - np.sqrt(6 * (1 - u)))
    np.testing.assert_allclose(got, expect, rtol=1e-10)


def test_sphere_helpers_match_astropy_and_gammapy():
    from gammapy.utils.coordinates import fov_to_sky, sky_to_fov

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-4, 4, 50), rng.uniform(-4, 4, 50)
    ra, dec = sphere.fov_to_sky(lon, lat, 83.63, 22.51)
    gra, gdec = fov_to_sky(lon * u.deg, lat * u.deg, 83.63 * u.deg, 22.51 * u.deg)
    np.testing.assert_allclose(sphere.separation(ra, dec, gra.deg, gdec.deg), 0, atol=1e-9)
    glon, glat = sky_to_fov(ra * u.deg, dec * u.deg, 83.63 * u.deg, 22.51 * u.deg)
    back = sphere.sky_to_fov(ra, dec, 83.63, 22.51)
    np.testing.assert_allclose(back, (lon, lat), atol=1e-9)
    np.testing.assert_allclose((glon.deg, glat.deg), (lon, lat), atol=1e-9)
    c = SkyCoord(10.0, 60.0, unit="deg")
    pa, sep = rng.uniform(0, 360, 20), rng.uniform(0, 5, 20)
    ref = c.directional_offset_by(pa * u.deg, sep * u.deg)
    ra2, dec2 = sphere.offset_by(10.0, 60.0, pa, sep)
    np.testing.assert_allclose(sphere.separation(ra2, dec2, ref.ra.deg, ref.dec.deg), 0, atol=1e-9)
    np.testing.assert_allclose(sphere.separation(10.0, 60.0, ra2, dec2), sep, atol=1e-9)


# ----------------------------------------------------------------------------- determinism
def test_deterministic_and_independent_of_n_obs(sim, tmp_path):
    small = simulate_datastore(tmp_path / "small", n_obs=2)
    for name in ("gwsim_obs_001001.fits.gz", "gwsim_obs_001002.fits.gz"):
        assert _sha(small / "data" / name) == _sha(sim / "data" / name)  # byte-identical, no DATE keywords
    again = simulate_datastore(tmp_path / "again", n_obs=2)
    for name in ("obs-index.fits.gz", "hdu-index.fits.gz", "truth.yaml"):
        assert _sha(small / name) == _sha(again / name)
    other = simulate_datastore(tmp_path / "other", n_obs=2, seed=1)
    a = gdata.DataStore.from_dir(small).obs(1002).events.table
    b = gdata.DataStore.from_dir(other).obs(1002).events.table
    assert len(a) != len(b) or not np.array_equal(a["ENERGY"], b["ENERGY"])
    with pytest.raises(GwidgetsError, match="not empty"):
        simulate_datastore(small, n_obs=1)
    assert simulate_datastore(small, n_obs=1, overwrite=True) == small
    assert len(gdata.DataStore.from_dir(small).obs_table) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary debris
    with pytest.raises(GwidgetsError, match="n_obs"):
        simulate_datastore(tmp_path / "none", n_obs=0)


def test_cancel_leaves_nothing_behind(tmp_path):
    calls = []

    def progress(done, total, message):
        calls.append((done, total, message))
        return done < 1  # cancel at the second run

    with pytest.raises(Cancelled):
        simulate_datastore(tmp_path / "cancelled", n_obs=3, progress=progress)
    assert calls[0] == (0, 3, "simulating OBS_ID 1001")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- statistics
def _bkg_integral(bkg, n_e=100, n_fov=81):
    """∫ rate dE dΩ (s-1) over the reco range and the BKG square, and the fraction per offset ring."""
    edges = bkg.axes["fov_lon"].edges.to_value("deg")
    e = np.geomspace(*E_RECO_RANGE, n_e)
    x = np.linspace(edges[0], edges[-1], n_fov)
    v = bkg.evaluate(energy=e[:, None, None] * u.TeV, fov_lon=x * u.deg, fov_lat=x[:, None] * u.deg)
    v = v.to_value("s-1 MeV-1 sr-1") * np.cos(np.deg2rad(x))[:, None]
    per_e = np.trapezoid(v * (e * 1e6)[:, None, None], np.log(e), axis=0)  # s-1 sr-1 on the fov grid
    w = np.deg2rad(x[1] - x[0]) ** 2 * np.outer(*(2 * [np.r_[0.5, np.ones(n_fov - 2), 0.5]]))
    offset = sphere.separation(0, 0, x, x[:, None])
    return per_e, w, offset


def test_background_counts_and_offsets_match_the_bkg_irf(sim, gobs):
    """Background events (MC_ID 1): Poisson counts around ONTIME × ∫BKG (GADF: the background rate is per
    observation time, not live time; gammapy's MapDatasetMaker multiplies by it too), and the right radial profile."""
    per_e, w, offset = _bkg_integral(gobs[0].bkg)
    rate = float(np.sum(per_e * w))
    truth = read_truth(sim)["simulation"]
    assert truth["background"]["rate"]["value"] == pytest.approx(rate, rel=2e-3)
    rings = np.array([0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 6.0])
    frac = np.array([np.sum((per_e * w)[(offset >= a) & (offset < b)]) for a, b in zip(rings[:-1], rings[1:])]) / rate
    n_tot, mu_tot, hist = 0, 0.0, np.zeros(len(rings) - 1)
    for obs in gobs:
        t = obs.events.table
        sel = np.asarray(t["MC_ID"]) == 1
        mu = rate * obs.gti.time_sum.to_value("s")
        n = int(sel.sum())
        assert abs(n - mu) < 5 * np.sqrt(mu) + 0.005 * mu, (obs.obs_id, n, mu)
        n_tot, mu_tot = n_tot + n, mu_tot + mu
        meta = t.meta
        off = sphere.separation(meta["RA_PNT"], meta["DEC_PNT"], t["RA"][sel], t["DEC"][sel])
        hist += np.histogram(off, rings)[0]
    assert abs(n_tot - mu_tot) < 5 * np.sqrt(mu_tot) + 0.005 * mu_tot
    # the live-time convention (the simulator's old bug) is ~10 % low: far outside the band above
    mu_live = sum(rate * o.observation_live_time_duration.to_value("s") for o in gobs)
    assert abs(n_tot - mu_live) > 10 * np.sqrt(mu_tot) + 0.005 * mu_tot
    chi2 = np.sum((hist - n_tot * frac) ** 2 / (n_tot * frac))
    assert stats.chi2.sf(chi2, len(frac) - 1) > 1e-4, (hist, n_tot * frac)


def _bright_prediction(obs, e_true_axis, e_reco_axis, rad_max=None):
    """Predicted reco-energy counts of the bright source in one run, folded with gammapy's IRF tools."""
    src = SKY["bright"]
    pnt = SkyCoord(obs.events.table.meta["RA_PNT"], obs.events.table.meta["DEC_PNT"], unit="deg")
    offset = BRIGHT.separation(pnt)
    edges = e_true_axis.edges.to_value("TeV")
    fine = np.geomspace(edges[0], edges[-1], 40 * e_true_axis.nbin + 1)
    rate = src.dnde(fine) * obs.aeff.evaluate(energy_true=fine * u.TeV, offset=offset).to_value("cm2")
    if rad_max is not None:
        rate = rate * obs.psf.containment(rad=rad_max, energy_true=fine * u.TeV, offset=offset)
    cum = np.concatenate([[0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(fine))])
    per_true = np.diff(np.interp(edges, fine, cum)) * obs.observation_live_time_duration.to_value("s")
    kernel = obs.edisp.to_edisp_kernel(offset, energy_axis_true=e_true_axis, energy_axis=e_reco_axis)
    return per_true @ kernel.pdf_matrix


def test_bright_source_spectrum_matches_gammapy_folding(sim, gobs):
    """Reco-energy histogram of the bright source's events within 0.2° vs aeff × PSF containment × edisp."""
    e_true = MapAxis.from_energy_bounds(0.03, 300, 80, unit="TeV", name="energy_true")
    e_reco = MapAxis.from_energy_bounds(0.1, 100, 15, unit="TeV", name="energy")
    rad_max = 0.2 * u.deg
    npred = sum(_bright_prediction(o, e_true, e_reco, rad_max) for o in gobs)
    counts = np.zeros(e_reco.nbin)
    n_all, mu_all = 0, 0.0
    for o in gobs:
        t = o.events.table
        sel = np.asarray(t["MC_ID"]) == 2
        n_all += int(sel.sum())
        mu_all += _bright_prediction(o, e_true, e_reco).sum()
        sep = sphere.separation(BRIGHT.ra.deg, BRIGHT.dec.deg, t["RA"][sel], t["DEC"][sel])
        counts += np.histogram(t["ENERGY"][sel][sep < rad_max.value], e_reco.edges.to_value("TeV"))[0]
    assert abs(n_all - mu_all) < 5 * np.sqrt(mu_all) + 0.01 * mu_all, (n_all, mu_all)
    truth = sum(o["expected_counts"]["bright"] for o in read_truth(sim)["simulation"]["observations"])
    assert truth == pytest.approx(mu_all, rel=2e-3)
    assert abs(counts.sum() - npred.sum()) < 5 * np.sqrt(npred.sum()) + 0.01 * npred.sum()
    ok = npred > 5
    chi2 = np.sum((counts[ok] - npred[ok]) ** 2 / npred[ok])
    assert stats.chi2.sf(chi2, ok.sum()) > 1e-4, (counts, npred)
    # the source stands out of the background: ON/OFF in the mirror position of each wobble run
    n_on = n_off = 0
    for o in gobs:
        t = o.events.table
        ra0, dec0 = t.meta["RA_PNT"], t.meta["DEC_PNT"]
        pa = sphere.position_angle(ra0, dec0, BRIGHT.ra.deg, BRIGHT.dec.deg)
        off = sphere.offset_by(ra0, dec0, pa + 180, sphere.separation(ra0, dec0, BRIGHT.ra.deg, BRIGHT.dec.deg))
        n_on += np.sum(sphere.separation(BRIGHT.ra.deg, BRIGHT.dec.deg, t["RA"], t["DEC"]) < 0.11)
        n_off += np.sum(sphere.separation(*off, t["RA"], t["DEC"]) < 0.11)
    assert (n_on - n_off) / np.sqrt(n_on + n_off) > 20


def test_bright_source_psf_profile(gobs):
    """Angular distances of the bright source's events follow gammapy's PSF containment (spectrum-weighted)."""
    o = gobs[0]
    offset = 0.5 * u.deg
    e = np.geomspace(0.05, 200, 400)
    w = SKY["bright"].dnde(e) * o.aeff.evaluate(energy_true=e * u.TeV, offset=offset).to_value("cm2") * e
    edges = np.array([0, 0.03, 0.06, 0.09, 0.12, 0.16, 0.2, 0.3, 0.5, 1.0])
    cont = np.array([o.psf.containment(rad=r * u.deg, energy_true=e * u.TeV, offset=offset) for r in edges])
    frac = np.diff(np.trapezoid(cont * w, np.log(e), axis=1) / np.trapezoid(w, np.log(e)))
    seps = []
    for obs in gobs:
        t = obs.events.table
        sel = np.asarray(t["MC_ID"]) == 2
        seps.append(sphere.separation(BRIGHT.ra.deg, BRIGHT.dec.deg, t["RA"][sel], t["DEC"][sel]))
    hist = np.histogram(np.concatenate(seps), edges)[0]
    n = hist.sum()
    ok = n * frac > 5
    chi2 = np.sum((hist[ok] - n * frac[ok]) ** 2 / (n * frac[ok]))
    assert stats.chi2.sf(chi2, ok.sum() - 1) > 1e-4, (hist, n * frac)


def test_variable_source_light_curve_and_truth_counts(sim, gobs):
    """Per-run counts of the variable source follow the truth; truth.yaml's expected counts agree with
    gammapy evaluating the truth models (spectral × aeff × temporal) independently."""
    truth = read_truth(sim)["simulation"]
    expected = {o["obs_id"]: o["expected_counts"] for o in truth["observations"]}
    expected_all = {o["obs_id"]: o["expected_counts_all_true_energies"] for o in truth["observations"]}
    models = Models.read(sim / "truth.yaml")
    e = np.geomspace(0.0317, 316, 1200) * u.TeV
    counts, mus = [], []
    for obs in gobs:
        t = obs.events.table
        pnt = SkyCoord(t.meta["RA_PNT"], t.meta["DEC_PNT"], unit="deg")
        total = 0.0
        for name in ("variable", "variable-flare"):
            m = models[name]
            pos = m.spatial_model.position
            rate = np.trapezoid((m.spectral_model(e) * obs.aeff.evaluate(energy_true=e, offset=pos.separation(pnt)))
                                .to_value("s-1 TeV-1"), e.to_value("TeV"))
            norm_time = 0.0
            for a, b in zip(obs.gti.time_start, obs.gti.time_stop):
                times = a + np.linspace(0, (b - a).to_value("s"), 3001) * u.s
                norm = np.ones(len(times)) if m.temporal_model is None else m.temporal_model(times)
                norm_time += np.trapezoid(np.asarray(norm), (times - a).to_value("s"))
            total += rate * norm_time * t.meta["DEADC"]
        assert expected_all[obs.obs_id]["variable"] == pytest.approx(total, rel=0.005)
        assert 0.95 < expected[obs.obs_id]["variable"] / total < 0.99  # reconstructed outside 0.1-100 TeV
        counts.append(int(np.sum(np.asarray(t["MC_ID"]) == 4)))
        mus.append(expected[obs.obs_id]["variable"])
    counts, mus = np.array(counts), np.array(mus)
    chi2 = np.sum((counts - mus) ** 2 / mus)
    assert stats.chi2.sf(chi2, len(mus)) > 1e-4, (counts, mus)
    flare = slice(8, 12)  # third night
    assert counts[flare].mean() > 3 * np.delete(counts, np.r_[flare]).mean()


# ----------------------------------------------------------------------------- example store cache
def _run_example(cache):
    code = ("import gwidgets.core.simulate.example as ex; sim = ex.simulate_datastore; "
            "ex.simulate_datastore = lambda *a, **k: (print('GENERATING'), sim(*a, **k))[1]; "
            "print(ex.example_store_path())")
    env = dict(os.environ, GWIDGETS_CACHE_DIR=str(cache))
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_example_store_generated_once_atomically(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    debris = cache / ".example-dl3-v1.tmp-crashed"
    (debris / "data").mkdir(parents=True)  # an interrupted earlier run
    (debris / "hdu-index.fits.gz").write_bytes(b"partial")
    (cache / "example-dl3-v1.lock").write_text("12345\n")  # left by a crashed process
    procs = [_run_example(cache) for _ in range(2)]  # two processes race for it
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    target = cache / "example-dl3-v1"
    assert [o[0].split()[-1] for o in outs] == [str(target)] * 2
    assert sum(o[0].count("GENERATING") for o in outs) == 1  # one generated, the other waited
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # debris cleaned, no temporary dirs
    store = gdata.DataStore.from_dir(target)
    assert len(store.obs_table) == 20
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    assert size < 5e6
    # reused, not regenerated
    stamp = (target / "hdu-index.fits.gz").stat().st_mtime_ns
    monkeypatch.setenv("GWIDGETS_CACHE_DIR", str(cache))
    assert example_store_path() == target
    assert (target / "hdu-index.fits.gz").stat().st_mtime_ns == stamp
    # a store written by an older version of the simulation is regenerated (here as a 1-run store)
    import gwidgets.core.simulate.example as example

    monkeypatch.setattr(example, "simulate_datastore", lambda path, **kw: simulate_datastore(path, **{**kw, "n_obs": 1}))
    (target / "truth.yaml").write_text("components: []\n")
    assert example_store_path() == target and "gwidgets-simulation-truth" in (target / "truth.yaml").read_text()
