"""One settings object per reduction pipeline: every default of the 1D and the 3D reduction, written once.

`SpectrumReductionSettings` (1D ON/OFF spectra, reflected regions; here) and
`~gwidgets.core.reduction.map_settings.MapReductionSettings` (3D cubes) hold the energy axes, the safe
mask, the background method, the PSF containment correction, the stacking, ... The three front doors onto
the reduction build their makers from them:

* the session (widgets): its ``spectrum_settings`` graph input is a `SpectrumReductionSettings`;
* the config-driven `~gwidgets.core.analysis.Analysis`: `SpectrumReductionSettings.from_config` reads the
  ``datasets`` section, and a key the config leaves out takes the settings' default;
* the exported script: `SpectrumReductionSettings.to_python` writes every value out.

So one change of a default here shows in all three.

Examples
--------
>>> import astropy.units as u
>>> settings = SpectrumReductionSettings()
>>> settings.energy_axis.nbin, settings.containment_correction, settings.stack
(30, 'auto', True)
>>> wide = settings.replace(e_min=0.3, nbin=20)
>>> round(float(wide.energy_axis.edges[0].to_value("TeV")), 6), wide.energy_axis.nbin
(0.3, 20)
>>> SpectrumReductionSettings.from_config({"safe_mask": {"methods": ["aeff-max"], "aeff_percent": 5}}).safe_mask
{'methods': ['aeff-max'], 'aeff_percent': 5}
>>> SpectrumReductionSettings(background="ring")
Traceback (most recent call last):
...
gwidgets.core.reduction.settings.ReductionSettingsError: 'background' = 'ring' is not available for a 1d analysis; \
use 'reflected'
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np

from ...errors import GwidgetsError

__all__ = ["SpectrumReductionSettings", "ReductionSettingsError", "energy_axis",
           "axis_spec", "axis_code", "DEFAULT_ENERGY", "DEFAULT_ENERGY_TRUE", "DEFAULT_SAFE_MASK"]

#: the default reconstructed-energy binning of every pipeline (config form: min, max, nbins)
DEFAULT_ENERGY = {"min": 0.1 * u.TeV, "max": 100 * u.TeV, "nbins": 30}
#: the default true-energy binning: wider than the reconstructed one, so that the energy dispersion
#: can move events into every reconstructed bin
DEFAULT_ENERGY_TRUE = {"min": 0.05 * u.TeV, "max": 150 * u.TeV, "nbins": 45}
#: the default safe energy range: the IRFs' LO/HI_THRES (see `SafeMaskMaker` for the other methods)
DEFAULT_SAFE_MASK = {"methods": ["aeff-default"]}

#: the session's flat keys (energies in TeV) → (axis field, config key)
_FLAT = {"e_min": ("energy_axis", "min"), "e_max": ("energy_axis", "max"), "nbin": ("energy_axis", "nbins"),
         "e_true_min": ("energy_axis_true", "min"), "e_true_max": ("energy_axis_true", "max"),
         "nbin_true": ("energy_axis_true", "nbins")}


class ReductionSettingsError(GwidgetsError, ValueError):
    """A reduction setting that cannot be used (named, with the allowed values)."""


def energy_axis(spec: dict | None = None, name: str = "energy", key: str = "", default: dict | None = None):
    """A `MapAxis` from a config energy-axis section.

    Parameters
    ----------
    spec : dict, optional
        ``edges`` (Quantity), or ``min`` / ``max`` (Quantity) / ``nbins`` (int) / ``per_decade`` (bool);
        keys left out take ``default``.
    name : str
        ``"energy"`` or ``"energy_true"``.
    key : str
        The config key, named in errors.
    default : dict, optional
        The defaults (`DEFAULT_ENERGY_TRUE` for ``energy_true``, else `DEFAULT_ENERGY`).

    Returns
    -------
    MapAxis
        The axis, named ``name``.

    Raises
    ------
    ReductionSettingsError
        Edges not increasing, ``max <= min`` or ``nbins < 1``, naming ``key``.

    Examples
    --------
    >>> import astropy.units as u
    >>> energy_axis({"min": 1 * u.TeV, "max": 10 * u.TeV, "nbins": 2}).edges
    <Quantity [ 1.        ,  3.16227766, 10.        ] TeV>
    >>> energy_axis({"nbins": 0}, key="datasets.geom.axes.energy")
    Traceback (most recent call last):
    ...
    gwidgets.core.reduction.settings.ReductionSettingsError: 'datasets.geom.axes.energy.nbins' must be at least 1
    """
    from ..geom import MapAxis

    if default is None:
        default = DEFAULT_ENERGY_TRUE if name == "energy_true" else DEFAULT_ENERGY
    spec = dict(default, **(spec or {}))
    if spec.get("edges") is not None:
        edges = u.Quantity(spec["edges"]).to("TeV")
        if len(edges) < 2 or np.any(np.diff(edges.value) <= 0):
            raise ReductionSettingsError(f"'{key}.edges' must be at least two increasing energies")
        return MapAxis.from_energy_edges(edges, name=name)
    lo, hi = u.Quantity(spec["min"], u.TeV), u.Quantity(spec["max"], u.TeV)
    if not hi > lo:
        raise ReductionSettingsError(f"'{key}': max ({hi}) must be larger than min ({lo})")
    if int(spec["nbins"]) < 1:
        raise ReductionSettingsError(f"'{key}.nbins' must be at least 1")
    return MapAxis.from_energy_bounds(lo, hi, int(spec["nbins"]), per_decade=bool(spec.get("per_decade", False)),
                                      name=name)


def _log_uniform(edges) -> bool:
    return len(edges) > 1 and np.allclose(edges, np.geomspace(edges[0], edges[-1], len(edges)), rtol=1e-10, atol=0)


def axis_spec(axis) -> dict:
    """The config section of an energy axis: ``{min, max, nbins}`` when log-uniform, else ``{edges}``.

    Parameters
    ----------
    axis : MapAxis
        An energy axis.

    Returns
    -------
    dict
        Quantities in TeV (and ``nbins`` an int), the inverse of `energy_axis`.

    Examples
    --------
    >>> spec = axis_spec(energy_axis({"min": 1 * u.TeV, "max": 10 * u.TeV, "nbins": 4}))
    >>> spec["nbins"], spec["max"]
    (4, <Quantity 10. TeV>)
    """
    edges = axis.edges.to_value("TeV")
    if _log_uniform(edges):
        return {"min": float(edges[0]) * u.TeV, "max": float(edges[-1]) * u.TeV, "nbins": int(len(edges) - 1)}
    return {"edges": [float(e) for e in edges] * u.TeV}


def axis_code(axis) -> str:
    """Python source that re-creates an energy axis (``MapAxis.from_energy_bounds`` when log-uniform).

    Parameters
    ----------
    axis : MapAxis
        An energy axis.

    Returns
    -------
    str
        One expression using ``MapAxis`` and ``u`` (astropy.units).

    Examples
    --------
    >>> axis_code(energy_axis({"min": 1 * u.TeV, "max": 10 * u.TeV, "nbins": 4}))
    'MapAxis.from_energy_bounds(1.0 * u.TeV, 10.0 * u.TeV, 4, name="energy")'
    """
    spec = axis_spec(axis)
    if "edges" in spec:
        edges = [float(e) for e in spec["edges"].to_value("TeV")]
        return f'MapAxis.from_energy_edges({edges!r} * u.TeV, name="{axis.name}")'
    lo, hi = float(spec["min"].to_value("TeV")), float(spec["max"].to_value("TeV"))
    return f'MapAxis.from_energy_bounds({lo!r} * u.TeV, {hi!r} * u.TeV, {spec["nbins"]}, name="{axis.name}")'


def _default_axis(name):
    return lambda: energy_axis(None, name)


def _plain(value):
    """Settings values as the config holds them (tuples → lists, for a YAML round trip)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class SpectrumReductionSettings:
    """Every setting (and default) of the 1D ON/OFF reduction, in one place.

    Parameters
    ----------
    energy_axis : MapAxis
        Reconstructed energy binning (default: `DEFAULT_ENERGY`, 0.1–100 TeV, 30 bins).
    energy_axis_true : MapAxis
        True energy binning (default: `DEFAULT_ENERGY_TRUE`, 0.05–150 TeV, 45 bins).
    containment_correction : {"auto", True, False}
        PSF containment correction of the exposure (``"auto"``: for full-enclosure IRFs, never for
        point-like ones; see `gwidgets.core.reduction.containment`).
    safe_mask : dict
        The safe energy range, as the config's ``safe_mask`` section: ``methods`` (default
        ``["aeff-default"]``: the IRF's LO/HI_THRES) and optionally ``aeff_percent``, ``bias_percent``,
        ``e_min``, ``e_max`` (see `SafeMaskMaker`); default `DEFAULT_SAFE_MASK`. ``{"methods": []}`` with no
        limits: every bin is safe.
    background : str
        The background method; ``"reflected"`` (the one 1D method).
    max_regions, min_regions : int, optional
        At most / at least this many reflected OFF regions (None: the finder's defaults).
    stack : bool
        Stack the observations into one dataset for the fit (default True: a joint WStat fit of many
        low-count runs biases the spectral curvature; per-run datasets stay for light curves).

    Examples
    --------
    >>> SpectrumReductionSettings(stack=False).stack
    False
    """

    energy_axis: object = field(default_factory=_default_axis("energy"))
    energy_axis_true: object = field(default_factory=_default_axis("energy_true"))
    containment_correction: object = "auto"
    safe_mask: dict = field(default_factory=lambda: copy.deepcopy(DEFAULT_SAFE_MASK))
    background: str = "reflected"
    max_regions: int | None = None
    min_regions: int | None = None
    stack: bool = True

    def __post_init__(self):
        from ..geom import MapAxis
        from .containment import resolve_mode

        for name, axis_name in (("energy_axis", "energy"), ("energy_axis_true", "energy_true")):
            axis = getattr(self, name)
            if isinstance(axis, u.Quantity):
                axis = MapAxis.from_energy_edges(axis, name=axis_name)
            if not isinstance(axis, MapAxis):
                raise ReductionSettingsError(f"'{name}' must be a MapAxis or a Quantity of edges, "
                                             f"not {type(axis).__name__}")
            if axis.name != axis_name:
                axis = axis.copy(name=axis_name)
            object.__setattr__(self, name, axis)
        try:
            resolve_mode(self.containment_correction)
        except GwidgetsError as exc:
            raise ReductionSettingsError(f"'containment_correction': {exc}") from None
        if self.background != "reflected":
            raise ReductionSettingsError(f"'background' = {self.background!r} is not available for a 1d analysis; "
                                         "use 'reflected'")
        if not isinstance(self.safe_mask, dict):
            raise ReductionSettingsError(f"'safe_mask' must be a dict like {{'methods': ['aeff-default']}}, "
                                         f"not {type(self.safe_mask).__name__}")
        object.__setattr__(self, "safe_mask", _plain(dict(self.safe_mask)))
        try:
            self.safe_mask_maker()
        except GwidgetsError as exc:
            raise ReductionSettingsError(f"'safe_mask': {exc}") from None

    # ------------------------------------------------------------------ derived
    def replace(self, **changes) -> SpectrumReductionSettings:
        """A copy with ``changes``: any field, or the session's flat binning keys (energies in TeV).

        Parameters
        ----------
        **changes
            Fields (``stack=False``, ``safe_mask={...}``, ...) and/or ``e_min``, ``e_max``, ``nbin``,
            ``e_true_min``, ``e_true_max``, ``nbin_true``.

        Returns
        -------
        SpectrumReductionSettings
            The new settings (this one is unchanged).

        Raises
        ------
        ReductionSettingsError
            An unknown key, naming the known ones.
        """
        flat = {k: changes.pop(k) for k in list(changes) if k in _FLAT}
        fields = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - fields
        if unknown:
            raise ReductionSettingsError(f"Unknown spectrum setting(s) {sorted(unknown)}; known: "
                                         f"{sorted(fields | set(_FLAT))}")
        for axis_field in ("energy_axis", "energy_axis_true"):
            spec = {ck: flat[k] for k, (f, ck) in _FLAT.items() if f == axis_field and k in flat}
            if spec:
                base = axis_spec(changes.get(axis_field, getattr(self, axis_field)))
                if "edges" in base:
                    e = base.pop("edges")
                    base = {"min": e[0], "max": e[-1], "nbins": len(e) - 1}
                spec = {k: (u.Quantity(v, u.TeV) if k != "nbins" else int(v)) for k, v in spec.items()}
                name = "energy_true" if axis_field.endswith("true") else "energy"
                changes[axis_field] = energy_axis(dict(base, **spec), name, axis_field)
        return dataclasses.replace(self, **changes)

    def binning(self) -> dict:
        """The session's flat view: e_min, e_max, nbin, e_true_min, e_true_max, nbin_true (TeV), containment_correction.

        Returns
        -------
        dict
            Plain numbers (edges of an irregular axis give its first / last edge and bin count).
        """
        out = {}
        for k, (f, _) in _FLAT.items():
            edges = getattr(self, f).edges.to_value("TeV")
            if k.startswith("nbin"):
                out[k] = int(len(edges) - 1)
            else:
                out[k] = float(edges[0] if k.endswith("min") else edges[-1])
        out["containment_correction"] = self.containment_correction
        return out

    def safe_mask_maker(self):
        """The `SafeMaskMaker` of ``safe_mask`` (None when it has no method and no limit: all bins safe).

        Returns
        -------
        SafeMaskMaker or None
        """
        from .safe_mask import SafeMaskMaker

        spec = dict(self.safe_mask)
        methods = tuple(spec.pop("methods", ("aeff-default",)))
        kwargs = {k: spec[k] for k in ("aeff_percent", "bias_percent", "e_min", "e_max") if k in spec}
        if not methods and not kwargs:
            return None
        return SafeMaskMaker(methods=methods, **kwargs)

    def finder(self):
        """The OFF-region finder (`ReflectedRegionsFinder` with ``max_regions`` / ``min_regions``).

        Returns
        -------
        ReflectedRegionsFinder
        """
        from .reflected import ReflectedRegionsFinder

        kwargs = {}
        if self.max_regions is not None:
            kwargs["max_region_number"] = self.max_regions
        if self.min_regions is not None:
            kwargs["min_region_number"] = self.min_regions
        return ReflectedRegionsFinder(**kwargs)

    def maker(self, on_region, exclusion_mask=None, release_memory: bool = True):
        """The `SpectrumDatasetMaker` of these settings for ``on_region``.

        Parameters
        ----------
        on_region : regions.SkyRegion
            The ON region.
        exclusion_mask : Map, optional
            True = usable sky for OFF regions.
        release_memory : bool
            Drop each observation's events and IRFs from its cache once reduced.

        Returns
        -------
        SpectrumDatasetMaker
        """
        from .spectrum_maker import SpectrumDatasetMaker

        finder = None if on_region.__class__.__name__ == "PointSkyRegion" else self.finder()
        return SpectrumDatasetMaker(on_region, self.energy_axis, self.energy_axis_true,
                                    safe_mask=self.safe_mask_maker(), exclusion_mask=exclusion_mask, finder=finder,
                                    release_memory=release_memory,
                                    containment_correction=self.containment_correction)

    # ----------------------------------------------------------------- config
    @classmethod
    def from_config(cls, section: dict | None, key: str = "datasets") -> SpectrumReductionSettings:
        """The settings a config's ``datasets`` section describes; keys it leaves out take the defaults.

        Parameters
        ----------
        section : dict
            The ``datasets`` section (``geom.axes``, ``safe_mask``, ``background``, ``containment_correction``,
            ``stack``).
        key : str
            Its key in the config, named in errors.

        Returns
        -------
        SpectrumReductionSettings

        Raises
        ------
        ReductionSettingsError
            A value that cannot be used, naming its config key.
        """
        section = section or {}
        axes = section.get("geom", {}).get("axes", {})
        kwargs = {"energy_axis": energy_axis(axes.get("energy"), "energy", f"{key}.geom.axes.energy"),
                  "energy_axis_true": energy_axis(axes.get("energy_true"), "energy_true",
                                                  f"{key}.geom.axes.energy_true")}
        bkg = section.get("background", {}) or {}
        method = bkg.get("method", "reflected")
        if method != "reflected":
            raise ReductionSettingsError(f"'{key}.background.method' = {method!r} is not available for a 1d "
                                         "analysis; use 'reflected'")
        for ck, sk in (("max_regions", "max_regions"), ("min_regions", "min_regions")):
            if ck in bkg:
                kwargs[sk] = int(bkg[ck])
        for k in ("safe_mask", "containment_correction", "stack"):
            if k in section:
                kwargs[k] = section[k]
        try:
            return cls(**kwargs)
        except ReductionSettingsError as exc:  # "'safe_mask': ..." -> "'datasets.safe_mask': ..."
            msg = str(exc)
            raise ReductionSettingsError(f"'{key}.{msg[1:]}" if msg.startswith("'") else f"'{key}': {msg}") from None

    def to_config(self) -> dict:
        """The ``datasets`` section (1D) of these settings: every value written out.

        Returns
        -------
        dict
            ``type``, ``stack``, ``geom.axes``, ``background``, ``safe_mask``, ``containment_correction``.
        """
        bkg = {"method": self.background}
        if self.max_regions is not None:
            bkg["max_regions"] = self.max_regions
        if self.min_regions is not None:
            bkg["min_regions"] = self.min_regions
        return {"type": "1d", "stack": bool(self.stack),
                "geom": {"axes": {"energy": axis_spec(self.energy_axis),
                                  "energy_true": axis_spec(self.energy_axis_true)}},
                "background": bkg, "safe_mask": _plain(dict(self.safe_mask)),
                "containment_correction": self.containment_correction}

    def to_python(self, name: str = "settings") -> str:
        """Python source assigning these settings to ``name``, every field written out.

        Parameters
        ----------
        name : str
            The variable name.

        Returns
        -------
        str
            Source using ``SpectrumReductionSettings``, ``MapAxis`` and ``u`` (astropy.units).

        Examples
        --------
        >>> print(SpectrumReductionSettings().to_python())   # doctest: +NORMALIZE_WHITESPACE
        settings = SpectrumReductionSettings(
            energy_axis=MapAxis.from_energy_bounds(0.1 * u.TeV, 100.0 * u.TeV, 30, name="energy"),
            energy_axis_true=MapAxis.from_energy_bounds(0.05 * u.TeV, 150.0 * u.TeV, 45, name="energy_true"),
            containment_correction='auto',
            safe_mask={'methods': ['aeff-default']},
            background='reflected',
            max_regions=None,
            min_regions=None,
            stack=True,
        )
        """
        lines = [f"{name} = SpectrumReductionSettings("]
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("energy_axis"):
                code = axis_code(value)
            elif f.name == "safe_mask":
                code = "{" + ", ".join(f"{k!r}: {_value_code(v)}" for k, v in value.items()) + "}"
            else:
                code = repr(value)
            lines.append(f"    {f.name}={code},")
        lines.append(")")
        return "\n".join(lines)


def _value_code(value) -> str:
    if isinstance(value, u.Quantity):
        return f"{float(value.value)!r} * u.Unit({str(value.unit)!r})"
    return repr(value)
