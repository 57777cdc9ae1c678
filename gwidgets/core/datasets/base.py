"""What every 1D dataset shares: the data-change epoch, array attributes, models as components.

* ``EPOCH``: a process-wide counter bumped whenever any dataset's data, masks
  or models change. The fast evaluators record the epoch they were built at
  and rebuild when it moved, so staleness is computed, never tracked by hand.
* `ArrayAttribute`: a descriptor for the data arrays of a dataset; it converts
  Quantities to the canonical unit, checks the shape, stores a **read-only**
  float (or bool) array and bumps the epoch. Change data by assigning a new
  array (``ds.mask_fit = ...``); in-place writes raise ``ValueError``.
* `model_components`: turns whatever was assigned as ``models`` (a spectral
  model, a sky model — anything with ``.spectral_model`` and ``.parameters`` —,
  a list of those or a `Models`-like iterable) into a flat list of
  `Component` (spectral model, parameters, datasets it applies to, and
  whether it is a background-norm model).
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np

from ...errors import GwidgetsError

__all__ = ["DatasetError", "EPOCH", "bump_epoch", "ArrayAttribute", "Component", "model_components",
           "model_parameters", "model_structure", "to_float", "to_edges", "energy_mask"]


class DatasetError(GwidgetsError, ValueError):
    """A dataset was given inconsistent data, or cannot compute what was asked (names the dataset)."""


class _Epoch:
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


#: process-wide data-change counter (see module doc)
EPOCH = _Epoch()


def bump_epoch():
    EPOCH.value += 1


def to_float(value, unit, what="value"):
    """A scalar or array as floats in ``unit``; Quantities are converted, plain numbers taken as ``unit``."""
    if isinstance(value, (u.Quantity, str)):
        try:
            return np.asarray(u.Quantity(value).to_value(unit), dtype=float)
        except u.UnitConversionError:
            raise DatasetError(f"{what}: unit '{u.Quantity(value).unit}' is not convertible to '{unit}'") from None
    return np.asarray(value, dtype=float)


def to_edges(edges, what="energy edges") -> np.ndarray:
    """Energy edges (Quantity, MapAxis or floats in TeV) as a strictly increasing float array in TeV."""
    if hasattr(edges, "edges") and hasattr(edges, "nbin"):  # a MapAxis
        edges = edges.edges
    e = to_float(edges, u.TeV, what).reshape(-1)
    if e.size < 2 or not np.all(np.diff(e) > 0) or e[0] <= 0:
        raise DatasetError(f"{what} must be at least two positive, strictly increasing energies")
    return e


def energy_mask(edges, e_min=None, e_max=None) -> np.ndarray:
    """Bins lying entirely inside [e_min, e_max] (as gammapy's ``Geom.energy_mask``)."""
    lo = edges[0] if e_min is None else float(to_float(e_min, u.TeV, "e_min"))
    hi = edges[-1] if e_max is None else float(to_float(e_max, u.TeV, "e_max"))
    return (edges[:-1] >= lo) & (edges[1:] <= hi)


class ArrayAttribute:
    """Descriptor for a dataset array: unit conversion, shape check, read-only storage, epoch bump.

    ``axis`` is "reco" (one value per reconstructed-energy bin), "true" (per
    true-energy bin) or "matrix" (true × reco). ``kind`` "float" or "bool".
    """

    def __init__(self, axis="reco", unit=None, kind="float", optional=True, scalar_ok=False, doc=""):
        self.axis, self.unit, self.kind, self.optional, self.scalar_ok = axis, unit, kind, optional, scalar_ok
        self.__doc__ = doc

    def __set_name__(self, owner, name):
        self.public = name
        self.name = "_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj.__dict__.get(self.name)

    def _shape(self, obj):
        n_reco, n_true = len(obj.energy_edges) - 1, len(obj.energy_edges_true) - 1
        return {"reco": (n_reco,), "true": (n_true,), "matrix": (n_true, n_reco)}[self.axis]

    def __set__(self, obj, value):
        where = f"Dataset '{getattr(obj, 'name', '?')}': {self.public}"
        if value is None:
            if not self.optional:
                raise DatasetError(f"{where} is required")
            obj.__dict__[self.name] = None
            bump_epoch()
            return
        shape = self._shape(obj)
        if self.kind == "bool":
            arr = np.asarray(getattr(value, "data", value), dtype=bool)
        else:
            arr = to_float(value, self.unit, where) if self.unit is not None else np.asarray(
                value.to_value(u.one) if isinstance(value, u.Quantity) else value, dtype=float)
        if arr.ndim == 0 and self.scalar_ok:
            arr = np.full(shape, arr[()], dtype=arr.dtype)
        arr = arr.reshape(shape) if arr.size == int(np.prod(shape)) else arr
        if arr.shape != shape:
            raise DatasetError(f"{where} has shape {np.shape(value)}, expected {shape}")
        arr = np.array(arr, dtype=arr.dtype, copy=True)
        arr.setflags(write=False)
        obj.__dict__[self.name] = arr
        bump_epoch()


@dataclass
class Component:
    """One model contribution: a spectral model and where it applies."""

    spectral: object
    parameters: object
    datasets_names: tuple | None = None
    background: bool = False  # a background-norm model (FoVBackgroundModel): scales a Cash dataset's background
    name: str = ""

    def applies_to(self, dataset_name) -> bool:
        return self.datasets_names is None or dataset_name in self.datasets_names


def _is_spectral(obj) -> bool:
    return hasattr(obj, "dnde_values") and hasattr(obj, "integral_values") and hasattr(obj, "parameters")


def _is_background(obj) -> bool:
    return type(obj).__name__ == "FoVBackgroundModel" or hasattr(obj, "dataset_name")


def model_components(models) -> list:
    """Flatten ``models`` into a list of `Component` (see module doc); raises `DatasetError` if unusable."""
    out = []
    if models is None:
        return out
    if _is_spectral(models):
        return [Component(models, models.parameters, name=type(models).__name__)]
    spectral = getattr(models, "spectral_model", None)
    if spectral is not None and hasattr(models, "parameters"):
        if not _is_spectral(spectral):
            raise DatasetError(f"Model {getattr(models, 'name', models)!r}: its spectral_model is not a spectral model")
        names = getattr(models, "datasets_names", None)
        return [Component(spectral, models.parameters, None if names is None else tuple(names),
                          _is_background(models), str(getattr(models, "name", "")))]
    if isinstance(models, (str, bytes)) or not hasattr(models, "__iter__"):
        raise DatasetError(f"Cannot use {type(models).__name__} as a dataset model: give a spectral model, "
                           "a sky model (with .spectral_model and .parameters) or a list / Models of them")
    for m in models:
        out.extend(model_components(m))
    return out


def model_parameters(models) -> list:
    """All parameter objects of ``models`` (each once, in order)."""
    if models is None:
        return []
    if isinstance(models, (list, tuple)):
        items = [p for m in models for p in model_parameters(m)]
    elif hasattr(models, "parameters"):
        items = list(models.parameters)
    else:
        raise DatasetError(f"Cannot get the parameters of {type(models).__name__}")
    seen, out = set(), []
    for p in items:
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def model_structure(models):
    """A cheap key that changes when the spectral models inside ``models`` are replaced."""
    if models is None:
        return None
    spectral = getattr(models, "spectral_model", None)
    if spectral is not None:
        return (id(models), id(spectral))
    if _is_spectral(models):
        return id(models)
    try:
        return tuple(model_structure(m) for m in models)
    except TypeError:
        return id(models)
