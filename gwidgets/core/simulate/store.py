"""Write the simulated DL3 data store (GADF 0.3).

Layout (as the H.E.S.S. DL3 DR1 release)::

    OUTDIR/
        obs-index.fits.gz  hdu-index.fits.gz  truth.yaml  README.txt
        data/gwsim_obs_001001.fits.gz   (PRIMARY, EVENTS, GTI, AEFF, EDISP, PSF, BKG)
        ...

Deterministic: a given seed gives byte-identical files. Every run draws from its
own random stream (``SeedSequence(seed, spawn_key=(1, index))``), so the first
runs of a small store equal those of the default one.

Examples
--------
>>> from gwidgets.core.simulate import example_store_path
>>> path = simulate_datastore("sim", n_obs=1)
>>> gw.DataStore.from_dir(path)
DataStore(1 observation, livetime ... h, objects: GWSIM field, name='sim')
>>> run = "data/gwsim_obs_001001.fits.gz"                       # the same seed: the same first run
>>> (path / run).read_bytes() == (example_store_path() / run).read_bytes()
True
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ...errors import GwidgetsError
from ..progress import make_progress
from .sampling import E_RECO_RANGE, InstrumentSampler
from .schedule import observation_plan
from .sky import default_sky
from .tables import irf_hdus, read_tables
from .truth import truth_dict, write_truth
from .writer import FrozenHDU, events_hdu, gti_hdu, hdu_index_hdu, obs_index_hdu, primary_hdu, write_fits_gz

__all__ = ["simulate_datastore", "simulate_run_events", "DEFAULT_SEED", "DATA_DIR", "file_name"]

DEFAULT_SEED = 20261125
DATA_DIR = "data"
_IRF_CLASSES = {"AEFF": ("aeff", "aeff_2d"), "EDISP": ("edisp", "edisp_2d"), "PSF": ("psf", "psf_table"),
                "BKG": ("bkg", "bkg_3d")}

_README = """\
Simulated DL3 data store written by gwidgets.core.simulate (seed {seed}, {n} observations).
GADF 0.3 format: obs-index.fits.gz, hdu-index.fits.gz and one file per observation in data/
(EVENTS, GTI, AEFF, EDISP, PSF, BKG). TELESCOP = GWSIM: an analytic, H.E.S.S.-like instrument.
The injected sources and expected counts are in truth.yaml; events carry MC_ID (1 = background).
Not real observations.
"""


def file_name(obs_id: int) -> str:
    """File name of an observation's events and IRFs.

    Parameters
    ----------
    obs_id : int
        Observation id.

    Returns
    -------
    str
        ``gwsim_obs_<obs_id, 6 digits>.fits.gz``.
    """
    return f"gwsim_obs_{obs_id:06d}.fits.gz"


def simulate_run_events(sampler, sources, run, seed):
    """All events of one run (dict of arrays, reco-energy range applied) and the expected counts per component.

    Expected counts are in the reconstructed-energy range, i.e. in the file; for sources also over all
    true energies.

    Parameters
    ----------
    sampler : `~gwidgets.core.simulate.sampling.InstrumentSampler`
        The instrument.
    sources : list of `~gwidgets.core.simulate.sky.Source`
        The sky.
    run : `~gwidgets.core.simulate.schedule.Run`
        The observation.
    seed : int
        Seed (combined with the run index).

    Returns
    -------
    events : dict
        Arrays of the events within ``E_RECO_RANGE``
        (see `~gwidgets.core.simulate.sampling.InstrumentSampler.source_events`).
    expected : tuple of dict
        Expected counts per component in the reconstructed-energy range, and per source over all true energies.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, run.index)))
    parts, expected, expected_true = [], {}, {}
    for src in sources:
        parts.append(sampler.source_events(rng, src, run))
        t_norm = run.deadc * float(sum(src.time_integral(a, b) for a, b in run.gtis))
        expected[src.name] = t_norm * sampler.expected_rate(src, run.ra_pnt, run.dec_pnt, reco_range=True)
        expected_true[src.name] = t_norm * sampler.expected_rate(src, run.ra_pnt, run.dec_pnt)
    parts.append(sampler.background_events(rng, run))
    expected["background"] = run.ontime * sampler.background_rate()  # GADF: BKG is per observation time
    events = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = (events["energy"] >= E_RECO_RANGE[0]) & (events["energy"] <= E_RECO_RANGE[1])
    return {k: v[keep] for k, v in events.items()}, (expected, expected_true)


def _legacy_store(outdir: Path) -> bool:
    """A store simulated before output folders carried a marker: only the files the simulator writes."""
    import fnmatch

    from ..outdir import written_files

    own = ("README.txt", "truth.yaml", "obs-index.fits.gz", "hdu-index.fits.gz", f"{DATA_DIR}/gwsim_obs_*.fits.gz")
    files = written_files(outdir)
    return "truth.yaml" in files and all(any(fnmatch.fnmatch(f, pat) for pat in own) for f in files)


