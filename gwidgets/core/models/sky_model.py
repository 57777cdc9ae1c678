"""Sky models (spectral × spatial × temporal, with a name) and the FoV background model.

A parameter inside a component is addressed by a path relative to it:
``"spectral.index"``, ``"spatial.sigma"``, ``"spectral.model1.amplitude"``
(compound models) or just ``"index"`` when that name is unique in the
component; `~gwidgets.core.models.models.Models` adds the component name in front (``"crab.spectral.index"``).

Examples
--------
>>> from gwidgets.core.models import SkyModel, PowerLaw, PointSpatialModel
>>> crab = SkyModel(PowerLaw(index=2.6), PointSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg"), name="crab")
>>> crab.get_parameter("spectral.index").value
2.6
>>> crab.parameters.names
['index', 'amplitude', 'reference', 'lon_0', 'lat_0']
"""
from __future__ import annotations

import uuid
from typing import ClassVar

from .core import get_model_class, register
from .parameter import ParameterError
from .parameters import Parameters
from .spatial import SpatialModel
from .spectral import PowerLawNorm
from .spectral_base import SpectralModel
from .temporal import TemporalModel

__all__ = ["SkyModel", "FoVBackgroundModel"]

_KINDS = ("spectral", "spatial", "temporal")
_CLASSES = {"spectral": SpectralModel, "spatial": SpatialModel, "temporal": TemporalModel}


def _make_name() -> str:
    return uuid.uuid4().hex[:8]


def _component_from_dict(kind, data):
    if data is None:
        return None
    if not isinstance(data, dict) or "type" not in data:
        raise ParameterError(f"The {kind} model entry must be a mapping with a 'type'")
    return get_model_class(data["type"], kind).from_dict(data)


class SkyComponent:
    """What sky models and background models share: named parts, parameters, paths."""

    kind: ClassVar[str] = "component"
    tag: ClassVar[tuple[str, ...]] = ()

    def _parts(self) -> dict:
        return {k: getattr(self, f"_{k}_model") for k in _KINDS if getattr(self, f"_{k}_model", None) is not None}

    def _set_part(self, kind, model, required=False):
        if model is None:
            if required:
                raise ParameterError(f"{type(self).__name__} '{getattr(self, 'name', '')}' needs a {kind} model")
        elif not isinstance(model, _CLASSES[kind]):
            raise ParameterError(f"{type(self).__name__}: {kind}_model must be a {_CLASSES[kind].__name__}, "
                                 f"got {type(model).__name__}")
        setattr(self, f"_{kind}_model", model)
        self._parameters = None  # rebuilt on next access

    @property
    def spectral_model(self):
        """The spectral model (required; setting it checks the type)."""
        return self._spectral_model

    @spectral_model.setter
    def spectral_model(self, model):
        self._set_part("spectral", model, required=True)

    @property
    def spatial_model(self):
        """The spatial model, or None."""
        return self._spatial_model

    @spatial_model.setter
    def spatial_model(self, model):
        self._set_part("spatial", model)

    @property
    def parameters(self) -> Parameters:
        """All parameters of the components (spectral, then spatial, then temporal).

        The same `Parameters` object is returned until a component is replaced,
        so a covariance attached to it (``set_covariance_errors``) is kept.
        """
        if getattr(self, "_parameters", None) is None:
            self._parameters = Parameters([p for m in self._parts().values() for p in m.parameters])
        return self._parameters

    def parameter_paths(self) -> list[tuple[str, object]]:
        """Paths relative to this model, e.g. ``"spectral.index"``, with their parameters.

        Returns
        -------
        list of tuple
            ``("<component>.<name>", Parameter)`` for every parameter.
        """
        return [(f"{kind}.{name}", p) for kind, m in self._parts().items() for name, p in m.parameter_paths()]

    def get_parameter(self, path: str):
        """Parameter by path: ``"spectral.index"``, or a name unique in this model (``"index"``).

        Parameters
        ----------
        path : str
            ``"<component>.<name>"`` or a parameter name unique in this model.

        Returns
        -------
        `~gwidgets.core.models.parameter.Parameter`
            The parameter.

        Raises
        ------
        ParameterError
            If the path is unknown or ambiguous (the message lists the paths).
        """
        head, _, rest = path.partition(".")
        parts = self._parts()
        if head in parts and rest:
            return parts[head].get_parameter(rest)
        matches = [p for name, p in self.parameter_paths() if name.split(".")[-1] == path or name == path]
        if len(matches) == 1:
            return matches[0]
        have = ", ".join(n for n, _ in self.parameter_paths())
        what = "ambiguous" if matches else "unknown"
        raise ParameterError(f"Parameter '{path}' is {what} in model '{self.name}' (paths: {have})")

    def freeze(self, kind: str | None = None):
        """Freeze all parameters (or those of one component: "spectral", "spatial", "temporal").

        Parameters
        ----------
        kind : {"spectral", "spatial", "temporal"}, optional
            Component to freeze (default all).
        """
        for k, m in self._parts().items():
            if kind in (None, k):
                m.freeze()

    def unfreeze(self, kind: str | None = None):
        """Restore the default frozen state (``reference`` etc. stay frozen).

        Parameters
        ----------
        kind : {"spectral", "spatial", "temporal"}, optional
            Component to unfreeze (default all).
        """
        for k, m in self._parts().items():
            if kind in (None, k):
                m.unfreeze()

    @property
    def frozen(self) -> bool:
        """True if every parameter is frozen."""
        return all(p.frozen for p in self.parameters)

    def _repr_html_(self):
        return f"<p><b>{type(self).__name__}</b> '{self.name}'</p>" + self.parameters.to_table()._repr_html_()


