"""Spectral models built from other spectral models.

`CompoundSpectral` is what ``model_a + model_b`` / ``model_a * model_b``
return (also ``-`` and ``/``); `ScaleSpectral` multiplies a model by a free
``norm``; `AbsorbedSpectral` is ``spectrum × absorption`` with named parts.

Parameters of the parts keep their identity (changing ``compound.model1.index``
changes the part); in `CompoundSpectral.canonical_values` and `CompoundSpectral.get_parameter` they are named
by path, ``"model1.index"``, ``"model2.alpha_norm"``, so ``evaluate(energy,
**canonical_values())`` works exactly as for simple models.

Examples
--------
>>> from gwidgets.core.models import PowerLaw, PowerLawNorm
>>> m = PowerLaw(index=2) * PowerLawNorm(norm=2.0)
>>> float(m.dnde_values(1.0))
2e-12
>>> m.get_parameter("model2.norm").value
2.0
"""
from __future__ import annotations

import operator as _operator

import numpy as np

from .core import ParameterDef, get_model_class, parameter_to_dict, register
from .parameter import ParameterError
from .parameters import Parameters
from .spectral_base import SpectralModel

__all__ = ["CompoundSpectral", "ScaleSpectral", "AbsorbedSpectral"]

_OPERATORS = {"add": _operator.add, "sub": _operator.sub, "mul": _operator.mul, "truediv": _operator.truediv}


def _split(params: dict, prefixes) -> list[dict]:
    out = [dict() for _ in prefixes]
    index = {p: i for i, p in enumerate(prefixes)}
    for key, value in params.items():
        head, _, rest = key.partition(".")
        out[index[head]][rest] = value
    return out


class _Composite(SpectralModel):
    """A spectral model whose parameters are its own plus those of named parts."""

    _own_defs: tuple = ()

    def _parts(self) -> dict:  # prefix -> model
        raise NotImplementedError

    def _init_parameters(self, own=()):
        self.__dict__["parameters"] = Parameters(
            list(own) + [p for m in self._parts().values() for p in m.parameters])

    def canonical_values(self):
        """Own parameter values, then those of the parts under ``"<part>.<name>"``.

        Returns
        -------
        dict
            Path → float in canonical units.
        """
        out = {p.name: p.value for p in self._own_parameters()}  # own parameters are dimensionless
        for prefix, model in self._parts().items():
            for key, value in model.canonical_values().items():
                out[f"{prefix}.{key}"] = value
        return out

    def _own_parameters(self):
        return []

    def get_parameter(self, path):
        """Parameter by path (``"model1.index"``) or own name (``"norm"``).

        Parameters
        ----------
        path : str
            The path.

        Returns
        -------
        `~gwidgets.core.models.parameter.Parameter`
            The parameter.

        Raises
        ------
        ParameterError
            If there is no such parameter.
        """
        head, _, rest = path.partition(".")
        parts = self._parts()
        if head in parts and rest:
            return parts[head].get_parameter(rest)
        for p in self._own_parameters():
            if p.name == path:
                return p
        raise ParameterError(f"{type(self).__name__} has no parameter '{path}' "
                             f"(have: {', '.join(n for n, _ in self.parameter_paths())})")

    def parameter_paths(self):
        """Own parameters, then those of the parts under ``"<part>.<name>"``.

        Returns
        -------
        list of tuple
            ``(path, Parameter)`` pairs.
        """
        out = [(p.name, p) for p in self._own_parameters()]
        for prefix, model in self._parts().items():
            out += [(f"{prefix}.{name}", p) for name, p in model.parameter_paths()]
        return out

    def freeze(self):
        """Freeze all parameters, of the parts included."""
        self.parameters.freeze_all()

    def unfreeze(self):
        """Restore the default frozen state of all parameters, of the parts included."""
        for model in self._parts().values():
            model.unfreeze()
        for p, d in zip(self._own_parameters(), self._own_defs):
            p.frozen = d.frozen

    def breakpoints(self):
        """Kinks of all parts.

        Returns
        -------
        numpy.ndarray
            Sorted unique energies in TeV.
        """
        bps = [m.breakpoints() for m in self._parts().values()]
        return np.unique(np.concatenate(bps)) if bps else np.empty(0)

    def __repr__(self):
        parts = ", ".join(f"{k}={v!r}" for k, v in self._parts().items())
        own = ", ".join(f"{p.name}={p.value:.4g}" for p in self._own_parameters())
        return f"{type(self).__name__}({', '.join(x for x in (parts, own) if x)})"


