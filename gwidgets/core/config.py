"""The analysis configuration: YAML validated against a schema, with messages naming the bad key.

A configuration describes a whole analysis (data, reduction, models, fit,
estimators, outputs), so that what a user built in the dashboard can be saved
and re-run anywhere. Every value is checked when the config is built:

- an unknown key names its full path and lists the allowed keys;
- a quantity in the wrong unit (``e_min: 1 km``) names the key and the expected unit;
- a choice outside its allowed values lists them.

Examples
--------
>>> cfg = AnalysisConfig.from_yaml('''
... data: {datastore: $GWIDGETS_EXAMPLE}
... datasets:
...   type: 1d
...   on_region: {lon: 83.63 deg, lat: 22.01 deg, radius: 0.11 deg}
... ''')
>>> cfg["datasets"]["on_region"]["radius"]
<Quantity 0.11 deg>
>>> AnalysisConfig.from_dict({"datasets": {"tpye": "1d"}})
Traceback (most recent call last):
...
gwidgets.core.config.ConfigError: Unknown key 'datasets.tpye'; allowed keys: background,
containment_correction, geom, on_region, safe_mask, stack, type
"""
from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import astropy.units as u
import numpy as np
import yaml

from ..errors import GwidgetsError
from .datapaths import config_environ
from .executor import EXECUTOR_TYPES

__all__ = ["AnalysisConfig", "ConfigError", "SCHEMA", "expand_path", "unset_variables"]


class ConfigError(GwidgetsError, ValueError):
    """An invalid configuration value; the message names the key (dotted path)."""


# Leaf types: ("quantity", unit) | ("str",) | ("path",) | ("int",) | ("float",) | ("bool",) | ("choice", [...]) |
# ("list", leaf) | ("sections", schema) | ("models",) | ("time_intervals",) | ("any",) ; a dict is a nested section.
def Q(unit, positive: bool = False):
    """A quantity leaf in ``unit``; ``positive``: zero or less is refused (radii, widths, bin sizes, energies).

    Parameters
    ----------
    unit : str
        Unit the value is converted to.
    positive : bool, optional
        Refuse values <= 0.

    Returns
    -------
    tuple
        The schema leaf ``("quantity", unit[, "positive"])``.
    """
    return ("quantity", unit, "positive") if positive else ("quantity", unit)


_ENERGY_AXIS = {"min": Q("TeV", True), "max": Q("TeV", True), "nbins": ("int",), "per_decade": ("bool",),
                "edges": ("list", Q("TeV"))}
_SKYPOS = {"frame": ("choice", ["icrs", "galactic"]), "lon": Q("deg"), "lat": Q("deg")}
_SAFE_MASK = {"methods": ("list", ("choice", ["aeff-default", "aeff-max", "edisp-bias", "bkg-peak", "user",
                                               "offset-max"])),
              "aeff_percent": ("float",), "bias_percent": ("float",), "e_min": Q("TeV"), "e_max": Q("TeV"),
              "offset_max": Q("deg")}
_SELECTION = {"datastore": ("path",), "obs_ids": ("list", ("int",)), "required_irf": ("any",),
              "obs_cone": {**_SKYPOS, "radius": Q("deg", True)},
              "obs_time": {"start": ("str",), "stop": ("str",)},
              "obs_object": ("str",), "zenith_max": Q("deg")}
#: one group of observations of a joint analysis (e.g. one instrument of joint-crab)
_GROUP = {"name": ("str",), **_SELECTION, "spectra": ("path",), "on_radius": Q("deg", True), "safe_mask": _SAFE_MASK,
          "stack": ("bool",),
          "fit": {"e_min": Q("TeV"), "e_max": Q("TeV")}}

SCHEMA = {
    "general": {"outdir": ("path",), "executor": ("executor",), "n_jobs": ("int",),
                "overwrite": ("bool",)},
    "data": {**_SELECTION, "groups": ("sections", _GROUP)},
    "datasets": {
        "type": ("choice", ["1d", "3d"]),
        "stack": ("bool",),
        "geom": {"skydir": _SKYPOS, "binsize": Q("deg", True), "width": Q("deg", True),
                 "projection": ("choice", ["CAR", "TAN"]),
                 "axes": {"energy": _ENERGY_AXIS, "energy_true": _ENERGY_AXIS}},
        "on_region": {**_SKYPOS, "radius": Q("deg", True)},
        "background": {"method": ("choice", ["reflected", "ring", "fov"]), "exclusion": ("any",),
                       "min_regions": ("int",), "max_regions": ("int",)},
        "safe_mask": _SAFE_MASK,
        "containment_correction": ("choice", ["auto", True, False]),
    },
    "models": ("models",),
    "fit": {"e_min": Q("TeV"), "e_max": Q("TeV"), "backend": ("choice", ["minuit"]), "tol": ("float",),
            "strategy": ("int",)},
    "flux_points": {"source": ("str",), "energy": _ENERGY_AXIS, "n_sigma_ul": ("float",)},
    "light_curve": {"source": ("str",), "time_intervals": ("time_intervals",), "energy": _ENERGY_AXIS,
                    "per_observation": ("bool",), "n_sigma_ul": ("float",)},
    "outputs": {"datasets": ("bool",), "models": ("bool",), "fit_result": ("bool",), "flux_points": ("bool",),
                "light_curve": ("bool",), "maps": ("bool",), "plots": ("bool",)},
}

