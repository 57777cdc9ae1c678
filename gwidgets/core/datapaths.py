"""One data root for the public data sets: ``$GWIDGETS_DATA``, else the user data folder.

The data root is the *parent* folder of the data sets, laid out under the names
the examples, notebooks and configs use — the layout ``gwidgets download``
writes into the user data folder::

    <root>/hess-dl3-dr1/{obs-index,hdu-index}.fits.gz, data/…
    <root>/joint-crab/data/{hess,magic,veritas,fact,fermi,other}/…
    <root>/joint-crab/results/spectra/{fermi,magic,veritas,fact,hess}/pha_*.fits, …
    <root>/joint-crab/results/maps/exclusion_mask.fits.gz

``$GWIDGETS_DATA`` points at another such folder (e.g. a shared copy); unset, the
root is ``platformdirs.user_data_dir("gwidgets")``. Config files write
``$GWIDGETS_DATA/joint-crab/data/hess``: `config_environ` gives the
expansion the default root when the variable is unset.

Examples
--------
>>> import os, gwidgets as gw
>>> os.environ["GWIDGETS_DATA"] = "/data/gamma"
>>> str(gw.data_root())
'/data/gamma'
>>> gw.data_path("joint-crab/results/spectra")
Traceback (most recent call last):
...
gwidgets.core.datapaths.MissingDataError: Data not found: '/data/gamma/joint-crab/results/spectra' does not exist
(data root: $GWIDGETS_DATA = '/data/gamma'). Fetch it with `gwidgets download joint-crab` (it downloads into the
data root), or set GWIDGETS_DATA to the folder that holds joint-crab/.
>>> del os.environ["GWIDGETS_DATA"]
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import GwidgetsError

__all__ = ["DATA_ENV", "MissingDataError", "data_root", "data_path", "config_environ", "DOWNLOADABLE"]

#: the one environment variable naming the data root (the folder holding hess-dl3-dr1/, joint-crab/, …)
DATA_ENV = "GWIDGETS_DATA"

#: top-level folders of the data root that ``gwidgets download NAME`` fetches (NAME = the folder)
DOWNLOADABLE = ("hess-dl3-dr1", "joint-crab")


class MissingDataError(GwidgetsError, FileNotFoundError):
    """A data set (or a part of one) is not in the data root; the message names the download command."""


def data_root() -> Path:
    """The data root: ``$GWIDGETS_DATA`` if set, else the user data folder that ``gwidgets download`` fills.

    >>> data_root().is_absolute()
    True

    Returns
    -------
    Path
        An absolute path (it need not exist yet).
    """
    value = os.environ.get(DATA_ENV)
    if value:
        return Path(value).expanduser().absolute()
    from platformdirs import user_data_dir

    return Path(user_data_dir("gwidgets"))


def _where() -> str:
    value = os.environ.get(DATA_ENV)
    if value:
        return f"$GWIDGETS_DATA = '{value}'"
    return "the user data folder, GWIDGETS_DATA is not set"


def data_path(*parts) -> Path:
    """The path of a data set (or a file or folder inside it) under the data root; it must exist.

    ``parts`` are joined: ``data_path("joint-crab", "results/spectra")`` ==
    ``data_path("joint-crab/results/spectra")``. A missing path raises
    `MissingDataError` naming the ``gwidgets download`` command that fetches it.

    >>> import gwidgets as gw
    >>> # needs: gwidgets download joint-crab, gwidgets download hess-dl3-dr1
    >>> spectra = gw.data_path("joint-crab/results/spectra")            # doctest: +SKIP
    >>> store = gw.DataStore.from_dir(gw.data_path("hess-dl3-dr1"))     # doctest: +SKIP
    >>> gw.data_path("no-such-data-set")
    Traceback (most recent call last):
    ...
    gwidgets.core.datapaths.MissingDataError: Data not found: '...no-such-data-set' does not exist (data root: ...).
    'no-such-data-set' is not a data set that `gwidgets download` fetches (hess-dl3-dr1, joint-crab); set
    GWIDGETS_DATA to the folder that holds no-such-data-set/.

    Parameters
    ----------
    *parts : str or Path
        Relative path parts inside the data root.

    Returns
    -------
    Path
        The existing path.

    Raises
    ------
    MissingDataError
        If the path does not exist.
    ValueError
        Without parts, or for an absolute path or one with ``..``.
    """
    if not parts:
        raise ValueError("data_path() needs a data set name, e.g. data_path('joint-crab')")
    relative = Path(*[str(p) for p in parts])
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"data_path() takes a path inside the data root, got '{relative}'")
    root = data_root()
    path = root / relative
    if path.exists():
        return path
    top = relative.parts[0]
    if top in DOWNLOADABLE:
        hint = (f"Fetch it with `gwidgets download {top}` (it downloads into the data root), "
                f"or set GWIDGETS_DATA to the folder that holds {top}/.")
    else:
        hint = (f"'{top}' is not a data set that `gwidgets download` fetches ({', '.join(DOWNLOADABLE)}); "
                f"set GWIDGETS_DATA to the folder that holds {top}/.")
    raise MissingDataError(f"Data not found: '{path}' does not exist (data root: {_where()}). {hint}")


def config_environ() -> dict:
    """The environment used to expand ``$VARS`` in configs.

    ``os.environ``, with ``GWIDGETS_DATA`` = `data_root` when it is not set (so
    ``$GWIDGETS_DATA/joint-crab/...`` finds what ``gwidgets download`` fetched).

    >>> "GWIDGETS_DATA" in config_environ()
    True

    Returns
    -------
    dict
        A copy of the environment.
    """
    env = dict(os.environ)
    if not env.get(DATA_ENV):
        env[DATA_ENV] = str(data_root())
    return env
