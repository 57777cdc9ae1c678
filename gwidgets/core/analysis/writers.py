"""Writing the analysis products into the output folder — all of them, or none.

Products are written by the writers of `WRITERS` (one function each, one
``@WRITERS.register(name)`` line each; see docs/extending.md) into a
temporary sibling folder ``.<outdir>.partial-*``; only when every writer
succeeded is that folder moved into place (an existing folder is replaced
only with ``overwrite``). On any error the temporary folder is removed and
the output folder is exactly as before.

Layout of the output folder::

    config.yaml            the configuration that was run
    analysis.log           what each step did
    datasets/              OGIP spectra (pha_obs<name>.fits + _bkg, _arf, _rmf) of 1D datasets
    maps/                  counts / background / exposure cubes of 3D datasets
    models.yaml            the fitted models (gammapy-compatible YAML)
    models_covariance.dat  their covariance (gammapy's file, named in models.yaml)
    fit_result.yaml        success, message, total stat, parameters with errors
    fit_result.ecsv        the parameter table (stat in the table meta)
    flux_points.ecsv/.fits, light_curve.ecsv/.fits
    plots/*.png
    .gwidgets-output       the marker: the files gwidgets wrote (``--overwrite`` replaces nothing else,
                           see `gwidgets.core.analysis.outdir`)
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import yaml

from ...errors import GwidgetsError
from ..models.covariance_io import covariance_filename
from ..outdir import check_outdir, input_paths, write_marker
from ..registry import Registry
from .plots import PLOTS

__all__ = ["WRITERS", "write_products", "check_outdir", "outdir_guard", "read_fit_result",
           "fit_result_dict"]

#: name -> writer(analysis, folder) -> list of written paths (relative to the folder), in the order they run
WRITERS = Registry("product writer")


def outdir_guard(analysis):
    """``(config_dir, inputs)`` that `check_outdir` must never replace for ``analysis``.

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis.

    Returns
    -------
    config_dir : `~pathlib.Path` or None
        The config file's folder.
    inputs : list of `~pathlib.Path`
        The paths the config reads (see `~gwidgets.core.outdir.input_paths`).
    """
    return analysis.base_dir, input_paths(analysis.config, analysis.base_dir)


def _enabled(analysis, name) -> bool:
    return bool(analysis.config.get("outputs", {}).get(name, True))


@WRITERS.register("config")
def _write_config(analysis, folder: Path):
    (folder / "config.yaml").write_text(analysis.config.to_yaml())
    (folder / "analysis.log").write_text("\n".join(analysis.messages) + "\n")
    return ["config.yaml", "analysis.log"]


@WRITERS.register("datasets")
def _write_datasets(analysis, folder: Path):
    if analysis.datasets is None or not _enabled(analysis, "datasets"):
        return []
    if not all(hasattr(d, "to_ogip") for d in analysis.datasets):
        return []  # map datasets: see the "maps" writer
    (folder / "datasets").mkdir()
    analysis.datasets.write(folder / "datasets")
    return ["datasets/"]


@WRITERS.register("maps")
def _write_maps(analysis, folder: Path):
    """Map datasets: their counts, background and exposure cubes as FITS (``maps/<dataset>_<cube>.fits``)."""
    if analysis.datasets is None or not _enabled(analysis, "maps"):
        return []
    written = []
    for d in analysis.datasets:
        if hasattr(d, "to_ogip"):
            continue
        for cube in ("counts", "background", "exposure"):
            m = getattr(d, cube, None)
            if m is not None and hasattr(m, "write"):
                (folder / "maps").mkdir(exist_ok=True)
                m.write(folder / "maps" / f"{d.name}_{cube}.fits")
                written.append(f"maps/{d.name}_{cube}.fits")
    return written


@WRITERS.register("models")
def _write_models(analysis, folder: Path):
    if analysis.models is None or not _enabled(analysis, "models"):
        return []
    analysis.models.write(folder / "models.yaml")  # + gammapy's models_covariance.dat after a fit
    return ["models.yaml"] + [p.name for p in [covariance_filename(folder / "models.yaml")] if p.exists()]


def fit_result_dict(result) -> dict:
    """Plain-Python summary of a `FitResult` (what ``fit_result.yaml`` holds).

    Parameters
    ----------
    result : `~gwidgets.core.fit.result.FitResult`
        The fit result.

    Returns
    -------
    dict
        ``success``, ``message``, ``total_stat``, ``nfev`` and ``parameters`` (a list of
        ``{name, value, error, unit, frozen}``).
    """
    params = []
    for p in result.parameters:
        params.append({"name": p.name, "value": float(p.value), "error": float(p.error), "unit": str(p.unit),
                       "frozen": bool(p.frozen)})
    return {"success": bool(result.success), "message": result.message, "total_stat": float(result.total_stat),
            "nfev": int(result.nfev), "parameters": params}


def read_fit_result(path) -> dict:
    """Read ``fit_result.yaml`` back (a dict, see `fit_result_dict`).

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The YAML file, or the output folder holding ``fit_result.yaml``.

    Returns
    -------
    dict
        The summary written by the ``fit_result`` writer.

    Raises
    ------
    `~gwidgets.errors.FileNotFoundGwError`
        If the file does not exist.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "fit_result.yaml"
    if not path.exists():
        from ...errors import FileNotFoundGwError

        raise FileNotFoundGwError(path)
    return yaml.safe_load(path.read_text())