DEFAULTS = {
    "general": {"outdir": "gwidgets-results", "executor": "serial", "overwrite": False},
    "data": {"required_irf": "full-enclosure"},
    # stack, background, safe_mask, containment_correction: from SpectrumReductionSettings (`defaults`)
    "datasets": {"type": "1d"},
    "fit": {"backend": "minuit"},
    "outputs": {"datasets": True, "models": True, "fit_result": True, "flux_points": True, "light_curve": True,
                "maps": True, "plots": True},
}

def defaults() -> dict:
    """`DEFAULTS`, with the ``datasets`` reduction defaults read from the one settings object.

    ``stack``, ``background.method``, ``safe_mask`` and ``containment_correction`` come from
    `~gwidgets.core.reduction.settings.SpectrumReductionSettings` (read at each call), so a default
    changed there shows in every config, as in the session and the exported script.

    Returns
    -------
    dict
        A fresh copy.

    Examples
    --------
    >>> defaults()["datasets"]["containment_correction"], defaults()["datasets"]["stack"]
    ('auto', True)
    """
    from .reduction.settings import SpectrumReductionSettings

    out = copy.deepcopy(DEFAULTS)
    section = SpectrumReductionSettings().to_config()
    out["datasets"].update({k: section[k] for k in ("stack", "background", "safe_mask", "containment_correction")})
    return out


_VAR = re.compile(r"\$(\w+|\{[^}]*\})")


def unset_variables(text: str) -> list[str]:
    """Names of the ``$VAR`` / ``${VAR}`` in ``text`` that are not set in the environment.

    ``$GWIDGETS_DATA`` is always set: unset, it is the default data root, see `gwidgets.core.datapaths`.

    Parameters
    ----------
    text : str
        A configuration value.

    Returns
    -------
    list of str
        The unset variable names, in order of appearance.

    Examples
    --------
    >>> unset_variables("$GW_SURELY_UNSET_VARIABLE/runs")
    ['GW_SURELY_UNSET_VARIABLE']
    """
    env = config_environ()
    names = [m.group(1).strip("{}") for m in _VAR.finditer(str(text))]
    return [n for n in names if n not in env]


def _substitute(text: str) -> str:
    env = config_environ()
    return os.path.expanduser(_VAR.sub(lambda m: env.get(m.group(1).strip("{}"), m.group(0)), str(text)))


def expand_path(text: str, key: str = "path") -> str:
    """``text`` with ``$VAR`` and ``~`` expanded; a `ConfigError` naming ``key`` if a variable is not set.

    >>> os.environ["GW_DOCTEST"] = "/data"
    >>> expand_path("$GW_DOCTEST/hess")
    '/data/hess'

    Parameters
    ----------
    text : str
        The path.
    key : str, optional
        Configuration key, named in the error.

    Returns
    -------
    str
        The expanded path.

    Raises
    ------
    ConfigError
        If a variable is not set.
    """
    missing = unset_variables(text)
    if missing:
        raise ConfigError(f"'{key}' = {text!r}: environment variable {missing[0]} is not set")
    return _substitute(text)


def _expand_if_set(text: str) -> str:
    """Expand at load time when every variable is set; otherwise keep the text (the step using it reports)."""
    return text if unset_variables(text) else _substitute(text)


def _check_models(path: str, value):
    if isinstance(value, str):
        return _expand_if_set(value)
    if isinstance(value, list):
        value = {"components": value}
    if isinstance(value, dict) and isinstance(value.get("components"), list):
        for i, comp in enumerate(value["components"]):
            if not isinstance(comp, dict) or "type" not in comp:
                raise ConfigError(f"'{path}.components[{i}]' must be a mapping with a 'type'")
        return value
    raise ConfigError(f"'{path}' must be a model YAML path, a list of model components or a mapping with "
                      f"'components', got {value!r}")


#: ``general.executor`` as a mapping: ``{type: dask, address: tcp://host:port}`` or ``{type: ..., n_workers: N}``
_EXECUTOR = {"type": ("choice", list(EXECUTOR_TYPES)), "address": ("str",), "n_workers": ("int",)}
_ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss)://[^\s/:]+:\d{1,5}$")


