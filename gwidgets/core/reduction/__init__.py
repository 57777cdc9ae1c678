"""Data reduction: DL3 observations → spectrum and map datasets.

Names are imported lazily, so ``import gwidgets.core.reduction`` stays cheap.

>>> from gwidgets.core.reduction import make_spectrum_datasets, RingBackgroundMaker   # doctest: +SKIP
"""
from __future__ import annotations

import importlib

#: public name → module defining it; a new reduction step = one new line
_EXPORTS = {
    "SpectrumExtractor": "spectrum",
    "SpectrumExtraction": "spectrum",
    "RadMaxMismatchError": "spectrum",
    "make_spectrum_datasets": "spectrum_maker",
    "SpectrumDatasetMaker": "spectrum_maker",
    "ReflectedRegionsFinder": "reflected",
    "SafeMaskMaker": "safe_mask",
    "MapMaker": "map_maker",
    "RingBackgroundMaker": "ring",
    "RingBackgroundResult": "ring",
    "FoVBackgroundMaker": "fov_background",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