@register
class CompoundSpectral(_Composite):
    """``operator(model1(E), model2(E))`` for operator in add, sub, mul, truediv.

    Parameters
    ----------
    model1, model2 : SpectralModel
        The operands (their parameters are shared, not copied).
    operator : {"add", "sub", "mul", "truediv"} or callable, optional
        The operation (a function of the `operator` module is accepted by name).

    Raises
    ------
    ParameterError
        If an operand is not a spectral model, or for an unknown operator.
    """

    tag = ("CompoundSpectralModel", "compound")

    def __init__(self, model1, model2, operator="mul"):
        if not isinstance(model1, SpectralModel) or not isinstance(model2, SpectralModel):
            raise ParameterError("CompoundSpectral combines two spectral models")
        name = operator if isinstance(operator, str) else getattr(operator, "__name__", "")
        if name not in _OPERATORS:
            raise ParameterError(f"Unknown operator {operator!r}; known: {', '.join(_OPERATORS)}")
        self.__dict__.update(model1=model1, model2=model2, operator=name, _op=_OPERATORS[name])
        self._init_parameters()

    def _parts(self):
        return {"model1": self.model1, "model2": self.model2}

    @property
    def value_unit(self):
        """Unit of the combined values (that of ``model1`` for add/sub; product or ratio otherwise)."""
        u1, u2 = self.model1.value_unit, self.model2.value_unit
        return {"add": u1, "sub": u1, "mul": u1 * u2, "truediv": u1 / u2}[self.operator]

    def evaluate(self, energy, **params):
        """The combination of the parts' ``evaluate`` at ``energy``.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        **params : float
            ``"model1.<name>"`` / ``"model2.<name>"`` values in canonical units.

        Returns
        -------
        numpy.ndarray
            Values in ``value_unit``.
        """
        p1, p2 = _split(params, ("model1", "model2"))
        return self._op(self.model1.evaluate(energy, **p1), self.model2.evaluate(energy, **p2))

    def integral_values(self, e_min_tev, e_max_tev):
        """∫ over [e_min, e_max]: the parts' integrals for add/sub, numerical otherwise.

        Parameters
        ----------
        e_min_tev, e_max_tev : array-like
            Energy bounds in TeV.

        Returns
        -------
        numpy.ndarray
            Integral in ``value_unit`` × TeV.
        """
        if self.operator in ("add", "sub"):
            return self._op(self.model1.integral_values(e_min_tev, e_max_tev),
                            self.model2.integral_values(e_min_tev, e_max_tev))
        return super().integral_values(e_min_tev, e_max_tev)

    def energy_flux_values(self, e_min_tev, e_max_tev):
        """∫ E dN/dE over [e_min, e_max]: the parts' energy fluxes for add/sub, numerical otherwise.

        Parameters
        ----------
        e_min_tev, e_max_tev : array-like
            Energy bounds in TeV.

        Returns
        -------
        numpy.ndarray
            Energy flux in ``value_unit`` × TeV2.
        """
        if self.operator in ("add", "sub"):
            return self._op(self.model1.energy_flux_values(e_min_tev, e_max_tev),
                            self.model2.energy_flux_values(e_min_tev, e_max_tev))
        return super().energy_flux_values(e_min_tev, e_max_tev)

    def copy(self):
        """A copy with copied parts.

        Returns
        -------
        CompoundSpectral
            The copy.
        """
        return type(self)(self.model1.copy(), self.model2.copy(), self.operator)

    def to_dict(self, full_output=False, links=None):
        """The model in gammapy's ``CompoundSpectralModel`` layout.

        ``full_output`` and ``links`` as in `Model.to_dict`.

        Returns
        -------
        dict
            ``type``, ``model1``, ``model2`` and ``operator``.
        """
        return {"type": "CompoundSpectralModel",
                "model1": self.model1.to_dict(full_output, links),
                "model2": self.model2.to_dict(full_output, links),
                "operator": self.operator}

    @classmethod
    def from_dict(cls, data):
        """Build from gammapy's ``CompoundSpectralModel`` layout.

        ``data``: the model entry, as in `Model.from_dict`.

        Returns
        -------
        CompoundSpectral
            The model.

        Raises
        ------
        ParameterError
            Without ``model1`` or ``model2``, or for an invalid part.
        """
        data = cls.unwrap_entry(data)
        try:
            d1, d2, op = data["model1"], data["model2"], data.get("operator", "mul")
        except KeyError as exc:
            raise ParameterError(f"CompoundSpectralModel: missing {exc}") from None
        m1 = get_model_class(d1.get("type"), "spectral").from_dict(d1)
        m2 = get_model_class(d2.get("type"), "spectral").from_dict(d2)
        return cls(m1, m2, op)


