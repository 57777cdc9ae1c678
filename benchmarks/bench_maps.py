"""3D benchmarks, gwidgets vs gammapy 2.1 from one run (each case in a fresh interpreter):

1. reduction of the four H.E.S.S. Crab runs (DR1 store) to counts / exposure / background cubes,
   150 × 150 pixels of 0.02°, 10 reco-energy bins 1–100 TeV, 20 true-energy bins, stacked;
2. the 3D fit of the stacked dataset (with PSF and EDISP; point source × power law + background
   norm); the reduction is the untimed setup, only the fit is timed.

    python benchmarks/bench_maps.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import DATA, report, run_case  # noqa: E402

_COMMON = f"""
import astropy.units as u
from astropy.coordinates import SkyCoord
crab = SkyCoord(83.633, 22.014, unit="deg")
ids = [23523, 23526, 23559, 23592]
store = r"{DATA}/hess-dl3-dr1"
"""

OURS_REDUCE = _COMMON + """
from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis, WcsGeom
from gwidgets.core.reduction.map_maker import MapMaker, stack_cubes
obs = DataStore.from_dir(store).get_observations(ids)
geom = WcsGeom.create(crab, binsz=0.02, width=3 * u.deg, axes=[MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, 10)])
et = MapAxis.from_energy_bounds(0.5 * u.TeV, 200 * u.TeV, 20, name="energy_true")
st = stack_cubes(MapMaker(geom, et).run_many(obs))
extra = {"counts": int(st.counts.data.sum())}
"""

GAMMAPY_REDUCE = _COMMON + """
from gammapy.data import DataStore
from gammapy.datasets import MapDataset
from gammapy.makers import MapDatasetMaker
from gammapy.maps import MapAxis, WcsGeom
obs = DataStore.from_dir(store).get_observations(ids)
geom = WcsGeom.create(skydir=crab, binsz=0.02, width=3, axes=[MapAxis.from_energy_bounds(1, 100, 10, unit="TeV")])
stacked = MapDataset.create(geom, energy_axis_true=MapAxis.from_energy_bounds(0.5, 200, 20, unit="TeV", name="energy_true"))
maker = MapDatasetMaker(selection=["counts", "exposure", "background"])
for o in obs:
    stacked.stack(maker.run(stacked.copy(name=str(o.obs_id)), o))
extra = {"counts": int(stacked.counts.data.sum())}
"""

OURS_FIT_SETUP = _COMMON + """
from gwidgets.core.data import DataStore
from gwidgets.core.reduction import MapDatasetMaker
from gwidgets.core.fit import Fit
from gwidgets.core.geom import MapAxis, WcsGeom
from gwidgets.core.models import FoVBackgroundModel, PointSpatialModel, PowerLaw, SkyModel
geom = WcsGeom.create(crab, binsz=0.02, width=3 * u.deg, axes=[MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, 10)])
et = MapAxis.from_energy_bounds(0.5 * u.TeV, 200 * u.TeV, 20, name="energy_true")
ds = MapDatasetMaker(geom, et, offset_max=2.5 * u.deg, position=crab).run_stacked(DataStore.from_dir(store).get_observations(ids))
ds.models = [SkyModel(PowerLaw(index=2.6, amplitude="3e-11 cm-2 s-1 TeV-1"),
                      PointSpatialModel(lon_0="83.633 deg", lat_0="22.014 deg"), name="crab"), FoVBackgroundModel(ds.name)]
"""

OURS_FIT = """
result = Fit().run(ds)
extra = {"index": float(ds.models.parameters["index"].value), "success": bool(result.success)}
"""

GAMMAPY_FIT_SETUP = _COMMON + """
from gammapy.data import DataStore
from gammapy.datasets import MapDataset
from gammapy.makers import MapDatasetMaker, SafeMaskMaker
from gammapy.maps import MapAxis, WcsGeom
from gammapy.modeling import Fit
from gammapy.modeling.models import FoVBackgroundModel, Models, PointSpatialModel, PowerLawSpectralModel, SkyModel
geom = WcsGeom.create(skydir=crab, binsz=0.02, width=3, axes=[MapAxis.from_energy_bounds(1, 100, 10, unit="TeV")])
empty = MapDataset.create(geom, name="stacked", energy_axis_true=MapAxis.from_energy_bounds(0.5, 200, 20, unit="TeV", name="energy_true"))
maker, safe = MapDatasetMaker(), SafeMaskMaker(methods=["offset-max"], offset_max=2.5 * u.deg)
ds = empty.copy(name="stacked")
for o in DataStore.from_dir(store).get_observations(ids):
    ds.stack(safe.run(maker.run(empty.copy(name=str(o.obs_id)), o), o))
ds.models = Models([SkyModel(PowerLawSpectralModel(index=2.6, amplitude="3e-11 cm-2 s-1 TeV-1"),
                             PointSpatialModel(lon_0="83.633 deg", lat_0="22.014 deg", frame="icrs"), name="crab"),
                    FoVBackgroundModel(dataset_name="stacked")])
"""

GAMMAPY_FIT = """
result = Fit().run([ds])
extra = {"index": float(ds.models.parameters["index"].value), "success": bool(result.success)}
"""


def main():
    ours = run_case("import gwidgets.core.reduction.map_maker, gwidgets.core.irf", OURS_REDUCE)
    ref = run_case("import gammapy.data, gammapy.makers, gammapy.datasets", GAMMAPY_REDUCE)
    print(report(f"3D reduction: 4 Crab runs, 150x150 x 10 bins, counts+exposure+background, stacked "
                 f"(counts ours {ours['extra']['counts']}, gammapy {ref['extra']['counts']})", ours, ref))
    ours = run_case(OURS_FIT_SETUP, OURS_FIT)
    ref = run_case(GAMMAPY_FIT_SETUP, GAMMAPY_FIT)
    print(report(f"3D fit: point source x power law + background norm, PSF + EDISP "
                 f"(index ours {ours['extra']['index']:.4f}, gammapy {ref['extra']['index']:.4f})", ours, ref))


if __name__ == "__main__":
    main()
