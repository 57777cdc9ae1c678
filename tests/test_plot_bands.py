"""Model bands and upper limits in the matplotlib plots (`gwidgets.plotting`) and in ``gwidgets run``'s spectrum.png.

References: the core's ``sed_error`` (itself checked against gammapy 2.1 in
test_model_errors.py) for the band, and the estimator's own ``is_ul`` /
``e2dnde_ul`` columns for the upper limits, read back from the matplotlib artists.
"""
from __future__ import annotations

import types

import numpy as np
import pytest
import astropy.units as u

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.markers import CARETDOWNBASE  # noqa: E402

from gwidgets.core.datasets import Datasets  # noqa: E402
from gwidgets.core.estimators import FluxPointsEstimator  # noqa: E402
from gwidgets.core.fit import Fit  # noqa: E402
from gwidgets.core.models import LogParabola, Models, SkyModel  # noqa: E402
from gwidgets.plotting import plot_flux_points, plot_light_curve, plot_spectrum_model  # noqa: E402
from gwidgets.plotting.analysis_plots import spectrum_figure, spectrum_png  # noqa: E402
from gwidgets.plotting.sed import UL_ARROW  # noqa: E402

EDGES = np.geomspace(0.7, 100, 9) * u.TeV  # the last three bins have TS < 4 in the H.E.S.S. joint-crab spectra


@pytest.fixture(scope="module")
def fitted(data_dir):
    path = data_dir / "joint-crab" / "results" / "spectra" / "hess"
    if not path.exists():
        pytest.skip("joint-crab H.E.S.S. spectra not available")
    datasets = Datasets.read(path)
    sky = SkyModel(LogParabola(amplitude="3.8e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1), name="crab")
    datasets.models = sky
    result = Fit().run(datasets)
    assert result.success
    fp = FluxPointsEstimator(EDGES, source="crab", selection_optional=("errn-errp", "ul")).run(datasets)
    assert fp.is_ul.sum() >= 2 and (~fp.is_ul).sum() >= 4  # both kinds are drawn below
    return types.SimpleNamespace(datasets=datasets, models=Models([sky]), fit_result=result, flux_points=fp)


def _axes():
    return Figure().add_subplot(1, 1, 1)


def _band(ax):
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    return band.get_paths()[0].vertices


def _check_flux_points(ax, fp):
    """Measured bins are points with error bars, UL bins downward arrows from their UL (no point, no ± bar)."""
    t = fp.to_table("e2dnde")
    ul, e = fp.is_ul, t["e_ref"].quantity.to_value("TeV")
    containers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    points = [c for c in containers if c.lines[0].get_marker() == "o"]
    arrows = [c for c in containers if c.lines[0].get_marker() == "none"]
    assert len(points) == 1 and len(arrows) == 1
    np.testing.assert_allclose(points[0].lines[0].get_xdata(), e[~ul])
    (cap,) = arrows[0].lines[1]
    assert cap.get_marker() == CARETDOWNBASE  # the arrow head points down
    ul_values = t["e2dnde_ul"].quantity.to_value("TeV cm-2 s-1")[ul]
    np.testing.assert_allclose(np.asarray(cap.get_xdata(), float), e[ul])
    np.testing.assert_allclose(np.asarray(cap.get_ydata(), float), UL_ARROW * ul_values)  # head below the UL
    _, vertical = arrows[0].lines[2]
    tops = np.array([seg[:, 1].max() for seg in vertical.get_segments()])
    np.testing.assert_allclose(tops, ul_values)  # stems start at the UL value


def test_plot_spectrum_model_draws_the_core_band(fitted):
    ax = _axes()
    assert plot_spectrum_model(fitted.models["crab"], [0.5, 50] * u.TeV, ax=ax) is ax
    spectral = fitted.models["crab"].spectral_model
    (line,) = ax.lines
    x, y = line.get_data()
    mid, errn, errp = spectral.sed_error(x * u.TeV, "e2dnde").to_value("TeV cm-2 s-1")
    v = _band(ax)
    n = len(x)
    # fill_between's polygon: lower edge left→right, upper edge right→left
    np.testing.assert_allclose(v[1:n + 1, 1], mid - errn, rtol=1e-12)
    np.testing.assert_allclose(v[n + 2:2 * n + 2, 1][::-1], mid + errp, rtol=1e-12)
    assert np.all(mid - errn < y) and np.all(y < mid + errp)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    # no covariance, no band
    ax2 = _axes()
    plot_spectrum_model(LogParabola(), [0.5, 50] * u.TeV, ax=ax2)
    assert not [c for c in ax2.collections if isinstance(c, PolyCollection)]


def test_plot_flux_points_draws_upper_limits_as_arrows(fitted):
    ax = _axes()
    assert plot_flux_points(fitted.flux_points, ax=ax) is ax
    _check_flux_points(ax, fitted.flux_points)


def test_spectrum_png_has_the_band_and_the_arrows(fitted, tmp_path):
    fig = spectrum_figure(fitted)
    (ax,) = fig.axes
    v = _band(ax)
    spectral = fitted.models["crab"].spectral_model
    lo, hi = np.nanmin(v[:, 0]), np.nanmax(v[:, 0])
    mid, errn, errp = spectral.sed_error([lo, hi] * u.TeV, "e2dnde").to_value("TeV cm-2 s-1")
    assert v[1, 1] == pytest.approx(mid[0] - errn[0], rel=1e-12)
    _check_flux_points(ax, fitted.flux_points)
    assert spectrum_png(fitted, tmp_path) == "spectrum.png"
    assert (tmp_path / "spectrum.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_light_curve_upper_limits_are_arrows():
    from astropy.table import Table

    class LC:  # the to_table interface of a LightCurve
        def to_table(self, sed_type):
            return Table({"time_min": [0.0, 1.0, 2.0], "time_max": [1.0, 2.0, 3.0], "e_min": [1.0] * 3 * u.TeV,
                          "flux": [2e-11, 1e-13, 3e-11] * u.Unit("cm-2 s-1"),
                          "flux_err": [2e-12, 3e-12, 2e-12] * u.Unit("cm-2 s-1"),
                          "flux_ul": [2.4e-11, 8e-12, 3.4e-11] * u.Unit("cm-2 s-1"), "is_ul": [False, True, False]})

    ax = _axes()
    plot_light_curve(LC(), ax=ax)
    points, arrows = ax.containers
    np.testing.assert_allclose(points.lines[0].get_xdata(), [0.5, 2.5])
    (cap,) = arrows.lines[1]
    assert cap.get_marker() == CARETDOWNBASE
    assert np.asarray(cap.get_ydata(), float) == pytest.approx([8e-12 * UL_ARROW])
