"""The simulated example store: GADF-valid (read by gammapy), deterministic, statistically right."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord

from gwidgets.core.data import DataStore
from gwidgets.core.simulate import SKY, simulate_datastore
from gwidgets.core.simulate import instrument
from gwidgets.errors import GwidgetsError

gdata = pytest.importorskip("gammapy.data")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return simulate_datastore(tmp_path_factory.mktemp("sim") / "store", n_obs=4)


def test_gammapy_reads_store_and_irfs_match_the_analytic_instrument(sim):
    store = gdata.DataStore.from_dir(sim)
    assert len(store.obs_table) == 4
    obs = store.get_observations()
    o = obs[0]
    assert o.events.table.meta["OBS_ID"] == 1001 and len(o.events.table) > 1000
    e = np.geomspace(0.5, 50, 9) * u.TeV
    off = 1.0 * u.deg
    np.testing.assert_allclose(o.aeff.evaluate(energy_true=e, offset=off).to_value("m2"),
                               instrument.aeff(e.value, 1.0), rtol=0.02)
    np.testing.assert_allclose(o.psf.evaluate(energy_true=e, offset=off, rad=0.05 * u.deg).to_value("sr-1"),
                               instrument.psf_profile(0.05, e.value, 1.0), rtol=0.03)
    np.testing.assert_allclose(o.bkg.evaluate(energy=e[:5], fov_lon=0.3 * u.deg, fov_lat=0.2 * u.deg).to_value("s-1 MeV-1 sr-1"),
                               instrument.bkg_rate(e[:5].value, np.hypot(0.3, 0.2)), rtol=0.06)
    m = np.linspace(0.5, 2, 7)
    np.testing.assert_allclose(o.edisp.evaluate(energy_true=2 * u.TeV, migra=m, offset=off).value,
                               instrument.edisp_pdf(m, 2.0, 1.0), rtol=0.03, atol=1e-3)


def test_deterministic(sim, tmp_path):
    again = simulate_datastore(tmp_path / "again", n_obs=4)
    other = simulate_datastore(tmp_path / "other", n_obs=4, seed=1)
    a, b, c = (DataStore.from_dir(p).obs(1002).events for p in (sim, again, other))
    np.testing.assert_array_equal(a.energy, b.energy)
    np.testing.assert_array_equal(a.table["RA"], b.table["RA"])
    assert len(a) != len(c) or not np.array_equal(a.energy, c.energy)
    with pytest.raises(GwidgetsError, match="not empty"):
        simulate_datastore(sim, n_obs=1)


def test_counts_match_expectation(sim):
    """Total counts vs the BKG table integral + source flux × aeff × livetime, read back by gammapy."""
    store = gdata.DataStore.from_dir(sim)
    o = store.obs(1001)
    livetime = o.observation_live_time_duration.to_value("s")
    bkg = o.bkg
    e_edges = bkg.axes["energy"].edges.to_value("MeV")
    lon = np.deg2rad(bkg.axes["fov_lon"].edges.to_value("deg"))
    lat = np.deg2rad(bkg.axes["fov_lat"].edges.to_value("deg"))
    mu_bkg = np.sum(bkg.data * np.diff(e_edges)[:, None, None] * np.outer(np.diff(lon), np.diff(lat))[None]) * livetime
    pointing = SkyCoord(o.events.table.meta["RA_PNT"], o.events.table.meta["DEC_PNT"], unit="deg")
    mu_src = 0.0
    e = np.geomspace(0.05, 150, 3000)
    for src in SKY.values():
        pos = SkyCoord(*src["position"], unit="deg")
        kind, p = src["spectrum"]
        if kind == "PowerLaw":
            dnde = p["amplitude"] * e ** -p["index"]
        else:
            dnde = p["amplitude"] * e ** (-p["alpha"] - p["beta"] * np.log(e))
        area = o.aeff.evaluate(energy_true=e * u.TeV, offset=pos.separation(pointing)).to_value("cm2")
        boost = 1.0  # run 1001 is on the first night, before the flare
        mu_src += boost * np.trapezoid(dnde * area, e) * livetime
    n = len(o.events.table)
    mu = mu_bkg + mu_src
    # events outside 3 deg or beyond the reco-energy range were dropped: allow 3 % for that, plus 5 sigma
    assert abs(n - mu) < 5 * np.sqrt(mu) + 0.03 * mu, (n, mu_bkg, mu_src)
    # the bright source stands out: counts within 0.2 deg far above the local background
    ev = o.events
    sep = ev.radec.separation(SkyCoord(*SKY["bright"]["position"], unit="deg")).deg
    off = ev.radec.separation(pointing.directional_offset_by(180 * u.deg, pos.separation(pointing))).deg
    n_on, n_off = np.sum(sep < 0.2), np.sum(off < 0.2)
    assert (n_on - n_off) / np.sqrt(n_on + n_off) > 8


def test_example_store_cache_is_atomic(tmp_path):
    cache = tmp_path / "cache"
    (cache / ".gwsim-leftover").mkdir(parents=True)  # debris of an interrupted run
    code = (
        "import gwidgets as gw; s = gw.example_store(); "
        "assert len(s.obs_ids) == 20, s; print(s)"
    )
    env = dict(os.environ, GWIDGETS_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (cache / "example-dl3-v1" / "truth.yaml").exists()
    assert not list(cache.glob(".example-dl3-*.lock"))
    size = sum(f.stat().st_size for f in (cache / "example-dl3-v1").iterdir())
    assert size < 5e6
