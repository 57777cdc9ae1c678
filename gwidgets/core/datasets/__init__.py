"""1D spectrum datasets (Cash and ON/OFF WStat), their collection and the fast joint evaluator.

* `SpectrumDataset`: counts with a known background (Cash).
* `SpectrumDatasetOnOff`: ON and OFF counts (WStat, background profiled); OGIP I/O.
* `Datasets`: datasets fitted jointly, optionally sharing one model.
* `JointEvaluator`: the precomputed, cached statistic used by the fit.
"""
from .base import DatasetError
from .datasets import Datasets
from .evaluator import JointEvaluator
from .onoff import SpectrumDatasetOnOff
from .spectrum import SpectrumDataset

__all__ = ["SpectrumDataset", "SpectrumDatasetOnOff", "Datasets", "JointEvaluator", "DatasetError"]
