"""AnalysisSession in a kernel: notifications set from another thread arrive late, and the value now wins.

Models (or inputs) set in a worker thread are announced on the kernel's loop, possibly after the user has set
newer ones in the kernel's thread. The late announcement must not put the old value back into the session's
graph, nor make the session watch the old models' parameters (the same race the 3D session's size-handle browser
test found, `tests/test_map_session_models.py`).
"""
from __future__ import annotations

import asyncio
import threading

import gwidgets as gw
from gw_testdata import in_own_thread
from gwidgets.core.models import PowerLaw, SkyModel
from gwidgets.state.session import AnalysisSession
from gwidgets.state.ui_thread import UIThread


def test_models_set_in_a_worker_then_by_the_user_keep_the_users():
    """The worker's models arrive after the user's: the graph and the parameter watch keep the user's."""

    def kernel():
        session = AnalysisSession(gw.example_store(), background=False)
        loop = asyncio.new_event_loop()
        session.ui = UIThread(loop)   # the "kernel": this thread, its loop not turning until the cell ends
        try:
            old = SkyModel(PowerLaw(index=2.0), name="old")
            worker = threading.Thread(target=session.set_models, args=([old],))
            worker.start()
            worker.join()
            mine = SkyModel(PowerLaw(index=2.7), name="mine")
            session.set_models([mine])                     # before the worker's news is delivered
            loop.run_until_complete(asyncio.sleep(0.05))   # the cell ends: the late notifications run
            assert session.models["mine"] is mine
            assert session.compute("models")["mine"] is mine   # the graph holds the user's models, not the worker's
            version = session.model_version
            mine.spectral_model.parameters["index"].value = 2.5
            loop.run_until_complete(asyncio.sleep(0.05))
            assert session.model_version > version   # an edit of the user's model is seen
            version = session.model_version
            old.spectral_model.parameters["index"].value = 2.2
            loop.run_until_complete(asyncio.sleep(0.05))
            assert session.model_version == version  # the replaced models are no longer watched
        finally:
            session.close()
            loop.close()

    in_own_thread(kernel)
