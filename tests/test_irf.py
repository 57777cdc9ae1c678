"""The IRF layer (gwidgets.core.irf) on every IRF of the shared data, checked against gammapy 2.1.

Each IRF HDU is read by gwidgets (`load_irf` on our FITS reader, class from the
header keywords) and by gammapy's own class, and both are evaluated at the same
random points, inside and outside the axes (rtol 1e-6).  Also: the energy
migration matrix vs gammapy's ``to_edisp_kernel``, PSF containment, GADF
round trips (ours and gammapy's reader), error messages and read speed.
"""
from __future__ import annotations

import os
import pickle
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import astropy.units as u
from astropy.io import fits

from gwidgets import errors
from gwidgets.core.io.fits import FitsFile
from gwidgets.core.irf import (
    IRF_REGISTRY, Background2D, Background3D, EffectiveArea2D, EnergyDispersion2D, IRFAxis, PSF3Gauss, PSFKing,
    PSFTable, RadMax2D, fixed_rad_max, hdu_class_from_header, load_irf,
)

girf = pytest.importorskip("gammapy.irf")
gmaps = pytest.importorskip("gammapy.maps")

DATA = Path(os.environ.get("GWIDGETS_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
DR1 = "hess-dl3-dr1/data/hess_dl3_dr1_obs_id_{:06d}.fits.gz"
CTA = "cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits"
MAGIC_RADMAX = "magic/rad_max/data/20131004_05029747_DL3_CrabNebula-W0.40+035.fits"

#: (file, HDU) of every IRF checked against gammapy
CASES = [
    *[(DR1.format(run), hdu) for run in (20136, 23523, 33787) for hdu in ("AEFF", "EDISP", "PSF", "BKG")],
    ("joint-crab/data/hess/data/hess_dl3_dr1_obs_id_023526.fits.gz", "PSF"),
    ("joint-crab/data/magic/run_05029747_DL3.fits", "EFFECTIVE AREA"),
    ("joint-crab/data/magic/run_05029747_DL3.fits", "ENERGY DISPERSION"),
    ("joint-crab/data/veritas/54809_DL3.fits", "EFFECTIVE AREA"),
    ("joint-crab/data/veritas/54809_DL3.fits", "ENERGY DISPERSION"),
    ("joint-crab/data/fact/fact_irf.fits", "EFFECTIVE AREA"),
    ("joint-crab/data/fact/fact_irf.fits", "ENERGY DISPERSION"),
    *[(CTA, hdu) for hdu in ("EFFECTIVE AREA", "ENERGY DISPERSION", "POINT SPREAD FUNCTION", "BACKGROUND")],
    (MAGIC_RADMAX, "RAD_MAX"),
    (MAGIC_RADMAX, "EFFECTIVE AREA"),
    ("veritas/crab-point-like-ED/64080.fits.gz", "EFFECTIVE AREA"),
    ("veritas/crab-point-like-ED/64080.fits.gz", "ENERGY DISPERSION"),
]

GAMMAPY_CLASS = {
    EffectiveArea2D: "EffectiveAreaTable2D", EnergyDispersion2D: "EnergyDispersion2D", PSFTable: "PSF3D",
    PSF3Gauss: "EnergyDependentMultiGaussPSF", PSFKing: "PSFKing", Background3D: "Background3D",
    Background2D: "Background2D", RadMax2D: "RadMax2D",
}
N = 2000
RTOL = 1e-6


@pytest.fixture(scope="module")
def data():
    if not DATA.exists():
        pytest.skip(f"shared data not found at {DATA}")
    return DATA


def _gammapy(irf, path, hdu):
    cls = getattr(girf, GAMMAPY_CLASS[type(irf)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls.read(path, hdu=hdu)


def _points(irf, rng, n=N, margin=0.25):
    """Random coordinates over each axis' range widened by ``margin`` (so some are outside), plus the nodes."""
    coords = {}
    names = list(irf.required_axes) + (["rad"] if isinstance(irf, (PSF3Gauss, PSFKing)) else [])
    for name in names:
        if name == "rad":
            lo, hi, unit, log = 0.0, 1.0, u.deg, False
        else:
            ax = irf.axes[name]
            lo, hi, unit, log = ax._edges[0], ax._edges[-1], ax.unit, ax.interp == "log"
        if log:
            lo, hi = np.log(lo), np.log(hi)
        span = hi - lo
        x = rng.uniform(lo - margin * span, hi + margin * span, n)
        if name != "rad":  # exact nodes too (interpolation weights 0 / 1)
            nodes = irf.axes[name].scaled_centers
            x[: len(nodes)] = nodes[rng.permutation(len(nodes))][: n]
        x = np.exp(x) if log else x
        if name in ("offset", "rad"):
            x = np.abs(x)
        coords[name] = u.Quantity(x, unit)
    return coords


def _assert_close(ours, theirs, rtol=RTOL):
    theirs = u.Quantity(theirs).to_value(ours.unit)
    ours = ours.value
    assert ours.shape == theirs.shape
    scale = np.nanmax(np.abs(theirs)) if np.any(np.isfinite(theirs)) else 1.0
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-12 * scale)


@pytest.mark.parametrize("path,hdu", CASES, ids=[f"{Path(p).name}:{h}" for p, h in CASES])
def test_evaluate_matches_gammapy(data, path, hdu):
    ours = load_irf(FitsFile(data / path)[hdu])
    theirs = _gammapy(ours, data / path, hdu)
    coords = _points(ours, np.random.default_rng(zlib.crc32(f"{path}:{hdu}".encode())))
    with np.errstate(all="ignore"):
        expected = theirs.evaluate(**coords)
    got = ours.evaluate(**coords)
    if isinstance(ours, PSF3Gauss):
        # gammapy gives NaN where an extrapolated width is clipped to 0; gwidgets gives 0 there
        bad = ~np.isfinite(expected)
        assert np.all(got.value[bad] == 0)
        got, expected = got[~bad], expected[~bad]
    _assert_close(got, expected)
    assert np.any(got.value > 0) and np.any(got.value == 0)  # points inside and outside
    assert ours.is_pointlike == theirs.is_pointlike


def test_nearest_method_matches_gammapy(data):
    path = data / DR1.format(20136)
    ours = load_irf(FitsFile(path)["EDISP"])
    theirs = _gammapy(ours, path, "EDISP")
    coords = _points(ours, np.random.default_rng(11), n=500)
    _assert_close(ours.evaluate(method="nearest", **coords), theirs.evaluate(method="nearest", **coords))


def test_outer_grid_equals_pointwise(data):
    """Evaluating on broadcast (outer) coordinates gives the same values as point by point."""
    bkg = load_irf(FitsFile(data / DR1.format(23523))["BKG"])
    e = np.geomspace(0.05, 200, 7) * u.TeV
    lon = np.linspace(-3, 3, 9) * u.deg
    lat = np.linspace(-2.6, 2.6, 5) * u.deg
    grid = bkg.evaluate(energy=e[:, None, None], fov_lon=lon[None, :, None], fov_lat=lat[None, None, :])
    E, LON, LAT = np.meshgrid(e, lon, lat, indexing="ij")
    flat = bkg.evaluate(energy=E.ravel(), fov_lon=LON.ravel(), fov_lat=LAT.ravel())
    assert grid.shape == (7, 9, 5)
    np.testing.assert_array_equal(grid.value.ravel(), flat.value)
    # units are converted; plain numbers are in the axis unit
    np.testing.assert_allclose(bkg.evaluate(energy=e.to("GeV")[:, None, None], fov_lon=lon.to("arcmin")[None, :, None],
                                            fov_lat=lat[None, None, :]).to_value(grid.unit), grid.value, rtol=1e-12)
    assert bkg.evaluate(energy=1.0, fov_lon=0.5, fov_lat=0.0) == bkg.evaluate(energy=1 * u.TeV, fov_lon=0.5 * u.deg,
                                                                               fov_lat=0 * u.deg)
    with pytest.raises(u.UnitConversionError, match="energy"):
        bkg.evaluate(energy=1 * u.m, fov_lon=0 * u.deg, fov_lat=0 * u.deg)
    with pytest.raises(TypeError, match="offset"):
        bkg.evaluate(energy=1 * u.TeV, offset=0 * u.deg)
    # a missing coordinate defaults to the axis centres, as in gammapy
    assert bkg.evaluate(energy=1 * u.TeV, fov_lat=0 * u.deg).shape == (1, 50, 1)


def test_limit_extrapolation_bounds_log_extrapolation(data):
    bkg = load_irf(FitsFile(data / DR1.format(23523))["BKG"])
    e_last = bkg.axes["energy"].center[-1]
    coords = dict(energy=np.array([1.0, 1.3]) * e_last, fov_lon=0.1 * u.deg, fov_lat=0.2 * u.deg)
    limited = bkg.evaluate(limit_extrapolation=True, **coords)
    assert limited[0] == bkg.evaluate(**coords)[0]
    assert limited[1] <= limited[0]


def test_background_energy_integral_matches_gammapy(data):
    path = data / DR1.format(23523)
    ours = load_irf(FitsFile(path)["BKG"])
    theirs = _gammapy(ours, path, "BKG")
    edges = np.geomspace(0.2, 50, 9) * u.TeV
    lon, lat = [0.1, -1.2, 2.0] * u.deg, [0.3, 0.5, -1.9] * u.deg
    got = ours.integrate_energy(edges, fov_lon=lon, fov_lat=lat)
    assert got.shape == (8, 3)
    _assert_close(got, theirs.integrate_log_log(axis_name="energy", energy=edges[:, None], fov_lon=lon, fov_lat=lat))


def test_build_in_memory_with_map_axes():
    """IRFs can be built from `MapAxis` or `IRFAxis` objects (simulations), with scalar data too."""
    from gwidgets.core.geom import MapAxis

    e = MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 6, name="energy_true")
    off = MapAxis.from_nodes([0.0, 1.0, 2.0] * u.deg, name="offset")
    aeff = EffectiveArea2D([e, off], 1e5, "m2")
    assert aeff.axes["offset"].node_type == "center" and aeff.data.shape == (6, 3)
    assert aeff.evaluate(energy_true=3 * u.TeV, offset=[0.5, 2.4, 2.6] * u.deg).to_value("m2").tolist() == [1e5, 1e5, 0]
    with pytest.raises(ValueError, match="needs axes"):
        EffectiveArea2D([off, e], np.ones((3, 6)))
    with pytest.raises(ValueError, match="does not match the axes"):
        EffectiveArea2D([e, off], np.ones((3, 6)))
    with pytest.raises(u.UnitConversionError, match="not convertible"):
        EffectiveArea2D([e, off], np.ones((6, 3)), "s")


def test_core_imports_no_gui_or_gammapy():
    code = ("import sys, gwidgets.core.irf; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('ipywidgets', 'bqplot', 'traitlets', 'matplotlib', 'IPython', 'gammapy')]; print(bad); "
            "sys.exit(1 if bad else 0)")
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_edisp_pdf_matrix_matches_gammapy_kernel(data):
    """Migration matrix vs gammapy's to_edisp_kernel(...).pdf_matrix (H.E.S.S., CTA, MAGIC; several offsets)."""
    et = gmaps.MapAxis.from_energy_bounds(0.01, 100, 64, unit="TeV", name="energy_true")
    er = gmaps.MapAxis.from_energy_bounds(0.03, 60, 40, unit="TeV")
    for path, hdu in ((DR1.format(23523), "EDISP"), (CTA, "ENERGY DISPERSION"),
                      ("joint-crab/data/magic/run_05029747_DL3.fits", "ENERGY DISPERSION")):
        ours = load_irf(FitsFile(data / path)[hdu])
        theirs = _gammapy(ours, data / path, hdu)
        for offset in (0.3, 1.1) * u.deg:
            kernel = theirs.to_edisp_kernel(offset, energy_axis_true=et, energy_axis=er).pdf_matrix
            matrix = ours.pdf_matrix(et.edges, er.edges, offset)
            assert matrix.shape == (64, 40)
            np.testing.assert_allclose(matrix, kernel, rtol=1e-6, atol=1e-12)
            rows = matrix.sum(axis=1)
            assert np.all(rows <= 1 + 1e-9) and rows.max() > 0.99


def test_psf_table_containment(data):
    path = data / DR1.format(23523)
    psf = load_irf(FitsFile(path)["PSF"])
    theirs = _gammapy(psf, path, "PSF")
    rng = np.random.default_rng(5)
    e = np.exp(rng.uniform(np.log(0.02), np.log(80), 300)) * u.TeV
    off = rng.uniform(0, 2.4, 300) * u.deg
    rad_axis = psf.axes["rad"]
    rad = rng.uniform(rad_axis._edges[1], rad_axis._edges[-1], 300) * u.deg  # gammapy's containment is defined there
    np.testing.assert_allclose(psf.containment(rad, e, off), theirs.containment(rad=rad, energy_true=e, offset=off),
                               rtol=1e-6, atol=1e-10)
    # ours: 0 at r = 0, the table total beyond the last rad edge, 0 outside the energy range
    assert np.all(psf.containment(0 * u.deg, e, off) == 0)
    total = psf.containment(rad_axis.edges[-1], e, off)
    np.testing.assert_array_equal(psf.containment(5 * u.deg, e, off), total)
    assert psf.containment(0.1 * u.deg, 500 * u.TeV, 0.5 * u.deg) == 0
    # containment radius: exact inverse of the containment, and gammapy's within its grid step
    r68 = psf.containment_radius(0.68, e, off)
    ok = np.isfinite(r68)
    assert np.all(ok[e > 0.3 * u.TeV])  # below, this PSF table is empty (below the safe threshold)
    np.testing.assert_allclose(psf.containment(r68[ok], e[ok], off[ok]), 0.68, rtol=1e-9)
    step = np.diff(rad_axis._edges).max() / 20
    theirs68 = theirs.containment_radius(0.68, energy_true=e[ok], offset=off[ok]).to_value("deg")
    assert np.max(np.abs(r68[ok].deg - theirs68)) <= step
    assert psf.containment_radius([0.5, 0.68, 0.95], 1 * u.TeV, 0.5 * u.deg).shape == (3,)
    assert np.isnan(psf.containment_radius(0.68, 1000 * u.TeV, 0.5 * u.deg))


def test_psf_3gauss_containment(data):
    psf = load_irf(FitsFile(data / CTA)["POINT SPREAD FUNCTION"])
    theirs = _gammapy(psf, data / CTA, "POINT SPREAD FUNCTION")
    e = np.geomspace(0.03, 150, 40)[:, None] * u.TeV
    off = np.array([0.2, 1.5, 4.0]) * u.deg
    rad = np.linspace(0, 0.5, 11)[:, None, None] * u.deg
    np.testing.assert_allclose(psf.containment(rad, e, off), theirs.containment(rad=rad, energy_true=e, offset=off),
                               rtol=1e-6, atol=1e-12)
    r = psf.containment_radius(0.68, e, off)
    assert r.shape == (40, 3)
    np.testing.assert_allclose(psf.containment(r, e, off), 0.68, rtol=1e-9)
    theirs_r = theirs.containment_radius(0.68, energy_true=e, offset=off).to_value("deg")
    inside = theirs_r < 0.65  # gammapy searches a grid of 0–0.66 deg, in steps of 0.01 / 20 deg
    assert inside.mean() > 0.9 and np.max(np.abs(r.deg - theirs_r)[inside]) < 0.01 / 20


@pytest.fixture(scope="module")
def king_file(tmp_path_factory):
    """A King PSF (no psf_king in the shared data): built and written by gammapy."""
    e = gmaps.MapAxis.from_energy_bounds(0.05, 50, 12, unit="TeV", name="energy_true")
    o = gmaps.MapAxis.from_bounds(0, 3, 4, unit="deg", name="offset")
    data = np.empty((12, 4), dtype={"names": ["gamma", "sigma"], "formats": [np.float32] * 2})
    energy, offset = e.center.to_value("TeV")[:, None], o.center.to_value("deg")[None]
    data["gamma"] = 2.0 + 0.3 * np.log10(energy) + 0.1 * offset
    data["sigma"] = 0.05 * energy**-0.3 * (1 + 0.2 * offset)
    psf = girf.PSFKing(axes=[e, o], data=data, unit={"gamma": u.one, "sigma": u.deg})
    path = tmp_path_factory.mktemp("king") / "king.fits"
    psf.write(path)
    return path


def test_psf_king_matches_gammapy(king_file):
    hdu = FitsFile(king_file)["PSF_2D_KING"]
    with pytest.raises(errors.UnsupportedFormatError, match="no IRF class"):
        load_irf(hdu)  # gammapy writes no HDUCLAS keywords for parametric PSFs
    ours = load_irf(hdu, "psf_king")
    assert isinstance(ours, PSFKing)
    theirs = girf.PSFKing.read(king_file, hdu="PSF_2D_KING")
    coords = _points(ours, np.random.default_rng(3))
    _assert_close(ours.evaluate(**coords), theirs.evaluate(**coords))
    e, off = np.geomspace(0.1, 30, 9) * u.TeV, 0.7 * u.deg
    rad = np.linspace(0, 0.6, 13)[:, None] * u.deg
    np.testing.assert_allclose(ours.containment(rad, e, off), theirs.containment(rad=rad, energy_true=e, offset=off),
                               rtol=1e-6)
    r = ours.containment_radius(0.68, e, off)
    np.testing.assert_allclose(ours.containment(r, e, off), 0.68, rtol=1e-9)
    assert np.max(np.abs(r.deg - theirs.containment_radius(0.68, energy_true=e, offset=off).to_value("deg"))) < 0.01 / 20


def test_header_classes_and_registry(data):
    cta = FitsFile(data / CTA)
    # CTA 1DC writes HDUCLAS4 '2D', '3GAUSS', '3D'
    assert [hdu_class_from_header(cta[h]) for h in cta.names[1:]] == ["aeff_2d", "psf_3gauss", "edisp_2d", "bkg_3d"]
    assert set(IRF_REGISTRY) == {"aeff_2d", "edisp_2d", "psf_table", "psf_3gauss", "psf_king", "bkg_2d", "bkg_3d",
                                 "rad_max_2d"}
    dr1 = FitsFile(data / DR1.format(23523))
    types = {h: type(load_irf(dr1[h])) for h in ("AEFF", "EDISP", "PSF", "BKG")}
    assert types == {"AEFF": EffectiveArea2D, "EDISP": EnergyDispersion2D, "PSF": PSFTable, "BKG": Background3D}
    assert isinstance(load_irf(dr1["AEFF"], "AEFF_2D"), EffectiveArea2D)  # index classes in any case
    with pytest.raises(errors.UnsupportedFormatError, match=r"HDU 'EVENTS' of file '.*023523.fits.gz' has"):
        load_irf(dr1["EVENTS"])


def test_thresholds_fixed_rad_max_and_repr(data):
    dr1 = FitsFile(data / DR1.format(23523))
    aeff = load_irf(dr1["AEFF"])
    assert aeff.lo_threshold == dr1["AEFF"].header["LO_THRES"] * u.TeV
    assert aeff.hi_threshold.to_value("TeV") == pytest.approx(100)
    assert aeff.offset_max.deg == pytest.approx(2.75)
    assert aeff.fixed_rad_max is None and fixed_rad_max(aeff) is None
    r = repr(aeff)
    assert r.startswith("EffectiveArea2D(energy_true: 96 bins 0.01–100 TeV, offset: 6 bins") and "unit m2" in r
    assert "full-enclosure" in r and "96 bins" in repr(aeff.axes["energy_true"])
    fact = load_irf(FitsFile(data / "joint-crab/data/fact/fact_irf.fits")["EFFECTIVE AREA"])
    assert fact.lo_threshold is None and fact.is_pointlike
    magic = load_irf(FitsFile(data / "joint-crab/data/magic/run_05029747_DL3.fits")["EFFECTIVE AREA"])
    rm = fixed_rad_max(magic)
    assert isinstance(rm, RadMax2D) and rm.is_fixed and rm.fixed_value.deg == pytest.approx(0.1414213)
    # constant everywhere, also outside the axes, as gammapy's RadMax2D.from_irf
    theirs = girf.RadMax2D.from_irf(_gammapy(magic, data / "joint-crab/data/magic/run_05029747_DL3.fits",
                                             "EFFECTIVE AREA"))
    coords = dict(energy=[0.001, 1, 1e4] * u.TeV, offset=[0, 0.4, 9] * u.deg)
    _assert_close(rm.evaluate(**coords), theirs.evaluate(**coords))
    table = load_irf(FitsFile(data / MAGIC_RADMAX)["RAD_MAX"])
    assert table.is_pointlike and not table.is_fixed and table.fixed_value is None
    assert "RadMax2D(energy:" in repr(table) and "point-like" in repr(table)


def _irfs(data, king_file):
    dr1 = FitsFile(data / DR1.format(23523))
    cta = FitsFile(data / CTA)
    out = [load_irf(dr1[h]) for h in ("AEFF", "EDISP", "PSF", "BKG")]
    out += [load_irf(cta[h]) for h in ("EFFECTIVE AREA", "ENERGY DISPERSION", "POINT SPREAD FUNCTION", "BACKGROUND")]
    out += [load_irf(FitsFile(data / MAGIC_RADMAX)["RAD_MAX"]), load_irf(FitsFile(king_file)[1], "psf_king")]
    e = IRFAxis(np.geomspace(0.1, 100, 9), "energy", unit="TeV")
    off = IRFAxis.from_nodes([0.25, 0.75, 1.5, 2.5], "offset", unit="deg")
    rate = np.exp(-np.arange(8))[:, None] * np.linspace(1, 0.2, 4)[None] * 1e-6
    out.append(Background2D([e, off], rate, "s-1 MeV-1 sr-1", {"INSTRUME": "TEST"}))
    return out


def test_round_trip_write_read(data, king_file, tmp_path):
    """to_hdu → file → load_irf gives the same class and identical values; gammapy reads our files too."""
    irfs = _irfs(data, king_file)
    hdus = [irf.to_hdu(f"IRF{i}") for i, irf in enumerate(irfs)]
    fits.HDUList([fits.PrimaryHDU(), *hdus]).writeto(tmp_path / "irfs.fits")
    ff = FitsFile(tmp_path / "irfs.fits")
    for i, irf in enumerate(irfs):
        back = load_irf(ff[f"IRF{i}"])
        assert type(back) is type(irf) and back.is_pointlike == irf.is_pointlike
        coords = _points(irf, np.random.default_rng(i), n=300)
        np.testing.assert_array_equal(back.evaluate(**coords).value, irf.evaluate(**coords).value)
        assert back.evaluate(**coords).unit == irf.evaluate(**coords).unit
        for name in irf.required_axes:
            assert back.axes[name].node_type == irf.axes[name].node_type
        theirs = _gammapy(irf, tmp_path / "irfs.fits", f"IRF{i}")
        with np.errstate(all="ignore"):
            expected = theirs.evaluate(**coords)
        got = irf.evaluate(**coords)
        if isinstance(irf, PSF3Gauss):
            got, expected = got[np.isfinite(expected)], expected[np.isfinite(expected)]
        _assert_close(got, expected)
    assert ff["IRF0"].header["LO_THRES"] == irfs[0].meta["LO_THRES"]
    assert ff["IRF0"].header["HDUCLAS4"] == "AEFF_2D" and ff["IRF3"].header["FOVALIGN"] == "RADEC"


def test_pickle_keeps_values(data):
    bkg = load_irf(FitsFile(data / DR1.format(23523))["BKG"])
    coords = dict(energy=[0.5, 3] * u.TeV, fov_lon=[0.1, -1] * u.deg, fov_lat=[0.3, 0.2] * u.deg)
    before = bkg.evaluate(**coords)
    back = pickle.loads(pickle.dumps(bkg))
    np.testing.assert_array_equal(back.evaluate(**coords), before)


def _aeff_hdu(energy_unit="TeV", drop=None, hduclas4="AEFF_2D", area_unit="m2", nrows=1):
    e = np.geomspace(0.1, 100, 11)
    th = np.linspace(0, 2, 5)
    cols = {"ENERG_LO": (e[:-1], energy_unit), "ENERG_HI": (e[1:], energy_unit),
            "THETA_LO": (th[:-1], "deg"), "THETA_HI": (th[1:], "deg")}
    out = [fits.Column(k, f"{len(v)}E", unit=unit, array=np.repeat(v[None], nrows, 0))
           for k, (v, unit) in cols.items() if k != drop]
    if drop != "EFFAREA":
        out.append(fits.Column("EFFAREA", "40E", unit=area_unit, dim="(10,4)", array=np.ones((nrows, 4, 10))))
    hdu = fits.BinTableHDU.from_columns(out, name="EFFECTIVE AREA")
    hdu.header["HDUCLAS2"] = "EFF_AREA"
    if hduclas4:
        hdu.header["HDUCLAS4"] = hduclas4
    return hdu


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"drop": "THETA_HI"}, errors.MissingColumnError, "Column 'THETA_HI' missing in HDU 'EFFECTIVE AREA' of file '.*bad.fits'"),
        ({"drop": "ENERG_LO"}, errors.MissingColumnError, "Column 'ENERG_LO' missing in HDU 'EFFECTIVE AREA'"),
        ({"drop": "EFFAREA"}, errors.MissingColumnError, "Column 'EFFAREA' missing"),
        ({"energy_unit": "m"}, errors.UnitError,
         "Column 'ENERG_LO' in HDU 'EFFECTIVE AREA' of file '.*bad.fits' has unit 'm', which is not convertible to 'TeV'"),
        ({"area_unit": "s"}, errors.UnitError, "Column 'EFFAREA' in HDU 'EFFECTIVE AREA' .* has unit 's'"),
        ({"hduclas4": "AEFF_99D"}, errors.UnsupportedFormatError,
         "HDU 'EFFECTIVE AREA' of file '.*bad.fits' has IRF class 'aeff_99d'"),
        ({"nrows": 0}, errors.UnsupportedFormatError, "HDU 'EFFECTIVE AREA' of file '.*bad.fits' has no rows"),
    ],
)
def test_bad_irf_hdus(tmp_path, kwargs, error, match):
    fits.HDUList([fits.PrimaryHDU(), _aeff_hdu(**kwargs)]).writeto(tmp_path / "bad.fits")
    with pytest.raises(error, match=match):
        load_irf(FitsFile(tmp_path / "bad.fits")["EFFECTIVE AREA"])


