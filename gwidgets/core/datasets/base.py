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
           "model_parameters", "model_structure", "to_float", "to_edges", "energy_mask", "diagonal_response"]


class DatasetError(GwidgetsError, ValueError):
    """A dataset was given inconsistent data, or cannot compute what was asked (names the dataset)."""


class _Epoch:
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


#: process-wide data-change counter (see module doc)
EPOCH = _Epoch()


def bump_epoch():
    """Increment the process-wide data-change counter `EPOCH`.

    Called whenever a dataset's data, masks or models change, so that the
    evaluators built at an older epoch rebuild.

    Examples
    --------
    >>> before = EPOCH.value
    >>> bump_epoch()
    >>> EPOCH.value - before
    1
    """
    EPOCH.value += 1


def to_float(value, unit, what="value"):
    """A scalar or array as floats in ``unit``; Quantities are converted, plain numbers taken as ``unit``.

    Parameters
    ----------
    value : `~astropy.units.Quantity`, str, float or array-like
        The value; a string is parsed as a Quantity (``"1 TeV"``).
    unit : `~astropy.units.Unit` or str
        The unit of the returned floats.
    what : str, optional
        Name of the quantity, used in the error message.

    Returns
    -------
    numpy.ndarray
        Float array (0-d for a scalar) in ``unit``.

    Raises
    ------
    DatasetError
        If ``value`` has a unit not convertible to ``unit``.

    Examples
    --------
    >>> import astropy.units as u
    >>> to_float(1 * u.GeV, u.TeV)
    array(0.001)
    >>> to_float([1, 2], u.TeV)
    array([1., 2.])
    """
    if isinstance(value, (u.Quantity, str)):
        try:
            return np.asarray(u.Quantity(value).to_value(unit), dtype=float)
        except u.UnitConversionError:
            raise DatasetError(f"{what}: unit '{u.Quantity(value).unit}' is not convertible to '{unit}'") from None
    return np.asarray(value, dtype=float)


def to_edges(edges, what="energy edges") -> np.ndarray:
    """Energy edges (Quantity, MapAxis or floats in TeV) as a strictly increasing float array in TeV.

    Parameters
    ----------
    edges : `~astropy.units.Quantity`, `~gwidgets.core.geom.MapAxis` or array-like
        The bin edges; plain numbers are taken as TeV, a MapAxis gives its ``edges``.
    what : str, optional
        Name of the edges, used in the error messages.

    Returns
    -------
    numpy.ndarray
        1D float array of the edges in TeV.

    Raises
    ------
    DatasetError
        If the unit is not an energy, or there are fewer than two edges, or they are not
        positive and strictly increasing.

    Examples
    --------
    >>> import astropy.units as u
    >>> to_edges([0.1, 1, 10] * u.TeV)
    array([ 0.1,  1. , 10. ])
    """
    if hasattr(edges, "edges") and hasattr(edges, "nbin"):  # a MapAxis
        edges = edges.edges
    e = to_float(edges, u.TeV, what).reshape(-1)
    if e.size < 2 or not np.all(np.diff(e) > 0) or e[0] <= 0:
        raise DatasetError(f"{what} must be at least two positive, strictly increasing energies")
    return e


def energy_mask(edges, e_min=None, e_max=None) -> np.ndarray:
    """Bins lying entirely inside [e_min, e_max] (as gammapy's ``Geom.energy_mask``).

    Parameters
    ----------
    edges : numpy.ndarray
        Bin edges in TeV (as returned by `to_edges`).
    e_min, e_max : `~astropy.units.Quantity`, str or float, optional
        Energy bounds (floats in TeV); None means the first / last edge.

    Returns
    -------
    numpy.ndarray
        Boolean array with one entry per bin.

    Raises
    ------
    DatasetError
        If a bound's unit is not an energy.

    Examples
    --------
    >>> import numpy as np
    >>> energy_mask(np.array([0.1, 1, 10, 100]), "0.5 TeV", "100 TeV")
    array([False,  True,  True])
    """
    lo = edges[0] if e_min is None else float(to_float(e_min, u.TeV, "e_min"))
    hi = edges[-1] if e_max is None else float(to_float(e_max, u.TeV, "e_max"))
    return (edges[:-1] >= lo) & (edges[1:] <= hi)