@WRITERS.register("fit_result")
def _write_fit_result(analysis, folder: Path):
    result = analysis.fit_result
    if result is None or not _enabled(analysis, "fit_result"):
        return []
    (folder / "fit_result.yaml").write_text(yaml.safe_dump(fit_result_dict(result), sort_keys=False))
    table = result.parameters_table()
    table.meta.update(total_stat=float(result.total_stat), success=bool(result.success), message=result.message)
    table.write(folder / "fit_result.ecsv", format="ascii.ecsv")
    return ["fit_result.yaml", "fit_result.ecsv"]


def _write_table_product(obj, folder: Path, stem: str) -> list:
    """An estimator product: its own ``write`` (ECSV + FITS) or its ``to_table()``."""
    written = []
    for ext, fmt in (("ecsv", "ascii.ecsv"), ("fits", "fits")):
        path = folder / f"{stem}.{ext}"
        if hasattr(obj, "write"):
            obj.write(path)
        else:
            table = obj.to_table() if hasattr(obj, "to_table") else obj
            table.write(path, format=fmt)
        written.append(path.name)
    return written


@WRITERS.register("flux_points")
def _write_flux_points(analysis, folder: Path):
    if analysis.flux_points is None or not _enabled(analysis, "flux_points"):
        return []
    return _write_table_product(analysis.flux_points, folder, "flux_points")


@WRITERS.register("light_curve")
def _write_light_curve(analysis, folder: Path):
    if analysis.light_curve is None or not _enabled(analysis, "light_curve"):
        return []
    return _write_table_product(analysis.light_curve, folder, "light_curve")


@WRITERS.register("plots")
def _write_plots(analysis, folder: Path):
    if not _enabled(analysis, "plots"):
        return []
    wanted = [plot for plot in PLOTS.values() if plot.applies(analysis)]
    if not wanted:
        return []
    if importlib.util.find_spec("matplotlib") is None:
        analysis.note(f"plots not drawn ({', '.join(PLOTS)}): matplotlib is not installed")
        return []
    (folder / "plots").mkdir()
    return [f"plots/{plot.draw(analysis, folder / 'plots')}" for plot in wanted]


def write_products(analysis, outdir, overwrite: bool = False) -> Path:
    """Write every product into ``outdir`` atomically (see the module docstring); returns ``outdir``.

    Every `WRITERS` entry writes into a temporary folder next to ``outdir``, which then
    replaces ``outdir``; on any error the temporary folder is removed and nothing is written.

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis with its products.
    outdir : str or `~pathlib.Path`
        Output folder.
    overwrite : bool, optional
        Whether an existing output folder (written by gwidgets) may be replaced.

    Returns
    -------
    `~pathlib.Path`
        The absolute output folder.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If the folder exists and may not be replaced (see `~gwidgets.core.outdir.check_outdir`).
    `~gwidgets.errors.GwidgetsError`
        If a writer fails (the message names it).
    """
    outdir = Path(outdir).absolute()
    check_outdir(outdir, overwrite, *outdir_guard(analysis))
    created_parent = None
    if not outdir.parent.exists():
        created_parent = next((p for p in [outdir.parent, *outdir.parent.parents] if p.parent.exists()), None)
        outdir.parent.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.partial-", dir=outdir.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700: the output folder is as any folder the user makes
        for name, writer in WRITERS.items():
            try:
                writer(analysis, tmp)
            except GwidgetsError as exc:
                raise GwidgetsError(f"writing {name} failed: {exc}") from None
            except OSError as exc:
                raise GwidgetsError(f"writing {name} into '{outdir}' failed: {exc.strerror or exc}") from None
        write_marker(tmp)  # what gwidgets wrote: --overwrite replaces nothing else
        if outdir.exists():
            old = outdir.parent / f".{outdir.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(outdir, old)
            os.replace(tmp, outdir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created_parent is not None:
            shutil.rmtree(created_parent, ignore_errors=True)
        raise
    return outdir
