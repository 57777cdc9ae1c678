"""Model parameter: value with unit, bounds, frozen flag, error and an internal scale.

The collection of a model's parameters is `~gwidgets.core.models.parameters.Parameters`.

A :class:`Parameter` stores ``value = factor × scale``; the minimiser works on
``factor`` (numbers near 1) while users see ``value`` in ``unit``.  Changes are
observable: ``param.observe(callback)`` calls ``callback(param, attribute, old, new)`` after
each change of value, bounds, frozen flag or error (the widgets listen this
way; a callback costs one function call, nothing when there is none).

Linking is explicit: ``b.link_to(a)`` makes ``b`` read and write ``a``'s value
(``b.linked_to is a``, shown in ``repr`` and written to YAML as a link label);
two parameters are never linked by merely being the same object in two models.

Examples
--------
>>> from gwidgets.core.models.parameter import Parameter
>>> p = Parameter("amplitude", "3e-11 cm-2 s-1 TeV-1", min=0)
>>> p.factor, p.scale
(3.0, 1e-11)
>>> p.value = 5e-11
>>> p.quantity
<Quantity 5.e-11 1 / (TeV s cm2)>
"""
from __future__ import annotations

import math
from collections.abc import Callable

import astropy.units as u

from ...errors import GwidgetsError

__all__ = ["Parameter", "ParameterError"]


class ParameterError(GwidgetsError, ValueError):
    """A parameter value, bound or unit is invalid; the message names the parameter."""


def _to_float(x, unit, what, name):
    if x is None:
        return math.nan
    if isinstance(x, (u.Quantity, str)) and not (isinstance(x, str) and x.strip().lower() == "nan"):
        try:
            q = u.Quantity(x)
            return float(q.to_value(unit)) if q.unit != u.one or unit == u.one else float(q.value)
        except (u.UnitConversionError, TypeError, ValueError) as exc:
            raise ParameterError(f"Parameter '{name}': {what} {x!r} is not convertible to unit '{unit}' "
                                 f"({exc})") from None
    try:
        return float(x)
    except (TypeError, ValueError):
        raise ParameterError(f"Parameter '{name}': {what} {x!r} is not a number") from None


def _check_order(name, lo, hi, unit):
    """Bounds with min > max are refused where they are given, naming the parameter."""
    if lo > hi:  # False whenever one of them is NaN (no bound)
        raise ParameterError(f"Parameter '{name}': min {lo:g} is larger than max {hi:g} {unit}".rstrip())


