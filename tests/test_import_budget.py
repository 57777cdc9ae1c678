"""The default dashboard's kernel imports only what it uses (issue 14: per-kernel memory <= 150 MiB RSS).

A classroom runs one kernel per page, and a kernel's memory is mostly the modules it imported:
scipy alone costs ~40 MiB per kernel once scipy.optimize is in (scipy.special 16 MiB, scipy.optimize
with scipy.sparse, linalg, spatial and fft 23 MiB more, scipy.signal ~50 MiB), matplotlib.pyplot,
pandas, dask and gammapy tens more. The default dashboard (`gwidgets dashboard`, no PATH: the
simulated example store, all runs selected, ON region, log-parabola fit, flux points) needs none of
them. This test runs the dashboard notebook's own code in a fresh Python process prepared as the
dashboard's kernel is (`gwidgets.app.kernel.prepare`: no debugpy, no jedi, ``regions`` imported on its
no-matplotlib path), waits until the first look has fitted and computed its flux points, and lists the
heavy modules it holds. ``regions`` itself is needed (the ON and OFF regions); matplotlib (~15 MiB per
kernel, pulled in by ``import regions`` and by the sky view's colour map before) and PIL are not, and
regions' DS9 file I/O still works without them.

If it fails because a new feature really needs one of them on the first look, import that module
inside the function that uses it (see ``gwidgets/core/models/spatial.py``), or measure the cost per
kernel (``python benchmarks/run.py classroom``) before moving it off this list.
"""
import json
import os
import subprocess
import sys
import textwrap

#: modules the default dashboard's kernel must not import (top-level packages cover their submodules)
NOT_NEEDED = (
    "scipy",  # flux-point norms use gwidgets.core.fit.brent; erf / quad only in the models that need them
    "matplotlib",  # regions imports matplotlib.path unless the kernel imported it first without (gwidgets.app.kernel)
    "PIL",  # the sky view's PNG: gwidgets.widgets.png
    "debugpy", "jedi",  # ipykernel's debugger and IPython's completer: blocked in the dashboard kernel
    "bqplot", "pandas", "dask", "distributed", "gammapy", "ipyaladin", "numba",
    "astropy.modeling", "astropy.visualization",
    # 3D and export: only when their tab or command is used
    "gwidgets.core.reduction.ring", "gwidgets.core.reduction.map_dataset_maker", "gwidgets.core.datasets.map",
    "gwidgets.core.datasets.map_evaluator", "gwidgets.state.map_session", "gwidgets.widgets.map_view",
    "gwidgets.plotting",
)

SCRIPT = textwrap.dedent("""
    import json, sys, tempfile, time
    from gwidgets.app.kernel import prepare
    prepare()  # as the dashboard's kernel (python -m gwidgets.app.kernel) does before ipykernel starts
    import ipykernel.ipkernel, ipywidgets  # as in a kernel
    from gwidgets.app.cli_dashboard import CODE
    namespace = {}
    exec(CODE, namespace)  # the dashboard notebook's code: example store, first look started at once
    session = namespace["session"]
    deadline = time.monotonic() + 240
    while session.flux_points_result is None and not session.error and time.monotonic() < deadline:
        time.sleep(0.2)
    with tempfile.TemporaryDirectory() as tmp:  # regions' DS9 writer and parser, without matplotlib
        on = session.on_region
        session.save_regions(tmp + "/on.reg")
        session.load_regions(tmp + "/on.reg")
        same = bool(abs(session.on_region.center.separation(on.center).deg) < 1e-6
                    and abs((session.on_region.radius - on.radius).to_value("deg")) < 1e-6)
    modules = [m for m, v in sys.modules.items() if v is not None]  # blocked names (None) are not imported
    print(json.dumps({"modules": sorted(modules), "error": session.error, "ds9_round_trip": same,
                      "fit": bool(session.fit_result is not None and session.fit_result.success),
                      "flux_points": session.flux_points_result is not None}))
""")


def _dashboard_kernel_modules():
    # no store path (the default dashboard) and not a Voila kernel (the first look starts at once)
    env = {k: v for k, v in os.environ.items() if k not in ("GWIDGETS_DASHBOARD_STORE", "VOILA_PREHEAT")}
    out = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True, timeout=400,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _held(modules, name):
    return [m for m in modules if m == name or m.startswith(name + ".")]


def test_default_dashboard_imports_no_heavy_module_it_does_not_need():
    """Build the default dashboard as its notebook does, let the first look finish, check sys.modules."""
    state = _dashboard_kernel_modules()
    modules = state["modules"]
    # the first look really ran: the fit converged and the flux points exist (their estimator was imported)
    assert state["error"] == "" and state["fit"] and state["flux_points"], state
    assert "gwidgets.core.estimators.flux_points" in modules and "gwidgets.app.dashboard" in modules
    assert "regions" in modules and state["ds9_round_trip"], state["ds9_round_trip"]
    held = {name: _held(modules, name)[:5] for name in NOT_NEEDED if _held(modules, name)}
    assert not held, f"the default dashboard's kernel imported modules it does not need: {held}"