@register
class SkyModel(SkyComponent):
    """A source: spectral model (required), spatial and temporal models (optional), a name.

    Parameters
    ----------
    spectral_model : SpectralModel
        Spectrum, dN/dE.
    spatial_model : SpatialModel, optional
        Morphology (None: a spectrum-only model, as in 1D analyses).
    temporal_model : TemporalModel, optional
        Light curve.
    name : str, optional
        Unique within a `~gwidgets.core.models.models.Models`; a random 8-character name by default (as gammapy).
    datasets_names : list of str, optional
        Datasets the model applies to (None: all).
    apply_irf : dict, optional
        gammapy's ``{"exposure": True, "psf": True, "edisp": True}`` flags.

    Raises
    ------
    ParameterError
        If a component is missing (spectral) or of the wrong kind.
    """

    tag = ("SkyModel", "sky-model")
    _APPLY_IRF_DEFAULT = {"exposure": True, "psf": True, "edisp": True}

    def __init__(self, spectral_model, spatial_model=None, temporal_model=None, name=None,
                 datasets_names=None, apply_irf=None):
        self.name = str(name) if name is not None else _make_name()
        self.spectral_model = spectral_model
        self.spatial_model = spatial_model
        self.temporal_model = temporal_model
        self.datasets_names = None if datasets_names is None else list(datasets_names)
        self.apply_irf = dict(self._APPLY_IRF_DEFAULT, **(apply_irf or {}))

    @property
    def temporal_model(self):
        """The temporal model, or None."""
        return self._temporal_model

    @temporal_model.setter
    def temporal_model(self, model):
        self._set_part("temporal", model)

    @property
    def position(self):
        """Position of the spatial model (None without one)."""
        return None if self.spatial_model is None else self.spatial_model.position

    def evaluate(self, energy_tev, lon=None, lat=None, time=None):
        """dN/dE [cm-2 s-1 TeV-1] × spatial [sr-1] × temporal norm, on floats (TeV, deg, MJD).

        Parameters
        ----------
        energy_tev : array-like
            Energies in TeV.
        lon, lat : array-like, optional
            Sky position in deg (in the spatial model's frame); ignored if None.
        time : array-like, optional
            Times in MJD; ignored if None.

        Returns
        -------
        numpy.ndarray
            Differential flux in cm-2 s-1 TeV-1 (× sr-1 with a position), broadcast
            over the arguments.
        """
        value = self.spectral_model.dnde_values(energy_tev)
        if self.spatial_model is not None and lon is not None:
            value = value * self.spatial_model.values(lon, lat)
        if self.temporal_model is not None and time is not None:
            value = value * self.temporal_model.values(time)
        return value

    def copy(self, name=None, **kwargs):
        """A copy with copied components; ``kwargs`` replace components.

        Parameters
        ----------
        name : str, optional
            Name of the copy (default the same name).
        **kwargs
            ``spectral_model``, ``spatial_model`` or ``temporal_model``.

        Returns
        -------
        SkyModel
            The copy.
        """
        parts = {f"{k}_model": m.copy() for k, m in self._parts().items()}
        parts.update(kwargs)
        return SkyModel(name=name if name is not None else self.name, datasets_names=self.datasets_names,
                        apply_irf=self.apply_irf, **parts)

    def to_dict(self, full_output=False, links=None) -> dict:
        """The model in gammapy's YAML layout.

        ``full_output`` and ``links`` as in `Model.to_dict`.

        Returns
        -------
        dict
            ``name``, ``type``, the components and non-default ``apply_irf`` / ``datasets_names``.
        """
        data = {"name": self.name, "type": "SkyModel"}
        if self.apply_irf != self._APPLY_IRF_DEFAULT:
            data["apply_irf"] = dict(self.apply_irf)
        if self.datasets_names is not None:
            data["datasets_names"] = list(self.datasets_names)
        for kind, m in self._parts().items():
            data[kind] = m.to_dict(full_output, links)
        return data

    @classmethod
    def from_dict(cls, data: dict):
        """Build from gammapy's YAML layout (see `to_dict`).

        ``data``: the model entry, as in `Model.from_dict`.

        Returns
        -------
        SkyModel
            The model.

        Raises
        ------
        ParameterError
            Naming the model, for a missing spectral model or an invalid component.
        """
        name = data.get("name")
        try:
            parts = {f"{k}_model": _component_from_dict(k, data.get(k)) for k in _KINDS}
        except ParameterError as exc:
            raise ParameterError(f"Model '{name}': {exc}") from None
        if parts["spectral_model"] is None:
            raise ParameterError(f"Model '{name}' has no spectral model")
        return cls(name=name, datasets_names=data.get("datasets_names"), apply_irf=data.get("apply_irf"), **parts)

    def __repr__(self):
        parts = ", ".join(f"{k}={m!r}" for k, m in self._parts().items())
        return f"SkyModel(name='{self.name}', {parts})"


