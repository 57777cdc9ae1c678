"""gwidgets: interactive gamma-ray astronomy in Jupyter.

Import is light: the analysis core and the widgets are loaded on first use.

>>> import gwidgets as gw
>>> store = gw.example_store()            # simulated default data set
>>> obs = store.get_observations()
>>> len(obs)
20
"""
from __future__ import annotations

from . import errors
from ._lazy import lazy_exports

__version__ = "0.1.0.dev0"

_LAZY = {
    "DataStore": "gwidgets.core.data",
    "Observation": "gwidgets.core.data",
    "Observations": "gwidgets.core.data",
    "ObservationTable": "gwidgets.core.data",
    "EventList": "gwidgets.core.data",
    "GTI": "gwidgets.core.data",
    "example_store": "gwidgets.core.simulate.example",
    "simulate_datastore": "gwidgets.core.simulate",
    "SpectrumDataset": "gwidgets.core.datasets",
    "SpectrumDatasetOnOff": "gwidgets.core.datasets",
    "Datasets": "gwidgets.core.datasets",
    "Fit": "gwidgets.core.fit",
    "SkyModel": "gwidgets.core.models",
    "Models": "gwidgets.core.models",
    "Analysis": "gwidgets.core.analysis",
    "plot_flux_points": "gwidgets.plotting",
    "plot_light_curve": "gwidgets.plotting",
    "plot_spectrum_model": "gwidgets.plotting",
    "AnalysisConfig": "gwidgets.core.config",
    "data_root": "gwidgets.core.datapaths",
    "data_path": "gwidgets.core.datapaths",
}

__all__ = ["errors", "__version__", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
