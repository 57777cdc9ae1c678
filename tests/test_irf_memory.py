"""IRFs are held once in memory: the interpolator uses the IRF's own (Fortran-ordered) data, not a copy.

The reference for the values is the same interpolation on a C-ordered copy (what was held before), and it
must agree bit for bit; gammapy agreement is in tests/test_irf_gammapy.py.
"""
import numpy as np
import pytest

import gwidgets as gw
from gwidgets.core.irf.interp import GridInterpolator


@pytest.fixture(scope="module")
def observation():
    """One run of the simulated example store (its IRFs are read from its FITS file)."""
    return gw.example_store().get_observations([1001])[0]


@pytest.mark.parametrize("name", ["aeff", "edisp", "psf"])
def test_interpolator_shares_the_irf_data(observation, name):
    """Linear-scale IRFs: the interpolator's values are the IRF data itself (no second copy)."""
    irf = getattr(observation, name)
    assert irf.values_scale == "lin"
    assert not irf.data.flags.c_contiguous  # FITS cells are read as transposed (Fortran-ordered) views
    assert np.shares_memory(irf.interpolator.values, irf.data)


@pytest.mark.parametrize("name", ["aeff", "edisp", "psf", "bkg"])
def test_values_equal_those_of_a_c_ordered_copy(observation, name):
    """Evaluation (linear and nearest, inside and beyond the grid) is bit-identical to a C-ordered copy's."""
    interp = getattr(observation, name).interpolator
    rng = np.random.default_rng(11)
    coords = []
    for d, grid in enumerate(interp.grids):
        shape = [1] * len(interp.grids)
        shape[d] = -1
        span = grid[-1] - grid[0]
        coords.append(rng.uniform(grid[0] - 0.1 * span, grid[-1] + 0.1 * span, 17).reshape(shape))
    full = iter(coords)
    coords = [next(full) if k else np.zeros(1) for k in interp.keep]
    points = []
    kept = iter(interp.grids)
    for k in interp.keep:
        points.append(next(kept) if k else np.zeros(1))
    for method in ("linear", "nearest"):
        reference = GridInterpolator(points, np.ascontiguousarray(interp.values).reshape([len(p) for p in points]),
                                     method)
        ours = GridInterpolator(points, interp.values.reshape([len(p) for p in points]), method)
        assert np.array_equal(ours(coords), reference(coords))
