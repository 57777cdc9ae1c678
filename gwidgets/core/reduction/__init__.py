"""Data reduction: DL3 observations → spectrum and map datasets.

Names are imported lazily, so ``import gwidgets.core.reduction`` stays cheap.

>>> from gwidgets.core.reduction import make_spectrum_datasets, RingBackgroundMaker
>>> RingBackgroundMaker.__module__
'gwidgets.core.reduction.ring'
"""
from __future__ import annotations

from ..._lazy import lazy_exports

#: public name → module defining it; a new reduction step = one new line
_EXPORTS = {
    "SpectrumExtractor": "spectrum",
    "SpectrumExtraction": "spectrum",
    "RadMaxMismatchError": "spectrum",
    "ContainmentCorrectionError": "containment",
    "BatchNotes": "notes",
    "ReductionWarning": "notes",
    "make_spectrum_datasets": "spectrum_maker",
    "reduce_spectra": "spectrum_maker",
    "stack_spectra": "spectrum_maker",
    "SpectrumDatasetMaker": "spectrum_maker",
    "SpectrumReductionSettings": "settings",
    "MapReductionSettings": "map_settings",
    "Maker": "base",
    "ObservationMaker": "base",
    "DatasetMaker": "base",
    "ReflectedRegionsFinder": "reflected",
    "SafeMaskMaker": "safe_mask",
    "MapMaker": "map_maker",
    "MapDatasetMaker": "map_dataset_maker",
    "RingBackgroundMaker": "ring",
    "RingBackgroundResult": "ring",
    "FoVBackgroundMaker": "fov_background",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, {k: "." + v for k, v in _EXPORTS.items()}, globals())
