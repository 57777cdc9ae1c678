"""Output folders (``gwidgets run``, ``gwidgets simulate``): ``--overwrite`` replaces only what gwidgets wrote.

Every output folder carries a marker file, ``.gwidgets-output``, listing the
files gwidgets wrote into it. ``overwrite`` replaces an existing folder only if

* it has that marker, and holds no file the marker does not list (nothing the
  user added since);
* it is not the current folder, the home folder, the file system root, the
  folder of the config or any folder above it, nor an input named in the
  config (a data store, a spectra folder, an exclusion mask, a models file)
  or a folder holding one.

Anything else is refused with a `ConfigError` that says why, before any work.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "results"
>>> folder.mkdir(); (folder / "notes.txt").write_text("mine")
4
>>> check_outdir(folder, overwrite=True)
Traceback (most recent call last):
...
gwidgets.core.config.ConfigError: 'general.outdir': refusing to overwrite '...results': it has no
.gwidgets-output marker, so gwidgets did not write it (choose another output folder)
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from .config import ConfigError, expand_path

__all__ = ["MARKER", "check_outdir", "write_marker", "written_files", "input_paths"]

#: the marker file in every output folder gwidgets writes
MARKER = ".gwidgets-output"
MARKER_FORMAT = "gwidgets-output"


def written_files(folder: Path) -> list[str]:
    """Every file below ``folder`` (relative POSIX paths, sorted), the marker excepted.

    Parameters
    ----------
    folder : Path
        The folder.

    Returns
    -------
    list of str
        Relative paths.
    """
    folder = Path(folder)
    out = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            rel = (Path(root) / name).relative_to(folder).as_posix()
            if rel != MARKER:
                out.append(rel)
    return sorted(out)


def write_marker(folder: Path) -> None:
    """Write the marker listing every file now in ``folder`` (call it last, once every product is written).

    Parameters
    ----------
    folder : Path
        The output folder.
    """
    from .. import __version__

    data = {"format": MARKER_FORMAT, "version": 1, "gwidgets": __version__, "files": written_files(folder)}
    (Path(folder) / MARKER).write_text("# written by gwidgets: the files of this output folder\n"
                                       + yaml.safe_dump(data, sort_keys=False))


def _read_marker(folder: Path):
    path = folder / MARKER
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(data, dict) or data.get("format") != MARKER_FORMAT or not isinstance(data.get("files"), list):
        return None
    return {str(f) for f in data["files"]}


def input_paths(config, base_dir=None) -> list[Path]:
    """The paths a config reads from (data stores, spectra folders, exclusion mask file, models file).

    Paths whose variables are not set are left out (the step that reads them reports).

    Parameters
    ----------
    config : dict or `~gwidgets.core.config.AnalysisConfig`
        The configuration.
    base_dir : str or Path, optional
        Folder that relative paths are relative to.

    Returns
    -------
    list of Path
        Resolved paths.
    """
    candidates = []
    data = config.get("data", {}) if hasattr(config, "get") else {}
    for section in [data, *(data.get("groups") or [])]:
        for key in ("datastore", "spectra"):
            if isinstance(section.get(key), (str, Path)):
                candidates.append(section[key])
    ds = config.get("datasets", {}) if hasattr(config, "get") else {}
    exclusion = (ds.get("background") or {}).get("exclusion")
    if isinstance(exclusion, (str, Path)):
        candidates.append(exclusion)
    models = config.get("models") if hasattr(config, "get") else None
    if isinstance(models, (str, Path)):
        candidates.append(models)
    out = []
    for text in candidates:
        try:
            path = Path(expand_path(str(text), "input"))
        except ConfigError:
            continue
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        out.append(path.resolve())
    return out


def check_outdir(outdir, overwrite: bool, config_dir=None, inputs=(), key: str = "general.outdir",
                 allow_empty: bool = False) -> None:
    """Raise a `ConfigError` naming ``key`` before any work if ``outdir`` exists and may not be replaced.

    See the module doc; ``allow_empty``: an existing empty folder is used as it is.

    Parameters
    ----------
    outdir : str or Path
        The output folder (nothing is checked if it does not exist).
    overwrite : bool
        Whether the user asked to replace it.
    config_dir : str or Path, optional
        Folder of the config file.
    inputs : iterable of Path, optional
        Inputs named in the config (see `input_paths`).
    key : str, optional
        Configuration key named in the message.
    allow_empty : bool, optional
        Accept an existing empty folder.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If the folder exists and may not be replaced (the message says why).
    """
    outdir = Path(outdir).absolute()
    if not outdir.exists():
        return
    if not outdir.is_dir():
        raise ConfigError(f"'{key}': '{outdir}' exists and is not a folder")
    if allow_empty and not any(outdir.iterdir()):
        return
    if not overwrite:
        raise ConfigError(f"'{key}': output folder '{outdir}' exists; set general.overwrite: true "
                          "(or --overwrite) to replace it")

    def _refuse(outdir: Path, why: str):
        raise ConfigError(f"'{key}': refusing to overwrite '{outdir}': {why}")

    real = outdir.resolve()
    if real == Path.cwd().resolve() or real in Path.cwd().resolve().parents:
        _refuse(outdir, "it is the current folder or holds it")
    if real == Path.home().resolve() or real == Path(real.anchor):
        _refuse(outdir, "it is the home folder or the file system root")
    if config_dir is not None:
        cdir = Path(config_dir).resolve()
        if real == cdir or real in cdir.parents:
            _refuse(outdir, "it holds the config file")
    for path in inputs:
        path = Path(path).resolve()
        if real == path or real in path.parents:
            _refuse(outdir, f"it is or holds the input '{path}' named in the config")
    listed = _read_marker(real)
    if listed is None:
        _refuse(outdir, f"it has no {MARKER} marker, so gwidgets did not write it (choose another output folder)")
    foreign = [f for f in written_files(real) if f not in listed]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        _refuse(outdir, f"it holds files gwidgets did not write: {shown} (move them, or choose another folder)")
