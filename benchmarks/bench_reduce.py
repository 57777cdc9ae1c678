"""DL3 → 1D ON/OFF spectra (issue 5 targets: >= 10x faster than gammapy; DR1 peak RSS < 300 MiB).

1. joint-crab: H.E.S.S. (4 runs, 0.11 deg), MAGIC (2, RAD_MAX 0.1414 deg), VERITAS (2, 0.1 deg),
   FACT (125 runs, 0.1732 deg); 80 log bins 0.01-100 TeV in reco and true energy; reflected regions.
2. H.E.S.S. DR1: all 105 runs, one 0.11 deg ON region at each run's target (RA_OBJ/DEC_OBJ).
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
from gwidgets.core.reduction.spectrum import SpectrumExtractor
crab = SkyCoord(83.633, 22.014, unit="deg")
ea = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80)
eat = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80, name="energy_true")
n_on = 0
for name, radius in {JC!r}:
    obs = DataStore.from_dir(r"{DATA}/joint-crab/data/" + name).get_observations(required_irf="point-like")
    res = SpectrumExtractor(CircleSkyRegion(crab, radius * u.deg), ea, eat).run_many(obs)
    n_on += sum(r.n_on for r in res)
extra = {{"n_on": n_on}}
"""

GAMMAPY_JC = f"""
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from gammapy.data import DataStore
from gammapy.datasets import SpectrumDataset
from gammapy.makers import SpectrumDatasetMaker, ReflectedRegionsBackgroundMaker
from gammapy.maps import MapAxis, RegionGeom
crab = SkyCoord(83.633, 22.014, unit="deg")
ea = MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV")
eat = MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV", name="energy_true")
n_on = 0
for name, radius in {JC!r}:
    obs = DataStore.from_dir(r"{DATA}/joint-crab/data/" + name).get_observations(required_irf="point-like")
    geom = RegionGeom.create(region=CircleSkyRegion(crab, radius * u.deg), axes=[ea])
    empty = SpectrumDataset.create(geom=geom, energy_axis_true=eat)
    maker = SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"], containment_correction=False)
    bkg = ReflectedRegionsBackgroundMaker()
    for o in obs:
        d = bkg.run(maker.run(empty.copy(name=str(o.obs_id)), o), o)
        n_on += int(d.counts.data.sum())
extra = {{"n_on": n_on}}
"""

OURS_DR1 = f"""
import numpy as np, astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis
from gwidgets.core.reduction.spectrum import SpectrumExtractor
store = DataStore.from_dir(r"{DATA}/hess-dl3-dr1")
ea = MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 40)
eat = MapAxis.from_energy_bounds(0.05 * u.TeV, 150 * u.TeV, 50, name="energy_true")
t = store.obs_table
per_target = {{}}
for obj in sorted(set(t["OBJECT"])):
    rows = t[t["OBJECT"] == obj]
    on = CircleSkyRegion(SkyCoord(rows["RA_OBJ"][0], rows["DEC_OBJ"][0], unit="deg"), 0.11 * u.deg)
    obs = store.get_observations(rows["OBS_ID"], required_irf="point-like")
    res = SpectrumExtractor(on, ea, eat).run_many(obs)
    per_target[str(obj)] = (sum(r.n_on for r in res), sum(r.n_off for r in res))
    for o in obs:
        o._cache.clear()
    store.clear_cache()
extra = {{"targets": len(per_target), "n_on": sum(v[0] for v in per_target.values())}}
"""

