"""`Models`: an ordered, name-indexed collection of sky and background models.

Parameters are addressed by path, ``"<model name>.<component>.<parameter>"``
(``"crab.spectral.index"``; ``"crab.index"`` when unique in the model).
Links are explicit: ``models.link("crab.spectral.index", "other.spectral.index")``
makes the second (and any further) parameter follow the first; the links
live on the parameters (``Parameter.linked_to``), `Models.links` lists them,
and the YAML keeps them as gammapy link labels.

Examples
--------
>>> from gwidgets.core.models import Models, SkyModel, PowerLaw
>>> models = Models([SkyModel(PowerLaw(index=2.5), name="crab"), SkyModel(PowerLaw(), name="other")])
>>> models.link("crab.spectral.index", "other.spectral.index")
>>> models["other"].spectral_model.index.value
2.5
>>> models.links
[('crab.spectral.index', 'other.spectral.index')]
>>> Models.from_yaml(models.to_yaml()).links
[('crab.spectral.index', 'other.spectral.index')]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import GwidgetsError
from .covariance_io import attach_covariance, covariance_filename, models_covariance, read_covariance
from .covariance_io import write_covariance as write_covariance_file
from .parameter import ParameterError
from .parameters import Parameters
from .sky_model import FoVBackgroundModel, SkyComponent, SkyModel
from .yaml_io import components_from_dict, components_to_dict, dump_yaml, load_yaml, read_text

__all__ = ["Models"]


class Models:
    """A list of `SkyModel` / `FoVBackgroundModel` with unique names.

    Indexing takes a position, a name, a slice or a list of names (the last two
    give a new `Models`).

    Parameters
    ----------
    models : SkyModel, FoVBackgroundModel or iterable of them, optional
        The models.

    Raises
    ------
    ParameterError
        For an object that is not a model, or a name used twice.
    """

    def __init__(self, models=()):
        self._models: list = []
        if isinstance(models, (SkyModel, FoVBackgroundModel)):
            models = [models]
        for m in models:
            self.append(m)

    # ------------------------------------------------------------ container
    def _check(self, model, ignore=None):
        if not isinstance(model, SkyComponent):
            raise ParameterError(f"Models holds SkyModel / FoVBackgroundModel objects, got {type(model).__name__}")
        if any(m.name == model.name and m is not ignore for m in self._models):
            raise ParameterError(f"Model names must be unique: '{model.name}' is already in the collection")

    def append(self, model):
        """Add a model at the end.

        Parameters
        ----------
        model : SkyModel or FoVBackgroundModel
            The model; its name must not be in the collection.

        Raises
        ------
        ParameterError
            For an object that is not a model, or a name already taken.
        """
        self._check(model)
        self._models.append(model)

    def extend(self, models):
        """Append several models.

        Parameters
        ----------
        models : iterable of SkyModel or FoVBackgroundModel
            The models.

        Raises
        ------
        ParameterError
            As `append`.
        """
        for m in models:
            self.append(m)

    def insert(self, index, model):
        """Insert a model before position ``index``.

        Parameters
        ----------
        index : int
            Position.
        model : SkyModel or FoVBackgroundModel
            The model.

        Raises
        ------
        ParameterError
            As `append`.
        """
        self._check(model)
        self._models.insert(index, model)

    def remove(self, model):
        """Remove a model.

        Parameters
        ----------
        model : str, SkyModel or FoVBackgroundModel
            The model or its name.

        Raises
        ------
        KeyError
            For an unknown name.
        ValueError
            For a model not in the collection.
        """
        self._models.remove(self[model] if isinstance(model, str) else model)

    def __len__(self):
        return len(self._models)

    def __iter__(self):
        return iter(self._models)

    def __contains__(self, item):
        if isinstance(item, str):
            return item in self.names
        return any(m is item for m in self._models)

    def index(self, key) -> int:
        """Position of a model.

        Parameters
        ----------
        key : str, SkyModel or FoVBackgroundModel
            Model name, or the model itself.

        Returns
        -------
        int
            Its position.

        Raises
        ------
        KeyError
            For an unknown name.
        StopIteration
            For a model object not in the collection.
        """
        if isinstance(key, str):
            for i, m in enumerate(self._models):
                if m.name == key:
                    return i
            raise KeyError(f"No model named '{key}' (have: {', '.join(self.names)})")
        return next(i for i, m in enumerate(self._models) if m is key)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self._models[key]
        if isinstance(key, slice):
            return Models(self._models[key])
        if isinstance(key, str):
            return self._models[self.index(key)]
        if isinstance(key, (list, tuple)):
            return Models([self[k] for k in key])
        raise TypeError(f"Models index must be an int, a name or a list of them, not {type(key).__name__}")

    def __setitem__(self, key, model):
        i = key if isinstance(key, (int, np.integer)) else self.index(key)
        self._check(model, ignore=self._models[i])
        self._models[i] = model

    def __delitem__(self, key):
        del self._models[key if isinstance(key, (int, np.integer)) else self.index(key)]

    def __add__(self, other):
        return Models(list(self) + list(other if isinstance(other, Models) else [other]))

    @property
    def names(self) -> list[str]:
        """Model names, in order."""
        return [m.name for m in self._models]

    @property
    def background_models(self) -> dict:
        """Dataset name -> its `FoVBackgroundModel`."""
        return {m.dataset_name: m for m in self._models if isinstance(m, FoVBackgroundModel)}

    def select(self, dataset_name: str | None = None, kind: str | None = None) -> Models:
        """Models that apply to ``dataset_name`` (``datasets_names`` None = all); ``kind`` "sky" or "background".

        Parameters
        ----------
        dataset_name : str, optional
            Keep models whose ``datasets_names`` is None or contains it (None: all).
        kind : {"sky", "background"}, optional
            Keep only sky models or only background models.

        Returns
        -------
        Models
            The selected models (the same objects).
        """
        out = []
        for m in self._models:
            if kind == "sky" and not isinstance(m, SkyModel) or kind == "background" and isinstance(m, SkyModel):
                continue
            if dataset_name is not None and m.datasets_names is not None and dataset_name not in m.datasets_names:
                continue
            out.append(m)
        return Models(out)

    # ------------------------------------------------------------ parameters
    @property
    def parameters(self) -> Parameters:
        """All parameters of all models (each parameter once)."""
        return Parameters([p for m in self._models for p in m.parameters])

    def parameter_paths(self) -> list[tuple[str, object]]:
        """(``"name.component.parameter"``, parameter) for every parameter.

        Returns
        -------
        list of tuple
            ``(path, Parameter)`` pairs, in model order.
        """
        return [(f"{m.name}.{path}", p) for m in self._models for path, p in m.parameter_paths()]

    def get_parameter(self, path: str):
        """Parameter by path, e.g. ``"crab.spectral.index"`` or ``"crab.index"``.

        Parameters
        ----------
        path : str
            ``"<model name>.<component>.<parameter>"`` or ``"<model name>.<parameter>"``.

        Returns
        -------
        Parameter
            The parameter.

        Raises
        ------
        ParameterError
            If no model or parameter matches.
        """
        for m in sorted(self._models, key=lambda m: -len(m.name)):  # longest name first (names may hold dots)
            if path.startswith(m.name + "."):
                return m.get_parameter(path[len(m.name) + 1:])
        raise ParameterError(f"No model for parameter path '{path}' (models: {', '.join(self.names)})")

    def path_of(self, parameter) -> str | None:
        """Path of a parameter (the first one that holds this object).

        Parameters
        ----------
        parameter : Parameter
            The parameter.

        Returns
        -------
        str or None
            Its path, None if it is not in the collection.
        """
        return next((path for path, p in self.parameter_paths() if p is parameter), None)

    def freeze(self, kind: str | None = None, names=None):
        """Freeze the parameters of all models (or ``names``), optionally of one component kind.

        Parameters
        ----------
        kind : {"spectral", "spatial", "temporal"}, optional
            Component to freeze (default all).
        names : list of str, optional
            Models to freeze (default all).
        """
        for m in self._models if names is None else [self[n] for n in names]:
            m.freeze(kind)

    def unfreeze(self, kind: str | None = None, names=None):
        """Restore default frozen states (``reference`` parameters stay frozen).

        Parameters
        ----------
        kind : {"spectral", "spatial", "temporal"}, optional
            Component to unfreeze (default all).
        names : list of str, optional
            Models to unfreeze (default all).
        """
        for m in self._models if names is None else [self[n] for n in names]:
            m.unfreeze(kind)

    # ---------------------------------------------------------------- links
    def link(self, leader: str, *followers: str):
        """Make the parameters at ``followers`` follow the one at ``leader`` (paths).

        Parameters
        ----------
        leader : str
            Path of the leading parameter.
        *followers : str
            Paths of the parameters that follow it.

        Raises
        ------
        ParameterError
            Without followers, for an unknown path, or a link that cannot be made
            (a cycle, units not convertible).
        """
        if not followers:
            raise ParameterError("Models.link needs the path of the leading parameter and at least one follower")
        lead = self.get_parameter(leader)
        for path in followers:
            p = self.get_parameter(path)
            try:
                p.link_to(lead)
            except ParameterError as exc:
                raise ParameterError(f"Cannot link '{path}' to '{leader}': {exc}") from None

    def unlink(self, *paths: str):
        """Unlink the parameters at ``paths`` (they keep the current shared value).

        Parameters
        ----------
        *paths : str
            Parameter paths.
        """
        for path in paths:
            self.get_parameter(path).link_to(None)

    @property
    def links(self) -> list[tuple[str, str]]:
        """(leader path, follower path) for every link inside the collection."""
        paths = self.parameter_paths()
        path_of = {id(p): path for path, p in paths}
        out = []
        for path, p in paths:
            lead = p.linked_to
            while lead is not None and lead.linked_to is not None:
                lead = lead.linked_to
            if lead is not None and id(lead) in path_of:
                out.append((path_of[id(lead)], path))
        return out

    # ------------------------------------------------------------------ I/O
    def to_dict(self, full_output=False) -> dict:
        """Gammapy's model layout: ``{"components": [...]}``.

        Parameters
        ----------
        full_output : bool, optional
            Write every parameter key, defaults included.

        Returns
        -------
        dict
            The models as plain data, with link labels.
        """
        return components_to_dict(self, full_output)

    @classmethod
    def from_dict(cls, data: dict, path=None) -> Models:
        """From ``{"components": [...]}``; ``path`` resolves relative template filenames.

        Parameters
        ----------
        data : dict
            Gammapy's model layout.
        path : str or Path, optional
            Folder that relative template file names are relative to.

        Returns
        -------
        Models
            The models, with their links re-created.

        Raises
        ------
        ParameterError
            For an invalid component (the message names it).
        """
        models, links = components_from_dict(data, path)
        out = cls(models)
        for lead, follower in links:
            out.link(lead, follower)
        return out

    def to_yaml(self, full_output=False) -> str:
        """The models as YAML text (see `to_dict`).

        Parameters
        ----------
        full_output : bool, optional
            Write every parameter key, defaults included.

        Returns
        -------
        str
            YAML text that gammapy's ``Models.from_yaml`` reads.
        """
        return dump_yaml(self.to_dict(full_output))

    @classmethod
    def from_yaml(cls, text: str, path=None) -> Models:
        """Models from YAML text (gammapy's layout, or ours).

        Parameters
        ----------
        text : str
            The YAML.
        path : str or Path, optional
            Folder that relative template file names are relative to.

        Returns
        -------
        Models
            The models.

        Raises
        ------
        ParameterError
            For invalid YAML or an invalid component.
        """
        return cls.from_dict(load_yaml(text), path)

    @classmethod
    def read(cls, filename) -> Models:
        """Read a model YAML file (gammapy's or ours), with the covariance file its ``covariance:`` key names.

        Parameters
        ----------
        filename : str or Path
            The YAML file.

        Returns
        -------
        Models
            The models, with the covariance attached if a covariance file is named.

        Raises
        ------
        ParameterError
            For invalid content, prefixed with the file name.
        `~gwidgets.errors.FileNotFoundGwError`
            If the file does not exist.
        """
        text = read_text(filename)
        try:
            data = load_yaml(text, f"'{filename}'")
            models = cls.from_dict(data, Path(filename).parent)
        except ParameterError as exc:
            raise ParameterError(f"{filename}: {exc}") from None
        if isinstance(data.get("covariance"), str):
            cov_path = Path(filename).parent / data["covariance"]
            attach_covariance(models, *read_covariance(cov_path))
        return models

    def write(self, filename, overwrite=False, full_output=False, write_templates=True, write_covariance=True):
        """Write YAML; template models whose file does not exist yet are written next to it.

        With ``write_covariance`` and a covariance on any spectral model (a fit attaches
        one), gammapy's ``<stem>_covariance.dat`` is written beside it and named in the YAML.

        Parameters
        ----------
        filename : str or Path
            The YAML file.
        overwrite : bool, optional
            Replace an existing file.
        full_output : bool, optional
            Write every parameter key, defaults included.
        write_templates : bool, optional
            Write template models whose file does not exist yet.
        write_covariance : bool, optional
            Write the covariance file when there is a covariance.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            If the file exists and ``overwrite`` is False.
        """
        filename = Path(filename)
        if filename.exists() and not overwrite:
            raise GwidgetsError(f"File exists already: '{filename}' (use overwrite=True)")
        if write_templates:
            for m in self._models:
                for part in m._parts().values():
                    fname = getattr(part, "filename", None)
                    if fname is not None and hasattr(part, "write") and not Path(fname).exists():
                        part.write(fname)
        data = self.to_dict(full_output)
        covariance = models_covariance(self) if write_covariance else None
        if covariance is not None:
            cov_path = covariance_filename(filename)
            write_covariance_file(cov_path, *covariance)
            data["covariance"] = cov_path.name
        filename.write_text(dump_yaml(data))

    def copy(self) -> Models:
        """Deep copy; links between the copied parameters are re-created.

        Returns
        -------
        Models
            Copies of the models (with copied parameters).
        """
        links = self.links
        out = Models([m.copy() for m in self._models])
        for lead, follower in links:
            out.link(lead, follower)
        return out

    # -------------------------------------------------------------- display
    def __repr__(self):
        inner = "\n".join(f"  {m!r}" for m in self._models)
        return f"Models({len(self)}:\n{inner}\n)" if self._models else "Models(0)"

    def to_parameters_table(self):
        """Parameters as an astropy Table with a leading ``model`` column (the model name).

        Returns
        -------
        astropy.table.Table
            One row per parameter (see `Parameters.to_table`).
        """
        rows = []
        for m in self._models:
            for _ in m.parameters:
                rows.append(m.name)
        table = self.parameters.to_table()
        if len(table) == len(rows):
            table.add_column(rows, name="model", index=0)
        return table

    def _repr_html_(self):
        return self.to_parameters_table()._repr_html_()
