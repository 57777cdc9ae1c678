"""The 3D map view saved as an image (gwidgets/widgets/map_figure.py, MapView.save / to_svg / to_png, its buttons).

The saved PNG is read back pixel by pixel: at every map pixel's place (the ``gwidgets:map-box`` the PNG
carries, checked against the canvas's own formula) its colour, looked up in the palette, gives back the
session's residual significance at that pixel within one colour step; at the simulated bright source (the
model moved away from it) the saved pixels show the strong positive residual. The SVG carries the WCS axes
labelled in degrees whose tick values span the map's own sky extent, the colorbar and the markers; the button
path sends exactly those bytes to the page; bad input raises errors that name it.
"""
from __future__ import annotations

import io
import re

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from PIL import Image

import gwidgets as gw
from gwidgets.core.geom import MapAxis, WcsGeom
from gwidgets.core.models import GaussianSpatialModel, LogParabola, SkyModel
from gwidgets.core.reduction import MapDatasetMaker
from gwidgets.errors import GwidgetsError
from gwidgets.state.map_session import MapSession
from gwidgets.widgets.map_figure import MARGIN, map_box, palette_rgba
from gwidgets.widgets.map_view import SIG_RANGE, MapView

SOURCE = (83.63, 22.01)  # the simulated store's bright source
OFFSET = (0.4, -0.3)     # where the model is put instead (deg)


