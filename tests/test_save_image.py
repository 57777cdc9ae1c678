"""The figures of the SED and sky views saved from Python (gwidgets/widgets/save_image.py).

The SVG is checked against the data it must show: every flux point marker and every vertex of the model
line sit where the data fall inside the axes frame drawn in the same SVG (log axes: by decades; the
model: its E² dN/dE at the view's energies); the PNG decodes to the canvas's size; the sky view's SVG holds
the counts image and the ON circle at the ON region's position; a zoomed view saves what is shown.
The spectrum, light-curve and likelihood-profile plots draw the session's products (the dataset's
counts, background and excess errors; the light curve's points and upper limits; the profile's
statistic scan) and their SVG button sends those data where they fall in the frame.
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
from gwidgets.widgets.save_image import render_matplotlib

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


@pytest.fixture
def sed():
    """An SED view of a log-parabola model with four flux points."""
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
    """Flux point markers and model line vertices sit where their data fall in the frame."""
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
    """PNG of the canvas size, SVG and PDF files; an unknown suffix is named in the error."""
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
    """The sky SVG holds the counts image and the ON circle; a zoomed view saves what is shown."""
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


# ------------------------------------------------- spectrum, light curve, likelihood profile (first look)
@pytest.fixture(scope="module")
def first_look():
    """The simulated store's first look: all runs, ON region on the bright source, fitted model "source"."""
    from gwidgets.app.first_look import default_analysis
    from gwidgets.core.simulate.example import example_store

    session = AnalysisSession(example_store(), background=False)
    default_analysis(session, flux_points=False)
    assert session.fit_result is not None and session.fit_result.success, session.error
    yield session
    session.close()


def _svg_button(figure, monkeypatch) -> ET.Element:
    """What the page's SVG button does (the "svg" event); the SVG the kernel sends back for download."""
    sent = []
    monkeypatch.setattr(figure, "send", sent.append)
    figure.dispatch({"event": "svg"})
    monkeypatch.undo()
    assert len(sent) == 1 and sent[0]["kind"] == "svg" and sent[0]["name"] == f"{figure.name}.svg", sent
    return ET.fromstring(sent[0]["text"])


def _markers(root, gid) -> np.ndarray:
    return np.array([[float(u_.get("x")), float(u_.get("y"))] for u_ in _group(root, gid).iter(f"{SVG}use")])


def _assert_png(png: bytes, figure):
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.size == (figure.width, figure.height)
        assert len(im.convert("RGB").getcolors(1_000_000)) > 10  # not blank


def test_spectrum_view_draws_the_session_spectrum_and_saves_it(first_look, monkeypatch):
    """Counts / background steps and excess points are the stacked dataset's; the SVG button sends them."""
    from gwidgets.widgets import SpectrumView

    view = SpectrumView(first_look)
    try:
        (d,) = first_look.datasets  # the first look stacks the runs
        safe = np.asarray(d.mask_safe, bool)
        edges, counts, bkg = d.energy_edges, np.where(safe, d.counts, 0.0), np.where(safe, d.background, 0.0)
        assert counts.sum() > 100 and bkg.sum() > 0
        # counts and background: one flat step per bin, over the bin's edges; bins without counts are breaks
        for mark, want in ((view.counts, counts), (view.background, bkg)):
            np.testing.assert_allclose(mark.x[0::2], edges[:-1])
            np.testing.assert_allclose(mark.x[1::2], edges[1:])
            np.testing.assert_array_equal(mark.y[0::2], mark.y[1::2])
            np.testing.assert_allclose(mark.y[0::2], np.where(want > 0, want, np.nan), rtol=1e-12)
        # excess points at the bin centres, bars of the dataset's excess error
        excess, centre = counts - bkg, np.sqrt(edges[:-1] * edges[1:])
        shown = excess > 0
        np.testing.assert_allclose(view.excess.x, centre[shown])
        np.testing.assert_allclose(view.excess.y, excess[shown], rtol=1e-12)
        bars = view.excess_bars.y.reshape(-1, 3)
        np.testing.assert_allclose(bars[:, 1] - view.excess.y, np.asarray(d.excess_error)[shown], rtol=1e-12)
        # every point and every finite step vertex inside the frame (the y range fits the data)
        lo, hi = view.figure.y_range
        assert lo < view.excess.y.min() and view.counts.y[np.isfinite(view.counts.y)].max() < hi
        # the SVG the button sends: the points and the steps where the data fall in the frame drawn there
        root = _svg_button(view.figure, monkeypatch)
        np.testing.assert_allclose(_markers(root, "excess"), _data_to_svg(root, view.figure, view.excess.x,
                                                                          view.excess.y), atol=0.01)
        finite = np.isfinite(view.counts.y)
        np.testing.assert_allclose(_path_vertices(_group(root, "counts")),
                                   _data_to_svg(root, view.figure, view.counts.x[finite], view.counts.y[finite]),
                                   atol=0.01)
        assert {"background", "excess-errors"} <= {el.get("id") for el in root.iter()}
        assert "E [TeV]" in [el.text for el in root.iter(f"{SVG}text")]
        _assert_png(view.to_png(), view.figure)
    finally:
        view.close()


