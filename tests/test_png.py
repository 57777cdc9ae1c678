"""gwidgets.widgets.png against its references: matplotlib's magma colour map and PIL's PNG decoder."""
import io

import numpy as np
import pytest

from gwidgets.widgets.png import MAGMA, colormap_rgba, png_bytes


def test_colormap_equals_matplotlib_magma_bit_for_bit():
    """Every value (random in and beyond [0, 1], the edges, NaN) gets matplotlib's colour, as sky_view used it."""
    colormaps = pytest.importorskip("matplotlib").colormaps
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.random(200_000), rng.uniform(-0.5, 1.5, 1000), np.arange(257) / 256,
                             [0.0, 1.0, np.nextafter(1.0, 0.0), np.nan, -np.inf, np.inf, 0.5]]).reshape(-1, 8)
    ref = (colormaps["magma"](values) * 255).astype(np.uint8)
    assert np.array_equal(colormap_rgba(values), ref)
    assert MAGMA.shape == (256, 3)


def test_png_round_trips_through_pil():
    """PIL decodes the PNG to the same pixels (odd sizes, transparency)."""
    image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (7, 13), (150, 151)]:
        rgba = rng.integers(0, 256, shape + (4,), dtype=np.uint8)
        decoded = np.asarray(image.open(io.BytesIO(png_bytes(rgba))).convert("RGBA"))
        assert np.array_equal(decoded, rgba)


def test_png_rejects_what_is_not_rgba_uint8():
    """A named error for a grey image instead of RGBA uint8."""
    with pytest.raises(ValueError, match=r"\(height, width, 4\) uint8.*\(4, 4\) float64"):
        png_bytes(np.zeros((4, 4)))
