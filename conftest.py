"""Doctests of the package (core, state, widgets, app, plotting, ``__init__``): ``python -m pytest`` runs them.

``pytest_collect_file`` below collects those modules as doctests, and only those (``gwidgets`` is in
``testpaths``; ``cli.py`` and ``__main__.py`` are not imported for it): with
``--doctest-modules`` in ``addopts`` pytest would also import every file of ``tests/`` for doctests (and
trip over the two ``conftest.py`` there). ``python -m pytest --doctest-modules gwidgets/core`` works too
(pytest's own collector is used then).

Every docstring example runs in its own scratch folder (so examples that write files leave nothing behind)
with a few names every example may use without importing them: ``gw``, ``u`` (astropy.units), ``np`` and
``SkyCoord``. Examples that need the shared public data (``$GWIDGETS_DATA``) keep ``# doctest: +SKIP``;
the built-in simulated store, ``gw.example_store()``, is always there (made on first use, a few seconds).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.doctest import DoctestModule

PACKAGE = Path(__file__).resolve().parent / "gwidgets"
#: the folders whose modules' docstring examples run in the suite, and single modules
DOCTEST_DIRS = tuple(PACKAGE / name for name in ("core", "state", "widgets", "app", "plotting"))
DOCTEST_FILES = (PACKAGE / "__init__.py",)


def pytest_collect_file(file_path, parent):
    """The modules of DOCTEST_DIRS / DOCTEST_FILES as doctest modules (unless --doctest-modules collects them)."""
    if parent.config.option.doctestmodules or file_path.suffix != ".py":
        return None
    path = file_path.resolve()
    if path in DOCTEST_FILES or any(d in path.parents for d in DOCTEST_DIRS):
        return DoctestModule.from_parent(parent, path=file_path)
    return None


def _is_doctest(item) -> bool:
    return type(item).__name__ == "DoctestItem"


@pytest.fixture(autouse=True)
def _doctest_setup(request):
    """For doctests only: a fresh temporary working directory and the names every example may use."""
    if not _is_doctest(request.node):
        yield
        return
    import astropy.units as u
    import numpy as np
    from astropy.coordinates import SkyCoord

    import gwidgets as gw

    request.getfixturevalue("doctest_namespace").update(gw=gw, u=u, np=np, SkyCoord=SkyCoord)
    request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
    yield