def test_light_curve_view_draws_the_session_points_and_upper_limits(first_look, monkeypatch):
    """Points with their errors and triangles at the UL values are the session's light curve's."""
    from gwidgets.widgets import LightCurveView

    view = LightCurveView(first_look)
    try:
        view.e_min.value, view.e_max.value = 10.0, 100.0  # few counts per run: mostly upper limits
        view.light_curve_button.click()
        assert first_look.error == ""
        table = first_look.light_curve_result.to_table("flux")
        ul = np.asarray(table["is_ul"]).reshape(len(table), -1)[:, 0]
        assert 0 < ul.sum() < len(table)

        def column(name):
            return np.asarray(u.Quantity(table[name]).to_value("cm-2 s-1")).reshape(len(table), -1)[:, 0]

        lc = first_look.light_curve_result
        t = (lc.time_min.mjd + lc.time_max.mjd) / 2
        np.testing.assert_allclose(view.points.x, t[~ul], rtol=1e-12)
        np.testing.assert_allclose(view.points.y, column("flux")[~ul], rtol=1e-12)
        bars = view.bars.y.reshape(-1, 3)
        np.testing.assert_allclose(bars[:, 1] - view.points.y, column("flux_err")[~ul], rtol=1e-9)
        np.testing.assert_allclose(view.uls.x, t[ul], rtol=1e-12)
        np.testing.assert_allclose(view.uls.y, column("flux_ul")[ul], rtol=1e-12)  # at the UL, not the value
        assert view.uls.marker == "triangle-down" and view.figure.y_label.startswith("flux [")
        root = _svg_button(view.figure, monkeypatch)
        np.testing.assert_allclose(_markers(root, "upper-limits"), _data_to_svg(root, view.figure, view.uls.x,
                                                                                view.uls.y), atol=0.01)
        np.testing.assert_allclose(_markers(root, "flux-points"), _data_to_svg(root, view.figure, view.points.x,
                                                                               view.points.y), atol=0.01)
        _assert_png(view.to_png(), view.figure)
    finally:
        view.close()


def test_profile_draws_the_session_profile_and_saves_it(first_look, monkeypatch, tmp_path):
    """The profile line is the session's statistic scan, its minimum at the fitted value; SVG and PNG."""
    from PIL import Image

    from gwidgets.widgets import FitView

    view = FitView(first_look)
    try:
        assert view.profile_figure is None  # built with the first profile
        view.profile_parameter.value = dict(view.profile_parameter.options)["alpha"]
        view.run_profile(n=11)
        first_look.wait(60)
        prof = first_look.profile_result
        assert first_look.error == "" and prof["parameter"] == "alpha"
        scan = np.asarray(prof["stat_scan"], float)
        np.testing.assert_allclose(view.profile_line.x, prof["values"], rtol=1e-12)
        np.testing.assert_allclose(view.profile_line.y, scan - scan.min(), rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(view.profile_points.y, view.profile_line.y)
        # the minimum sits at the fitted value, the dashed 1σ line at Δ stat = 1 across the scan
        best = first_look.models.parameters["alpha"].value
        assert view.profile_line.x[np.argmin(view.profile_line.y)] == pytest.approx(best, rel=1e-9)
        np.testing.assert_allclose(view.profile_one.y, [1.0, 1.0])
        assert view.profile_one.dash and view.profile_figure.x_label.startswith("alpha")
        root = _svg_button(view.profile_figure, monkeypatch)
        np.testing.assert_allclose(_path_vertices(_group(root, "profile")),
                                   _data_to_svg(root, view.profile_figure, view.profile_line.x, view.profile_line.y),
                                   atol=0.01)
        path = view.profile_figure.save(tmp_path / "profile.png")
        with Image.open(path) as im:
            assert im.size == (view.profile_figure.width, view.profile_figure.height)
    finally:
        view.close()


def test_saved_linear_axes_keep_their_tick_labels_apart():
    """A light curve over 4 days of MJD: matplotlib's own ticks (every half day) would run the labels together."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from gwidgets.widgets import LightCurveView

    view = LightCurveView()
    t0 = 60646.87 + np.arange(20) * 0.22
    unit = u.Unit("cm-2 s-1")
    view.set_table(Table({"time_min": t0, "time_max": t0 + 0.02, "flux": np.linspace(1e-11, 3e-11, 20) * unit,
                          "flux_err": np.full(20, 2e-12) * unit}))
    fig = view.figure
    out = render_matplotlib(fig)
    canvas = FigureCanvasAgg(out)
    canvas.draw()  # rendered, as a saved PNG is
    renderer = canvas.get_renderer()
    for axis in out.axes[0].xaxis, out.axes[0].yaxis:
        lo, hi = sorted(axis.get_view_interval())
        boxes = sorted((t.label1.get_window_extent(renderer) for t, v in zip(axis.get_major_ticks(),
                                                                              axis.get_majorticklocs())
                        if lo <= v <= hi and t.label1.get_text()), key=lambda b: (b.x0, b.y0))
        assert len(boxes) >= 2
        for a, b in zip(boxes, boxes[1:]):
            assert not a.overlaps(b), (a, b)


def test_the_views_work_without_bqplot():
    """No bqplot needed: with its import blocked, every view and app module imports and the plots draw."""
    import subprocess
    import sys

    code = """
import importlib, pkgutil, sys
sys.modules["bqplot"] = None  # any `import bqplot` now raises ImportError
import gwidgets as gw
import gwidgets.app, gwidgets.widgets
for pkg in (gwidgets.widgets, gwidgets.app):
    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{info.name}")
from gwidgets.app.first_look import default_analysis
from gwidgets.state import AnalysisSession
from gwidgets.widgets import FitView, LightCurveView, SpectrumView
s = AnalysisSession(gw.example_store(), background=False)
default_analysis(s, flux_points=False)
views = [SpectrumView(s), LightCurveView(s), FitView(s)]
views[1].light_curve_button.click()
views[2].run_profile(n=5)
s.wait(60)
figures = [views[0].figure, views[1].figure, views[2].profile_figure]
print(s.error == "", [len(f.series[0]["x"]) > 0 for f in figures])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split("\n")[-2] == "True [True, True, True]", out.stdout
