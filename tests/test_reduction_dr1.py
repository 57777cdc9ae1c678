"""H.E.S.S. DL3 DR1 → 1D ON/OFF spectra per target (OBJECT), gwidgets vs gammapy 2.1 in the same test.

One ON circle of 0.11° at each target's RA_OBJ/DEC_OBJ, reflected regions
(gammapy's default finder), 40 log bins 0.1–100 TeV (reco), 50 bins
0.05–150 TeV (true).

Explained differences: we test "inside the ON circle" exactly on the sphere
(checked here against astropy's ``separation``); gammapy tests it in the
pixel plane of its RegionGeom WCS (0.1° pixels), where the circle is not
exactly the spherical one: e.g. an event of run 20898 (G346.1+0.0, dec −40°)
8.6e-4° *inside* the 0.11° circle is left out by gammapy. So N_on agrees
except for events within ``BOUNDARY`` (2e-3°) of the ON edge; the test
counts those events and allows at most that many. gammapy's OFF circles
come from a sky → pixel → sky round trip and can be larger than the ON
circle (0.1106° instead of 0.11° for Kepler SNR at 0.7° offset: 1 % more OFF
area, while alpha = 1/N assumes equal areas); ours have exactly the ON
radius. The test counts the events lying in gammapy's OFF circles but
outside ours (same centres) and requires N_off(ours) + those = N_off(gammapy)
to within 2 events per run.

The suite compares a representative subset of targets (wobble offsets 0.5°,
0.7°, 1.5°, and targets *at* the pointing position, where no reflected
region exists); ``benchmarks/bench_reduce.py`` compares all 105 runs and
prints N_on / N_off per target. Run 28981 (target 7.5° from the pointing,
outside the field of view of its IRFs) is an explicit empty result while the
other runs of its target are reduced; its 217 OFF regions are checked against
gammapy in ``test_reflected.py``.
"""
from __future__ import annotations

import gc
import tracemalloc
import warnings

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis
from gwidgets.core.reduction.spectrum_maker import make_spectrum_datasets

gdata = pytest.importorskip("gammapy.data")
gds = pytest.importorskip("gammapy.datasets")
gmakers = pytest.importorskip("gammapy.makers")
gmaps = pytest.importorskip("gammapy.maps")

TARGETS = ["Crab Nebula", "MSH15-52", "AE Aqr", "Kepler SNR", "G346.1+0.0", "47 Tuc NW"]
AT_POINTING = {"G346.1+0.0", "47 Tuc NW"}
RADIUS = 0.11 * u.deg
BOUNDARY = 2e-3 * u.deg


def _gammapy_extra_off(store, g, radius):
    """Events (0.1-100 TeV) in gammapy's OFF circles of dataset ``g`` but beyond ``radius`` from their centres."""
    from gammapy.utils.regions import compound_region_to_regions

    events = store.obs(int(g.name)).events
    e = events.energy.to_value("TeV")
    ok = (e >= 0.1) & (e < 100)
    n = 0
    for region in compound_region_to_regions(g.counts_off.geom.region):
        sep = events.radec.separation(region.center)
        n += int(np.sum(ok & (sep >= radius) & (sep < region.radius))) - int(np.sum(ok & (sep < radius) & (sep >= region.radius)))
    return n


def _sphere_counts(store, ids, on):
    """(events inside the ON circle by astropy's separation, events within BOUNDARY of its edge), 0.1-100 TeV."""
    inside = near = 0
    for obs_id in ids:
        events = store.obs(obs_id).events
        e = events.energy.to_value("TeV")
        ok = (e >= 0.1) & (e < 100)
        sep = events.radec.separation(on.center)
        inside += int(np.sum(ok & (sep < on.radius)))
        near += int(np.sum(ok & (np.abs(sep - on.radius) < BOUNDARY)))
    return inside, near


def _axes():
    return (MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 40),
            MapAxis.from_energy_bounds(0.05 * u.TeV, 150 * u.TeV, 50, name="energy_true"))


def _target_rows(table, obj):
    names = np.char.strip(np.asarray(table["OBJECT"]).astype(str))
    rows = table[names == obj]
    on = CircleSkyRegion(SkyCoord(rows["RA_OBJ"][0], rows["DEC_OBJ"][0], unit="deg"), RADIUS)
    return [int(i) for i in rows["OBS_ID"]], on


@pytest.fixture(scope="module")
def store(stores):
    return DataStore.from_dir(stores["hess-dr1"])


@pytest.fixture(scope="module")
def ours(store):
    ea, eat = _axes()
    out = {}
    for obj in TARGETS:
        ids, on = _target_rows(store.obs_table, obj)
        out[obj] = make_spectrum_datasets(store.get_observations(ids), on, ea, eat)
    return out