@register
class FoVBackgroundModel(SkyComponent):
    """Corrections to a dataset's background: a norm spectral model and optionally a spatial model.

    The default spectral model is `PowerLawNorm` (``norm``, ``tilt``,
    ``reference``); its parameters are also attributes (``bkg.norm``).
    The name defaults to ``"<dataset_name>-bkg"`` (as gammapy).

    Parameters
    ----------
    dataset_name : str
        The dataset whose background it corrects.
    spectral_model : SpectralModel, optional
        A norm (dimensionless) spectral model.
    spatial_model : SpatialModel, optional
        Spatial correction.
    name : str, optional
        Model name.

    Raises
    ------
    ParameterError
        If the spectral model is not a norm model.

    Examples
    --------
    >>> bkg = FoVBackgroundModel("obs-1")
    >>> bkg.name, bkg.norm.value, bkg.tilt.frozen
    ('obs-1-bkg', 1.0, True)
    """

    tag = ("FoVBackgroundModel", "fov-bkg")

    def __init__(self, dataset_name, spectral_model=None, spatial_model=None, name=None):
        self.datasets_names = [str(dataset_name)]
        self.name = str(name) if name is not None else f"{dataset_name}-bkg"
        spectral_model = PowerLawNorm() if spectral_model is None else spectral_model
        self.spectral_model = spectral_model
        if not spectral_model.is_norm_spectral_model:
            raise ParameterError(f"FoVBackgroundModel '{self.name}' needs a norm spectral model "
                                 f"(dimensionless), got {type(spectral_model).__name__}")
        self.spatial_model = spatial_model

    @property
    def dataset_name(self) -> str:
        """Name of the dataset the model belongs to."""
        return self.datasets_names[0]

    def __getattr__(self, name):
        # bkg.norm / bkg.tilt -> the spectral parameter
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._spectral_model.parameters[name]
        except (ParameterError, AttributeError):
            raise AttributeError(f"'FoVBackgroundModel' has no attribute or parameter '{name}'") from None

    def evaluate(self, energy_tev, lon=None, lat=None):
        """Correction factor of the background (× spatial model values if any).

        Parameters
        ----------
        energy_tev : array-like
            Energies in TeV.
        lon, lat : array-like, optional
            Sky position in deg; ignored if None or without a spatial model.

        Returns
        -------
        numpy.ndarray
            The (dimensionless) norm values, broadcast over the arguments.
        """
        value = self.spectral_model.dnde_values(energy_tev)
        if self.spatial_model is not None and lon is not None:
            value = value * self.spatial_model.values(lon, lat)
        return value

    def copy(self, name=None, **kwargs):
        """A copy with copied components; ``kwargs`` replace components.

        Parameters
        ----------
        name : str, optional
            Name of the copy (default the same name).
        **kwargs
            ``spectral_model`` or ``spatial_model``.

        Returns
        -------
        FoVBackgroundModel
            The copy (same dataset).
        """
        parts = {f"{k}_model": m.copy() for k, m in self._parts().items()}
        parts.update(kwargs)
        return FoVBackgroundModel(self.dataset_name, name=name if name is not None else self.name, **parts)

    def to_dict(self, full_output=False, links=None) -> dict:
        """The model in gammapy's YAML layout.

        ``full_output`` and ``links`` as in `Model.to_dict`.

        Returns
        -------
        dict
            ``type``, ``datasets_names``, the components and a non-default ``name``.
        """
        data = {"type": "FoVBackgroundModel", "datasets_names": list(self.datasets_names)}
        if self.name != f"{self.dataset_name}-bkg":
            data["name"] = self.name
        for kind, m in self._parts().items():
            data[kind] = m.to_dict(full_output, links)
        return data

    @classmethod
    def from_dict(cls, data: dict):
        """Build from gammapy's YAML layout (see `to_dict`).

        ``data``: the model entry, as in `Model.from_dict`.

        Returns
        -------
        FoVBackgroundModel
            The model.

        Raises
        ------
        ParameterError
            Unless exactly one dataset name is given, or for an invalid component.
        """
        names = data.get("datasets_names") or []
        if len(names) != 1:
            raise ParameterError(f"FoVBackgroundModel needs exactly one dataset name, got {names!r}")
        return cls(names[0], spectral_model=_component_from_dict("spectral", data.get("spectral")),
                   spatial_model=_component_from_dict("spatial", data.get("spatial")), name=data.get("name"))

    def __repr__(self):
        pars = ", ".join(f"{p.name}={p.value:.4g}" for p in self.parameters)
        return f"FoVBackgroundModel(name='{self.name}', {pars})"
