"""Base classes of all models and the model registry.

A model class declares its parameters once (``parameter_defs``) and a pure
static ``evaluate(x, **params)``; instances hold `Parameters`. The registry
maps every tag (our class name plus gammapy's tags, so gammapy model YAML
loads here) to its class, per kind; a new model is one class + ``@register``
(see docs/extending.md).

Every ``evaluate`` works both on Quantities and on plain floats given in the
*canonical units* of the parameter definitions; the fit's hot path uses the
latter (``model.canonical_values()``) and never builds a Quantity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import astropy.units as u
import numpy as np

from ..registry import Registry
from .parameter import Parameter, ParameterError
from .parameters import Parameters

__all__ = ["ParameterDef", "Model", "KIND_REGISTRY", "register", "get_model_class", "parameter_from_dict",
           "parameter_to_dict"]

#: model kind ("spectral", "spatial", "temporal", "component") -> `Registry` of tag -> model class.
#: A few short gammapy aliases ("gauss", "const", "template") exist for several kinds, so a tag is
#: looked up within its kind (`get_model_class(tag, kind)`).
KIND_REGISTRY: dict[str, Registry] = {kind: Registry(f"{kind} model")
                                      for kind in ("spectral", "spatial", "temporal", "component")}


def register(cls):
    """Register a model class under its class name and all its ``tag`` names, within its ``kind``.

    Parameters
    ----------
    cls : type
        A `Model` subclass with ``kind`` and ``tag`` class attributes.

    Returns
    -------
    type
        ``cls`` itself, so that ``register`` works as a class decorator.

    Raises
    ------
    RegistryError
        If one of the names is already taken by another model class of the same kind (nothing is
        registered then).

    Examples
    --------
    >>> from gwidgets.core.models import PowerLaw, register
    >>> register(PowerLaw) is PowerLaw     # registering the same class again changes nothing
    True
    """
    kind = getattr(cls, "kind", "") or "other"
    registry = KIND_REGISTRY.setdefault(kind, Registry(f"{kind} model"))
    tags = tuple(dict.fromkeys((cls.__name__, *getattr(cls, "tag", ()))))
    for tag in tags:  # check all names first: a refused class leaves no partial entries
        if tag in registry and registry[tag] is not cls:
            registry.add(tag, cls)  # raises the RegistryError naming both classes
    for tag in tags:
        registry.add(tag, cls)
    return cls


def get_model_class(tag: str, kind: str | None = None):
    """The model class of a YAML ``type`` tag, looked up within ``kind``.

    Parameters
    ----------
    tag : str
        A class name or one of its tags (gammapy's included, e.g. ``"PowerLawSpectralModel"``, ``"pl"``).
    kind : str, optional
        ``"spectral"``, ``"spatial"``, ``"temporal"`` or ``"component"``. Without it, the tag must
        name a model of exactly one kind.

    Returns
    -------
    type
        The model class.

    Raises
    ------
    ParameterError
        If no model of ``kind`` has that tag, or (without ``kind``) several kinds have it.

    Examples
    --------
    >>> get_model_class("gauss", "spectral").__name__
    'GaussianSpectral'
    >>> get_model_class("gauss", "spatial").__name__
    'GaussianSpatialModel'
    """
    if kind is None:
        found = {k: reg[tag] for k, reg in KIND_REGISTRY.items() if isinstance(tag, str) and tag in reg}
        if len(found) == 1:
            return next(iter(found.values()))
        if len(found) > 1:
            raise ParameterError(f"Model type '{tag}' exists for several kinds ({', '.join(found)}); "
                                 "give the kind (spectral, spatial, temporal or component)")
        registries = list(KIND_REGISTRY.values())
    else:
        registries = [KIND_REGISTRY.get(kind, {})]
        if isinstance(tag, str) and tag in registries[0]:
            return registries[0][tag]
    what = f"{kind} model" if kind and kind != "component" else "model"
    known = sorted({c.tag[0] if getattr(c, "tag", ()) else c.__name__ for r in registries for c in r.values()})
    raise ParameterError(f"Unknown {what} type '{tag}'; known: {', '.join(known)}")


@dataclass(frozen=True)
class ParameterDef:
    """Declaration of one parameter of a model class (defaults and canonical unit).

    Parameters
    ----------
    name : str
        Parameter name.
    value : float
        Default value, in ``unit``.
    unit : str, optional
        Canonical unit: the unit ``evaluate`` expects plain floats in.
    min, max : float, optional
        Default bounds in ``unit`` (NaN: none).
    frozen : bool, optional
        Frozen by default.
    is_norm : bool, optional
        Whether the parameter is a normalisation.
    interp : {"lin", "log"}, optional
        Natural scale for sliders and scans.
    description : str, optional
        One line shown in the widgets.
    """

    name: str
    value: float
    unit: str = ""
    min: float = np.nan
    max: float = np.nan
    frozen: bool = False
    is_norm: bool = False
    interp: str = "lin"
    description: str = ""

    def check_unit(self, unit, where=""):
        """Raise `ParameterError` naming the parameter if ``unit`` does not convert to ours.

        Parameters
        ----------
        unit : str or `~astropy.units.Unit`
            The unit to check.
        where : str, optional
            Prefix of the message (e.g. the model type).

        Raises
        ------
        ParameterError
            If ``unit`` is not a unit or not convertible to the canonical unit.
        """
        try:
            ok = u.Unit(unit).is_equivalent(u.Unit(self.unit))
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise ParameterError(
                f"{where}Parameter '{self.name}' has unit '{unit}', which is not convertible to '{self.unit}'"
            )

    def bound_in(self, unit):
        """(min, max) converted to ``unit``.

        Parameters
        ----------
        unit : str or `~astropy.units.Unit`
            Target unit, convertible to the canonical unit.

        Returns
        -------
        tuple of float
            ``(min, max)`` in ``unit`` (NaN where unbounded).
        """
        if u.Unit(unit) == u.Unit(self.unit):
            return self.min, self.max
        f = u.Unit(self.unit).to(unit)
        return self.min * f, self.max * f

    def make(self, value=None) -> Parameter:
        """A `Parameter` with these defaults, or with the given value.

        Parameters
        ----------
        value : float, str, `~astropy.units.Quantity` or Parameter, optional
            The value (floats are in the canonical unit; a Quantity or string is
            converted to it); a `Parameter` is checked for its unit and returned as
            is. Default: the declared value.

        Returns
        -------
        Parameter
            The parameter.

        Raises
        ------
        ParameterError
            If the value's unit does not convert to the canonical unit, or it is not a number.
        """
        if value is None:
            value = self.value
        if isinstance(value, Parameter):
            self.check_unit(value.unit)
            return value
        if isinstance(value, (u.Quantity, str)):
            try:
                value = u.Quantity(value).to(self.unit or u.one)  # "2 TeV" for an index is an error
            except u.UnitConversionError as exc:
                raise ParameterError(f"Parameter '{self.name}': {exc}") from None
            except (TypeError, ValueError):
                raise ParameterError(f"Parameter '{self.name}': value {value!r} is not a number with a unit") from None
        return Parameter(self.name, value, self.unit, min=self.min, max=self.max, frozen=self.frozen,
                         is_norm=self.is_norm, interp=self.interp, description=self.description)


def _same(a, b) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def parameter_to_dict(p: Parameter, pdef: ParameterDef | None = None, full_output=False, link=None) -> dict:
    """One parameter in gammapy's YAML layout.

    ``frozen`` is always written (gammapy fills missing keys with *its*
    defaults); ``min``/``max`` only when they differ from the class defaults
    (which equal gammapy's) unless ``full_output``.

    Parameters
    ----------
    p : Parameter
        The parameter (a linked one writes the error, bounds and frozen flag of
        the parameter it follows).
    pdef : ParameterDef, optional
        Its declaration, for the default bounds.
    full_output : bool, optional
        Write ``error``, ``min`` and ``max`` always.
    link : str, optional
        Link label, written as ``link``.

    Returns
    -------
    dict
        ``name``, ``value``, ``unit``, ``frozen`` and the optional keys.
    """
    unit = p.unit.to_string("fits") if p.unit != u.one else ""
    d = {"name": p.name, "value": float(p.value), "unit": unit}
    src = p.linked_to or p
    error = float(src.error)
    if error or full_output:
        d["error"] = error
    dmin, dmax = (np.nan, np.nan) if pdef is None else pdef.bound_in(p.unit)
    other_unit = pdef is None or p.unit != u.Unit(pdef.unit)
    for key, value, default in (("min", src.min, dmin), ("max", src.max, dmax)):
        if full_output or not _same(value, default) or (other_unit and not math.isnan(value)):
            d[key] = float(value)
    d["frozen"] = bool(src.frozen)
    if p.is_norm:
        d["is_norm"] = True
    if link is not None:
        d["link"] = link
    return d


def parameter_from_dict(data: dict, pdef: ParameterDef, where="") -> Parameter:
    """Build a `Parameter` from a YAML entry, missing keys taken from ``pdef``.

    Parameters
    ----------
    data : dict
        The YAML entry (``name``, ``value``, ``unit``, ``min``, ``max``,
        ``frozen``, ``error``, ``interp``).
    pdef : ParameterDef
        Declaration of the parameter.
    where : str, optional
        Prefix of error messages (e.g. the model type).

    Returns
    -------
    Parameter
        The parameter.

    Raises
    ------
    ParameterError
        For a unit not convertible to the canonical one, a value that is not a
        finite number, bounds that are not numbers, or ``min > max``.
    """
    unit = data.get("unit")
    if unit is None:
        unit = pdef.unit
    pdef.check_unit(unit, where)
    dmin, dmax = pdef.bound_in(unit)
    value = data.get("value", pdef.value if u.Unit(unit) == u.Unit(pdef.unit) else
                     (pdef.value * u.Unit(pdef.unit)).to_value(unit))

    def num(key, default):
        v = data.get(key, default)
        if v is None:
            return np.nan
        try:
            return float(v)
        except (TypeError, ValueError):
            raise ParameterError(f"{where}Parameter '{pdef.name}': {key} {v!r} is not a number") from None

    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{where}Parameter '{pdef.name}': value {value!r} is not a number") from None
    if not math.isfinite(value):
        raise ParameterError(f"{where}Parameter '{pdef.name}': value must be finite, got {value!r}")
    try:
        return Parameter(pdef.name, value, unit, min=num("min", dmin), max=num("max", dmax),
                         frozen=bool(data.get("frozen", pdef.frozen)), error=num("error", 0.0),
                         is_norm=pdef.is_norm, interp=data.get("interp", pdef.interp), description=pdef.description)
    except ParameterError as exc:  # e.g. min > max: say where
        raise ParameterError(f"{where}{exc}") from None


class Model:
    """Base class: parameters from ``parameter_defs``, ``evaluate`` pure and static.

    Parameters may be given as keyword arguments: a float (in the canonical
    unit), a Quantity, a string like ``"2 TeV"`` or a `Parameter`.
    A parameter is also an attribute (``model.index``); assigning a number or
    Quantity to it sets its value.

    Serialisation follows gammapy's YAML layout: ``to_dict()`` gives
    ``{"type": tag, "parameters": [...], **extra}`` and the classmethod
    ``from_dict`` reverses it. Subclasses with extra constructor arguments
    (frame, tables, ...) override ``_extra_to_dict`` / ``_kwargs_from_dict``.

    Parameters
    ----------
    **kwargs
        Parameter values by name; others take the declared defaults.

    Raises
    ------
    ParameterError
        For an unknown parameter name or a value in a wrong unit.
    """

    tag: ClassVar[tuple[str, ...]] = ()
    parameter_defs: ClassVar[tuple[ParameterDef, ...]] = ()
    #: "spectral", "spatial" or "temporal"
    kind: ClassVar[str] = ""

    def __init__(self, **kwargs):
        unknown = set(kwargs) - {d.name for d in self.parameter_defs}
        if unknown:
            raise ParameterError(
                f"{type(self).__name__} has no parameter(s) {sorted(unknown)}; "
                f"its parameters are {[d.name for d in self.parameter_defs]}"
            )
        self.parameters = Parameters([d.make(kwargs.get(d.name)) for d in self.parameter_defs])
        self._canonical = [u.Unit(d.unit) for d in self.parameter_defs]

    def __getattr__(self, name):
        # model.index -> the Parameter "index" (only called when normal lookup fails)
        if name.startswith("_") or name == "parameters":
            raise AttributeError(name)
        try:
            return self.parameters[name]
        except ParameterError:
            raise AttributeError(f"'{type(self).__name__}' has no attribute or parameter '{name}'") from None

    def __setattr__(self, name, value):
        params = self.__dict__.get("parameters")
        if params is not None and name in params and not isinstance(value, Parameter):
            params[name].value = value.to_value(params[name].unit) if isinstance(value, u.Quantity) else value
            return
        super().__setattr__(name, value)

    @property
    def type_tag(self) -> str:
        """The ``type`` written to YAML (gammapy's class name where one exists)."""
        return self.tag[0] if self.tag else type(self).__name__

    # --------------------------------------------------------------- values
    def parameter_quantities(self) -> dict:
        """Parameter values with their units.

        Returns
        -------
        dict
            Parameter name → `~astropy.units.Quantity`.
        """
        return {p.name: p.quantity for p in self.parameters}

    def canonical_values(self) -> dict:
        """Parameter values as floats in the canonical units of ``parameter_defs``.

        Returns
        -------
        dict
            Parameter name → float.
        """
        out = {}
        for p, unit in zip(self.parameters, self._canonical):
            out[p.name] = p.value if p.unit == unit else p.quantity.to_value(unit)
        return out

    def get_parameter(self, path: str) -> Parameter:
        """Parameter by name (sub-models of compound models: ``"model1.index"``).

        Parameters
        ----------
        path : str
            Parameter name, or dotted path for compound models.

        Returns
        -------
        Parameter
            The parameter.

        Raises
        ------
        ParameterError
            If there is no such parameter.
        """
        return self.parameters[path]

    def parameter_paths(self) -> list[tuple[str, Parameter]]:
        """(path, parameter) for every parameter, paths relative to this model.

        Returns
        -------
        list of tuple
            ``(path, Parameter)`` pairs, in order.
        """
        return [(p.name, p) for p in self.parameters]

    def freeze(self):
        """Freeze all parameters."""
        self.parameters.freeze_all()

    def unfreeze(self):
        """Restore the default frozen state of every parameter (``reference`` stays frozen)."""
        for p, d in zip(self.parameters, self.parameter_defs):
            p.frozen = d.frozen

    def copy(self):
        """A copy with copied (unlinked) parameters; other attributes are shared.

        Returns
        -------
        Model
            The copy, of the same class.
        """
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__["parameters"] = self.parameters.copy()
        return new

    # --------------------------------------------------------------- export
    def to_dict(self, full_output=False, links=None) -> dict:
        """Model as a dict in gammapy's YAML layout (``type`` + ``parameters``).

        ``links`` maps ``id(parameter)`` to a link label (set by `~gwidgets.core.models.models.Models`).

        Parameters
        ----------
        full_output : bool, optional
            Write every parameter key, defaults included.
        links : dict, optional
            ``id(parameter)`` → link label.

        Returns
        -------
        dict
            ``{"type": type_tag, **extra, "parameters": [...]}``.
        """
        links = links or {}
        pars = [parameter_to_dict(p, d, full_output, links.get(id(p)))
                for p, d in zip(self.parameters, self.parameter_defs)]
        return {"type": self.type_tag, **self._extra_to_dict(), "parameters": pars}

    def _extra_to_dict(self) -> dict:
        return {}

    @classmethod
    def _kwargs_from_dict(cls, data: dict) -> dict:
        return {}

    @classmethod
    def _parameters_from_dict(cls, data: dict, defs=None) -> dict:
        defs = cls.parameter_defs if defs is None else defs
        where = f"{data.get('type', cls.__name__)}: "
        entries = data.get("parameters") or []
        by_name = {}
        known = {d.name for d in defs}
        for entry in entries:
            name = entry.get("name") if isinstance(entry, dict) else None
            if name not in known:
                raise ParameterError(f"{where}unknown parameter {name!r}; its parameters are {sorted(known)}")
            by_name[name] = entry
        return {d.name: parameter_from_dict(by_name[d.name], d, where) for d in defs if d.name in by_name}

    @classmethod
    def from_dict(cls, data: dict):
        """Build from a dict in gammapy's YAML layout (``{"type", "parameters", ...}``).

        Parameters
        ----------
        data : dict
            The model entry (also accepted wrapped as ``{kind: {...}}``).

        Returns
        -------
        Model
            An instance of the class called.

        Raises
        ------
        ParameterError
            For an unknown parameter or an invalid entry.
        """
        data = cls.unwrap_entry(data)
        model = cls(**cls._kwargs_from_dict(data), **cls._parameters_from_dict(data))
        return model

    @classmethod
    def unwrap_entry(cls, data: dict) -> dict:
        """The model entry itself, also when given in gammapy's wrapping ``{kind: {...}}``.

        Parameters
        ----------
        data : dict
            A model entry, or a one-key dict whose key is this class's ``kind`` (``"spectral"``,
            ``"spatial"``, ``"temporal"``) and whose value is the entry.

        Returns
        -------
        dict
            The entry.

        Examples
        --------
        >>> from gwidgets.core.models import PowerLaw
        >>> entry = {"type": "PowerLawSpectralModel", "parameters": []}
        >>> PowerLaw.unwrap_entry({"spectral": entry}) is entry, PowerLaw.unwrap_entry(entry) is entry
        (True, True)
        """
        if len(data) == 1 and cls.kind in data:
            return data[cls.kind]
        return data

    def __repr__(self):
        pars = ", ".join(f"{p.name}={p.value:.4g}{(' ' + str(p.unit)) if p.unit != u.one else ''}"
                         for p in self.parameters)
        return f"{type(self).__name__}({pars})"

    def _repr_html_(self):
        return f"<p><b>{type(self).__name__}</b></p>" + self.parameters.to_table()._repr_html_()
