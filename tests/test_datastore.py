"""DL3 data layer against independent readers (astropy.io.fits, gammapy 2.1)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time

import gwidgets as gw
from gwidgets import errors
from gwidgets.core.data import DataStore

from gw_testdata import STORES


def _raw_index(path):
    """obs-index and hdu-index read with astropy (the independent reference)."""
    from gwidgets.core.data.datastore import _find_index

    return Table.read(_find_index(path, "obs")), Table.read(_find_index(path, "hdu"))


@pytest.fixture(scope="module")
def hess(stores):
    return DataStore.from_dir(stores["hess-dr1"])


@pytest.mark.parametrize("key", list(STORES))
def test_every_store_opens_and_matches_raw_fits(stores, key):
    """Every observation of every data set: event count, livetime, GTI vs the raw FITS files."""
    path = stores[key]
    store = DataStore.from_dir(path)
    obs_raw, hdu_raw = _raw_index(path)
    assert store.obs_ids == [int(x) for x in obs_raw["OBS_ID"]]
    ids = store.obs_ids
    if key in ("hess-dr1", "jc-fact"):
        ids = ids[:: max(1, len(ids) // 12)]  # a spread-out sample; all 105 H.E.S.S. runs in the next test
    observations = store.get_observations(ids, required_irf="all-optional", skip_missing=True)
    for obs in observations:
        loc = store.hdu_index.location(obs.obs_id, "events")
        with fits.open(loc.path) as hdul:
            ev = hdul[loc.hdu_name]
            gti = hdul[store.hdu_index.location(obs.obs_id, "gti").hdu_name]
            assert len(obs.events) == ev.header["NAXIS2"]
            np.testing.assert_array_equal(obs.events.energy.to_value("TeV"), ev.data["ENERGY"].astype(float))
            np.testing.assert_array_equal(obs.events.table["RA"].quantity.to_value("deg"), ev.data["RA"].astype(float))
            np.testing.assert_allclose(obs.gti.time_sum.to_value("s"), np.sum(gti.data["STOP"] - gti.data["START"]))
            if "LIVETIME" in ev.header:
                assert obs.events.meta["LIVETIME"] == pytest.approx(ev.header["LIVETIME"])


def test_all_105_hess_runs_counts_and_livetime(hess, stores):
    obs_raw, _ = _raw_index(stores["hess-dr1"])
    observations = hess.get_observations()
    assert len(observations) == 105
    for obs, row in zip(observations, obs_raw):
        assert obs.obs_id == row["OBS_ID"]
        assert len(obs.events) == row["EVENT_COUNT"]
        assert obs.livetime.to_value("s") == pytest.approx(float(row["LIVETIME"]))
        obs._cache.clear()


@pytest.mark.parametrize("key", ["jc-hess", "jc-magic", "jc-veritas", "cta-1dc", "veritas-ed"])
def test_against_gammapy(stores, key):
    gp_data = pytest.importorskip("gammapy.data")
    path = stores[key]
    ours = DataStore.from_dir(path)
    if key == "cta-1dc":
        theirs = gp_data.DataStore.from_dir(path / "index" / "gps")
    else:
        theirs = gp_data.DataStore.from_dir(path)
    ids = ours.obs_ids[:4]
    gobs = theirs.get_observations(ids, required_irf="all-optional")
    for o, g in zip(ours.get_observations(ids, required_irf="all-optional"), gobs):
        assert len(o.events) == len(g.events.table)
        # gammapy defines live time as GTI sum × DEADC; `livetime` is the LIVETIME keyword
        assert o.gti.time_sum.to_value("s") == pytest.approx(g.observation_time_duration.to_value("s"), rel=1e-9)
        assert (o.gti.time_sum * o.deadc).to_value("s") == pytest.approx(
            g.observation_live_time_duration.to_value("s"), rel=1e-9
        )
        assert o.pointing_radec.separation(g.get_pointing_icrs(g.tmid)).deg < 1e-3
        np.testing.assert_allclose(o.gti.time_start.mjd, g.gti.time_start.mjd, rtol=0, atol=1e-9)
        assert o.events.time[:5].mjd == pytest.approx(g.events.time[:5].mjd, abs=1e-9)


def test_required_irf(stores):
    magic = DataStore.from_dir(stores["jc-magic"])
    with pytest.raises(errors.MissingIRFError, match=r"5029747 has no 'psf'"):
        magic.get_observations(required_irf="full-enclosure")
    obs = magic.get_observations(required_irf="point-like")
    assert len(obs) == 2 and obs[0].is_pointlike
    with pytest.warns(UserWarning, match="Skipped 1"):
        part = DataStore.from_dir(stores["hess-dr1"]).get_observations([20136, 99999999], skip_missing=True)
    assert part.ids == [20136] and 99999999 in part.skipped
    with pytest.raises(errors.ObservationNotFoundError, match="99999999"):
        magic.get_observations([99999999])
    with pytest.raises(errors.EmptySelectionError):
        magic.get_observations([])
    with pytest.raises(errors.GwidgetsError, match="required_irf"):
        magic.get_observations(required_irf="everything")


def test_rad_max(stores):
    magic = DataStore.from_dir(stores["jc-magic"]).get_observations(required_irf="point-like")[0]
    assert magic.rad_max is not None  # fixed RAD_MAX header keyword
    ed = DataStore.from_dir(stores["magic-radmax"]).get_observations(required_irf=["aeff", "rad_max"])[0]
    assert "rad_max" in ed.available_hdus


def test_shared_irf_file_parsed_once(stores):
    store = DataStore.from_dir(stores["cta-1dc"])
    a, b = store.get_observations(store.obs_ids[:2])
    assert a.aeff is b.aeff  # one IRF file for all runs: one object
    assert a.events is not b.events


def test_obs_table_selections(hess):
    t = hess.obs_table
    n = len(t)
    crab = SkyCoord(83.633, 22.014, unit="deg")
    cone = t.select_sky_cone(crab, 2 * u.deg)
    assert sorted(cone.obs_ids) == [23523, 23526, 23559, 23592]
    assert len(t) == n and type(cone) is type(t)
    # independent: separation computed with astropy directly
    sep = SkyCoord(t["RA_PNT"], t["DEC_PNT"]).separation(crab)
    assert len(cone) == int(np.sum(sep <= 2 * u.deg))
    box = t.select_sky_box(lon=(80, 90) * u.deg, lat=(15, 30) * u.deg)
    assert set(box.obs_ids) == set(cone.obs_ids)
    wrap = t.select_sky_box(lon=(350, 10) * u.deg, lat=(-90, 90) * u.deg)
    ra = np.asarray(t["RA_PNT"])
    assert len(wrap) == int(np.sum((ra >= 350) | (ra <= 10)))
    zen = t.select_zenith(0 * u.deg, 30 * u.deg)
    assert np.all(np.asarray(zen["ZEN_PNT"]) < 30) and len(zen) == int(np.sum(np.asarray(t["ZEN_PNT"]) < 30))
    pks = t.select_object("PKS 2155")
    assert len(pks) > 0 and all("2155" in str(o) for o in pks["OBJECT"])
    assert t.select_ids([23592, 20136]).obs_ids == [20136, 23592]
    pred = t.select_rows(lambda tab: tab["N_TELS"] == 4)
    assert len(pred) == int(np.sum(t["N_TELS"] == 4))
    # time: observations overlapping one night of Crab data
    start = Time("2004-12-04T00:00", scale="tt")
    stop = Time("2004-12-09T00:00", scale="tt")
    sel = t.select_time(start, stop)
    tstart = t.time_start
    tstop = t.time_stop
    assert len(sel) == int(np.sum((tstop > start) & (tstart < stop)))
    assert len(sel) > 0
    assert t.select_range("LIVETIME", 1500 * u.s, None).obs_ids == [
        int(r["OBS_ID"]) for r in t if r["LIVETIME"] >= 1500
    ]


def test_events_selections(hess):
    obs = hess.get_observations([23523])[0]
    ev = obs.events
    e = ev.energy.to_value("TeV")
    assert len(ev.select_energy(1 * u.TeV, 10 * u.TeV)) == int(np.sum((e >= 1) & (e < 10)))
    assert len(ev.select_energy(1000 * u.GeV)) == int(np.sum(e >= 1))
    from regions import CircleSkyRegion, RectangleSkyRegion

    crab = SkyCoord(83.633, 22.014, unit="deg")
    on = ev.select_region(CircleSkyRegion(crab, 0.2 * u.deg))
    assert len(on) == int(np.sum(ev.radec.separation(crab).deg < 0.2))
    box = ev.select_region(RectangleSkyRegion(crab, 0.4 * u.deg, 0.4 * u.deg))
    assert len(box) >= len(on)
    t0 = ev.table["TIME"].quantity[0]
    half = ev.select_time(t0, t0 + 600 * u.s)
    tt = ev.table["TIME"].quantity
    assert len(half) == int(np.sum((tt >= t0) & (tt < t0 + 600 * u.s)))
    assert "EventList(7613 events" in repr(ev)


def test_scan_without_index(stores, tmp_path):
    """A directory with no index files is scanned; result matches the indexed store."""
    src = stores["jc-magic"]
    for f in src.glob("*_DL3.fits"):
        (tmp_path / f.name).symlink_to(f)
    scanned = DataStore.from_dir(tmp_path)
    indexed = DataStore.from_dir(src)
    assert sorted(scanned.obs_ids) == sorted(indexed.obs_ids)
    for oid in scanned.obs_ids:
        a = scanned.get_observations([oid], required_irf="point-like")[0]
        b = indexed.get_observations([oid], required_irf="point-like")[0]
        assert len(a.events) == len(b.events)
        assert a.available_hdus == b.available_hdus


def test_scan_shared_irf_file(stores, tmp_path):
    src = stores["jc-fact"]
    files = sorted(src.glob("20131103_1*_dl3.fits"))[:3] + [src / "fact_irf.fits"]
    store = DataStore.from_files(files)
    assert len(store.obs_ids) == 3
    obs = store.get_observations(required_irf="point-like")
    assert obs[0].aeff is obs[1].aeff


# ------------------------------------------------------------------ bad input
def test_truncated_fits(stores, tmp_path):
    src = stores["jc-magic"] / "run_05029747_DL3.fits"
    bad = tmp_path / "truncated.fits"
    bad.write_bytes(src.read_bytes()[:20000])
    with pytest.raises(errors.NotFITSError, match="truncated.fits.*truncated"):
        DataStore.from_files([bad])
    garbage = tmp_path / "garbage.fits.gz"
    garbage.write_bytes(b"\x1f\x8b" + b"not really gzip" * 100)
    with pytest.raises(errors.NotFITSError, match="garbage.fits.gz"):
        DataStore.from_files([garbage])
    text = tmp_path / "notes.fits"
    text.write_text("hello" * 1000)
    with pytest.raises(errors.NotFITSError, match="notes.fits"):
        DataStore.from_files([text])


def test_directory_without_fits(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here")
    with pytest.raises(errors.NoDataError, match="No index files and no FITS files"):
        DataStore.from_dir(tmp_path)
    with pytest.raises(errors.FileNotFoundGwError):
        DataStore.from_dir(tmp_path / "does-not-exist")


def _write_index(stores, tmp_path, edit):
    src = stores["jc-magic"]
    obs_raw, hdu_raw = _raw_index(src)
    hdu = hdu_raw.copy()
    # widen the column first: an in-place assignment truncates to the original width
    # (the CI checkout lives under a longer path than a developer machine)
    # (``t[name] = array`` on an existing column assigns in place and truncates, so replace it)
    hdu.replace_column("FILE_DIR", np.array([str(src)] * len(hdu), dtype="U512"))
    hdu = edit(hdu)
    hdu.write(tmp_path / "hdu-index.fits.gz")
    obs_raw.write(tmp_path / "obs-index.fits.gz")
    return DataStore.from_dir(tmp_path)


def test_index_pointing_to_missing_file(stores, tmp_path):
    def edit(t):
        t.replace_column("FILE_NAME", t["FILE_NAME"].astype("U64"))
        t["FILE_NAME"][t["HDU_TYPE"] == "events"] = "gone.fits"
        return t

    store = _write_index(stores, tmp_path, edit)
    obs = store.get_observations(required_irf="point-like")[0]
    with pytest.raises(errors.FileNotFoundGwError, match=r"gone.fits.*hdu-index.*OBS_ID 5029747.*events"):
        obs.events
    assert any("gone.fits" in p for p in store.check())


def test_missing_hdu(stores, tmp_path):
    def edit(t):
        t.replace_column("HDU_NAME", t["HDU_NAME"].astype("U64"))
        t["HDU_NAME"][t["HDU_TYPE"] == "gti"] = "NO SUCH HDU"
        return t

    store = _write_index(stores, tmp_path, edit)
    obs = store.get_observations(required_irf="point-like")[0]
    with pytest.raises(errors.MissingHDUError, match=r"'NO SUCH HDU' not found in file '.*run_05029747_DL3.fits'"):
        obs.gti


def test_energy_column_wrong_unit(tmp_path):
    n = 10
    cols = [
        fits.Column("EVENT_ID", "K", array=np.arange(n)),
        fits.Column("TIME", "D", unit="s", array=np.linspace(0, 100, n)),
        fits.Column("RA", "E", unit="deg", array=np.full(n, 83.6)),
        fits.Column("DEC", "E", unit="deg", array=np.full(n, 22.0)),
        fits.Column("ENERGY", "E", unit="m", array=np.ones(n)),
    ]
    hdr = fits.Header({"EXTNAME": "EVENTS", "HDUCLAS1": "EVENTS", "OBS_ID": 7, "RA_PNT": 83.6, "DEC_PNT": 22.5,
                       "MJDREFI": 51910, "MJDREFF": 0.0, "TIMESYS": "TT", "LIVETIME": 100.0, "ONTIME": 100.0})
    gti = fits.BinTableHDU.from_columns([fits.Column("START", "D", unit="s", array=[0.0]),
                                         fits.Column("STOP", "D", unit="s", array=[100.0])], name="GTI")
    path = tmp_path / "bad_unit.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, header=hdr), gti]).writeto(path)
    store = DataStore.from_files([path])
    obs = store.get_observations(required_irf="all-optional")[0]
    with pytest.raises(errors.UnitError, match=r"Column 'ENERGY' in HDU 'EVENTS' of file '.*bad_unit.fits' has unit 'm'"):
        obs.events


def test_import_is_light():
    code = (
        "import sys, time; t = time.perf_counter(); import gwidgets as gw; dt = time.perf_counter() - t;"
        "bad = [m for m in ('ipywidgets', 'bqplot', 'gammapy', 'matplotlib', 'traitlets', 'astropy') if m in sys.modules];"
        "print(dt, bad); assert not bad, bad; assert dt < 0.5, dt;"
        "assert gw.DataStore.__name__ == 'DataStore' and callable(gw.example_store)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_core_never_imports_widget_libraries():
    """Import every module of gwidgets.core: none may pull in a widget, plotting or reference library."""
    code = (
        "import sys, pkgutil, importlib, gwidgets.core as core;"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(core.__path__, 'gwidgets.core.')];"
        "bad = [m for m in ('ipywidgets', 'bqplot', 'gammapy', 'matplotlib', 'traitlets', 'IPython') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


FORBIDDEN_IN_CORE = ("ipywidgets", "bqplot", "ipyaladin", "anywidget", "voila", "IPython", "traitlets", "matplotlib",
                     "gammapy")


def test_core_source_has_no_import_of_widget_or_plotting_libraries():
    """Not even a lazy one inside a function: the core must work where none of them is installed."""
    import ast

    from gw_testdata import ROOT

    bad = []
    for path in sorted((ROOT / "gwidgets" / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            bad += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names
                    if n.split(".")[0] in FORBIDDEN_IN_CORE]
    assert not bad, "\n".join(bad)


def test_threaded_load_all_same_as_serial(hess):
    ids = hess.obs_ids[:6]
    a = hess.get_observations(ids).load_all(n_threads=2)
    b = DataStore.from_dir(hess.hdu_index.base_dir).get_observations(ids).load_all(n_threads=1)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.events.energy, y.events.energy)
        np.testing.assert_array_equal(x.aeff.data, y.aeff.data)
        np.testing.assert_array_equal(x.bkg.data, y.bkg.data)
