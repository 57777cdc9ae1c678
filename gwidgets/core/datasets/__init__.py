"""Datasets: 1D spectra (Cash and ON/OFF WStat), 3D maps, their collection and the fast joint evaluator.

* `SpectrumDataset`: counts with a known background (Cash).
* `SpectrumDatasetOnOff`: ON and OFF counts (WStat, background profiled); OGIP I/O.
* `MapDataset`: counts cube with exposure, background, PSF and energy dispersion (Cash);
  `~gwidgets.core.reduction.MapDatasetMaker` reduces observations to it; `PSFKernel` is its PSF.
* `Datasets`: datasets fitted jointly, optionally sharing one model.
* `JointEvaluator`: the precomputed, cached statistic used by the fit.
* `example_spectrum_datasets`, `example_map_dataset`, `example_exclusion_mask`: small datasets
  reduced from the simulated example store, and a mask without its bright source (for examples).

The map classes and the examples are imported on first use (they pull in the map/IRF and reduction machinery).
"""
from ..._lazy import lazy_exports
from .base import DatasetError
from .datasets import Datasets
from .evaluator import JointEvaluator
from .onoff import SpectrumDatasetOnOff
from .spectrum import SpectrumDataset

_LAZY = {"MapDataset": "map", "PSFKernel": "map_irf", "example_spectrum_datasets": "examples",
         "example_map_dataset": "examples", "example_exclusion_mask": "examples",
         "EXAMPLE_SOURCE_POSITION": "examples"}

__all__ = ["SpectrumDataset", "SpectrumDatasetOnOff", "Datasets", "JointEvaluator", "DatasetError", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, {k: "." + v for k, v in _LAZY.items()}, globals())
