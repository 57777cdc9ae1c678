"""The project's own simulated DL3 data set (analytic IRFs, injected sources, IRF-based event sampling)."""
from .example import example_store, example_store_path
from .instrument import make_irfs
from .store import DEFAULT_SEED, SKY, simulate_datastore

__all__ = ["simulate_datastore", "example_store", "example_store_path", "make_irfs", "SKY", "DEFAULT_SEED"]