def test_small_hdus_read(tmp_path):
    """Energies in GeV are converted; missing HDUCLAS4 is inferred; a cell of the wrong size is an error."""
    fits.HDUList([fits.PrimaryHDU(), _aeff_hdu(energy_unit="GeV", hduclas4=None)]).writeto(tmp_path / "ok.fits")
    aeff = load_irf(FitsFile(tmp_path / "ok.fits")["EFFECTIVE AREA"])
    assert isinstance(aeff, EffectiveArea2D)
    np.testing.assert_allclose(aeff.axes["energy_true"].edges.to_value("TeV"), np.geomspace(1e-4, 0.1, 11), rtol=1e-6)
    assert aeff.evaluate(energy_true=10 * u.GeV, offset=0.3 * u.deg).to_value("m2") == pytest.approx(1.0)
    hdu = _aeff_hdu()
    hdu.columns["EFFAREA"].dim = None
    bad = fits.BinTableHDU.from_columns(
        [*hdu.columns[:4], fits.Column("EFFAREA", "30E", unit="m2", array=np.ones((1, 30)))], name="AEFF")
    bad.header["HDUCLAS2"], bad.header["HDUCLAS4"] = "EFF_AREA", "AEFF_2D"
    fits.HDUList([fits.PrimaryHDU(), bad]).writeto(tmp_path / "shape.fits")
    with pytest.raises(errors.UnsupportedFormatError, match="Column 'EFFAREA' of HDU 'AEFF' .* does not match"):
        load_irf(FitsFile(tmp_path / "shape.fits")["AEFF"])


def test_from_hdu_is_fast(data):
    """Reading the 4 IRFs of a run must stay far below gammapy's (~10 ms): well under 1 ms each."""
    ff = FitsFile(data / DR1.format(23523))
    hdus = [ff[h] for h in ("AEFF", "EDISP", "PSF", "BKG")]
    for hdu in hdus:
        load_irf(hdu)
    best = min(_timed(lambda: [load_irf(h) for h in hdus]) for _ in range(20))
    assert best < 4e-3, f"reading 4 IRFs took {best * 1e3:.2f} ms"


def _timed(func):
    t0 = time.perf_counter()
    func()
    return time.perf_counter() - t0