@pytest.fixture(scope="module")
def theirs(stores):
    gstore = gdata.DataStore.from_dir(stores["hess-dr1"])
    ea = gmaps.MapAxis.from_energy_bounds(0.1, 100, 40, unit="TeV")
    eat = gmaps.MapAxis.from_energy_bounds(0.05, 150, 50, unit="TeV", name="energy_true")
    # DR1's IRFs are full-enclosure: the physically right setting (and our default, "auto") corrects the
    # exposure for the PSF containment in the ON circle
    maker = gmakers.SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"], containment_correction=True)
    bkg = gmakers.ReflectedRegionsBackgroundMaker()
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for obj in TARGETS:
            ids, on = _target_rows(gstore.obs_table, obj)
            empty = gds.SpectrumDataset.create(geom=gmaps.RegionGeom.create(region=on, axes=[ea]),
                                               energy_axis_true=eat)
            out[obj] = [bkg.run(maker.run(empty.copy(name=str(o.obs_id)), o), o)
                        for o in gstore.get_observations(ids)]
    return out


@pytest.mark.parametrize("obj", TARGETS)
def test_per_target_counts_match_gammapy(store, ours, theirs, obj):
    mine, gp = ours[obj], theirs[obj]
    records = {r.obs_id: r for r in mine.records}
    assert sorted(records) == sorted(int(g.name) for g in gp)
    n_on = sum(r.n_on for r in mine.records)
    g_on = int(sum(g.counts.data.sum() for g in gp))
    n_off = sum(r.n_off for r in mine.records)
    g_off = int(sum(g.counts_off.data.sum() for g in gp if g.counts_off is not None))
    print(f"{obj:>16}: N_on {n_on} (gammapy {g_on}), N_off {n_off} (gammapy {g_off})")
    ids, on = _target_rows(store.obs_table, obj)
    exact, near = _sphere_counts(store, ids, on)
    assert n_on == exact
    assert abs(n_on - g_on) <= near
    extra = {g.name: _gammapy_extra_off(store, g, RADIUS) for g in gp if g.counts_off is not None}
    print(f"{'':>16}  events in gammapy's OFF circles beyond 0.11°: {sum(extra.values())}")
    assert abs(n_off + sum(extra.values()) - g_off) <= 2 * len(gp)
    for g in gp:
        r = records[int(g.name)]
        assert abs(r.n_on - int(g.counts.data.sum())) <= _sphere_counts(store, [int(g.name)], on)[1], g.name
        # gammapy: no OFF region → counts_off None and the whole dataset masked; ours: an explicit skip
        assert r.ok == (g.counts_off is not None), f"obs {g.name}: {r.reason}"
        if r.ok:
            d = mine[g.name]
            assert np.abs(d.counts - g.counts.data.ravel()).sum() == abs(r.n_on - int(g.counts.data.sum()))
            np.testing.assert_allclose(d.alpha, g.alpha.data.ravel(), rtol=1e-12)
            assert abs(d.counts_off.sum() + extra[g.name] - g.counts_off.data.sum()) <= 2, g.name
            np.testing.assert_allclose(d.exposure, g.exposure.quantity.to_value("cm2 s").ravel(), rtol=5e-3)
    if obj in AT_POINTING:
        assert len(mine) == 0 and all("inside the ON region" in v for v in mine.skipped.values())
        assert n_on > 0  # ON counts are still reported for the record


def test_far_off_axis_run_is_an_explicit_empty_result(store):
    """1ES 0414+009: run 28981 has the target 7.5° off-axis (beyond the IRFs); the other runs are reduced."""
    ea, eat = _axes()
    table = store.obs_table
    ids, on = _target_rows(table, "1ES 0414+009")
    datasets = make_spectrum_datasets(store.get_observations(ids), on, ea, eat)
    assert set(datasets.skipped) == {28981}
    assert "outside the field of view" in datasets.skipped[28981] and "28981" in datasets.skipped[28981]
    assert sorted(datasets.names) == sorted(str(i) for i in ids if i != 28981)


def test_streaming_memory_does_not_grow_with_the_number_of_runs(store):
    """Events and IRFs are released after each run: reducing 16 runs peaks no higher than reducing 8.

    (The data store keeps its last few files in memory, so the peak grows over the first runs and then
    stays flat. No forced garbage collection: FITS files and their HDUs hold no reference cycle.)
    """
    ea, eat = _axes()
    ids, on = _target_rows(store.obs_table, "PKS 2155-304")
    n = 8
    assert len(ids) >= 2 * n

    def peak(obs_ids, release=True):
        store.clear_cache()
        gc.collect()
        gc.disable()  # the peak must stay flat by reference counting alone
        try:
            obs = store.get_observations(obs_ids)
            tracemalloc.start()
            datasets = make_spectrum_datasets(obs, on, ea, eat, release_memory=release)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        finally:
            gc.enable()
        assert len(datasets) == len(obs_ids)
        assert all(bool(o._cache.get("events")) != release for o in obs)
        return peak / 2**20

    first, twice = peak(ids[:n]), peak(ids[:2 * n])
    kept = peak(ids[:2 * n], release=False)  # everything kept: grows with the number of runs
    print(f"peak traced memory: {first:.1f} MiB (8 runs), {twice:.1f} MiB (16 runs), {kept:.1f} MiB (16 runs kept)")
    assert twice < 1.5 * first and twice < 0.6 * kept
