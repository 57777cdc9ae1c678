"""CanvasFigure (the live spectrum / residual panels): what is sent, when, and the ranges it draws on."""
from __future__ import annotations

import numpy as np
import pytest

from gwidgets.widgets.canvas_plot import CanvasFigure, CanvasLines, CanvasScatter, Scale


def _figure(log_y=False):
    sx, sy = Scale(log=True), Scale(log=log_y)
    line, pts = CanvasLines(color="#d62728", width=2), CanvasScatter(color="#1f77b4", marker="square")
    return CanvasFigure([line, pts], sx, sy, "E [TeV]", "counts", 200, 400, "gw-test"), line, pts, sx, sy


def test_one_message_per_render_and_nothing_when_unchanged():
    fig, line, pts, sx, sy = _figure()
    sent = []
    fig.send_state = lambda key=None: sent.append(key)  # what ipywidgets calls to sync traits
    fig.render()
    line.x, line.y = [1.0, 2.0, 4.0], [3.0, np.inf, 5.0]
    pts.x, pts.y = [1.0], [2.0]
    version = fig.version
    assert fig.render() is True and fig.version == version + 1
    assert len(sent) == 2  # one hold_sync message per render (the first render above and this one)
    assert fig.series[0] == {"kind": "lines", "x": [1.0, 2.0, 4.0], "y": [3.0, None, 5.0], "color": "#d62728",
                             "width": 2.0, "dash": False, "size": 3.0, "marker": "circle"}
    assert fig.series[1]["kind"] == "points" and fig.series[1]["marker"] == "square"
    assert fig.render() is False and len(sent) == 2  # unchanged: nothing sent
    sx.min, sx.max = 0.5, 8.0  # a scale change alone is sent
    assert fig.render() is True and fig.x_range == [0.5, 8.0]
    assert "gw-test" in fig._dom_classes and fig.width == 400 and fig.height == 200


def test_ranges_follow_the_data_unless_fixed_and_stay_positive_on_log_axes():
    fig, line, pts, sx, sy = _figure(log_y=True)
    assert fig.x_range[0] > 0 and fig.y_range[0] > 0  # empty log axes still have a valid range
    line.x, line.y = [0.1, 1.0, 10.0], [-1.0, 0.0, 50.0]
    fig.render()
    assert fig.x_range == [0.1, 10.0] and fig.y_range == [50.0, 50.0 * 10]  # only y > 0 counts on a log axis
    sy.min, sy.max = 0.0, 100.0
    fig.render()
    assert fig.y_range[0] == pytest.approx(0.1) and fig.y_range[1] == 100.0  # a log axis never starts at 0
    fig2, line2, *_ = _figure()
    line2.x, line2.y = [1.0, 2.0], [-3.0, 4.0]
    fig2.render()
    assert fig2.y_range == [-3.0, 4.0]