def _check_outdir(outdir: Path, overwrite: bool):
    from ..outdir import MARKER, check_outdir

    if outdir.exists() and not outdir.is_dir():
        raise GwidgetsError(f"Cannot simulate into '{outdir}': it exists and is not a directory")
    if outdir.exists() and any(outdir.iterdir()):
        if not overwrite:
            raise GwidgetsError(f"Cannot simulate into '{outdir}': the directory exists and is not empty "
                                "(pass overwrite=True to replace it)")
        if (outdir / MARKER).exists() or not _legacy_store(outdir):
            check_outdir(outdir, True, key="outdir")  # --overwrite replaces only what gwidgets wrote


def _publish(tmp: Path, outdir: Path):
    """Move the finished store into place (atomic rename; an old store is replaced, then deleted)."""
    old = None
    if outdir.exists():
        old = outdir.with_name(f".{outdir.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(outdir, old)
    os.replace(tmp, outdir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def simulate_datastore(outdir, seed: int = DEFAULT_SEED, n_obs: int = 20, overwrite: bool = False,
                       progress=None) -> Path:
    """Simulate the example DL3 data store into ``outdir`` and return its path.

    The store is written into a temporary sibling directory and renamed into
    place at the end, so an interrupted run never leaves a half-written store.

    Parameters
    ----------
    outdir : str or Path
        Target directory; must be absent or empty unless ``overwrite``.
    seed : int
        Random seed: the same seed gives byte-identical files.
    n_obs : int
        Number of observations (4 per night, wobbling N, E, S, W).
    overwrite : bool
        Replace an existing, non-empty ``outdir`` (only one gwidgets wrote).
    progress : callable, optional
        ``progress(done, total, message)``; returning False cancels
        (`~gwidgets.core.progress.Cancelled`), leaving nothing behind.

    Returns
    -------
    Path
        The absolute path of the store.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If ``n_obs < 1``, or ``outdir`` is a file or a non-empty directory without ``overwrite``.
    `~gwidgets.core.config.ConfigError`
        If ``overwrite`` would replace a folder gwidgets did not write.
    `~gwidgets.core.progress.Cancelled`
        If ``progress`` returns False.
    """
    outdir = Path(outdir).expanduser().absolute()
    n_obs = int(n_obs)
    if n_obs < 1:
        raise GwidgetsError(f"n_obs must be at least 1, got {n_obs}")
    _check_outdir(outdir, overwrite)
    report = make_progress(progress)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.tmp-", dir=outdir.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the store is ordinary data
        (tmp / DATA_DIR).mkdir()
        irf = irf_hdus()
        sampler = InstrumentSampler(read_tables(irf))
        frozen = [FrozenHDU(h) for h in irf]
        sources = default_sky()
        runs = observation_plan(n_obs, seed)
        hdu_rows, counts, expected = [], [], {}
        for k, run in enumerate(runs):
            report(k, len(runs), f"simulating OBS_ID {run.obs_id}")
            events, expected[run.obs_id] = simulate_run_events(sampler, sources, run, seed)
            irf_run = [f.to_bytes(OBS_ID=run.obs_id) for f in frozen]
            hdus = [primary_hdu(), events_hdu(run, events, sources), gti_hdu(run), *irf_run]
            name = file_name(run.obs_id)
            sizes = write_fits_gz(hdus, tmp / DATA_DIR / name)
            counts.append(len(events["time"]))
            for hdu_name, size in zip(["EVENTS", "GTI", *(f.name for f in frozen)], sizes[1:]):
                hdu_type, hdu_class = _IRF_CLASSES.get(hdu_name, (hdu_name.lower(), hdu_name.lower()))
                hdu_rows.append((run.obs_id, hdu_type, hdu_class, DATA_DIR, name, hdu_name, size))
        write_fits_gz([primary_hdu(), obs_index_hdu(runs, counts)], tmp / "obs-index.fits.gz")
        write_fits_gz([primary_hdu(), hdu_index_hdu(hdu_rows)], tmp / "hdu-index.fits.gz")
        write_truth(tmp / "truth.yaml", truth_dict(sources, runs, expected, seed, sampler.background_rate()))
        (tmp / "README.txt").write_text(_README.format(seed=seed, n=n_obs))
        report(len(runs), len(runs), "writing indexes")
        from ..outdir import write_marker

        write_marker(tmp)  # what gwidgets wrote: a later --overwrite replaces nothing else
        _check_outdir(outdir, overwrite)  # someone may have filled it meanwhile
        _publish(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return outdir