class AbsorbedSpectral(CompoundSpectral):
    """``spectral_model × absorption`` (written to YAML as a gammapy ``CompoundSpectralModel``).

    Parameters
    ----------
    spectral_model : SpectralModel
        The intrinsic spectrum.
    absorption : SpectralModel
        A norm model (e.g. EBL absorption).
    """

    def __init__(self, spectral_model, absorption):
        super().__init__(spectral_model, absorption, "mul")

    @property
    def spectral_model(self):
        """The intrinsic spectrum (``model1``)."""
        return self.model1

    @property
    def absorption(self):
        """The absorption (``model2``)."""
        return self.model2

    def copy(self):
        """A copy with copied parts.

        Returns
        -------
        AbsorbedSpectral
            The copy.
        """
        return AbsorbedSpectral(self.model1.copy(), self.model2.copy())


@register
class ScaleSpectral(_Composite):
    """``norm × model(E)``: a free scale on any spectral model (e.g. a cross-calibration factor).

    Parameters
    ----------
    model : SpectralModel
        The wrapped model (its parameters are shared).
    norm : float, str, `~astropy.units.Quantity` or Parameter, optional
        The scale (dimensionless, default 1).

    Raises
    ------
    ParameterError
        If ``model`` is not a spectral model.
    """

    tag = ("ScaleSpectralModel", "scale")
    _own_defs = (ParameterDef("norm", 1.0, "", is_norm=True, interp="log"),)

    def __init__(self, model, norm=None):
        if not isinstance(model, SpectralModel):
            raise ParameterError("ScaleSpectral wraps a spectral model")
        self.__dict__["model"] = model
        self.__dict__["_norm"] = self._own_defs[0].make(norm)
        self._init_parameters([self._norm])

    def _parts(self):
        return {"model": self.model}

    def _own_parameters(self):
        return [self._norm]

    @property
    def value_unit(self):
        """Unit of the wrapped model's values."""
        return self.model.value_unit

    def evaluate(self, energy, norm, **params):
        """``norm`` × the wrapped model's ``evaluate``.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        norm : float
            The scale.
        **params : float
            ``"model.<name>"`` values in canonical units.

        Returns
        -------
        numpy.ndarray
            Values in ``value_unit``.
        """
        (p,) = _split(params, ("model",))
        return norm * self.model.evaluate(energy, **p)

    def integral_values(self, e_min_tev, e_max_tev):
        """``norm`` × the wrapped model's integral.

        Parameters
        ----------
        e_min_tev, e_max_tev : array-like
            Energy bounds in TeV.

        Returns
        -------
        numpy.ndarray
            Integral in ``value_unit`` × TeV.
        """
        return self._norm.value * self.model.integral_values(e_min_tev, e_max_tev)

    def energy_flux_values(self, e_min_tev, e_max_tev):
        """``norm`` × the wrapped model's energy flux.

        Parameters
        ----------
        e_min_tev, e_max_tev : array-like
            Energy bounds in TeV.

        Returns
        -------
        numpy.ndarray
            Energy flux in ``value_unit`` × TeV2.
        """
        return self._norm.value * self.model.energy_flux_values(e_min_tev, e_max_tev)

    def copy(self):
        """A copy with a copied model and norm.

        Returns
        -------
        ScaleSpectral
            The copy.
        """
        return ScaleSpectral(self.model.copy(), norm=self._norm.copy())

    def to_dict(self, full_output=False, links=None):
        """The model in gammapy's ``ScaleSpectralModel`` layout.

        ``full_output`` and ``links`` as in `Model.to_dict`.

        Returns
        -------
        dict
            ``type``, ``model`` and ``parameters`` (the norm).
        """
        links = links or {}
        return {"type": "ScaleSpectralModel", "model": self.model.to_dict(full_output, links),
                "parameters": [parameter_to_dict(self._norm, self._own_defs[0], full_output,
                                                 links.get(id(self._norm)))]}

    @classmethod
    def from_dict(cls, data):
        """Build from gammapy's ``ScaleSpectralModel`` layout.

        ``data``: the model entry, as in `Model.from_dict`.

        Returns
        -------
        ScaleSpectral
            The model.

        Raises
        ------
        ParameterError
            Without ``model``, or for an invalid entry.
        """
        data = cls.unwrap_entry(data)
        if "model" not in data:
            raise ParameterError("ScaleSpectralModel: missing the wrapped 'model'")
        inner = data["model"]
        model = get_model_class(inner.get("type"), "spectral").from_dict(inner)
        pars = cls._parameters_from_dict(data, cls._own_defs)
        return cls(model, norm=pars.get("norm"))
