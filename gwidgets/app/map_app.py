"""A small Voilà app: live 3D residual maps (`MapView`) of a stacked `MapDataset` made from a few runs.

Used by the browser tests and the latency benchmark; also a template for a 3D notebook::

    from gwidgets.app.map_app import write_map_notebook
    write_map_notebook("out_dir")            # then: voila out_dir/gwidgets-maps.ipynb

What it reduces is read from environment variables (all optional): ``GWIDGETS_MAP_STORE`` (a data store
directory; default the simulated example store), ``GWIDGETS_MAP_OBS`` (comma-separated OBS_IDs; default the
first four), ``GWIDGETS_MAP_CENTER`` ("lon,lat" in degrees, ICRS; default the mean pointing).
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["map_notebook", "write_map_notebook", "MAP_NOTEBOOK_NAME", "STORE_ENV", "OBS_ENV", "CENTER_ENV"]

MAP_NOTEBOOK_NAME = "gwidgets-maps.ipynb"
STORE_ENV = "GWIDGETS_MAP_STORE"
OBS_ENV = "GWIDGETS_MAP_OBS"
CENTER_ENV = "GWIDGETS_MAP_CENTER"

CODE = """import os

from astropy.coordinates import SkyCoord

import gwidgets as gw
from gwidgets.core.data import DataStore
from gwidgets.state.map_session import MapSession
from gwidgets.widgets.map_view import MapView

path = os.environ.get("GWIDGETS_MAP_STORE")
store = DataStore.from_dir(path) if path else gw.example_store()
ids = [int(i) for i in os.environ.get("GWIDGETS_MAP_OBS", "").split(",") if i.strip()] or list(store.obs_ids[:4])
center = os.environ.get("GWIDGETS_MAP_CENTER")
center = SkyCoord(*[float(v) for v in center.split(",")], unit="deg") if center else None
session = MapSession(background=True)
session.build(store, ids, center=center, wait=True)
view = MapView(session)
view"""


def map_notebook(extra_code: str | None = None):
    """The 3D map notebook (`nbformat` v4); ``extra_code`` runs before the view is displayed.

    Parameters
    ----------
    extra_code : str, optional
        Python lines run after the session is built.

    Returns
    -------
    nbformat.NotebookNode
    """
    import nbformat

    code = CODE
    if extra_code:
        head, _, last = CODE.rpartition("\n")
        code = f"{head}\n{extra_code.strip()}\n{last}"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# gwidgets: live 3D residual maps"), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write_map_notebook(directory, extra_code: str | None = None) -> Path:
    """Write `map_notebook` into ``directory`` as `MAP_NOTEBOOK_NAME`; returns its path."""
    import nbformat

    path = Path(directory) / MAP_NOTEBOOK_NAME
    nbformat.write(map_notebook(extra_code), str(path))
    return path