def _check_executor(path: str, value):
    """``general.executor``: a type name, or a mapping {type, address, n_workers} (named errors)."""
    if isinstance(value, str):
        if value not in EXECUTOR_TYPES:
            raise ConfigError(f"'{path}' = {value!r} is not allowed; choose one of {list(EXECUTOR_TYPES)} or a "
                              "mapping {type: dask, address: 'tcp://host:port'}")
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"'{path}' must be one of {list(EXECUTOR_TYPES)} or a mapping with type, address, "
                          f"n_workers, got {value!r}")
    out = _validate(value, _EXECUTOR, path)
    if "type" not in out:
        raise ConfigError(f"'{path}.type' is missing; choose one of {list(EXECUTOR_TYPES)}")
    if "address" in out:
        if out["type"] != "dask":
            raise ConfigError(f"'{path}.address' needs type 'dask', not {out['type']!r}")
        if not _ADDRESS.match(out["address"]):
            raise ConfigError(f"'{path}.address' = {out['address']!r} is not a scheduler address; "
                              "expected 'tcp://host:port'")
        if "n_workers" in out:
            raise ConfigError(f"'{path}': give 'address' (an existing cluster) or 'n_workers' (a local one), "
                              "not both")
    if "n_workers" in out:
        if out["type"] == "serial":
            raise ConfigError(f"'{path}.n_workers' needs type 'processes' or 'dask', not 'serial'")
        if out["n_workers"] < 1:
            raise ConfigError(f"'{path}.n_workers' = {out['n_workers']} must be at least 1")
    return out


def _check_time(path: str, value):
    from astropy.time import Time

    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            Time(value, format="mjd")
        else:
            Time(str(value))
    except (ValueError, TypeError):
        raise ConfigError(f"'{path}' = {value!r} is not a time; use ISO ('2004-12-04T22:00:00') "
                          "or MJD (53343.9)") from None
    return value


def _check_time_intervals(path: str, value):
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(f"'{path}' must be a non-empty list of [start, stop] pairs")
    out = []
    for i, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ConfigError(f"'{path}[{i}]' must be a [start, stop] pair, got {pair!r}")
        out.append([_check_time(f"{path}[{i}][{j}]", v) for j, v in enumerate(pair)])
    return out


def _check_leaf(path: str, spec, value):
    kind = spec[0]
    if kind == "any":
        return value
    if kind == "quantity":
        try:
            q = u.Quantity(value)
        except (TypeError, ValueError):
            raise ConfigError(f"'{path}' = {value!r} is not a quantity; expected a value in {spec[1]} "
                              f"(e.g. '1 {spec[1]}')") from None
        if q.unit == u.one and spec[1] not in ("", None):
            raise ConfigError(f"'{path}' = {value!r} has no unit; expected a value in {spec[1]} "
                              f"(e.g. '{value} {spec[1]}')")
        try:
            q = q.to(spec[1])
        except u.UnitConversionError:
            raise ConfigError(f"'{path}' = {value!r}: unit '{q.unit}' is not convertible to '{spec[1]}'") from None
        if len(spec) > 2 and spec[2] == "positive" and not np.all(q.value > 0):
            raise ConfigError(f"'{path}' = {value!r} must be positive")
        return q
    if kind in ("str", "path"):
        if not isinstance(value, str):
            raise ConfigError(f"'{path}' must be a string, got {value!r}")
        return _expand_if_set(value) if kind == "path" else value
    if kind == "models":
        return _check_models(path, value)
    if kind == "executor":
        return _check_executor(path, value)
    if kind == "time_intervals":
        return _check_time_intervals(path, value)
    if kind == "sections":
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"'{path}' must be a list of mappings, got {value!r}")
        return [_validate(v, spec[1], f"{path}[{i}]") for i, v in enumerate(value)]
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"'{path}' must be an integer, got {value!r}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"'{path}' must be a number, got {value!r}")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"'{path}' must be true or false, got {value!r}")
        return value
    if kind == "choice":
        if value not in spec[1]:
            raise ConfigError(f"'{path}' = {value!r} is not allowed; choose one of {spec[1]}")
        return value
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"'{path}' must be a list, got {value!r}")
        return [_check_leaf(f"{path}[{i}]", spec[1], v) for i, v in enumerate(value)]
    raise ConfigError(f"schema error at '{path}'")  # pragma: no cover


