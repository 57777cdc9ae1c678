"""`Datasets`: an ordered, name-indexed list of datasets fitted together (joint likelihood).

``datasets.models = model`` gives every dataset that has no model of its own
the *same* model object, so a joint fit shares one set of parameters; a
dataset whose ``models`` was set directly keeps it. ``stat_sum()`` is the sum
of the datasets' statistics, computed by one
`~gwidgets.core.datasets.evaluator.JointEvaluator` for all of them (one model
evaluation and one matrix product per distinct spectral model, one WStat over
all active bins).

Examples
--------
Four runs of the simulated example store, whose source "bright" is a log-parabola with
amplitude 3e-11 cm-2 s-1 TeV-1 at 1 TeV, alpha = 2.4 and beta = 0.1:

>>> from gwidgets.core.datasets import example_spectrum_datasets
>>> datasets = example_spectrum_datasets([1001, 1002, 1003, 1004])
>>> datasets.names
['1001', '1002', '1003', '1004']
>>> from gwidgets.core.models import LogParabola, SkyModel
>>> datasets.models = SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1),
...                            name="bright")
>>> [d.models.name for d in datasets]                    # every dataset sees the same models
['bright', 'bright', 'bright', 'bright']
>>> bool(np.isclose(datasets.stat_sum(), sum(d.stat_sum() for d in datasets)))   # one joint evaluation
True
>>> paths = datasets.write("spectra")                   # OGIP: pha_obs<id>.fits with its arf, rmf, bkg
>>> Datasets.read("spectra").names
['1001', '1002', '1003', '1004']
>>> hess = Datasets.read(gw.data_path("joint-crab/results/spectra/hess"))   # the paper's files  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.table import Table, vstack

from .base import DatasetError, bump_epoch, model_parameters
from .evaluator import JointEvaluator

__all__ = ["Datasets", "read_spectrum_dataset"]


def read_spectrum_dataset(path, name=None, format: str | None = None):
    """One spectrum file as a `SpectrumDatasetOnOff` (it has OFF counts) or a `SpectrumDataset`.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The spectrum file (OGIP PHA with its ARF/RMF/BKG, or a gammapy "gadf" dataset file).
    name : str, optional
        Name of the dataset; None takes the one stored in the file.
    format : {"ogip", "gadf"}, optional
        File format; None recognises it from the file.

    Returns
    -------
    SpectrumDatasetOnOff or SpectrumDataset
        The dataset read.
    """
    from ..io.spectrum_formats import read_spectrum
    from .onoff import SpectrumDatasetOnOff
    from .spectrum import SpectrumDataset

    spec = read_spectrum(path, name=name, format=format)
    cls = SpectrumDatasetOnOff if spec.counts_off is not None else SpectrumDataset
    return cls.from_ogip(spec, name=name)


def _paths_from_yaml(path: Path) -> list:
    """The dataset files listed by a gammapy datasets YAML (``datasets: [{name, type, filename}, ...]``)."""
    import yaml

    from ...errors import FileNotFoundGwError

    if not path.exists():
        raise FileNotFoundGwError(path)
    data = yaml.safe_load(path.read_text())
    entries = data.get("datasets") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "filename" in e for e in entries):
        raise DatasetError(f"'{path}' is not a datasets YAML: it needs a 'datasets' list of entries with 'filename'")
    out = []
    for e in entries:
        f = Path(e["filename"])
        if not f.is_absolute() and ((path.parent / f).exists() or not f.exists()):
            f = path.parent / f  # relative to the YAML's folder, as gammapy resolves it
        out.append(f)
    return out


class Datasets:
    """A list of datasets with unique names and (optionally) a shared model.

    Any dataset object with ``stat_sum()``, ``models``, ``name`` and
    ``stat_type`` can be held: the 1D spectrum datasets are evaluated together
    by the fast `JointEvaluator` path, the others (a 3D ``MapDataset``, a
    user's class) contribute their own ``stat_sum()``, so `~gwidgets.core.fit.Fit` works on mixed lists.

    Parameters
    ----------
    datasets : iterable of datasets, or one dataset, optional
        The datasets, in order (their names must be unique).
    models : model, list or `~gwidgets.core.models.Models`, optional
        Model given to every dataset that has none of its own (see `models`).

    Raises
    ------
    DatasetError
        If an item is not a dataset or a name repeats.
    """

    def __init__(self, datasets=(), models=None):
        self._datasets = []
        self._models = None
        self._ev = None
        self._assigned = set()  # ids of datasets without `_set_models` that got the collection's model
        if hasattr(datasets, "stat_sum") and not isinstance(datasets, Datasets):
            datasets = [datasets]
        for d in datasets:
            self.append(d)
        if models is not None:
            self.models = models

    # ------------------------------------------------------------ container
    def append(self, dataset):
        """Add a dataset at the end; it gets the shared model if it has none of its own.

        Parameters
        ----------
        dataset : dataset
            Any object with ``stat_sum()``, ``name`` and ``stat_type``.

        Raises
        ------
        DatasetError
            If ``dataset`` is not a dataset or its name is already in the collection.
        """
        if not (hasattr(dataset, "stat_sum") and hasattr(dataset, "name") and hasattr(dataset, "stat_type")):
            raise DatasetError(f"Datasets holds dataset objects, got {type(dataset).__name__}")
        if dataset.name in self.names:
            raise DatasetError(f"Dataset names must be unique: '{dataset.name}' is already in the collection")
        self._datasets.append(dataset)
        if self._models is not None and (dataset.models is None or self._from_collection(dataset)):
            self._assign(dataset, self._models)
        bump_epoch()

    def _from_collection(self, dataset) -> bool:
        """Whether the dataset's model was given by a collection (not set on the dataset itself)."""
        flag = getattr(dataset, "_models_from_collection", None)
        return bool(flag) if flag is not None else id(dataset) in self._assigned

    def _assign(self, dataset, models):
        """Give ``dataset`` the collection's model (any dataset class: ``_set_models`` if it has one)."""
        setter = getattr(dataset, "_set_models", None)
        if setter is not None:
            setter(models, from_collection=True)
        else:
            dataset.models = models
            if models is not None:
                self._assigned.add(id(dataset))
            else:
                self._assigned.discard(id(dataset))

    def extend(self, datasets):
        """Append several datasets (see `append`).

        Parameters
        ----------
        datasets : iterable of datasets
            The datasets to add, in order.

        Raises
        ------
        DatasetError
            If an item is not a dataset or its name is already in the collection.
        """
        for d in datasets:
            self.append(d)

    def remove(self, key):
        """Remove a dataset from the collection.

        Parameters
        ----------
        key : int, str or dataset
            Position, name or the dataset itself (as for indexing).

        Raises
        ------
        KeyError
            If no dataset has that name.
        IndexError
            If the position is out of range.
        """
        d = self[key]
        self._datasets.remove(d)
        self._assigned.discard(id(d))
        bump_epoch()

    def __len__(self):
        return len(self._datasets)

    def __iter__(self):
        return iter(self._datasets)

    def __contains__(self, item):
        return item in self.names if isinstance(item, str) else any(d is item for d in self._datasets)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self._datasets[key]
        if isinstance(key, slice):
            return Datasets(self._datasets[key])
        if isinstance(key, str):
            for d in self._datasets:
                if d.name == key:
                    return d
            raise KeyError(f"No dataset named '{key}' (have: {', '.join(self.names)})")
        if isinstance(key, (list, tuple)):
            return Datasets([self[k] for k in key])
        if hasattr(key, "stat_sum") and key in self:
            return key
        raise TypeError(f"Datasets index must be an int, a name, a slice or a list, not {type(key).__name__}")

    @property
    def names(self) -> list:
        """Names of the datasets, in order (list of str)."""
        return [d.name for d in self._datasets]

    def copy(self) -> Datasets:
        """A new collection of copies of the datasets (models not copied, shared model re-assigned).

        Returns
        -------
        Datasets
            The copy.
        """
        return Datasets([d.copy() for d in self._datasets], models=self._models)

    # --------------------------------------------------------------- models
    @property
    def models(self):
        """The model shared by the datasets (set with ``datasets.models = ...``)."""
        return self._models

    @models.setter
    def models(self, models):
        self._models = models
        for d in self._datasets:
            if d.models is None or self._from_collection(d):
                self._assign(d, models)
        bump_epoch()

    def _distinct_models(self):
        seen, out = set(), []
        for d in self._datasets:
            m = d.models
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                out.append(m)
        return out

    @property
    def parameters(self):
        """All parameters of the datasets' models (each object once), as `Parameters`."""
        from ..models import Parameters

        models = self._distinct_models()
        if len(models) == 1 and isinstance(getattr(models[0], "parameters", None), Parameters):
            return models[0].parameters
        return Parameters(model_parameters(list(models)))

    # ------------------------------------------------------------ statistic
    def _evaluator(self):
        ev = self._ev
        if ev is None or not ev.is_current():
            ev = self._ev = JointEvaluator(self._datasets)
        return ev

    def stat_sum(self) -> float:
        """Sum of the statistics of all datasets over their masks.

        Returns
        -------
        float
            Total statistic (``-2 log L`` up to a constant; Cash or WStat per dataset).
        """
        return self._evaluator().stat_sum()

    def stat_function(self):
        """``stat_sum`` without the staleness check, for a fit (the data must not change meanwhile).

        Returns
        -------
        callable
            A function of no argument returning the total statistic (float) at the current parameter values.
        """
        return self._evaluator().stat_sum

    def set_fit_range(self, e_min=None, e_max=None):
        """Set every dataset's ``mask_fit`` to the reco bins inside [e_min, e_max].

        Datasets without a ``set_fit_range`` method (e.g. a user's dataset
        class with only ``stat_sum()``) are left as they are.

        Parameters
        ----------
        e_min, e_max : `~astropy.units.Quantity`, str or float, optional
            Energy bounds (floats in TeV); None means no bound on that side.
        """
        for d in self._datasets:
            setter = getattr(d, "set_fit_range", None)
            if setter is not None:
                setter(e_min, e_max)

    # -------------------------------------------------------------- reduce
    def stack_reduce(self, name=None):
        """All datasets stacked into one (gammapy's ``stack_reduce``: each restricted to its safe mask).

        Parameters
        ----------
        name : str, optional
            Name of the stacked dataset (default ``"stacked"``).

        Returns
        -------
        dataset
            A new dataset of the same type as the inputs.

        Raises
        ------
        DatasetError
            If the collection is empty or holds datasets of different types.
        """
        if not self._datasets:
            raise DatasetError("Cannot stack an empty Datasets")
        kinds = {type(d) for d in self._datasets}
        if len(kinds) > 1:
            raise DatasetError(f"Cannot stack datasets of different types: {sorted(k.__name__ for k in kinds)}")
        stacked = self._datasets[0].to_masked(name=name if name is not None else "stacked")
        for d in self._datasets[1:]:
            stacked.stack(d)
        return stacked

    # ----------------------------------------------------------------- info
    def info_table(self, cumulative: bool = False) -> Table:
        """One row per dataset (`info_dict`); ``cumulative``: row i describes datasets 0..i stacked.

        Parameters
        ----------
        cumulative : bool, optional
            Whether row i describes the stack of the first i + 1 datasets (named ``stacked_<i>``).

        Returns
        -------
        astropy.table.Table
            The per-dataset summaries (an empty table for an empty collection).
        """
        if not self._datasets:
            return Table()
        if not cumulative:
            return vstack([d.info_table() for d in self._datasets], metadata_conflicts="silent")
        rows = []
        stacked = self._datasets[0].to_masked(name="stacked")
        rows.append(stacked.info_table())
        for d in self._datasets[1:]:
            stacked.stack(d)
            rows.append(stacked.info_table())
        table = vstack(rows, metadata_conflicts="silent")
        table["name"] = [f"stacked_{i}" for i in range(len(table))]
        return table

    # ------------------------------------------------------------------ I/O
    @classmethod
    def read(cls, paths, pattern: str | None = None, models=None, format: str | None = None) -> Datasets:
        """Read spectra: a folder, a list of files, one file, or gammapy's datasets YAML.

        * a folder: every spectrum file in it (sorted; ``pattern`` narrows the
          candidates): OGIP PHA files however they are named — gammapy's
          ``pha_obs1.fits`` + ``pha_obs1_arf.fits``/``_bkg``/``_rmf``, gwidgets' own,
          the joint-crab paper's ``pha_``/``arf_``/``bkg_``/``rmf_`` — and gammapy
          "gadf" dataset files; BKG / ARF / RMF files are never taken for spectra;
        * a ``.yaml`` file written by gammapy's ``Datasets.write``: the files it lists;
        * ``format`` (``"ogip"``, ``"gadf"``; None: recognised per file).

        A file with OFF counts gives a `SpectrumDatasetOnOff`, one without a `SpectrumDataset`.

        Parameters
        ----------
        paths : str, `~pathlib.Path` or list of them
            A folder, a datasets YAML, one spectrum file or a list of spectrum files.
        pattern : str, optional
            Glob pattern narrowing the files of a folder.
        models : model, list or `~gwidgets.core.models.Models`, optional
            Model shared by the datasets read.
        format : {"ogip", "gadf"}, optional
            File format; None recognises it per file.

        Returns
        -------
        Datasets
            The datasets read, in file order.

        Raises
        ------
        DatasetError
            If a folder holds no spectrum file, or the YAML has no ``datasets`` list with ``filename`` entries.
        `~gwidgets.errors.FileNotFoundGwError`
            If the YAML file does not exist.
        """
        from ..io.spectrum_formats import find_spectrum_files

        if isinstance(paths, (str, Path)):
            p = Path(paths)
            if p.is_dir():
                paths = find_spectrum_files(p, pattern)
                if not paths:
                    matching = f" matching {pattern!r}" if pattern else ""
                    raise DatasetError(f"No OGIP PHA or gadf spectrum files{matching} in '{p}'")
            elif p.suffix.lower() in (".yaml", ".yml"):
                paths = _paths_from_yaml(p)
            else:
                paths = [p]
        return cls([read_spectrum_dataset(f, format=format) for f in paths], models=models)

    def write(self, directory, overwrite: bool = False, format: str = "ogip") -> list:
        """Write every dataset into ``directory``.

        ``pha_obs<name>.fits`` (+ bkg/arf/rmf) for ``"ogip"``, ``<name>.fits`` for ``"gadf"`` (gammapy's
        default format).

        Parameters
        ----------
        directory : str or `~pathlib.Path`
            Output folder.
        overwrite : bool, optional
            Whether existing files are replaced.
        format : {"ogip", "gadf"}, optional
            File format.

        Returns
        -------
        list
            What each dataset's ``write`` returned (the paths written), in order.
        """
        directory = Path(directory)
        pattern = "{}.fits" if format == "gadf" else "pha_obs{}.fits"
        return [d.write(directory / pattern.format(d.name), overwrite=overwrite, format=format)
                for d in self._datasets]

    # -------------------------------------------------------------- display
    def __repr__(self):
        inner = "\n".join(f"  {d!r}" for d in self._datasets)
        return f"Datasets({len(self)}:\n{inner}\n)" if self._datasets else "Datasets(0)"

    def _repr_html_(self):
        return f"<p><b>Datasets</b> ({len(self)})</p>" + self.info_table()._repr_html_()
