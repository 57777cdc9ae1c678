"""The figures of the SED and sky views saved from Python (gwidgets/widgets/save_image.py).

The SVG is checked against the data it must show: every flux point marker and every vertex of the model
line sit where the data fall inside the axes frame drawn in the same SVG (log axes: by decades; the
model: its E² dN/dE at the view's energies); the PNG decodes to the canvas's size; the sky view's SVG holds
the counts image and the ON circle at the ON region's position; a zoomed view saves what is shown.
"""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table
from regions import CircleSkyRegion

from gwidgets.core.models import LogParabola, SkyModel
from gwidgets.state import AnalysisSession
from gwidgets.widgets import SEDView, SkyView
from gwidgets.widgets.save_image import figure_svg, render_matplotlib

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


@pytest.fixture
def sed():
    session = AnalysisSession(None, background=False)
    session.set_models([SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.2),
                                 name="crab")])
    view = SEDView(session)
    view.set_flux_points(Table({"e_ref": [0.5, 1.0, 3.0, 10.0] * u.TeV,
                                "dnde": [2e-10, 3e-11, 2e-12, 1e-13] * u.Unit("cm-2 s-1 TeV-1"),
                                "dnde_err": [2e-11, 1e-12, 1e-13, 3e-14] * u.Unit("cm-2 s-1 TeV-1")}))
    yield view
    session.close()


def _group(root, gid):
    found = [el for el in root.iter() if el.get("id") == gid]
    assert found, f"no element with id {gid!r} in the SVG"
    return found[0]


def _path_vertices(group) -> np.ndarray:
    d = next(el for el in group.iter(f"{SVG}path")).get("d")
    return np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", d)]).reshape(-1, 2)


def _data_to_svg(root, fig, x, y) -> np.ndarray:
    """Where data (x, y) must be in the SVG.

    From the axes frame drawn in the SVG itself (the first path of ``axes_1``, the axes background) and
    the figure's ranges, log axes and reversed x axis.
    """
    frame = _path_vertices(_group(root, "axes_1"))
    left, right = frame[:, 0].min(), frame[:, 0].max()
    top, bottom = frame[:, 1].min(), frame[:, 1].max()

    def frac(v, lo, hi, log):
        v = np.asarray(v, float)
        return (np.log10(v / lo) / np.log10(hi / lo)) if log else (v - lo) / (hi - lo)

    fx = frac(x, *fig.x_range, fig.x_log)
    fx = 1 - fx if fig.x_reverse else fx
    fy = frac(y, *fig.y_range, fig.y_log)
    return np.column_stack([left + fx * (right - left), bottom - fy * (bottom - top)])


def test_sed_svg_holds_the_plotted_data(sed):
    svg = sed.to_svg()
    root = ET.fromstring(svg)
    # flux points: one marker per point, at the data's position
    uses = list(_group(root, "flux-points").iter(f"{SVG}use"))
    got = np.array([[float(u_.get("x")), float(u_.get("y"))] for u_ in uses])
    want = _data_to_svg(root, sed.figure, sed.fp.x, sed.fp.y)
    assert len(got) == 4
    np.testing.assert_allclose(got, want, atol=0.01)
    e2 = sed.session.models["crab"].spectral_model.e2dnde(sed.energies * u.TeV).to_value("TeV cm-2 s-1")
    np.testing.assert_allclose(sed.fp.y, [0.25 * 2e-10, 3e-11, 9 * 2e-12, 100 * 1e-13], rtol=1e-12)  # E² dN/dE
    # the model line: every vertex is the model at the view's energies
    line = _path_vertices(_group(root, "model"))
    want = _data_to_svg(root, sed.figure, sed.energies, e2)
    assert line.shape == want.shape
    np.testing.assert_allclose(line, want, atol=0.01)
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert "E [TeV]" in texts and any("dN/dE" in (t or "") for t in texts)


def test_png_has_the_canvas_size_and_bad_suffix_is_named(sed, tmp_path):
    from PIL import Image

    png = sed.to_png()
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.size == (sed.figure.width, sed.figure.height)
    path = sed.save(tmp_path / "sed.svg")
    assert ET.parse(path).getroot().tag == f"{SVG}svg"
    sed.save(tmp_path / "sed.pdf")
    assert (tmp_path / "sed.pdf").read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match=r"sed\.jpeg.*\.png, \.svg, \.pdf"):
        sed.save(tmp_path / "sed.jpeg")


