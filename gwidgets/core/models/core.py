"""Base classes of all models and the model registry.

A model class declares its parameters once (``parameter_defs``) and a pure
static ``evaluate(x, **params)``; instances hold `Parameters`. The registry
maps every tag (our class name plus gammapy's tags, so gammapy model YAML
loads here) to its class; a new model is one class + ``@register``.

Every ``evaluate`` works both on Quantities and on plain floats given in the
*canonical units* of the parameter definitions; the fit's hot path uses the
latter (``model.canonical_values()``) and never builds a Quantity.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import astropy.units as u

from .parameter import Parameter, ParameterError, Parameters

__all__ = ["ParameterDef", "Model", "MODEL_REGISTRY", "register", "get_model_class"]

#: tag -> model class, for every kind of model (spectral, spatial, temporal)
MODEL_REGISTRY: dict[str, type] = {}


def register(cls):
    """Class decorator: add a model class to the registry under all its tags."""
    for tag in (cls.__name__, *getattr(cls, "tag", ())):
        MODEL_REGISTRY[tag] = cls
    return cls


def get_model_class(tag: str):
    try:
        return MODEL_REGISTRY[tag]
    except KeyError:
        raise ParameterError(f"Unknown model type '{tag}'; known: {', '.join(sorted(MODEL_REGISTRY))}") from None


@dataclass(frozen=True)
class ParameterDef:
    """Declaration of one parameter of a model class (defaults and canonical unit)."""

    name: str
    value: float
    unit: str = ""
    min: float = np.nan
    max: float = np.nan
    frozen: bool = False
    is_norm: bool = False
    interp: str = "lin"
    description: str = ""

    def make(self, value=None) -> Parameter:
        if value is None:
            value = self.value
        if isinstance(value, Parameter):
            return value
        if isinstance(value, (u.Quantity, str)):
            try:
                value = u.Quantity(value).to(self.unit) if self.unit else u.Quantity(value)
            except u.UnitConversionError as exc:
                raise ParameterError(f"Parameter '{self.name}': {exc}") from None
            except (TypeError, ValueError):
                raise ParameterError(f"Parameter '{self.name}': value {value!r} is not a number with a unit") from None
        return Parameter(self.name, value, self.unit, min=self.min, max=self.max, frozen=self.frozen,
                         is_norm=self.is_norm, interp=self.interp, description=self.description)


class Model:
    """Base class: parameters from ``parameter_defs``, ``evaluate`` pure and static.

    Parameters may be given as keyword arguments: a float (in the canonical
    unit), a Quantity, a string like ``"2 TeV"`` or a `Parameter`.
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

    # --------------------------------------------------------------- values
    def parameter_quantities(self) -> dict:
        return {p.name: p.quantity for p in self.parameters}

    def canonical_values(self) -> dict:
        """Parameter values as floats in the canonical units of ``parameter_defs``."""
        out = {}
        for p, unit in zip(self.parameters, self._canonical):
            out[p.name] = p.value if p.unit == unit else p.quantity.to_value(unit)
        return out

    def copy(self):
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__["parameters"] = self.parameters.copy()
        return new

    # --------------------------------------------------------------- export
    def to_dict(self) -> dict:
        """Model as a dict in gammapy's YAML layout (``type`` + ``parameters``)."""
        return {"type": type(self).__name__, "parameters": [p.to_dict() for p in self.parameters]}

    def __repr__(self):
        pars = ", ".join(f"{p.name}={p.value:.4g}{(' ' + str(p.unit)) if p.unit != u.one else ''}" for p in self.parameters)
        return f"{type(self).__name__}({pars})"

    def _repr_html_(self):
        return f"<p><b>{type(self).__name__}</b></p>" + self.parameters.to_table()._repr_html_()
