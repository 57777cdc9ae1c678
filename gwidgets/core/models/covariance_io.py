"""The covariance file next to a model YAML, in gammapy 2.1's layout.

gammapy's ``Models.write`` writes ``<stem>_covariance.dat`` (an ``ascii.fixed_width``
table with ``|`` delimiters: a ``Parameters`` column of the unique parameter
paths ``<model>.<component>.<parameter>``, then one column per parameter) and
names it in the YAML's ``covariance:`` key; ``Models.read`` reads it back *by
position* over its unique parameters.

gwidgets keeps a covariance per spectral model (``spectral_model.covariance``,
what the fit attaches). On reading, each spectral model takes its block (matched
by path); on writing, the blocks are placed in one matrix over the unique
parameters in gammapy's order, zero between models. A base-10 `~gwidgets.core.models.spectral_curved.LogParabola`
is written with gammapy's natural-log β, so the β row and column are divided
by ln 10 on writing and multiplied by it on reading, like the value and error.

Examples
--------
A fit of two simulated runs attaches the covariance; it is written beside the YAML and read back:

>>> from gwidgets.core.datasets import example_spectrum_datasets
>>> datasets = example_spectrum_datasets([1001, 1002])
>>> from gwidgets.core.fit import Fit
>>> from gwidgets.core.models import LogParabola, Models, SkyModel
>>> models = Models([SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.4, beta=0.1),
...                           name="bright")])
>>> datasets.models = models
>>> Fit().run(datasets).success
True
>>> models.write("crab.yaml")              # crab_covariance.dat beside it
>>> covariance_filename("crab.yaml").is_file()
True
>>> back = Models.read("crab.yaml")
>>> fitted, read = models[0].spectral_model.covariance, back[0].spectral_model.covariance
>>> bool(np.allclose(np.asarray(read), np.asarray(fitted), rtol=1e-6))
True
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ...errors import DataFileError, FileNotFoundGwError

__all__ = ["NamedCovariance", "covariance_filename", "read_covariance", "write_covariance", "attach_covariance",
           "models_covariance"]


class NamedCovariance(np.ndarray):
    """A covariance matrix with the ``names`` of its parameters (what ``covariance_matrix`` matches).

    Parameters
    ----------
    matrix : array-like
        The n × n matrix.
    names : list of str
        Parameter names of its rows and columns.
    """

    def __new__(cls, matrix, names):
        """Build the array (a float view of ``matrix``) and set ``names``."""
        obj = np.asarray(matrix, dtype=float).view(cls)
        obj.names = list(names)
        return obj

    def __array_finalize__(self, obj):
        """Carry ``names`` over to views and results of NumPy operations."""
        self.names = getattr(obj, "names", None)


def covariance_filename(yaml_path) -> Path:
    """Gammapy's name of the covariance file of ``yaml_path``: ``<stem>_covariance.dat`` beside it.

    Parameters
    ----------
    yaml_path : str or Path
        The model YAML file.

    Returns
    -------
    Path
        The covariance file.

    Examples
    --------
    >>> covariance_filename("out/crab.yaml").name
    'crab_covariance.dat'
    """
    yaml_path = Path(yaml_path)
    return yaml_path.with_name(f"{yaml_path.stem}_covariance.dat")


def _beta_factor(model) -> float:
    """Ln 10 for the β of a base-10 log-parabola (file β_e → our β₁₀), else 1."""
    return math.log(10) if getattr(model, "log_base", "e") == "10" else 1.0


def read_covariance(path) -> tuple[list[str], np.ndarray]:
    """(parameter paths, matrix) of a gammapy covariance file.

    Parameters
    ----------
    path : str or Path
        The covariance file.

    Returns
    -------
    names : list of str
        Parameter paths (``<model>.<component>.<parameter>``).
    matrix : numpy.ndarray
        The covariance, ``(len(names), len(names))``.

    Raises
    ------
    `~gwidgets.errors.FileNotFoundGwError`
        If the file does not exist.
    `~gwidgets.errors.DataFileError`
        If it cannot be parsed or the matrix is not square over the names.
    """
    from astropy.table import Table

    path = Path(path)
    if not path.exists():
        raise FileNotFoundGwError(path, "the 'covariance' key of the model YAML")
    try:
        table = Table.read(path, format="ascii.fixed_width", delimiter="|")
        names = [str(n).strip() for n in table["Parameters"]]
        table.remove_column("Parameters")
        matrix = np.array([[float(v) for v in row] for row in table], dtype=float)
    except Exception as exc:  # any parse failure names the file
        raise DataFileError(f"Cannot read the covariance file '{path}': {exc}", path) from None
    if matrix.shape != (len(names), len(names)):
        raise DataFileError(f"Covariance file '{path}': {len(names)} parameters but a {matrix.shape} matrix", path)
    return names, matrix


def write_covariance(path, names, matrix):
    """Write (names, matrix) as gammapy's covariance file.

    Parameters
    ----------
    path : str or Path
        Output file (overwritten).
    names : list of str
        Parameter paths.
    matrix : array-like
        The covariance.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_covariance(f"{tmp}/c.dat", ["crab.spectral.index", "crab.spectral.amplitude"], np.diag([0.01, 1e-26]))
    ...     names, matrix = read_covariance(f"{tmp}/c.dat")
    >>> names, float(matrix[1, 1])
    (['crab.spectral.index', 'crab.spectral.amplitude'], 1e-26)
    """
    from astropy.table import Table

    table = Table()
    table["Parameters"] = list(names)
    for i in range(len(names)):
        table[str(i)] = np.asarray(matrix[i], float)
    table.write(Path(path), format="ascii.fixed_width", delimiter="|", overwrite=True)


def _spectral_parts(models):
    """(model name, spectral model) of each model that has a spectral model."""
    for m in models:
        spectral = getattr(m, "spectral_model", None)
        if spectral is not None and hasattr(spectral, "parameters"):
            yield m.name, spectral


def attach_covariance(models, names, matrix) -> int:
    """Give each spectral model its block of (names, matrix); returns how many models got one.

    Parameters
    ----------
    models : `~gwidgets.core.models.Models`
        The models.
    names : list of str
        Parameter paths of the rows of ``matrix``.
    matrix : numpy.ndarray
        The covariance over ``names``.

    Returns
    -------
    int
        Number of spectral models given a (non-zero) block.
    """
    pos = {n: i for i, n in enumerate(names)}
    count = 0
    for name, spectral in _spectral_parts(models):
        prefix = f"{name}.spectral."
        mine = [(p.name, pos[prefix + p.name]) for p in spectral.parameters if prefix + p.name in pos]
        if not mine:
            continue
        idx = [i for _, i in mine]
        block = matrix[np.ix_(idx, idx)].copy()
        scale = np.array([_beta_factor(spectral) if n == "beta" else 1.0 for n, _ in mine])
        block *= np.outer(scale, scale)
        if not np.any(block):
            continue
        spectral.covariance = NamedCovariance(block, [n for n, _ in mine])
        count += 1
    return count


def models_covariance(models):
    """(names, matrix) over the unique parameters in gammapy's order, or None without any covariance.

    Parameters
    ----------
    models : `~gwidgets.core.models.Models`
        The models (a parameter followed by others appears once).

    Returns
    -------
    tuple or None
        ``(names, matrix)``, zero outside the spectral models' blocks; None if no spectral model has a covariance.
    """
    paths, seen = [], set()
    for path, p in models.parameter_paths():
        root = p
        while getattr(root, "linked_to", None) is not None:
            root = root.linked_to
        if id(root) in seen:
            continue
        seen.add(id(root))
        paths.append(path)
    index = {path: i for i, path in enumerate(paths)}
    matrix = np.zeros((len(paths), len(paths)))
    found = False
    for name, spectral in _spectral_parts(models):
        cov = spectral.parameters.covariance
        if cov is None:
            continue
        params = list(spectral.parameters)
        rows = [(k, index.get(f"{name}.spectral.{p.name}")) for k, p in enumerate(params)]
        rows = [(k, i) for k, i in rows if i is not None]
        scale = np.array([1 / _beta_factor(spectral) if params[k].name == "beta" else 1.0 for k, _ in rows])
        ks, ii = [k for k, _ in rows], [i for _, i in rows]
        matrix[np.ix_(ii, ii)] = np.asarray(cov, float)[np.ix_(ks, ks)] * np.outer(scale, scale)
        found = True
    return (paths, matrix) if found else None
