"""Tick and label layout of the canvas plots (gwidgets/widgets/canvas_js.py), run with node.

For a range of axis spans (log: 10⁻¹⁴ … 10⁶, from a tenth of a decade to twenty decades; linear:
around 0, far from 0, tiny and huge numbers, reversed sky axes) and canvas sizes, the page's own
`layout` function is run with a fixed-width font model (``measure(text) = CHAR_PX × length``) and its
label boxes are checked: no two tick labels overlap (nor touch an axis title), none leaves the canvas,
each axis has ≥ 2 labels, each label reads back as its tick value, and ticks are in range. The same
boxes, measured by the browser's ``measureText``, are checked in tests/browser/test_plots_browser.py.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from gwidgets.widgets.canvas_js import ESM, LABEL_GAP_PX

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is needed to run the page's layout code")
#: a wide sans-serif digit at 11 px (DejaVu Sans: 7.0 px; Liberation Sans: 6.1 px)
CHAR_PX = 7.0

SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def run_layouts(cases, tmp_path):
    """`layout(W, H, state, measure)` of every case, in one node process."""
    (tmp_path / "canvas.mjs").write_text(ESM, encoding="utf-8")
    script = tmp_path / "run.mjs"
    script.write_text(
        "import {layout} from './canvas.mjs';\n"
        f"const cases = {json.dumps(cases)};\n"
        f"const measure = s => s.length * {CHAR_PX};\n"
        "console.log(JSON.stringify(cases.map(c => { const L = layout(c.W, c.H, c, measure);"
        " return {boxes: L.boxes, titles: L.titles, m: L.m,"
        " xt: L.xt.map(k => [k.v, k.label]), yt: L.yt.map(k => [k.v, k.label])}; })));\n", encoding="utf-8")
    out = subprocess.run([NODE, str(script)], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def label_value(label: str) -> float:
    """The number a tick label shows ("0.1", "10⁻¹²", "2×10⁻¹¹", "-3")."""
    if "10" in label and ("×" in label or label.lstrip("-").startswith("10") and label.translate(SUPERSCRIPT) != label):
        mant, _, power = label.partition("×") if "×" in label else ("1", "", label)
        sign = -1.0 if power.startswith("-") and mant == "1" else 1.0
        exponent = int(power.lstrip("-")[2:].translate(SUPERSCRIPT))
        return sign * float(mant) * 10.0 ** exponent
    return float(label)


def _cases():
    cases = []
    log_spans = [(0.03, 100), (1e-14, 1e-10), (3e-12, 4e-11), (1.5, 2.5), (0.9, 1.1), (1e-3, 1e6), (1e-14, 1e6),
                 (0.1, 1.0), (7e-13, 9e-13), (20, 3000), (1e-8, 3e-8)]
    lin_spans = [(-3, 3), (0, 1), (81.1, 86.1), (83.5, 83.7), (0, 1e-7), (1e5, 1e5 + 3), (-1e6, 2e6), (0, 250000),
                 (-0.004, 0.004), (359.0, 361.0), (19.5, 24.5)]
    for W, H in ((520, 280), (300, 200), (560, 180), (520, 520)):
        for (x0, x1) in log_spans:
            for (y0, y1) in log_spans[::2]:
                cases.append({"W": W, "H": H, "x_range": [x0, x1], "y_range": [y0, y1], "x_log": True, "y_log": True,
                              "x_reverse": False, "x_label": "E [TeV]", "y_label": "E² dN/dE [TeV cm⁻² s⁻¹]"})
        for (x0, x1) in lin_spans:
            for (y0, y1) in lin_spans[::2]:
                cases.append({"W": W, "H": H, "x_range": [x0, x1], "y_range": [y0, y1], "x_log": False,
                              "y_log": False, "x_reverse": (x0 > 80), "x_label": "RA / l [deg]",
                              "y_label": "Dec / b [deg]"})
    return cases


def _overlap(a, b) -> bool:
    return not (a["x1"] <= b["x0"] or b["x1"] <= a["x0"] or a["y1"] <= b["y0"] or b["y1"] <= a["y0"])


def assert_readable(case, lay):
    """No two labels overlap (nor touch an axis title), none leaves the canvas, ≥ 2 per axis, each reads its value."""
    what = (case["x_range"], case["y_range"], case["W"], case["H"])
    boxes = lay["boxes"]
    for axis in ("x", "y"):
        assert sum(b["axis"] == axis for b in boxes) >= 2, (what, axis, boxes)
    for b in boxes + lay["titles"]:
        assert 0 <= b["x0"] and b["x1"] <= case["W"] and 0 <= b["y0"] and b["y1"] <= case["H"], (what, b)
    everything = boxes + lay["titles"]
    for i, a in enumerate(everything):
        for b in everything[i + 1:]:
            assert not _overlap(a, b), (what, a, b)
    for axis in ("x", "y"):  # same-axis neighbours keep the gap
        row = sorted((b for b in boxes if b["axis"] == axis), key=lambda b: b["x0"] if axis == "x" else b["y0"])
        for a, b in zip(row, row[1:]):
            gap = b["x0"] - a["x1"] if axis == "x" else b["y0"] - a["y1"]
            assert gap >= (LABEL_GAP_PX if axis == "x" else 0) - 1e-9, (what, a, b)
    for key, rng in (("xt", case["x_range"]), ("yt", case["y_range"])):
        for value, label in lay[key]:
            assert rng[0] - 1e-9 * abs(rng[0]) <= value <= rng[1] + 1e-9 * abs(rng[1]), (what, value)
            assert label_value(label) == pytest.approx(value, rel=0.02, abs=1e-12 * max(map(abs, rng))), \
                (what, label, value)


def test_tick_labels_never_overlap_nor_leave_the_canvas(tmp_path):
    """Every span and canvas size of `_cases` is readable (`assert_readable`)."""
    cases = _cases()
    layouts = run_layouts(cases, tmp_path)
    assert len(layouts) == len(cases) > 300
    for case, lay in zip(cases, layouts):
        assert_readable(case, lay)


def test_the_spectrum_light_curve_and_profile_axes_are_readable(tmp_path):
    """The three plots of the simulated first look, as drawn (their ranges, sizes and labels), laid out by the page.

    Log-log counts over 0.1–100 TeV, MJD times against fluxes of ~10⁻¹¹ (points, then mostly upper limits),
    and the likelihood profile of the amplitude (values ~3×10⁻¹¹ on a linear axis).
    """
    import gwidgets as gw
    from gwidgets.app.first_look import default_analysis
    from gwidgets.state import AnalysisSession
    from gwidgets.widgets import FitView, LightCurveView, SpectrumView

    session = AnalysisSession(gw.example_store(), background=False)
    try:
        default_analysis(session, flux_points=False)
        spectrum, lc, fit = SpectrumView(session), LightCurveView(session), FitView(session)
        figures = [spectrum.figure]
        for band in ((1.0, 100.0), (10.0, 100.0)):
            lc.e_min.value, lc.e_max.value = band
            lc.light_curve_button.click()
            figures.append(lc.figure.get_state(["width", "height", "x_range", "y_range", "x_log", "y_log",
                                                "x_reverse", "x_label", "y_label"]))
        fit.profile_parameter.value = dict(fit.profile_parameter.options)["amplitude"]
        fit.run_profile(n=7)
        session.wait(60)
        assert session.error == "" and fit.profile_figure is not None
        figures.append(fit.profile_figure)
        cases = []
        for f in figures:
            state = f if isinstance(f, dict) else f.get_state()
            cases.append({"W": state["width"], "H": state["height"],
                          **{k: state[k] for k in ("x_range", "y_range", "x_log", "y_log", "x_reverse", "x_label",
                                                   "y_label")}})
        assert cases[0]["x_log"] and cases[0]["y_log"] and not cases[1]["x_log"]
        assert cases[1]["x_range"][0] > 5e4 and cases[3]["x_range"][1] < 1e-9  # MJD; an amplitude in cm⁻² s⁻¹ TeV⁻¹
        for case, lay in zip(cases, run_layouts(cases, tmp_path)):
            assert_readable(case, lay)
    finally:
        session.close()


def test_log_axes_prefer_decades_and_plain_numbers_near_one(tmp_path):
    """Decade labels on the SED's log axes, linear steps within a decade, room for the y title."""
    sed = {"W": 520, "H": 280, "x_range": [0.03, 100], "y_range": [1e-13, 1e-10], "x_log": True, "y_log": True,
           "x_reverse": False, "x_label": "E [TeV]", "y_label": "E² dN/dE"}
    narrow = dict(sed, x_range=[1.5, 2.5])
    lay, nar = run_layouts([sed, narrow], tmp_path)
    assert [label for _, label in lay["xt"]] == ["0.1", "1", "10", "100"]  # not "1.0e<" (cut), not 1e-1
    assert [label for _, label in lay["yt"]] == ["10⁻¹³", "10⁻¹²", "10⁻¹¹", "10⁻¹⁰"]
    values = [v for v, _ in nar["xt"]]  # less than a decade: linear steps on the log axis
    assert len(values) >= 3 and np.allclose(np.diff(values), values[1] - values[0])
    # the left margin makes room for the widest y label and the rotated title: they never touch
    widest = max(b["x1"] - b["x0"] for b in lay["boxes"] if b["axis"] == "y")
    assert lay["m"]["l"] >= widest + lay["titles"][1]["x1"]
