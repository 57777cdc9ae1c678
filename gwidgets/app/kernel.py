"""The IPython kernel ``gwidgets dashboard`` runs for each page: ipykernel without the debugger and jedi.

A classroom runs one kernel per page, so what a kernel imports is paid once per student. A Voilà
page never debugs its kernel and never asks it to complete code, yet ipykernel imports ``debugpy``
(its debugger, ~8 MiB) and IPython imports ``jedi`` (its completer, ~6 MiB with ``parso``) in every
kernel. Both are optional for them: ipykernel without ``debugpy`` runs without the debugger (its
``kernel_info`` then does not list the ``"debugger"`` feature), IPython without ``jedi`` completes
with its own completer. `main` makes both unimportable (``sys.modules[name] = None``, Python's way of
blocking an import), imports ``regions`` as `import_regions_without_matplotlib` does, and then starts
ipykernel exactly as ``python -m ipykernel_launcher`` does.

``regions`` (the ON / OFF regions of every analysis) imports ``matplotlib.path`` when it is imported, only
to build two plot markers of DS9 point regions, and matplotlib costs ~15 MiB per kernel; the dashboard
never plots regions with matplotlib. Imported while matplotlib looks absent, regions takes its own
no-matplotlib path (those two markers are marker strings, '8' and '^'); matplotlib itself stays
importable for whatever needs it later (saving a figure).

``gwidgets dashboard`` writes the kernelspec `kernel_spec` into its temporary directory, puts that
directory first on ``JUPYTER_PATH`` (`kernel_env`) and names `KERNEL_NAME` in the notebook it serves.
Notebooks served with plain ``voila`` keep their own kernel (``python3``).

Run by hand: ``python -m gwidgets.app.kernel -f CONNECTION_FILE``.

Examples
--------
>>> spec = kernel_spec()
>>> spec["argv"][1:3], spec["argv"][-2:]
(['-m', 'gwidgets.app.kernel'], ['-f', '{connection_file}'])
>>> spec["metadata"]["debugger"]
False
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

__all__ = ["KERNEL_NAME", "KERNEL_MODULE", "BLOCKED_MODULES", "kernel_spec", "write_kernel_spec", "kernel_env",
           "block_modules", "import_regions_without_matplotlib", "prepare", "main"]

#: the kernelspec name ``gwidgets dashboard`` gives its notebook
KERNEL_NAME = "gwidgets-dashboard"
#: the module that starts the kernel (``python -m gwidgets.app.kernel``)
KERNEL_MODULE = "gwidgets.app.kernel"
#: modules a dashboard kernel never needs: ipykernel's debugger (``debugpy``), IPython's completer (``jedi``)
BLOCKED_MODULES = ("debugpy", "jedi")


def kernel_spec(python: str | None = None) -> dict:
    """The kernelspec (``kernel.json`` content) of the dashboard kernel.

    Parameters
    ----------
    python : str, optional
        The Python interpreter (default: this one, ``sys.executable``).

    Returns
    -------
    dict
        ``argv``, ``display_name``, ``language`` and ``metadata`` (``debugger: False``).
    """
    return {"argv": [python or sys.executable, "-m", KERNEL_MODULE, "-f", "{connection_file}"],
            "display_name": "Python 3 (gwidgets dashboard)", "language": "python",
            "metadata": {"debugger": False}}


def write_kernel_spec(directory) -> Path:
    """Write the kernelspec into ``directory/kernels/KERNEL_NAME/kernel.json``; returns ``directory``.

    ``directory`` is then a Jupyter data directory: put it on ``JUPYTER_PATH`` (see `kernel_env`).

    Parameters
    ----------
    directory : str or Path
        An existing directory (``gwidgets dashboard`` uses its temporary directory).

    Returns
    -------
    Path
        ``directory``.

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_kernel_spec(tmp) / "kernels" / KERNEL_NAME / "kernel.json"
    ...     json.loads(path.read_text())["argv"][2]
    'gwidgets.app.kernel'
    """
    directory = Path(directory)
    spec_dir = directory / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps(kernel_spec(), indent=1))
    return directory


def kernel_env(directory, env: dict) -> dict:
    """``env`` with ``directory`` (see `write_kernel_spec`) first on ``JUPYTER_PATH``.

    Parameters
    ----------
    directory : str or Path
        The Jupyter data directory holding the kernelspec.
    env : dict
        The environment to extend (not changed).

    Returns
    -------
    dict
        A new environment.

    Examples
    --------
    >>> kernel_env("/tmp/k", {"JUPYTER_PATH": "/opt/j"})["JUPYTER_PATH"] == "/tmp/k" + os.pathsep + "/opt/j"
    True
    """
    out = dict(env)
    rest = out.get("JUPYTER_PATH")
    out["JUPYTER_PATH"] = str(directory) + (os.pathsep + rest if rest else "")
    return out


def block_modules(names=BLOCKED_MODULES) -> list[str]:
    """Make the modules ``names`` unimportable in this process (those not imported yet); returns them.

    Parameters
    ----------
    names : sequence of str
        Top-level module names.

    Returns
    -------
    list of str
        The names blocked now (a module already imported is left alone).

    Examples
    --------
    >>> import subprocess, sys
    >>> code = "from gwidgets.app.kernel import block_modules; block_modules(['csv']); import csv"
    >>> "ModuleNotFoundError" in subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr
    True
    """
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None
    return blocked


def import_regions_without_matplotlib() -> bool:
    """Import ``regions`` while ``matplotlib`` looks absent (its no-matplotlib path), if neither is imported yet.

    Returns
    -------
    bool
        True if regions was imported now without matplotlib; False if regions or matplotlib was already
        imported (nothing is changed then).

    Examples
    --------
    >>> import subprocess, sys
    >>> code = ("from gwidgets.app.kernel import import_regions_without_matplotlib as f; print(f()); "
    ...         "import sys; print('matplotlib' in sys.modules); import matplotlib; print(matplotlib.__name__)")
    >>> subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()
    ['True', 'False', 'matplotlib']
    """
    if "regions" in sys.modules or "matplotlib" in sys.modules:
        return False
    sys.modules["matplotlib"] = None  # regions asks importlib.util.find_spec("matplotlib"): None
    try:
        import regions  # noqa: F401
    finally:
        if "matplotlib" in sys.modules and sys.modules["matplotlib"] is None:
            del sys.modules["matplotlib"]
    return True


def prepare():
    """Make the process a dashboard kernel's: `block_modules`, then `import_regions_without_matplotlib`."""
    block_modules()
    import_regions_without_matplotlib()


def main():
    """Start ipykernel (arguments from ``sys.argv``, as ``ipykernel_launcher``) after `prepare`."""
    prepare()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":  # pragma: no cover - the kernel process
    main()
