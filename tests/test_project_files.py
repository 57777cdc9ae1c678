"""The files others expect: LICENSE as pyproject says, a valid CITATION.cff, a Keep-a-Changelog CHANGELOG."""
from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import yaml

from gw_testdata import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

# the keys CFF 1.2.0 requires, and the types of those this file uses
CFF_REQUIRED = ("cff-version", "message", "title", "authors")


def test_license_is_the_one_pyproject_declares():
    assert PYPROJECT["license"] == {"text": "BSD-3-Clause"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, gwidgets developers" in text
    # the three clauses of the SPDX BSD-3-Clause text
    for clause in ("Redistributions of source code must retain", "Redistributions in binary form must reproduce",
                   "Neither the name of the copyright holder"):
        assert clause in text


def test_citation_cff_is_valid_and_agrees_with_pyproject():
    data = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert all(key in data for key in CFF_REQUIRED)
    assert data["cff-version"] == "1.2.0"
    assert data["license"] == PYPROJECT["license"]["text"]
    assert str(data["version"]) == PYPROJECT["version"]
    assert data["authors"] and all("name" in a or "family-names" in a for a in data["authors"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(data["date-released"]))
    for ref in data.get("references", []):
        assert {"type", "title", "authors"} <= set(ref)
    cffconvert = shutil.which("cffconvert")
    if cffconvert:  # the schema check itself, where the tool is installed
        out = subprocess.run([cffconvert, "--validate", "-i", str(ROOT / "CITATION.cff")],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


def test_changelog_keeps_a_changelog_layout():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog")
    versions = re.findall(r"^## \[([^\]]+)\]", text, flags=re.M)
    assert versions[0] == "Unreleased"
    assert PYPROJECT["version"] in versions
    sections = set(re.findall(r"^### (\w+)", text, flags=re.M))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert {"Added", "Changed", "Fixed"} <= sections