def test_sky_svg_has_the_counts_image_and_the_on_circle_where_it_is(tmp_path):
    from gwidgets.core.simulate.example import example_store

    session = AnalysisSession(example_store(), background=False)
    try:
        ids = [int(i) for i in session.store.obs_table["OBS_ID"][:2]]
        session.select(ids)
        center = session.store.obs_table.pointing_radec[0].directional_offset_by(0 * u.deg, 0.5 * u.deg)
        sky = SkyView(session)
        session.set_on_region(CircleSkyRegion(center, 0.2 * u.deg))
        session.refresh()  # synchronous session: compute the counts map and OFF regions now
        assert session.counts_map is not None and sky.figure.image[:4] == b"\x89PNG"
        root = ET.fromstring(sky.to_svg())
        assert list(root.iter(f"{SVG}image")), "the counts map is missing"
        circle = _path_vertices(_group(root, "on-region"))
        finite = np.isfinite(sky.on_line.x)
        want = _data_to_svg(root, sky.figure, sky.on_line.x[finite], sky.on_line.y[finite])
        np.testing.assert_allclose(circle, want, atol=0.01)
        cx, cy = (float(v) for v in sky._to_xy(center))
        assert np.mean(sky.on_line.x[:-1]) == pytest.approx(cx, abs=0.01)
        # a zoomed view (as the page syncs it) is what is saved: the axis limits follow x_range / y_range
        sky.figure.x_range = [cx - 0.5, cx + 0.5]
        sky.figure.y_range = [cy - 0.5, cy + 0.5]
        zoomed = render_matplotlib(sky.figure).axes[0]
        assert zoomed.get_xlim() == pytest.approx((cx + 0.5, cx - 0.5))  # RA grows to the left
        assert zoomed.get_ylim() == pytest.approx((cy - 0.5, cy + 0.5))
        sky.save(tmp_path / "sky.png")
        from PIL import Image

        with Image.open(tmp_path / "sky.png") as im:
            assert im.size == (sky.figure.width, sky.figure.height)
    finally:
        session.close()


def test_bqplot_views_save_the_same_data_and_get_buttons():
    """The views still drawn with bqplot (here the light curve) save the same data.

    Save buttons in the page; in the SVG from Python the points sit where they fall in the axes frame.
    """
    from gwidgets.widgets import LightCurveView
    from gwidgets.widgets.save_image import with_save_buttons

    view = LightCurveView()
    unit = u.Unit("cm-2 s-1")
    view.set_table(Table({"time_min": [59000.0, 59001.0, 59002.0], "time_max": [59001.0, 59002.0, 59003.0],
                          "flux": [[1e-11], [2e-11], [1.5e-11]] * unit, "flux_err": [[1e-12]] * 3 * unit}))
    root = ET.fromstring(figure_svg(view.figure))
    state_points = [el for el in root.iter() if el.get("id") == "series2"]  # the third mark: the points
    uses = [u_ for g in state_points for u_ in g.iter(f"{SVG}use")]
    got = np.array([[float(u_.get("x")), float(u_.get("y"))] for u_ in uses])
    lo, hi = 1e-11 - 1e-12, 2e-11 + 1e-12  # the y range the data give (bars included)
    fig = type("F", (), {"x_range": [59000.0, 59003.0], "y_range": [lo, hi], "x_log": False, "y_log": False,
                         "x_reverse": False})
    want = _data_to_svg(root, fig, [59000.5, 59001.5, 59002.5], [1e-11, 2e-11, 1.5e-11])
    np.testing.assert_allclose(got, want, atol=0.01)
    box = with_save_buttons(view.figure)
    buttons = box.children[0].children
    assert [b.description for b in buttons] == ["PNG", "SVG"] and box.children[1] is view.figure
    from gwidgets.widgets.canvas_plot import CanvasFigure, Scale

    canvas = CanvasFigure([], Scale(), Scale())
    assert with_save_buttons(canvas) is canvas  # a canvas has its buttons built in
