"""MapSession in a kernel: the parameters watched are those of the models the session has now.

In a kernel, models set in the worker (a build) are announced later, on the kernel's loop. When the user set
other models meanwhile (the map app's notebook: ``build(..., wait=True)`` then ``set_models``), the late
announcement must not make the session watch the old models: a drag of the new model's size or position would
then change the parameter without a new map (the browser test of the size handle found it).
"""
from __future__ import annotations

import asyncio
import threading

import astropy.units as u
from astropy.coordinates import SkyCoord

import gwidgets as gw
from gw_testdata import in_own_thread
from gwidgets.core.geom import MapAxis, WcsGeom
from gwidgets.core.models import GaussianSpatialModel, PowerLaw, SkyModel
from gwidgets.core.reduction import MapDatasetMaker
from gwidgets.state.map_session import MapSession
from gwidgets.state.ui_thread import UIThread


def test_models_set_after_a_worker_build_stay_watched():
    """The worker's datasets + models arrive after the user's set_models: the user's model is still watched."""

    def kernel():
        observations = gw.example_store().get_observations([1001])
        geom = WcsGeom.create(SkyCoord(83.63, 22.01, unit="deg"), binsz=0.1, width=1 * u.deg,
                              axes=[MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 2)])
        e_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 4, name="energy_true")
        dataset = MapDatasetMaker(geom, e_true, offset_max="2.5 deg").run_stacked(observations)
        loop = asyncio.new_event_loop()
        session = MapSession(background=False)
        session.ui = UIThread(loop)   # the "kernel": this thread, its loop not turning until the cell ends
        try:
            worker = threading.Thread(target=session.set_datasets, args=(dataset,))   # what build does in the worker
            worker.start()
            worker.join()
            mine = SkyModel(PowerLaw(), GaussianSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg", sigma="0.1 deg"),
                            name="mine")
            session.set_models([mine])              # the user's models, before the worker's news is delivered
            loop.run_until_complete(asyncio.sleep(0.05))   # the cell ends: the late notifications run
            assert session.models["mine"] is mine
            version = session.model_version
            session.set_size("mine", 0.3)
            assert session.model_version > version   # a size change of the user's model is seen (a new map)
            version = session.model_version
            session.move("mine", 83.7, 22.0)
            assert session.model_version > version
        finally:
            session.close()
            loop.close()

    in_own_thread(kernel)
