"""DL3 → 1D ON/OFF spectra (issue 5 targets: >= 10x faster than gammapy; DR1 peak RSS < 300 MiB).

Both codes do the same work: counts, exposure, edisp, reflected-region OFF counts and the
aeff-default safe mask, one ON/OFF dataset per run (gwidgets through its entry point
`make_spectrum_datasets`, serial).

1. joint-crab: H.E.S.S. (4 runs, 0.11 deg), MAGIC (2, RAD_MAX 0.1414 deg), VERITAS (2, 0.1 deg),
   FACT (125 runs, 0.1732 deg, stacked, 0.4 TeV threshold); 80 log bins 0.01-100 TeV in reco and true energy.
2. H.E.S.S. DR1: all 105 runs, one 0.11 deg ON region at each target (RA_OBJ/DEC_OBJ), per OBJECT;
   N_on / N_off per target printed for both codes.

The 3D (map) reduction benchmark is in bench_maps.py.
"""
from __future__ import annotations

from _harness import DATA, report, run_case

JC = [("hess", 0.11), ("magic", 0.1414213), ("veritas", 0.1), ("fact", 0.1732051)]

OURS_JC = f"""
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis
from gwidgets.core.reduction.safe_mask import SafeMaskMaker
from gwidgets.core.reduction.spectrum_maker import make_spectrum_datasets
crab = SkyCoord(83.633, 22.014, unit="deg")
ea = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80)
eat = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80, name="energy_true")
n_on = 0
for name, radius in {JC!r}:
    obs = DataStore.from_dir(r"{DATA}/joint-crab/data/" + name).get_observations(required_irf="point-like")
    fact = name == "fact"
    safe = SafeMaskMaker(["aeff-default"], e_min=0.4 * u.TeV if fact else None)
    ds = make_spectrum_datasets(obs, CircleSkyRegion(crab, radius * u.deg), ea, eat, safe_mask=safe, stack=fact)
    n_on += sum(r.n_on for r in ds.records)
extra = {{"n_on": n_on}}
"""

GAMMAPY_JC = f"""
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from gammapy.data import DataStore
from gammapy.datasets import Datasets, SpectrumDataset
from gammapy.makers import SpectrumDatasetMaker, ReflectedRegionsBackgroundMaker, SafeMaskMaker
from gammapy.maps import MapAxis, RegionGeom
crab = SkyCoord(83.633, 22.014, unit="deg")
ea = MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV")
eat = MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV", name="energy_true")
n_on = 0
for name, radius in {JC!r}:
    # same work as ours: H.E.S.S. (full-enclosure) with the PSF containment correction, the others without
    full = name == "hess"
    obs = DataStore.from_dir(r"{DATA}/joint-crab/data/" + name).get_observations(
        required_irf=["aeff", "edisp", "psf"] if full else "point-like")
    geom = RegionGeom.create(region=CircleSkyRegion(crab, radius * u.deg), axes=[ea])
    empty = SpectrumDataset.create(geom=geom, energy_axis_true=eat)
    maker = SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"], containment_correction=full)
    bkg = ReflectedRegionsBackgroundMaker()
    safe = SafeMaskMaker(methods=["aeff-default"])
    sets = []
    for o in obs:
        d = safe.run(bkg.run(maker.run(empty.copy(name=str(o.obs_id)), o), o), o)
        if name == "fact":
            d.mask_safe &= d.counts.geom.energy_mask(energy_min=0.4 * u.TeV)
        n_on += int(d.counts.data.sum())
        sets.append(d)
    if name == "fact":
        Datasets(sets).stack_reduce()
extra = {{"n_on": n_on}}
"""

