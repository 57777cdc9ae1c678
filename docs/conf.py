"""Sphinx configuration of the gwidgets documentation site.

Build (warnings are errors)::

    pip install ".[docs]"
    python -m sphinx -W -b html docs docs/_build/html

The tutorials (``notebooks/*.ipynb``) are executed at build time by myst-nb, through jupyter-cache
(``nb_execution_mode = "cache"``): a first build runs them all (about 1.5 min on 2 cores), later builds only
the notebooks that changed. Widgets cannot render in a static page: the cells listed in
``WIDGET_CELLS`` (in ``docs/screenshots.py``) show a screenshot instead (taken with ``docs/screenshots.py``).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document this checkout, also when gwidgets is installed elsewhere

import gwidgets  # noqa: E402

project = "gwidgets"
author = "the gwidgets developers"
copyright = "2026, the gwidgets developers"  # noqa: A001
version = release = gwidgets.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
    "sphinx_design",
]

root_doc = "index"
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints", "screenshots.py"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
# `Name` in a docstring links to the object when Sphinx finds it, and is plain text otherwise
default_role = "py:obj"
suppress_warnings = ["myst.header"]  # notebooks may start at "##" after their title cell

# --- API reference: one page per module, each object documented once, where it is defined -------------------
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = True
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types
autodoc_default_options = {"show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- notebooks ---------------------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 600  # per cell; the slowest tutorial cell takes ~15 s on 2 cores
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_ipywidgets_js = {}  # no widget JavaScript from a CDN: the docs work offline, widgets show screenshots
nb_merge_streams = True

# The tutorials that read the public data sets run when the data root has them (tests/ use ../shared/data);
# without the data they are rendered without outputs.
if "GWIDGETS_DATA" not in os.environ and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["GWIDGETS_DATA"] = str(ROOT.parent / "shared" / "data")
NEEDS_DATA = {"joint_crab": "joint-crab/results/spectra", "analysis_3d": "hess-dl3-dr1"}


def _data_present(relpath: str) -> bool:
    from gwidgets.core.datapaths import data_path

    try:
        data_path(relpath)
    except Exception:  # the data-path error names the download command; here it only means "not there"
        return False
    return True


# The tutorials live in notebooks/ (Voilà serves them from there); the docs render copies in docs/tutorials/.
TUTORIALS = ["getting_started", "dashboard", "build_your_own_dashboard", "joint_crab", "analysis_3d"]
for _name in TUTORIALS:
    _src, _dst = ROOT / "notebooks" / f"{_name}.ipynb", DOCS / "tutorials" / f"{_name}.ipynb"
    if not _dst.is_file() or _dst.read_bytes() != _src.read_bytes():  # unchanged copies keep builds incremental
        _dst.write_bytes(_src.read_bytes())

nb_execution_excludepatterns = [f"tutorials/{name}.ipynb" for name, rel in NEEDS_DATA.items()
                                if not _data_present(rel)]

sys.path.insert(0, str(DOCS))
from screenshots import WIDGET_CELLS, screenshot_name  # noqa: E402  (the one list of widget cells)


def _widget_screenshots(app, docname, source):
    """Hide the widget output of the cells in WIDGET_CELLS and show their screenshot after them."""
    name = docname.rpartition("/")[2]
    if not docname.startswith("tutorials/") or name not in WIDGET_CELLS:
        return
    nb = json.loads(source[0])
    cells = nb["cells"]
    for k, index in reversed(list(enumerate(WIDGET_CELLS[name]))):
        cell = cells[index]
        if cell["cell_type"] != "code":
            raise ValueError(f"docs/screenshots.py WIDGET_CELLS: cell {index} of {name}.ipynb is not a code cell")
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "remove-output" not in tags:
            tags.append("remove-output")
        image = screenshot_name(name, k)
        if not (DOCS / "_static" / "screenshots" / image).is_file():
            raise FileNotFoundError(f"docs/_static/screenshots/{image} is missing: run python docs/screenshots.py")
        cells.insert(index + 1, {"cell_type": "markdown", "metadata": {}, "id": f"widget-screenshot-{k + 1}",
                                 "source": f"```{{figure}} /_static/screenshots/{image}\n:alt: the widget as "
                                           f"served by Voilà\n:class: widget-screenshot\n\n*Screenshot: the "
                                           f"widget as it renders in Jupyter or Voilà.*\n```\n"})
    source[0] = json.dumps(nb)


# --- HTML --------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "gwidgets"
html_static_path = ["_static"]
html_css_files = ["gwidgets.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": []}


def setup(app):
    """Register the screenshot substitution of the tutorials' widget outputs."""
    app.connect("source-read", _widget_screenshots)
