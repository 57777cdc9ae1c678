"""``--overwrite`` replaces only what gwidgets wrote (issue 11): named refusals before any work, nothing lost.

Each refusal is checked on the CLI (exit code, one clear line) and for the user's files being all still there.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gwidgets.cli import main
from gwidgets.core.analysis import Analysis
from gwidgets.core.outdir import MARKER, check_outdir, write_marker
from gwidgets.core.config import ConfigError

from test_analysis import SMALL


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def user_folder(tmp_path, monkeypatch, data_dir):
    """A user's working folder: the config, a notebook and data of their own; the current folder."""
    monkeypatch.setenv("GWIDGETS_DATA", str(data_dir))
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "cfg.yaml").write_text(SMALL)
    (folder / "notes.ipynb").write_text("{}")
    (folder / "mine").mkdir()
    (folder / "mine" / "draft.txt").write_text("two weeks of work")
    monkeypatch.chdir(folder)
    return folder


def _refused(capsys, argv, match):
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err and match in err, err
    assert "Traceback" not in err


def test_overwrite_refuses_the_current_folder(user_folder, capsys):
    before = _snapshot(user_folder)
    _refused(capsys, ["run", "cfg.yaml", "--outdir", ".", "--overwrite", "--quiet"], "current folder")
    assert _snapshot(user_folder) == before


def test_overwrite_refuses_the_folder_of_the_config_and_its_parents(user_folder, capsys):
    before = _snapshot(user_folder.parent)
    _refused(capsys, ["run", "mine/../cfg.yaml", "--outdir", str(user_folder.parent), "--overwrite", "--quiet"],
             "current folder")
    sub = user_folder / "mine"
    _refused(capsys, ["run", str(sub / ".." / "cfg.yaml"), "--outdir", str(user_folder), "--overwrite", "--quiet"],
             "current folder")
    assert _snapshot(user_folder.parent) == before
    # from elsewhere, the config's own folder is still refused
    os.chdir(user_folder.parent)
    _refused(capsys, ["run", "work/cfg.yaml", "--outdir", "work", "--overwrite", "--quiet"], "holds the config")
    assert _snapshot(user_folder.parent) == before


def test_overwrite_refuses_home_and_the_data_store(tmp_path, monkeypatch, capsys):
    store = tmp_path / "store"
    store.mkdir()
    (store / "obs-index.fits.gz").write_bytes(b"data")
    write_marker(store)  # even a marker cannot make an input replaceable
    cfg = tmp_path / "elsewhere" / "cfg.yaml"
    cfg.parent.mkdir()
    cfg.write_text(SMALL.replace("$GWIDGETS_DATA/joint-crab/data/hess", str(store)))
    before = _snapshot(tmp_path)
    _refused(capsys, ["run", str(cfg), "--outdir", str(store), "--overwrite", "--quiet"], f"input '{store}'")
    _refused(capsys, ["run", str(cfg), "--outdir", str(tmp_path), "--overwrite", "--quiet"], "holds")
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere" / "home"))
    (tmp_path / "elsewhere" / "home").mkdir()
    with pytest.raises(ConfigError, match="home folder"):
        check_outdir(tmp_path / "elsewhere" / "home", overwrite=True)
    assert _snapshot(tmp_path) == before


def test_overwrite_refuses_folders_gwidgets_did_not_write_or_that_hold_user_files(user_folder, capsys):
    out = user_folder / "mine"
    before = _snapshot(user_folder)
    _refused(capsys, ["run", "cfg.yaml", "--outdir", "mine", "--overwrite", "--quiet"], f"no {MARKER} marker")
    assert _snapshot(user_folder) == before
    # a real output folder, then a file of the user's added to it: refused, naming the file
    assert main(["run", "cfg.yaml", "--outdir", "results", "--quiet"]) == 0
    (user_folder / "results" / "my-plot.pdf").write_text("edited by hand")
    before = _snapshot(user_folder)
    _refused(capsys, ["run", "cfg.yaml", "--outdir", "results", "--overwrite", "--quiet"], "my-plot.pdf")
    assert _snapshot(user_folder) == before
    # without the user's file, gwidgets' own folder is replaced
    (user_folder / "results" / "my-plot.pdf").unlink()
    assert main(["run", "cfg.yaml", "--outdir", "results", "--overwrite", "--quiet"]) == 0
    assert (user_folder / "results" / MARKER).exists() and (user_folder / "mine" / "draft.txt").exists()
    assert out.exists()


def test_output_folder_permissions_follow_the_umask(user_folder):
    old = os.umask(0o022)
    try:
        Analysis("cfg.yaml").run(outdir="results")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((user_folder / "results").stat().st_mode)
    assert mode == 0o755, oct(mode)


def test_simulate_overwrite_refuses_the_users_folder(user_folder, capsys):
    before = _snapshot(user_folder)
    assert main(["simulate", ".", "--n-obs", "1", "--overwrite"]) != 0
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err and "current folder" in err, err
    assert _snapshot(user_folder) == before
