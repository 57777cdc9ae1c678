"""The four H.E.S.S. DR1 Crab runs reduced to one stacked 3D cube by gwidgets and by gammapy 2.1, shared by
the 3D tests (tests/test_map_fit.py, tests/test_map_onoff.py): 150 × 150 pixels of 0.02°, 10 reco bins
1–100 TeV, 20 true bins 0.5–200 TeV, offset-max 2.5° safe mask.

The reduction runs once per test session; `stacked_crab_cubes` and `per_observation_crab_cubes` (the runs
one by one) hand out copies, so a test that sets models or masks on its cubes does not change another test's. A plain module (not ``conftest``), as
``gw_testdata``.
"""
from __future__ import annotations

import functools
import warnings

import astropy.units as u
from astropy.coordinates import SkyCoord

from gw_testdata import STORES

CRAB = SkyCoord(83.633, 22.014, unit="deg")
IDS = [23523, 23526, 23559, 23592]
OFFSET_MAX = 2.5 * u.deg
#: start values of the point source × power law fitted to the cubes
START = dict(index=2.7, amplitude="4.9e-11 cm-2 s-1 TeV-1", lon_0="83.633 deg", lat_0="22.014 deg")


def crab_sky_model():
    """Our point source × power law at `START`."""
    from gwidgets.core.models import PointSpatialModel, PowerLaw, SkyModel

    return SkyModel(PowerLaw(index=START["index"], amplitude=START["amplitude"]),
                    PointSpatialModel(lon_0=START["lon_0"], lat_0=START["lat_0"]), name="crab")


def gammapy_crab_sky_model():
    """gammapy's point source × power law at `START`."""
    from gammapy.modeling import models as gmodels

    return gmodels.SkyModel(gmodels.PowerLawSpectralModel(index=START["index"], amplitude=START["amplitude"]),
                            gmodels.PointSpatialModel(lon_0=START["lon_0"], lat_0=START["lat_0"], frame="icrs"),
                            name="crab")


def _ours_maker():
    from gwidgets.core.geom import MapAxis, WcsGeom
    from gwidgets.core.reduction import MapDatasetMaker

    energy = MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, 10)
    e_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 200 * u.TeV, 20, name="energy_true")
    geom = WcsGeom.create(CRAB, binsz=0.02, width=3 * u.deg, axes=[energy])
    # bkg_integration="edges": gammapy 2.1 integrates the background between the bin edges only
    return MapDatasetMaker(geom, e_true, offset_max=OFFSET_MAX, position=CRAB, bkg_integration="edges")


@functools.lru_cache(maxsize=1)
def _reduced():
    from gammapy import data as gdata, datasets as gds, makers as gmakers, maps as gmaps

    from gwidgets.core.data import DataStore

    path = STORES["hess-dr1"]
    ours = _ours_maker().run_stacked(DataStore.from_dir(path).get_observations(IDS))

    ggeom = gmaps.WcsGeom.create(skydir=CRAB, binsz=0.02, width=3,
                                 axes=[gmaps.MapAxis.from_energy_bounds(1, 100, 10, unit="TeV")])
    empty = gds.MapDataset.create(ggeom, name="stacked", energy_axis_true=gmaps.MapAxis.from_energy_bounds(
        0.5, 200, 20, unit="TeV", name="energy_true"))
    maker = gmakers.MapDatasetMaker()
    safe = gmakers.SafeMaskMaker(methods=["offset-max"], offset_max=OFFSET_MAX)
    theirs, runs = empty.copy(name="stacked"), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for obs in gdata.DataStore.from_dir(path).get_observations(IDS):
            runs.append(safe.run(maker.run(empty.copy(name=f"obs-{obs.obs_id}"), obs), obs))
            theirs.stack(runs[-1])
    return ours, theirs, runs


def stacked_crab_cubes():
    """``(ours, theirs)``: copies of the stacked `MapDataset` and gammapy ``MapDataset`` (no models)."""
    ours, theirs, _ = _reduced()
    return ours.copy(), theirs.copy(name=theirs.name)


def per_observation_crab_cubes():
    """The four runs reduced one by one: ``(ours, theirs)``, lists of our and gammapy's ``MapDataset`` s.

    Named ``obs-<OBS_ID>``, without models; the binning and safe mask of the stacked cubes.
    """
    from gwidgets.core.data import DataStore

    _, _, runs = _reduced()
    maker = _ours_maker()
    ours = [maker.run(obs) for obs in DataStore.from_dir(STORES["hess-dr1"]).get_observations(IDS)]
    return ours, [r.copy(name=r.name) for r in runs]