@pytest.fixture(scope="module")
def view():
    """A MapView of two simulated runs around the bright source, with an extended model put off the source."""
    observations = gw.example_store().get_observations([1001, 1002])
    geom = WcsGeom.create(SkyCoord(*SOURCE, unit="deg"), binsz=0.04, width=2 * u.deg,
                          axes=[MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 4)])
    e_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 8, name="energy_true")
    dataset = MapDatasetMaker(geom, e_true, offset_max="2.5 deg").run_stacked(observations)
    model = SkyModel(LogParabola(amplitude="3.5e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1),
                     GaussianSpatialModel(lon_0=f"{SOURCE[0] + OFFSET[0]} deg", lat_0=f"{SOURCE[1] + OFFSET[1]} deg",
                                          sigma="0.1 deg"), name="ext")
    session = MapSession(dataset, models=[model], background=False)
    v = MapView(session, editor=False)
    v.flush()
    yield v
    v.close()
    session.close()


def _png(data: bytes):
    image = Image.open(io.BytesIO(data))
    return np.asarray(image.convert("RGB")), image.text


def _map_pixel_colours(rgb, view, left, top):
    """The saved image's colour at the centre of every map pixel (ny, nx, 3), by the canvas's formula."""
    ny, nx = view.canvas.shape
    s = view.canvas.scale
    cols = np.floor(left + (np.arange(nx) + 0.5) * s).astype(int)
    rows = np.floor(top + (ny - 0.5 - np.arange(ny)) * s).astype(int)
    return rgb[rows[:, None], cols[None, :]]


def _invert(colours, palette):
    """Colour index of each colour (nearest entry of the palette) and its distance."""
    lut = palette_rgba(palette)[:255, :3].astype(float)
    d = np.linalg.norm(colours[..., None, :].astype(float) - lut, axis=-1)
    return d.argmin(-1), d.min(-1)


def test_saved_png_pixels_are_the_session_significance(view, tmp_path):
    """Each saved map pixel's colour gives back the session's significance there; the source shows."""
    path = view.save(tmp_path / "map.png")
    rgb, text = _png(path.read_bytes())
    left, top, width, height = (int(v) for v in text["gwidgets:map-box"].split())
    assert (left, top, width, height) == map_box(view.canvas)
    ny, nx = view.canvas.shape
    assert (width, height) == (nx * view.canvas.scale, ny * view.canvas.scale)
    assert rgb.shape == (top + height + MARGIN["bottom"], left + width + MARGIN["right"], 3)
    index, dist = _invert(_map_pixel_colours(rgb, view, left, top), "diverging")
    # the session's own significance image, independently of what the view sent to the page
    sig = view.session.images()["significance"]
    value = -SIG_RANGE + index / 254 * 2 * SIG_RANGE          # the colour's value
    clipped = np.clip(sig, -SIG_RANGE, SIG_RANGE)
    step = 2 * SIG_RANGE / 254
    exact = (dist == 0) & np.isfinite(sig)
    assert exact.mean() > 0.9   # all but the pixels under the markers and the region's line
    assert np.all(np.abs(value[exact] - clipped[exact]) <= step + 1e-9)
    # at the simulated source (model moved off it): the strong positive residual, read from the saved colours
    x, y = view.session.geom.wcs.wcs_world2pix(np.array([SOURCE]), 0)[0]
    yy, xx = np.mgrid[:ny, :nx]
    near = exact & (np.hypot(xx - x, yy - y) <= 3)       # within 0.12° of the source, off the markers
    assert near.sum() >= 5
    far = exact & (np.hypot(xx - x, yy - y) > 15)
    assert value[near].mean() > 1.5 and value[near].max() > 2.5   # red: the excess the model does not explain
    assert abs(np.median(value[far])) < 0.5              # the rest of the map: noise around 0


def test_svg_has_wcs_axes_in_degrees_over_the_map_extent(view):
    """The SVG's axes are labelled in degrees, their ticks inside the map's sky extent."""
    svg = view.to_svg()
    assert "RA [deg]" in svg and "Dec [deg]" in svg and "residual significance" in svg
    for gid in ("map", "handle-ext", "region"):
        assert f'id="{gid}' in svg, gid
    geom = view.session.geom
    ny, nx = view.canvas.shape
    corners = geom.wcs.wcs_pix2world(np.array([[-0.5, -0.5], [nx - 0.5, ny - 0.5]]), 0)
    ra = sorted(corners[:, 0])
    dec = sorted(corners[:, 1])
    ticks = [float(v) for v in re.findall(r">\s*(-?\d+\.\d\d)\s*(?:°|&#176;|\$\^\\circ\$)", svg)]
    ticks_ra = [t for t in ticks if t > 60]
    ticks_dec = [t for t in ticks if t < 60]
    assert len(ticks_ra) >= 2 and len(ticks_dec) >= 2, ticks
    assert all(ra[0] - 0.01 <= t <= ra[1] + 0.01 for t in ticks_ra), (ticks_ra, ra)
    assert all(dec[0] - 0.01 <= t <= dec[1] + 0.01 for t in ticks_dec), (ticks_dec, dec)


def test_counts_layer_saves_with_its_palette_and_range(view, tmp_path):
    """The counts layer saves with the sequential palette and the √ stretch the page uses."""
    view.layer.value = "counts"
    view.flush()
    try:
        assert view.shown["layer"] == "counts" and view.shown["stretch"] == "sqrt"
        rgb, text = _png(view.to_png())
        left, top, _, _ = (int(v) for v in text["gwidgets:map-box"].split())
        index, dist = _invert(_map_pixel_colours(rgb, view, left, top), "sequential")
        counts = view.session.images()["counts_smooth"]
        lo, hi = view.shown["lo"], view.shown["hi"]
        expected = np.sqrt(np.clip((counts - lo) / (hi - lo), 0, 1)) * 254   # the sqrt stretch
        exact = (dist == 0) & np.isfinite(counts)
        assert exact.mean() > 0.9
        assert np.all(np.abs(index[exact] - expected[exact]) <= 1.0)
        assert "counts (smoothed)" in view.to_svg()
    finally:
        view.layer.value = "significance"
        view.flush()


def test_button_sends_the_same_png_to_the_page(view, monkeypatch):
    """A click on PNG / SVG sends the bytes `to_png` / `to_svg` give."""
    sent = []
    monkeypatch.setattr(view.save_buttons, "send", lambda content, buffers=None: sent.append((content, buffers)))
    view.save_buttons.handle_message({"event": "save", "format": "png"})   # what a click on PNG sends
    view.save_buttons.handle_message({"event": "save", "format": "svg"})
    (png_msg, png_buf), (svg_msg, svg_buf) = sent
    assert png_msg == {"kind": "file", "name": "map.png", "mime": "image/png"}
    assert bytes(png_buf[0]) == view.to_png()
    assert svg_msg["name"] == "map.svg" and bytes(svg_buf[0]).decode() == view.to_svg()


def test_bad_suffix_and_no_map_are_named_errors(view, tmp_path):
    """An unknown suffix and a view without a map give errors that say so."""
    with pytest.raises(ValueError, match=r"map\.jpg.*\.png, \.svg, \.pdf"):
        view.save(tmp_path / "map.jpg")
    empty = MapSession(background=False)
    blank = MapView(empty, editor=False)
    try:
        with pytest.raises(GwidgetsError, match="No map to save yet"):
            blank.to_png()
        blank.save_buttons.handle_message({"event": "save", "format": "png"})   # the button: the error in the page
        assert "No map to save yet" in empty.error
    finally:
        blank.close()
        empty.close()


def test_aladin_save_without_aladin_lite_or_with_a_bad_suffix_says_so(monkeypatch, tmp_path):
    """The Aladin view's save: an unknown suffix and a machine without Aladin Lite give errors that say so."""
    pytest.importorskip("ipyaladin")
    from gwidgets.state import AnalysisSession
    from gwidgets.widgets.aladin_assets import ALADIN_JS_ENV
    from gwidgets.widgets.aladin_view import AladinView

    monkeypatch.delenv(ALADIN_JS_ENV, raising=False)
    monkeypatch.setenv("GWIDGETS_DATA", str(tmp_path / "no-data"))  # no cached copy either
    session = AnalysisSession(None, background=False)
    view = AladinView(session)
    try:
        assert view.aladin is None
        with pytest.raises(ValueError, match=r"sky\.gif.*\.png, \.jpeg, \.jpg, \.webp"):
            view.save(tmp_path / "sky.gif")
        with pytest.raises(GwidgetsError, match="Aladin Lite is not running here"):
            view.save(tmp_path / "sky.png")
        view.save_buttons.handle_message({"event": "save", "format": "png"})   # the button: the error in the page
        assert "Aladin Lite is not running here" in session.error
    finally:
        view.close()
        session.close()