def _validate(data, schema, path=""):
    if not isinstance(data, dict):
        raise ConfigError(f"'{path or 'config'}' must be a mapping of keys to values, got {type(data).__name__}")
    out = {}
    for key, value in data.items():
        full = f"{path}.{key}" if path else str(key)
        if key not in schema:
            raise ConfigError(f"Unknown key '{full}'; allowed keys: {', '.join(sorted(schema))}")
        spec = schema[key]
        out[key] = _validate(value, spec, full) if isinstance(spec, dict) else _check_leaf(full, spec, value)
    return out


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def to_plain(value):
    """Quantities back to strings for YAML.

    Scalar Quantities become ``"<value> <unit>"`` strings (with every digit), arrays lists
    of them; dicts and lists are converted recursively, other values kept.

    Parameters
    ----------
    value : object
        A configuration value.

    Returns
    -------
    object
        The value with plain types only.

    Examples
    --------
    >>> import astropy.units as u
    >>> to_plain({"e_min": 1 * u.TeV, "edges": [1, 10] * u.TeV})
    {'e_min': '1.0 TeV', 'edges': ['1.0 TeV', '10.0 TeV']}
    """
    if isinstance(value, u.Quantity):
        if not value.isscalar:
            return [to_plain(v) for v in value]
        return f"{float(value.value)!r} {value.unit.to_string()}".strip()  # repr: no digit lost in a round trip
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


class AnalysisConfig(dict):
    """A validated analysis configuration (a dict with Quantities at the leaves).

    Build one with `from_dict`, `from_yaml` or `read`; every value is checked
    against `SCHEMA` and missing sections take the defaults.
    """

    @classmethod
    def from_dict(cls, data: dict | None) -> AnalysisConfig:
        """Validate ``data`` and merge it over the defaults.

        Parameters
        ----------
        data : dict or None
            Sections and values (None: the defaults only).

        Returns
        -------
        AnalysisConfig
            The configuration.

        Raises
        ------
        ConfigError
            For an unknown key, a wrong type or unit, or a value outside its choices; the message names the key.
        """
        return cls(_merge(defaults(), _validate(data or {}, SCHEMA)))

    @classmethod
    def from_yaml(cls, text: str, source: str | None = None) -> AnalysisConfig:
        """Parse and validate YAML text; ``source`` (a file name) is named in a syntax error.

        Parameters
        ----------
        text : str
            YAML text.
        source : str, optional
            File name, for messages.

        Returns
        -------
        AnalysisConfig
            The configuration.

        Raises
        ------
        ConfigError
            For invalid YAML or an invalid value.
        """
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = f"Configuration file '{source}'" if source else "Configuration"
            message = str(exc).replace('"<unicode string>"', f'"{source}"') if source else str(exc)
            raise ConfigError(f"{where} is not valid YAML: {message}") from None
        return cls.from_dict(data)

    @classmethod
    def read(cls, path) -> AnalysisConfig:
        """Read and validate a YAML configuration file.

        Parameters
        ----------
        path : str or Path
            The file.

        Returns
        -------
        AnalysisConfig
            The configuration, with ``path`` set to the file.

        Raises
        ------
        `~gwidgets.errors.FileNotFoundGwError`
            If the file does not exist.
        ConfigError
            For invalid YAML or an invalid value.
        """
        path = Path(path)
        if not path.exists():
            from ..errors import FileNotFoundGwError

            raise FileNotFoundGwError(path)
        cfg = cls.from_yaml(path.read_text(), source=str(path))
        cfg.path = path
        return cfg

    def to_yaml(self) -> str:
        """The configuration as YAML text (Quantities as ``"<value> <unit>"`` strings).

        Returns
        -------
        str
            YAML that `from_yaml` reads back to an equal configuration.
        """
        return yaml.safe_dump(to_plain(dict(self)), sort_keys=False)

    def write(self, path, overwrite: bool = False):
        """Write the configuration as YAML.

        Parameters
        ----------
        path : str or Path
            Output file.
        overwrite : bool, optional
            Replace an existing file.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            If the file exists and ``overwrite`` is False.
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise GwidgetsError(f"'{path}' exists; use overwrite=True")
        path.write_text(self.to_yaml())

    def update(self, other=None, **kwargs):  # validated update
        """Validate ``other`` / ``kwargs`` and merge them in (nested sections are merged key by key).

        Parameters
        ----------
        other : dict, optional
            Sections and values.
        **kwargs
            More sections.

        Raises
        ------
        ConfigError
            For an invalid key or value (the configuration is then unchanged).

        Examples
        --------
        >>> cfg = AnalysisConfig.from_dict({})
        >>> cfg.update({"fit": {"e_min": "1 TeV"}})
        >>> cfg["fit"]["e_min"]
        <Quantity 1. TeV>
        """
        merged = _merge(dict(self), _validate(dict(other or {}, **kwargs), SCHEMA))
        super().clear()
        super().update(merged)
