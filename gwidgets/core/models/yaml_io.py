"""Model YAML in gammapy 2.1's layout: ``components:`` list of sky / background models.

Compatibility rules (both directions, for the model types both know):

* ``type`` is gammapy's tag (``PowerLawSpectralModel``, ``GaussianSpatialModel``...);
  gammapy's short aliases (``pl``, ``gauss``...) are read too.
* each parameter: ``name, value, unit, error, min, max, frozen`` (+ ``is_norm``,
  ``link``); missing keys take the class defaults (equal to gammapy's), and
  ``frozen`` is always written because gammapy fills missing keys with its defaults.
* linked parameters carry the same ``link`` label. gammapy's labels are
  ``name@<random>``; ours are ``name@<path of the parameter followed>`` so a
  round trip keeps which parameter leads. On reading, the parameter whose
  path the label names leads (else the first one in the file).
* relative template ``filename`` values are resolved against the YAML file's directory.
* a log-parabola in base 10 (``LogParabola(log_base=10)``) is written with
  gammapy's natural-log β (β_e = β₁₀ / ln 10; its error and bounds alike), so
  gammapy evaluates the same spectrum, plus the key ``gwidgets_log_base: 10``
  (ignored by gammapy) that makes gwidgets show β in base 10 again. Files of
  earlier gwidgets versions carry ``log_base: 10`` with β₁₀ in the file: they
  still read as before (gammapy misreads those: rewrite them).
* gwidgets extensions gammapy ignores or cannot read: a ``norm`` on
  ``TemplateSpectralModel``, inline light-curve tables, ``ScaleSpectralModel``.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from ...errors import FileNotFoundGwError
from .core import get_model_class
from .parameter import ParameterError

__all__ = ["components_to_dict", "components_from_dict", "dump_yaml", "load_yaml", "link_labels",
           "scale_parameter_entry", "LOG10_BETA_KEY", "LEGACY_LOG_BASE_KEY"]

#: key of a log-parabola whose file holds gammapy's natural-log beta, shown by gwidgets in base 10
LOG10_BETA_KEY = "gwidgets_log_base"
#: key of the files of earlier gwidgets versions: the file's beta is in base 10 (gammapy misreads it)
LEGACY_LOG_BASE_KEY = "log_base"


def scale_parameter_entry(entry: dict, factor: float) -> dict:
    """A copy of a YAML parameter entry with ``value``, ``error``, ``min`` and ``max`` times ``factor`` (> 0).

    >>> scale_parameter_entry({"name": "beta", "value": 2.0, "error": 0.5, "max": 4.0}, 0.5)
    {'name': 'beta', 'value': 1.0, 'error': 0.25, 'max': 2.0}

    Parameters
    ----------
    entry : dict
        The parameter entry.
    factor : float
        Positive factor.

    Returns
    -------
    dict
        The scaled copy (``entry`` is not modified).
    """
    out = dict(entry)
    for key in ("value", "error", "min", "max"):
        if out.get(key) is not None:
            out[key] = float(float(out[key]) * factor)
    return out

_YAML_FORMAT = dict(sort_keys=False, indent=4, width=80, default_flow_style=False)
# libyaml when available (10x faster), same output
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _root(p):
    while p.linked_to is not None:
        p = p.linked_to
    return p


def link_labels(paths: list[tuple[str, object]]) -> dict[int, str]:
    """``id(parameter) -> label`` for every parameter linked to another one in ``paths``.

    The label is ``"<name>@<path of the parameter followed>"``; parameters that
    follow one outside ``paths`` get none.

    Parameters
    ----------
    paths : list of tuple
        ``(path, Parameter)`` pairs, e.g. `~gwidgets.core.models.Models.parameter_paths`.

    Returns
    -------
    dict
        ``id(parameter)`` → label, for the leading and the following parameters.
    """
    path_of = {id(p): path for path, p in paths}
    labels = {}
    for _, p in paths:
        if p.linked_to is None:
            continue
        master = _root(p)
        master_path = path_of.get(id(master))
        if master_path is None:  # follows a parameter outside the collection: write its value only
            continue
        label = f"{master.name}@{master_path}"
        labels[id(master)] = labels[id(p)] = label
    return labels


def components_to_dict(models, full_output=False) -> dict:
    """The models in gammapy's layout, with link labels.

    Parameters
    ----------
    models : `~gwidgets.core.models.Models`
        The models.
    full_output : bool, optional
        Write every parameter key, defaults included.

    Returns
    -------
    dict
        ``{"components": [...]}``.
    """
    labels = link_labels(models.parameter_paths())
    return {"components": [m.to_dict(full_output, labels) for m in models]}


def _walk_parameters(d: dict, prefix: str):
    """(path, link label) for each parameter entry of a model dict, paths as ``parameter_paths``."""
    for entry in d.get("parameters") or []:
        if isinstance(entry, dict):
            yield prefix + str(entry.get("name")), entry.get("link")
    for key in ("model1", "model2", "model"):
        if isinstance(d.get(key), dict):
            yield from _walk_parameters(d[key], f"{prefix}{key}.")


def _resolve_filenames(d, base: Path):
    for key, value in d.items():
        if isinstance(value, dict):
            _resolve_filenames(value, base)
        elif key == "filename" and isinstance(value, str) and not Path(value).is_absolute():
            if (base / value).exists():
                d[key] = str(base / value)


def components_from_dict(data: dict, base_path=None) -> tuple[list, list[tuple[str, str]]]:
    """Build the components; returns (models, [(leader_path, follower_path), ...]).

    Parameters
    ----------
    data : dict
        ``{"components": [...]}``.
    base_path : str or Path, optional
        Folder that relative ``filename`` entries are resolved against (when the file exists there).

    Returns
    -------
    models : list
        The components (`~gwidgets.core.models.SkyModel`, `~gwidgets.core.models.FoVBackgroundModel`).
    links : list of tuple
        ``(leader path, follower path)`` pairs from the link labels.

    Raises
    ------
    ParameterError
        For a missing ``components`` list, a component without ``type``, an
        invalid component, or a link label that only one parameter carries.
    """
    if not isinstance(data, dict) or not isinstance(data.get("components"), list):
        raise ParameterError("Model YAML must be a mapping with a 'components' list")
    models, groups = [], {}
    for i, comp in enumerate(data["components"]):
        if not isinstance(comp, dict) or "type" not in comp:
            raise ParameterError(f"Model component #{i} has no 'type'")
        if base_path is not None:
            _resolve_filenames(comp, Path(base_path))
        cls = get_model_class(comp["type"], "component")
        model = cls.from_dict(comp)
        models.append(model)
        for kind in ("spectral", "spatial", "temporal"):
            if isinstance(comp.get(kind), dict):
                for path, label in _walk_parameters(comp[kind], f"{model.name}.{kind}."):
                    if label is not None:
                        groups.setdefault(str(label), []).append(path)
    links = []
    for label, paths in groups.items():
        if len(paths) == 1:
            raise ParameterError(f"Parameter '{paths[0]}' has link label '{label}', which no other parameter carries: "
                                 "the link points nowhere "
                                 "(give the same label to the parameters to link, or remove it)")
        lead = next((p for p in paths if label.endswith("@" + p)), paths[0])
        links += [(lead, p) for p in paths if p != lead]
    return models, links


def dump_yaml(data: dict) -> str:
    """YAML text of ``data`` (keys in order, 4-space indents).

    Parameters
    ----------
    data : dict
        Plain data.

    Returns
    -------
    str
        The YAML.
    """
    return yaml.dump(data, Dumper=_DUMPER, **_YAML_FORMAT)


def load_yaml(text: str, source="<string>") -> dict:
    """Parse model YAML text.

    Parameters
    ----------
    text : str
        The YAML.
    source : str, optional
        Name of the source, for error messages.

    Returns
    -------
    dict
        The mapping.

    Raises
    ------
    ParameterError
        For invalid YAML or a document that is not a mapping.
    """
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        message = str(exc).replace('"<unicode string>"', f'"{source}"'.replace("'", ""))
        raise ParameterError(f"Model YAML {source} is not valid YAML: {message}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"Model YAML {source} must be a mapping with a 'components' list")
    return data


def read_text(path) -> str:
    """The text of a file.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        Its content.

    Raises
    ------
    `~gwidgets.errors.FileNotFoundGwError`
        If the file does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundGwError(path)
    return path.read_text()
