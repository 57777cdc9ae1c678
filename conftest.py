"""Doctests of ``gwidgets/core`` (``--doctest-modules``, see ``[tool.pytest.ini_options]`` in pyproject.toml).

Every docstring example runs in its own scratch folder (so examples that write files leave nothing behind)
with a few names every example may use without importing them: ``gw``, ``u`` (astropy.units), ``np`` and
``SkyCoord``. Examples that need the shared public data (``$GWIDGETS_DATA``) keep ``# doctest: +SKIP``;
the built-in simulated store, ``gw.example_store()``, is always there (made on first use, a few seconds).
"""
from __future__ import annotations

import pytest


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
