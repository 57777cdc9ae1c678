"""The project's own simulated DL3 data set.

An analytic, H.E.S.S.-like instrument (:mod:`.instrument`) tabulated into GADF
IRFs (:mod:`.tables`); an analytic sky (:mod:`.sky`) observed in wobble mode
(:mod:`.schedule`); events drawn through the tabulated IRFs (:mod:`.sampling`)
and written as a GADF 0.3 data store (:mod:`.writer`, :mod:`.store`) with the
truth beside it (:mod:`.truth`); the cached example store (:mod:`.example`).

>>> from gwidgets.core.simulate import simulate_datastore, example_store_path
>>> path = simulate_datastore("my-store", n_obs=1)        # one run (the default: 20)
>>> sorted(p.name for p in path.iterdir() if not p.name.startswith("."))
['README.txt', 'data', 'hdu-index.fits.gz', 'obs-index.fits.gz', 'truth.yaml']
>>> example_store_path().name                            # the cached example store, made on first use
'example-dl3-v1'
"""
from .example import cache_dir, example_store, example_store_path
from .sky import Source, default_sky
from .store import DEFAULT_SEED, simulate_datastore
from .truth import read_truth

__all__ = ["simulate_datastore", "example_store_path", "example_store", "cache_dir", "read_truth",
           "default_sky", "Source", "DEFAULT_SEED"]