def diagonal_response(edges_true, edges_reco) -> np.ndarray:
    """Fraction of each true bin inside each reco bin (gammapy's ``get_overlap_fraction``).

    The energy dispersion of a dataset without one: a true-energy bin goes to the reco bins it overlaps.

    Parameters
    ----------
    edges_true, edges_reco : numpy.ndarray
        True and reconstructed energy bin edges (same unit).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_true, n_reco)``; rows of true bins inside the reco range sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> diagonal_response(np.array([1., 2., 4.]), np.array([1., 4.])).tolist()
    [[1.0], [1.0]]
    >>> diagonal_response(np.array([1., 4.]), np.array([1., 2., 4.])).round(3).tolist()
    [[0.333, 0.667]]
    """
    a_min, a_max = edges_reco[:-1], edges_reco[1:]
    b_min, b_max = edges_true[:-1, None], edges_true[1:, None]
    return np.clip(np.fmin(a_max, b_max) - np.fmax(a_min, b_min), 0, None) / (b_max - b_min)


class ArrayAttribute:
    """Descriptor for a dataset array: unit conversion, shape check, read-only storage, epoch bump.

    Assigning None stores None (or raises `DatasetError` when the array is not optional);
    assigning an array of the wrong shape or a Quantity of the wrong unit raises `DatasetError`.

    Parameters
    ----------
    axis : {"reco", "true", "matrix"}, optional
        "reco" (one value per reconstructed-energy bin), "true" (per true-energy bin)
        or "matrix" (true × reco).
    unit : `~astropy.units.Unit` or str, optional
        Canonical unit the values are stored in; None stores dimensionless floats.
    kind : {"float", "bool"}, optional
        Element type of the stored array.
    optional : bool, optional
        Whether None may be assigned.
    scalar_ok : bool, optional
        Whether a scalar is accepted (broadcast to the full shape).
    doc : str, optional
        Docstring of the attribute.
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
    """One model contribution: a spectral model and where it applies.

    Parameters
    ----------
    spectral : spectral model
        The spectral model (``dnde_values``, ``integral_values`` in TeV and cm⁻² s⁻¹ TeV⁻¹).
    parameters : `~gwidgets.core.models.Parameters`
        The parameters of the whole model it came from (a sky model's include its spatial ones).
    datasets_names : tuple of str or None, optional
        Datasets it applies to (None: all).
    background : bool, optional
        Whether it is a background-norm model (scales a Cash dataset's background).
    name : str, optional
        Name of the model it came from.
    """

    spectral: object
    parameters: object
    datasets_names: tuple | None = None
    background: bool = False  # a background-norm model (FoVBackgroundModel): scales a Cash dataset's background
    name: str = ""

    def applies_to(self, dataset_name) -> bool:
        """Whether this contribution applies to the dataset named ``dataset_name``.

        Parameters
        ----------
        dataset_name : str
            Name of a dataset.

        Returns
        -------
        bool
            True when ``datasets_names`` is None (all datasets) or contains the name.
        """
        return self.datasets_names is None or dataset_name in self.datasets_names


def _is_spectral(obj) -> bool:
    return hasattr(obj, "dnde_values") and hasattr(obj, "integral_values") and hasattr(obj, "parameters")


def _is_background(obj) -> bool:
    return type(obj).__name__ == "FoVBackgroundModel" or hasattr(obj, "dataset_name")


def model_components(models) -> list:
    """Flatten ``models`` into a list of `Component` (see module doc).

    Parameters
    ----------
    models : spectral model, sky model, list or `~gwidgets.core.models.Models`, or None
        What was assigned as a dataset's ``models``.

    Returns
    -------
    list of Component
        One per spectral contribution (empty for None).

    Raises
    ------
    DatasetError
        If ``models`` (or an item of it) is neither a spectral model, a sky model nor an iterable of them.

    Examples
    --------
    >>> from gwidgets.core.models import PowerLaw
    >>> [c.name for c in model_components(PowerLaw())]
    ['PowerLaw']
    """
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
    """All parameter objects of ``models`` (each once, in order).

    Parameters
    ----------
    models : model, list or tuple of models, or None
        Anything with ``.parameters``, or a list of those.

    Returns
    -------
    list
        The parameter objects, without repeats (empty for None).

    Raises
    ------
    DatasetError
        If ``models`` has no parameters.

    Examples
    --------
    >>> from gwidgets.core.models import PowerLaw
    >>> [p.name for p in model_parameters([PowerLaw()])]
    ['index', 'amplitude', 'reference']
    """
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
    """A cheap key that changes when the spectral models inside ``models`` are replaced.

    Parameters
    ----------
    models : model, iterable of models, or None
        What was assigned as a dataset's ``models``.

    Returns
    -------
    object
        None, an ``id`` or a (nested) tuple of ids; compare keys with ``==``.
    """
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