GAMMAPY_DR1 = f"""
import numpy as np, astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from gammapy.data import DataStore
from gammapy.datasets import SpectrumDataset
from gammapy.makers import SpectrumDatasetMaker, ReflectedRegionsBackgroundMaker
from gammapy.maps import MapAxis, RegionGeom
store = DataStore.from_dir(r"{DATA}/hess-dl3-dr1")
ea = MapAxis.from_energy_bounds(0.1, 100, 40, unit="TeV")
eat = MapAxis.from_energy_bounds(0.05, 150, 50, unit="TeV", name="energy_true")
t = store.obs_table
per_target = {{}}
maker = SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"], containment_correction=False)
bkg = ReflectedRegionsBackgroundMaker()
for obj in sorted(set(t["OBJECT"])):
    rows = t[t["OBJECT"] == obj]
    on = CircleSkyRegion(SkyCoord(rows["RA_OBJ"][0], rows["DEC_OBJ"][0], unit="deg"), 0.11 * u.deg)
    geom = RegionGeom.create(region=on, axes=[ea])
    empty = SpectrumDataset.create(geom=geom, energy_axis_true=eat)
    n_on = n_off = 0
    for o in store.get_observations(rows["OBS_ID"], required_irf="point-like"):
        d = bkg.run(maker.run(empty.copy(), o), o)
        n_on += int(d.counts.data.sum())
        n_off += int(d.counts_off.data.sum()) if d.counts_off is not None else 0
    per_target[str(obj)] = (n_on, n_off)
extra = {{"targets": len(per_target), "n_on": sum(v[0] for v in per_target.values())}}
"""

SETUP_OURS = "import gwidgets.core.data, gwidgets.core.irf, gwidgets.core.reduction.spectrum, regions, astropy.table"
SETUP_GAMMAPY = "import gammapy.data, gammapy.makers, gammapy.datasets, regions"


def main():
    ours = run_case(SETUP_OURS, OURS_JC)
    ref = run_case(SETUP_GAMMAPY, GAMMAPY_JC)
    print(report(f"joint-crab DL3 -> 1D, 133 runs (N_on ours {ours['extra']['n_on']}, gammapy {ref['extra']['n_on']})", ours, ref))
    ours = run_case(SETUP_OURS, OURS_DR1)
    ref = run_case(SETUP_GAMMAPY, GAMMAPY_DR1)
    print(report(f"H.E.S.S. DR1 105 runs -> 1D per target ({ours['extra']['targets']} targets; "
                 f"N_on ours {ours['extra']['n_on']}, gammapy {ref['extra']['n_on']})", ours, ref))


if __name__ == "__main__":
    main()


OURS_3D = f"""
import astropy.units as u
from astropy.coordinates import SkyCoord
from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis, WcsGeom
from gwidgets.core.reduction.map_maker import MapMaker, stack_cubes
crab = SkyCoord(83.633, 22.014, unit="deg")
obs = DataStore.from_dir(r"{DATA}/hess-dl3-dr1").get_observations([23523, 23526, 23559, 23592])
geom = WcsGeom.create(crab, binsz=0.02, width=3 * u.deg, axes=[MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, 10)])
et = MapAxis.from_energy_bounds(0.5 * u.TeV, 200 * u.TeV, 20, name="energy_true")
st = stack_cubes(MapMaker(geom, et).run_many(obs))
extra = {{"counts": int(st.counts.data.sum())}}
"""

GAMMAPY_3D = f"""
import astropy.units as u
from astropy.coordinates import SkyCoord
from gammapy.data import DataStore
from gammapy.datasets import MapDataset
from gammapy.makers import MapDatasetMaker
from gammapy.maps import MapAxis, WcsGeom
crab = SkyCoord(83.633, 22.014, unit="deg")
obs = DataStore.from_dir(r"{DATA}/hess-dl3-dr1").get_observations([23523, 23526, 23559, 23592])
geom = WcsGeom.create(skydir=crab, binsz=0.02, width=3, axes=[MapAxis.from_energy_bounds(1, 100, 10, unit="TeV")])
stacked = MapDataset.create(geom, energy_axis_true=MapAxis.from_energy_bounds(0.5, 200, 20, unit="TeV", name="energy_true"))
maker = MapDatasetMaker(selection=["counts", "exposure", "background"])
for o in obs:
    stacked.stack(maker.run(stacked.copy(name=str(o.obs_id)), o))
extra = {{"counts": int(stacked.counts.data.sum())}}
"""


def main_3d():
    ours = run_case("import gwidgets.core.reduction.map_maker, gwidgets.core.irf", OURS_3D)
    ref = run_case("import gammapy.data, gammapy.makers, gammapy.datasets", GAMMAPY_3D)
    print(report(f"3D: 4 Crab runs, 150x150 x 10 bins, counts+exposure+background, stacked "
                 f"(counts ours {ours['extra']['counts']}, gammapy {ref['extra']['counts']})", ours, ref))


_main_1d = main


def main():  # noqa: F811
    _main_1d()
    main_3d()