OURS_DR1 = f"""
import numpy as np, astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis
from gwidgets.core.reduction.spectrum_maker import make_spectrum_datasets
store = DataStore.from_dir(r"{DATA}/hess-dl3-dr1")
ea = MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 40)
eat = MapAxis.from_energy_bounds(0.05 * u.TeV, 150 * u.TeV, 50, name="energy_true")
t = store.obs_table
names = np.char.strip(np.asarray(t["OBJECT"]).astype(str))
per_target = {{}}
for obj in sorted(set(names)):
    rows = t[names == obj]
    on = CircleSkyRegion(SkyCoord(rows["RA_OBJ"][0], rows["DEC_OBJ"][0], unit="deg"), 0.11 * u.deg)
    ds = make_spectrum_datasets(store.get_observations(rows["OBS_ID"], required_irf="point-like"), on, ea, eat)
    per_target[obj] = (sum(r.n_on for r in ds.records), sum(r.n_off for r in ds.records), len(ds), len(ds.records))
extra = {{"targets": len(per_target), "n_on": sum(v[0] for v in per_target.values()), "per_target": per_target}}
"""

GAMMAPY_DR1 = f"""
import numpy as np, astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from gammapy.data import DataStore
from gammapy.datasets import SpectrumDataset
from gammapy.makers import SpectrumDatasetMaker, ReflectedRegionsBackgroundMaker, SafeMaskMaker
from gammapy.maps import MapAxis, RegionGeom
store = DataStore.from_dir(r"{DATA}/hess-dl3-dr1")
ea = MapAxis.from_energy_bounds(0.1, 100, 40, unit="TeV")
eat = MapAxis.from_energy_bounds(0.05, 150, 50, unit="TeV", name="energy_true")
t = store.obs_table
per_target = {{}}
maker = SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"], containment_correction=True)  # full-enclosure
bkg = ReflectedRegionsBackgroundMaker()
safe = SafeMaskMaker(methods=["aeff-default"])
names = np.char.strip(np.asarray(t["OBJECT"]).astype(str))
for obj in sorted(set(names)):
    rows = t[names == obj]
    on = CircleSkyRegion(SkyCoord(rows["RA_OBJ"][0], rows["DEC_OBJ"][0], unit="deg"), 0.11 * u.deg)
    geom = RegionGeom.create(region=on, axes=[ea])
    empty = SpectrumDataset.create(geom=geom, energy_axis_true=eat)
    n_on = n_off = n_ok = 0
    obs = store.get_observations(rows["OBS_ID"], required_irf=["aeff", "edisp", "psf"])
    for o in obs:
        d = safe.run(bkg.run(maker.run(empty.copy(name=str(o.obs_id)), o), o), o)
        n_on += int(d.counts.data.sum())
        if d.counts_off is not None:
            n_off += int(d.counts_off.data.sum())
            n_ok += 1
    per_target[str(obj)] = (n_on, n_off, n_ok, len(obs))
extra = {{"targets": len(per_target), "n_on": sum(v[0] for v in per_target.values()), "per_target": per_target}}
"""

SETUP_OURS = "import gwidgets.core.data, gwidgets.core.irf, gwidgets.core.reduction.spectrum_maker, regions, astropy.table"
SETUP_GAMMAPY = "import gammapy.data, gammapy.makers, gammapy.datasets, regions"


def main():
    ours = run_case(SETUP_OURS, OURS_JC)
    ref = run_case(SETUP_GAMMAPY, GAMMAPY_JC)
    print(report(f"joint-crab DL3 -> 1D, 133 runs (N_on ours {ours['extra']['n_on']}, gammapy {ref['extra']['n_on']})", ours, ref))
    ours = run_case(SETUP_OURS, OURS_DR1)
    ref = run_case(SETUP_GAMMAPY, GAMMAPY_DR1)
    print(report(f"H.E.S.S. DR1 105 runs -> 1D per target ({ours['extra']['targets']} targets; "
                 f"N_on ours {ours['extra']['n_on']}, gammapy {ref['extra']['n_on']})", ours, ref))
    print(f"   {'OBJECT':<20} {'N_on ours':>9} {'gammapy':>8} {'N_off ours':>10} {'gammapy':>8}  runs with OFF (ours/gammapy/all)")
    theirs = ref["extra"]["per_target"]
    for obj, (n_on, n_off, n_ok, n_all) in ours["extra"]["per_target"].items():
        g_on, g_off, g_ok, _ = theirs[obj]
        print(f"   {obj:<20} {n_on:>9} {g_on:>8} {n_off:>10} {g_off:>8}  {n_ok}/{g_ok}/{n_all}")


if __name__ == "__main__":
    main()