class Parameter:
    """One model parameter.

    Parameters
    ----------
    name : str
        Parameter name (non-empty).
    value : float, str or `~astropy.units.Quantity`
        A Quantity or a string like ``"2.3 TeV"`` also sets ``unit``.
    unit : str or `~astropy.units.Unit`
        Unit of the value, bounds and error (converted to, if ``value`` has a unit).
    min, max : float or Quantity
        Bounds (NaN = none), in ``unit``.
    frozen : bool
        Frozen parameters are not fitted.
    error : float
        1σ error in ``unit`` (set by a fit).
    scale : float or None
        ``value = factor × scale``. None (default) picks a power of ten so that
        ``factor`` is in [1, 10) ("scale10", as gammapy).
    is_norm : bool
        Whether this is a normalisation (used by the flux-point estimators).
    interp : {"lin", "log"}
        Natural scale for sliders and scans.
    description : str, optional
        One line shown in the widgets.

    Raises
    ------
    ParameterError
        For an empty name, a value that is not finite or not convertible to
        ``unit``, or ``min > max``.
    """

    __slots__ = ("name", "_value", "unit", "_min", "_max", "_frozen", "_error", "scale",
                 "is_norm", "interp", "_listeners", "linked_to", "description", "_forward")

    def __init__(self, name, value, unit="", min=math.nan, max=math.nan, frozen=False, error=0.0,
                 scale=None, is_norm=False, interp="lin", description=""):
        if not isinstance(name, str) or not name:
            raise ParameterError(f"Parameter name must be a non-empty string, got {name!r}")
        self.name = name
        self._listeners: list[Callable] | None = None
        self.linked_to: Parameter | None = None
        self._forward: Callable | None = None
        if isinstance(value, (u.Quantity, str)):
            try:
                q = u.Quantity(value)
            except (TypeError, ValueError):
                raise ParameterError(f"Parameter '{name}': value {value!r} is not a number with a unit") from None
            if unit not in ("", None) and q.unit != u.one:
                q = q.to(unit)
            elif unit not in ("", None):
                q = q.value * u.Unit(unit)
            self.unit = q.unit
            value = q.value
        else:
            self.unit = u.Unit(unit or "")
        self._value = _to_float(value, self.unit, "value", name)
        if not math.isfinite(self._value):
            raise ParameterError(f"Parameter '{name}': value must be finite, got {self._value}")
        self._min = _to_float(min, self.unit, "min", name)
        self._max = _to_float(max, self.unit, "max", name)
        _check_order(name, self._min, self._max, self.unit)
        self._frozen = bool(frozen)
        self._error = _to_float(error, self.unit, "error", name)
        self.scale = float(scale) if scale else self._auto_scale(self._value)
        self.is_norm = bool(is_norm)
        self.interp = interp
        self.description = description

    # ------------------------------------------------------------------ value
    @staticmethod
    def _auto_scale(value):
        if value == 0 or not math.isfinite(value):
            return 1.0
        return 10 ** math.floor(math.log10(abs(value)))

    @property
    def value(self) -> float:
        """The value in ``unit`` (that of the linked parameter if linked); setting it notifies observers."""
        if self.linked_to is not None:
            return self.linked_to.value
        return self._value

    @value.setter
    def value(self, value):
        if self.linked_to is not None:
            self.linked_to.value = value
            return
        v = _to_float(value, self.unit, "value", self.name)
        if not math.isfinite(v):
            raise ParameterError(f"Parameter '{self.name}': value must be finite, got {value!r}")
        old = self._value
        self._value = v
        if self._listeners and old != v:
            self._notify("value", old, v)

    def set_value_unchecked(self, v: float):
        """Set ``value`` from a float in ``unit`` with no checks (the fit's hot path).

        Parameters
        ----------
        v : float
            The new value in ``unit``.
        """
        if self.linked_to is not None:
            self.linked_to.set_value_unchecked(v)
            return
        old = self._value
        self._value = v
        if self._listeners and old != v:
            self._notify("value", old, v)

    @property
    def quantity(self) -> u.Quantity:
        """The value with its unit; set it with any convertible Quantity."""
        return u.Quantity(self.value, self.unit)

    @quantity.setter
    def quantity(self, q):
        self.value = u.Quantity(q).to_value(self.unit)

    @property
    def factor(self) -> float:
        """``value / scale``: the number the minimiser works on."""
        return self.value / self.scale

    @factor.setter
    def factor(self, f):
        self.value = float(f) * self.scale

    def autoscale(self):
        """Reset ``scale`` to the power of ten of the current value."""
        self.scale = self._auto_scale(self.value)

    # ----------------------------------------------------------------- bounds
    @property
    def min(self) -> float:
        """Lower bound in ``unit`` (NaN: none); setting it checks ``min <= max``."""
        return self._min

    @min.setter
    def min(self, v):
        new = _to_float(v, self.unit, "min", self.name)
        _check_order(self.name, new, self._max, self.unit)
        old, self._min = self._min, new
        if self._listeners:
            self._notify("min", old, self._min)

    @property
    def max(self) -> float:
        """Upper bound in ``unit`` (NaN: none); setting it checks ``min <= max``."""
        return self._max

    @max.setter
    def max(self, v):
        new = _to_float(v, self.unit, "max", self.name)
        _check_order(self.name, self._min, new, self.unit)
        old, self._max = self._max, new
        if self._listeners:
            self._notify("max", old, self._max)

    @property
    def factor_min(self) -> float:
        """Lower bound divided by ``scale``."""
        return self._min / self.scale

    @property
    def factor_max(self) -> float:
        """Upper bound divided by ``scale``."""
        return self._max / self.scale

    def check_bounds(self):
        """Raise `ParameterError` if the value is outside [min, max].

        Raises
        ------
        ParameterError
            Naming the parameter, its value and bounds.
        """
        v = self.value
        if (math.isfinite(self._min) and v < self._min) or (math.isfinite(self._max) and v > self._max):
            raise ParameterError(
                f"Parameter '{self.name}' = {v:g} {self.unit} is outside its bounds [{self._min:g}, {self._max:g}]"
            )

    @property
    def frozen(self) -> bool:
        """Whether the parameter is left out of fits."""
        return self._frozen

    @frozen.setter
    def frozen(self, v):
        old, self._frozen = self._frozen, bool(v)
        if self._listeners and old != self._frozen:
            self._notify("frozen", old, self._frozen)

    @property
    def error(self) -> float:
        """1σ error in ``unit`` (0 if unknown)."""
        return self._error

    @error.setter
    def error(self, v):
        old, self._error = self._error, _to_float(v, self.unit, "error", self.name)
        if self._listeners:
            self._notify("error", old, self._error)

    # ---------------------------------------------------------------- linking
    def link_to(self, other: Parameter | None):
        """Share ``other``'s value from now on (None unlinks, keeping the current value).

        A parameter linked to a parameter that is itself linked follows the
        root of the chain. If the units differ but are convertible, this
        parameter takes ``other``'s unit (bounds and error converted). The
        observers of this parameter are told of every change of the shared value.

        Parameters
        ----------
        other : Parameter or None
            The parameter to follow; None unlinks.

        Raises
        ------
        ParameterError
            If the link would make a cycle, or the units are not convertible.

        Examples
        --------
        >>> a, b = Parameter("index", 2.0), Parameter("index", 2.5)
        >>> b.link_to(a)
        >>> a.value = 3.0
        >>> b.value, b.linked_to is a
        (3.0, True)
        """
        if other is None:
            master = self.linked_to
            if master is not None:
                self._value = master.value
                if self._forward is not None:
                    master.unobserve(self._forward)
            self.linked_to = None
            self._forward = None
            return
        root = other
        while root.linked_to is not None:
            root = root.linked_to
        if root is self:
            raise ParameterError(f"Cannot link parameter '{self.name}' to itself "
                                 "(directly or through a chain of links)")
        if root.unit != self.unit:
            if not u.Unit(root.unit).is_equivalent(self.unit):
                raise ParameterError(f"Cannot link '{self.name}' [{self.unit}] to '{other.name}' [{other.unit}]")
            factor = float(u.Unit(self.unit).to(root.unit))
            self._min, self._max, self._error = self._min * factor, self._max * factor, self._error * factor
            self._value *= factor
            self.scale *= factor
            self.unit = root.unit
        if self.linked_to is not None:
            self.link_to(None)
        # parameters that followed self keep following it, hence the new root
        self.linked_to = root
        self._forward = self._make_forward()
        root.observe(self._forward)

    def _make_forward(self):
        ref = self

        def forward(param, attr, old, new):
            if attr == "value" and ref._listeners:
                ref._notify("value", old, new)

        return forward

    # -------------------------------------------------------------- observing
    def observe(self, callback: Callable):
        """Call ``callback(param, attribute, old, new)`` after each change.

        ``attribute`` is ``"value"``, ``"min"``, ``"max"``, ``"frozen"`` or ``"error"``.

        Parameters
        ----------
        callback : callable
            ``callback(param, attribute, old, new)``.

        Examples
        --------
        >>> p = Parameter("index", 2.0)
        >>> p.observe(lambda param, attribute, old, new: print(param.name, attribute, old, new))
        >>> p.value = 2.5
        index value 2.0 2.5
        """
        if self._listeners is None:
            self._listeners = []
        self._listeners.append(callback)

    def unobserve(self, callback: Callable):
        """Stop calling ``callback`` (no error if it was not observing).

        Parameters
        ----------
        callback : callable
            A callback given to `observe`.
        """
        if self._listeners and callback in self._listeners:
            self._listeners.remove(callback)

    def _notify(self, attr, old, new):
        for cb in list(self._listeners):
            cb(self, attr, old, new)

    # ----------------------------------------------------------------- export
    def to_dict(self) -> dict:
        """The parameter as a plain dict (for YAML).

        Returns
        -------
        dict
            ``name``, ``value``, ``unit`` (FITS string), and ``error``, ``min``,
            ``max``, ``frozen``, ``is_norm`` when set.
        """
        d = {"name": self.name, "value": self.value, "unit": self.unit.to_string("fits") if self.unit != u.one else ""}
        if self._error:
            d["error"] = self._error
        if math.isfinite(self._min):
            d["min"] = self._min
        if math.isfinite(self._max):
            d["max"] = self._max
        if self._frozen:
            d["frozen"] = True
        if self.is_norm:
            d["is_norm"] = True
        return d

    def copy(self) -> Parameter:
        """An unlinked, unobserved copy.

        Returns
        -------
        Parameter
            A new parameter with the same value, unit, bounds, flags, error and scale.
        """
        p = Parameter(self.name, self.value, self.unit, self._min, self._max, self._frozen, self._error,
                      self.scale, self.is_norm, self.interp, self.description)
        return p

    def __repr__(self):
        text = f"Parameter(name='{self.name}', value={self.value:.4g}, unit='{self.unit}'"
        if self._error:
            text += f", error={self._error:.2g}"
        if math.isfinite(self._min) or math.isfinite(self._max):
            text += f", min={self._min:g}, max={self._max:g}"
        if self._frozen:
            text += ", frozen=True"
        if self.linked_to is not None:
            text += f", linked_to='{self.linked_to.name}'"
        return text + ")"
