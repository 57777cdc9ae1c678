"""Shared fixtures: paths to the real public data in ../shared/data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from gw_testdata import DATA, ROOT, STORES  # noqa: E402  (shared with test modules)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.exists():
        pytest.skip(f"shared data not found at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def stores() -> dict:
    if not DATA.exists():
        pytest.skip(f"shared data not found at {DATA}")
    return STORES
