"""Models against independent references: scipy.integrate.quad and gammapy 2.1.

gammapy is only the reference here; gwidgets.core never imports it.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time
from astropy.wcs import WCS
from scipy.integrate import quad, trapezoid

import gammapy.modeling.models as gm
from gammapy.maps import Map, MapAxis, RegionNDMap, WcsGeom

import gwidgets.core.models as gwm
from gwidgets.core.models import (
    AbsorbedSpectral, BrokenPowerLaw, CompoundSpectral, ConstantSpatialModel, ConstantSpectral,
    ConstantTemporalModel, DiskSpatialModel, EBLAbsorption, ExpCutoffPowerLaw, ExpDecayTemporalModel,
    FoVBackgroundModel, GaussianSpatialModel, GaussianSpectral, GaussianTemporalModel,
    LightCurveTemplateTemporalModel, LinearTemporalModel, LogParabola, Models, Parameter, ParameterError,
    Parameters, PointSpatialModel, PowerLaw, PowerLaw2, PowerLawNorm, ScaleSpectral, ShellSpatialModel,
    SkyModel, SmoothBrokenPowerLaw, TemplateSpatialModel, TemplateSpectral,
)
from gwidgets.errors import GwidgetsError

DNDE = u.Unit("cm-2 s-1 TeV-1")

# --------------------------------------------------------------------------- fixtures
EBL_E = [0.05, 0.2, 1.0, 5.0, 30.0] * u.TeV
EBL_Z = np.array([0.0, 0.1, 0.3])
EBL_T = np.array([[1.0, 1.0, 1.0, 1.0, 1.0],
                  [0.999, 0.98, 0.7, 0.2, 1e-3],
                  [0.99, 0.9, 0.3, 0.01, 1e-8]])
TPL_E = [0.1, 0.5, 2.0, 10.0, 80.0] * u.TeV
TPL_V = [3e-10, 8e-12, 2e-13, 3e-15, 1e-17] * DNDE


def _pair(name):
    """(ours, gammapy's or None) spectral models at the same, non-default parameters."""
    if name == "pl":
        return (PowerLaw(index=2.3, amplitude="3e-12 cm-2 s-1 TeV-1", reference="1.5 TeV"),
                gm.PowerLawSpectralModel(index=2.3, amplitude="3e-12 cm-2 s-1 TeV-1", reference="1.5 TeV"))
    if name == "pl-index1":
        return PowerLaw(index=1.0), gm.PowerLawSpectralModel(index=1.0)
    if name == "pl-index2":
        return PowerLaw(index=2.0), gm.PowerLawSpectralModel(index=2.0)
    if name == "lp":
        return (LogParabola(alpha=2.1, beta=0.3, amplitude="3e-12 cm-2 s-1 TeV-1", reference="1 TeV"),
                gm.LogParabolaSpectralModel(alpha=2.1, beta=0.3, amplitude="3e-12 cm-2 s-1 TeV-1", reference="1 TeV"))
    if name == "lp10":
        return (LogParabola(alpha=2.1, beta=0.3 * np.log(10), reference="1 TeV", log_base=10),
                gm.LogParabolaSpectralModel(alpha=2.1, beta=0.3, reference="1 TeV"))
    if name == "pl2":
        return (PowerLaw2(index=2.3, amplitude="1e-11 cm-2 s-1", emin="0.5 TeV", emax="50 TeV"),
                gm.PowerLaw2SpectralModel(index=2.3, amplitude="1e-11 cm-2 s-1", emin="0.5 TeV", emax="50 TeV"))
    if name == "pl2-index2":
        return PowerLaw2(index=2.0), gm.PowerLaw2SpectralModel(index=2.0)
    if name == "plnorm":
        return (PowerLawNorm(tilt=0.2, norm=1.3, reference="2 TeV"),
                gm.PowerLawNormSpectralModel(tilt=0.2, norm=1.3, reference="2 TeV"))
    if name == "ecpl":
        return (ExpCutoffPowerLaw(index=1.8, lambda_="0.07 TeV-1", alpha=1.2),
                gm.ExpCutoffPowerLawSpectralModel(index=1.8, lambda_="0.07 TeV-1", alpha=1.2))
    if name == "bpl":
        return (BrokenPowerLaw(index1=1.5, index2=3.1, ebreak="2 TeV"),
                gm.BrokenPowerLawSpectralModel(index1=1.5, index2=3.1, ebreak="2 TeV"))
    if name == "sbpl":
        return (SmoothBrokenPowerLaw(index1=1.5, index2=3.1, ebreak="2 TeV", beta=0.7),
                gm.SmoothBrokenPowerLawSpectralModel(index1=1.5, index2=3.1, ebreak="2 TeV", beta=0.7))
    if name == "const":
        return ConstantSpectral(const="2e-12 cm-2 s-1 TeV-1"), gm.ConstantSpectralModel(const="2e-12 cm-2 s-1 TeV-1")
    if name == "gauss":
        return (GaussianSpectral(amplitude="1e-12 cm-2 s-1", mean="3 TeV", sigma="1 TeV"),
                gm.GaussianSpectralModel(amplitude="1e-12 cm-2 s-1", mean="3 TeV", sigma="1 TeV"))
    if name == "template":
        return TemplateSpectral(TPL_E, TPL_V), gm.TemplateSpectralModel(TPL_E, TPL_V)
    if name == "ebl":
        return (EBLAbsorption(EBL_E, EBL_Z, EBL_T, redshift=0.2, alpha_norm=1.2),
                gm.EBLAbsorptionNormSpectralModel(EBL_E, EBL_Z, EBL_T, redshift=0.2, alpha_norm=1.2))
    if name == "compound-add":
        a, ga = _pair("pl")
        b, gb = _pair("ecpl")
        return a + b, ga + gb
    if name == "compound-mul":
        a, ga = _pair("ecpl")
        b, gb = _pair("ebl")
        return a * b, ga * gb
    if name == "scale":
        return ScaleSpectral(PowerLaw(index=2.2), norm=1.7), None
    raise KeyError(name)


SPECTRAL = ["pl", "pl-index1", "pl-index2", "lp", "lp10", "pl2", "pl2-index2", "plnorm", "ecpl", "bpl", "sbpl",
            "const", "gauss", "template", "ebl", "compound-add", "compound-mul", "scale"]
E_GRID = np.geomspace(0.03, 300, 57)


def _quad_loglog(func, e1, e2, points=()):
    """∫ func dE by quad in ln E, split at the breakpoints."""
    edges = np.unique(np.concatenate([[e1, e2], [p for p in points if e1 < p < e2]]))
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        total += quad(lambda x: func(np.exp(x)) * np.exp(x), np.log(a), np.log(b), epsabs=0, epsrel=1e-11, limit=200)[0]
    return total


@pytest.mark.parametrize("name", SPECTRAL)
def test_spectral_integrals_match_quad(name):
    model, _ = _pair(name)
    params = model.canonical_values()
    f = lambda e: float(model.evaluate(np.asarray(e), **params))  # noqa: E731
    bps = model.breakpoints()
    for e1, e2 in [(0.1, 100.0), (1.0, 1.5), (0.7, 3.3), (0.04, 0.06), (20.0, 150.0)]:
        ref = _quad_loglog(f, e1, e2, bps)
        ref_ef = _quad_loglog(lambda e: e * f(e), e1, e2, bps)
        got = model.integral(e1 * u.TeV, e2 * u.TeV)
        assert got.unit.is_equivalent(model.value_unit * u.TeV)
        np.testing.assert_allclose(got.to_value(model.value_unit * u.TeV), ref, rtol=1e-6, atol=1e-60,
                                   err_msg=f"{name} {e1}-{e2}")
        got_ef = model.energy_flux(e1 * u.TeV, e2 * u.TeV)
        np.testing.assert_allclose(u.Quantity(got_ef).to_value(model.value_unit * u.TeV**2), ref_ef, rtol=1e-6,
                                   atol=1e-60)
    # vectorised float path: arrays of bins, same values as one by one
    edges = np.geomspace(0.1, 100, 9)
    vec = model.integral_values(edges[:-1], edges[1:])
    one = [float(model.integral_values(a, b)) for a, b in zip(edges[:-1], edges[1:])]
    np.testing.assert_allclose(vec, one, rtol=1e-12)
    np.testing.assert_allclose(vec.sum(), float(model.integral_values(0.1, 100.0)), rtol=1e-9)


@pytest.mark.parametrize("name", [n for n in SPECTRAL if _pair(n)[1] is not None])
def test_spectral_evaluate_matches_gammapy(name):
    ours, theirs = _pair(name)
    got = ours(E_GRID * u.TeV)
    ref = theirs(E_GRID * u.TeV).to(got.unit)
    np.testing.assert_allclose(got.value, ref.value, rtol=1e-9, atol=1e-300)
    # the static evaluate on floats gives the same numbers
    np.testing.assert_allclose(ours.evaluate(E_GRID, **ours.canonical_values()), got.value, rtol=1e-15)


def test_analytic_integrals_match_gammapy_analytic():
    for name in ["pl", "pl-index1", "pl2", "plnorm", "const", "gauss"]:
        ours, theirs = _pair(name)
        got = ours.integral([0.3, 2.0] * u.TeV, [2.0, 40.0] * u.TeV)
        ref = theirs.integral([0.3, 2.0] * u.TeV, [2.0, 40.0] * u.TeV).to(got.unit)
        np.testing.assert_allclose(got.value, ref.value, rtol=1e-9, err_msg=name)


def test_logparabola_log10_equals_natural_log_with_converted_beta():
    beta_e = 0.23
    ln = LogParabola(alpha=2.4, beta=beta_e, reference="1 TeV")
    lg = LogParabola(alpha=2.4, beta=beta_e * np.log(10), reference="1 TeV", log_base=10)
    np.testing.assert_allclose(lg(E_GRID * u.TeV).value, ln(E_GRID * u.TeV).value, rtol=1e-12)
    np.testing.assert_allclose(lg.integral_values(0.2, 20.0), ln.integral_values(0.2, 20.0), rtol=1e-12)
    # explicit log10 formula
    x = E_GRID / 1.0
    ref = 1e-12 * x ** (-2.4 - beta_e * np.log(10) * np.log10(x))
    np.testing.assert_allclose(lg.dnde_values(E_GRID), ref, rtol=1e-12)
    with pytest.raises(ParameterError):
        LogParabola(log_base=2)


def test_compound_and_norm_models():
    pl, plg = _pair("pl")
    ebl, _ = _pair("ebl")
    absorbed = AbsorbedSpectral(pl, ebl)
    assert absorbed.value_unit == DNDE and ebl.is_norm_spectral_model and not pl.is_norm_spectral_model
    np.testing.assert_allclose(absorbed.dnde_values(E_GRID), pl.dnde_values(E_GRID) * ebl.dnde_values(E_GRID))
    # parameters keep their identity, paths name them
    assert absorbed.get_parameter("model1.index") is pl.index
    assert absorbed.get_parameter("model2.redshift") is ebl.redshift
    pl.index.value = 2.0
    assert absorbed.canonical_values()["model1.index"] == 2.0
    assert [p for p, _ in absorbed.parameter_paths()][:2] == ["model1.index", "model1.amplitude"]
    # the table tau interface
    tab = EBLAbsorption.from_tau(EBL_E, tau=-np.log(EBL_T[2]))
    np.testing.assert_allclose(tab.dnde_values(EBL_E.value), EBL_T[2], rtol=1e-12)
    two_d = EBLAbsorption.from_tau(EBL_E, tau=-np.log(np.clip(EBL_T, 1e-300, 1)), redshift_nodes=EBL_Z, redshift=0.3)
    np.testing.assert_allclose(two_d.dnde_values(EBL_E.value), EBL_T[2], rtol=1e-10)
    # sub and truediv, and operators refuse non-models
    diff = pl - pl.copy()
    np.testing.assert_allclose(diff.dnde_values(E_GRID), 0, atol=1e-30)
    ratio = pl / PowerLawNorm(norm=2.0)
    np.testing.assert_allclose(ratio.dnde_values(1.0), pl.dnde_values(1.0) / 2)
    with pytest.raises(TypeError):
        pl * 2.0
    with pytest.raises(ParameterError, match="operator"):
        CompoundSpectral(pl, ebl, "pow")


def test_ebl_table_read_from_xspec_file_as_gammapy(tmp_path):
    from astropy.io import fits

    e_lo = np.geomspace(1e7, 1e11, 41)  # keV
    e_hi = e_lo * 1.2
    z = np.array([0.0, 0.1, 0.2, 0.4])
    e_c = np.sqrt(e_lo * e_hi) / 1e9  # TeV
    spectra = np.exp(-np.outer(z, e_c**0.8) * 3)
    hdus = [fits.PrimaryHDU(),
            fits.BinTableHDU.from_columns([fits.Column("NAME", "12A", array=["redshift"]),
                                           fits.Column("VALUE", f"{len(z)}D", array=[z])], name="PARAMETERS"),
            fits.BinTableHDU.from_columns([fits.Column("ENERG_LO", "D", array=e_lo),
                                           fits.Column("ENERG_HI", "D", array=e_hi)], name="ENERGIES"),
            fits.BinTableHDU.from_columns([fits.Column("PARAMVAL", "D", array=z),
                                           fits.Column("INTPSPEC", f"{len(e_lo)}D", array=spectra)], name="SPECTRA")]
    path = tmp_path / "ebl.fits"
    fits.HDUList(hdus).writeto(path)
    ours = EBLAbsorption.read(path, redshift=0.15)
    theirs = gm.EBLAbsorptionNormSpectralModel.read(path, redshift=0.15)
    np.testing.assert_allclose(ours(E_GRID * u.TeV).value, theirs(E_GRID * u.TeV).to_value(""), rtol=1e-9, atol=1e-300)
    # the YAML keeps the filename; gammapy reads our entry
    models = Models([SkyModel(PowerLaw() * ours, name="blazar")])
    models.write(tmp_path / "m.yaml")
    back = gm.Models.read(tmp_path / "m.yaml")
    assert back["blazar"].spectral_model.model2.redshift.value == 0.15
    np.testing.assert_allclose(back["blazar"].spectral_model(E_GRID * u.TeV).to_value(DNDE),
                               models["blazar"].spectral_model.dnde_values(E_GRID), rtol=1e-9, atol=1e-300)
    again = Models.read(tmp_path / "m.yaml")
    assert again["blazar"].spectral_model.model2.redshift.value == 0.15


def test_template_spectral_norm_and_extrapolation():
    tpl = TemplateSpectral(TPL_E, TPL_V, norm=2.0)
    np.testing.assert_allclose(tpl.dnde_values(TPL_E.value), 2 * TPL_V.value, rtol=1e-12)
    gp = gm.TemplateSpectralModel(TPL_E, TPL_V)
    e_out = np.array([0.02, 200.0])  # log-log extrapolation as gammapy
    np.testing.assert_allclose(tpl.dnde_values(e_out), 2 * gp(e_out * u.TeV).to_value(DNDE), rtol=1e-9)
    single = TemplateSpectral([1.0] * u.TeV, [1e-12] * DNDE)
    np.testing.assert_allclose(single.integral_values(1, 3), 2e-12, rtol=1e-12)
    with pytest.raises(ParameterError):
        TemplateSpectral([2, 1] * u.TeV, [1, 2] * DNDE)


# --------------------------------------------------------------------------- spatial
POS = dict(lon_0="83.63 deg", lat_0="22.01 deg")


def _spatial_pairs():
    return {
        "gauss": (GaussianSpatialModel(sigma="0.3 deg", **POS), gm.GaussianSpatialModel(sigma="0.3 deg", **POS)),
        "gauss-elongated": (GaussianSpatialModel(sigma="0.3 deg", e=0.7, phi="30 deg", **POS),
                            gm.GaussianSpatialModel(sigma="0.3 deg", e=0.7, phi="30 deg", **POS)),
        "gauss-neg-phi": (GaussianSpatialModel(sigma="0.2 deg", e=0.5, phi="-130 deg", **POS),
                          gm.GaussianSpatialModel(sigma="0.2 deg", e=0.5, phi="-130 deg", **POS)),
        "disk": (DiskSpatialModel(r_0="0.5 deg", **POS), gm.DiskSpatialModel(r_0="0.5 deg", **POS)),
        "disk-elongated": (DiskSpatialModel(r_0="0.5 deg", e=0.6, phi="-50 deg", edge_width=0.1, **POS),
                           gm.DiskSpatialModel(r_0="0.5 deg", e=0.6, phi="-50 deg", edge_width=0.1, **POS)),
        "shell": (ShellSpatialModel(radius="0.5 deg", width="0.2 deg", **POS),
                  gm.ShellSpatialModel(radius="0.5 deg", width="0.2 deg", **POS)),
    }


@pytest.mark.parametrize("name", list(_spatial_pairs()))
def test_spatial_values_match_gammapy(name):
    ours, theirs = _spatial_pairs()[name]
    rng = np.random.default_rng(3)
    lon = 83.63 + rng.uniform(-1.5, 1.5, 3000)
    lat = 22.01 + rng.uniform(-1.5, 1.5, 3000)
    got = ours(lon * u.deg, lat * u.deg)
    ref = theirs(lon * u.deg, lat * u.deg).to("sr-1")
    np.testing.assert_allclose(got.to_value("sr-1"), ref.value, rtol=1e-6, atol=1e-9 * ref.value.max())


@pytest.mark.parametrize("name", list(_spatial_pairs()))
def test_spatial_normalisation_on_tangent_plane(name):
    ours, _ = _spatial_pairs()[name]
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [83.63, 22.01]
    wcs.wcs.cdelt = [-0.01, 0.01]
    wcs.wcs.crpix = [175.5, 175.5]
    total = ours.integrate_wcs(wcs, (350, 350), oversampling=2).sum()
    assert abs(total - 1) < 1e-3, total


@pytest.mark.parametrize("model", [GaussianSpatialModel(sigma="2 deg"), DiskSpatialModel(r_0="5 deg", edge_width=0.05),
                                   ShellSpatialModel(radius="3 deg", width="1 deg"), GaussianSpatialModel(sigma="40 deg")])
def test_symmetric_spatial_normalisation_on_the_sphere(model):
    """∫ f dΩ over the whole sphere, radially with quad (exact for the symmetric Gaussian even at 40°)."""
    f = lambda theta: float(model.values(np.degrees(theta), 0.0)) * 2 * np.pi * np.sin(theta)  # noqa: E731
    total = quad(f, 0, np.pi, points=[np.radians(x) for x in (2, 3, 4, 5, 40)], limit=400)[0]
    assert abs(total - 1) < 1e-3, total


def test_point_source_pixel_weights_match_gammapy():
    geom = WcsGeom.create(skydir=SkyCoord(83.63, 22.01, unit="deg").galactic, binsz=0.02, width=(2, 2), frame="galactic")
    ours = PointSpatialModel(lon_0="184.553 deg", lat_0="-5.782 deg", frame="galactic")
    theirs = gm.PointSpatialModel(lon_0="184.553 deg", lat_0="-5.782 deg", frame="galactic")
    got = ours.integrate_wcs(geom.wcs, geom.data_shape)
    np.testing.assert_allclose(got, theirs.integrate_geom(geom).data, atol=1e-12)
    assert got.sum() == pytest.approx(1.0)
    # an icrs point in a galactic map lands on the same pixels
    icrs = PointSpatialModel.from_position(ours.position.icrs)
    np.testing.assert_allclose(icrs.integrate_wcs(geom.wcs, geom.data_shape), got, atol=1e-6)


def test_integrate_wcs_matches_gammapy_integrate_geom():
    geom = WcsGeom.create(skydir=(83.63, 22.01), binsz=0.05, width=(4, 4), frame="icrs")
    ours, theirs = _spatial_pairs()["gauss-elongated"]
    got = ours.integrate_wcs(geom.wcs, geom.data_shape, oversampling=8)
    ref = theirs.integrate_geom(geom, oversampling_factor=8).data
    # gammapy integrates only within 5 sigma: compare relative to the peak pixel
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6 * ref.max())
    assert got.sum() == pytest.approx(1.0, abs=1e-4)


def test_spatial_frame_and_position():
    g = GaussianSpatialModel(lon_0="184.557 deg", lat_0="-5.784 deg", sigma="0.1 deg", frame="galactic")
    assert isinstance(g.position, SkyCoord) and g.position.frame.name == "galactic"
    crab_icrs = g.position.icrs
    # evaluating at a SkyCoord in another frame converts it
    assert g(crab_icrs).to_value("sr-1") == pytest.approx(g.values(184.557, -5.784), rel=1e-9)
    g.position = SkyCoord(83.0, 22.0, unit="deg", frame="icrs")
    assert g.position.icrs.ra.deg == pytest.approx(83.0)
    assert g.frame == "galactic"
    with pytest.raises(ParameterError, match="frame"):
        GaussianSpatialModel(frame="nonsense")


def _template_inputs():
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["GLON-CAR", "GLAT-CAR"]
    wcs.wcs.crval = [0.0, 0.0]
    wcs.wcs.cdelt = [-0.05, 0.05]
    wcs.wcs.crpix = [20.5, 15.5]
    y, x = np.mgrid[0:30, 0:40]
    data = np.exp(-((x - 22.3) ** 2 + (y - 13.1) ** 2) / 30.0) + 0.01
    return data, wcs


def test_template_spatial_normalised_and_matches_gammapy():
    data, wcs = _template_inputs()
    ours = TemplateSpatialModel(data, wcs)
    assert ours.frame == "galactic"
    assert ours.integrate_wcs(wcs, data.shape, oversampling=1).sum() == pytest.approx(1.0, rel=1e-3)
    m = Map.from_geom(WcsGeom(wcs, npix=(40, 30)), data=data, unit="")
    theirs = gm.TemplateSpatialModel(m, normalize=True, filename="dummy.fits")
    rng = np.random.default_rng(5)
    lon = rng.uniform(-1.2, 1.2, 500)
    lat = rng.uniform(-0.9, 0.9, 500)
    ref = theirs(lon * u.deg, lat * u.deg).to_value("sr-1")
    np.testing.assert_allclose(ours(lon * u.deg, lat * u.deg).to_value("sr-1"), ref, rtol=1e-6)
    np.testing.assert_allclose(ours.values(5.0, 5.0), 0.0)  # outside the image


# --------------------------------------------------------------------------- temporal
T_REF = Time("2021-03-01T00:00:00", scale="utc")


def test_temporal_models_match_gammapy_and_quad():
    times = T_REF + np.linspace(-3, 5, 41) * u.d
    pairs = [
        (ConstantTemporalModel(), gm.ConstantTemporalModel()),
        (LinearTemporalModel(alpha=1.0, beta="0.1 d-1", t_ref=T_REF.mjd), gm.LinearTemporalModel(alpha=1.0, beta="0.1 d-1", t_ref=T_REF.mjd * u.d)),
        (ExpDecayTemporalModel(t0="2 d", t_ref=T_REF.mjd), gm.ExpDecayTemporalModel(t0="2 d", t_ref=T_REF.mjd * u.d)),
        (GaussianTemporalModel(sigma="1.5 d", t_ref=T_REF.mjd), gm.GaussianTemporalModel(sigma="1.5 d", t_ref=T_REF.mjd * u.d)),
    ]
    t_min = T_REF + [0.0, 1.0, 2.5] * u.d
    t_max = T_REF + [1.0, 2.5, 4.0] * u.d
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(times), u.Quantity(theirs(times)).to_value(""), rtol=1e-9)
        got = ours.integral(t_min, t_max)
        total = np.sum((t_max - t_min).to_value("d"))
        ref = [quad(lambda t: float(ours.values(t)), a, b)[0] / total for a, b in zip(t_min.mjd, t_max.mjd)]
        np.testing.assert_allclose(got, ref, rtol=1e-9)
        if not isinstance(ours, (ConstantTemporalModel,)):  # gammapy's analytic integrals, same convention
            np.testing.assert_allclose(got, u.Quantity(theirs.integral(t_min, t_max)).to_value(""), rtol=1e-9)
    np.testing.assert_allclose(ConstantTemporalModel().integral(t_min, t_max).sum(), 1.0)


def test_light_curve_template_matches_gammapy(tmp_path):
    offsets = np.array([0.0, 0.5, 1.0, 2.0, 4.0])
    norms = np.array([0.2, 1.0, 3.0, 1.5, 0.1])
    ours = LightCurveTemplateTemporalModel(T_REF + offsets * u.d, norms)
    assert ours.t_ref.value == pytest.approx(T_REF.mjd)
    axis = MapAxis.from_nodes(offsets * u.d, name="time", interp="lin")
    theirs = gm.LightCurveTemplateTemporalModel(RegionNDMap.create(region=None, axes=[axis], data=norms), t_ref=T_REF)
    inside = T_REF + np.linspace(0, 4, 33) * u.d
    np.testing.assert_allclose(ours(inside), u.Quantity(theirs(inside)).to_value("").ravel(), rtol=1e-9)
    # exact integral of the linear interpolation, gammapy's normalisation (divide by the summed duration)
    t_min, t_max = T_REF + [0.0, 1.0] * u.d, T_REF + [1.0, 4.0] * u.d
    got = ours.integral(t_min, t_max)
    trap = [trapezoid(np.interp(g := np.linspace(a, b, 20001), offsets, norms), g) for a, b in [(0, 1), (1, 4)]]
    np.testing.assert_allclose(got, np.array(trap) / 4.0, rtol=1e-7)
    np.testing.assert_allclose(got, u.Quantity(theirs.integral(t_min, t_max)).to_value(""), rtol=2e-2)
    assert ours(T_REF - 1 * u.d) == 0  # zero outside the table
    # gammapy's table file reads here with the same reference time and values
    path = tmp_path / "lc.fits"
    theirs.write(str(path), format="table")
    read = LightCurveTemplateTemporalModel.read(path)
    assert read.t_ref.value == pytest.approx(T_REF.mjd, abs=1e-9)
    np.testing.assert_allclose(read(inside), ours(inside), rtol=1e-9)


# --------------------------------------------------------------------------- YAML
def _gammapy_models(tmp_path):
    pl = gm.PowerLawSpectralModel(index=2.4, amplitude="2e-11 cm-2 s-1 TeV-1", reference="1.2 TeV")
    pl.amplitude.error = 1.5e-12
    pl.index.min, pl.index.max = 1.0, 4.0
    pl.reference.frozen = False
    src1 = gm.SkyModel(pl, gm.GaussianSpatialModel(lon_0="10 deg", lat_0="-1 deg", sigma="0.2 deg", e=0.3,
                                                   phi="20 deg", frame="galactic"), name="src1")
    src1.spatial_model.sigma.frozen = True
    ebl = gm.EBLAbsorptionNormSpectralModel(EBL_E, EBL_Z, EBL_T, redshift=0.2, alpha_norm=1.0)
    ecpl = gm.ExpCutoffPowerLawSpectralModel(index=1.9, lambda_="0.05 TeV-1", amplitude="3e-12 cm-2 s-1 TeV-1")
    src2 = gm.SkyModel(ecpl * ebl, gm.DiskSpatialModel(lon_0="11 deg", lat_0="1 deg", r_0="0.4 deg", frame="galactic"),
                       gm.ExpDecayTemporalModel(t0="3 d", t_ref=T_REF.mjd * u.d), name="src2", datasets_names=["ds1"])
    src3 = gm.SkyModel(gm.PowerLawSpectralModel(index=2.0), gm.ShellSpatialModel(lon_0="12 deg", lat_0="0 deg", radius="0.5 deg",
                                                                                 width="0.1 deg", frame="galactic"), name="src3")
    src3.spectral_model.index = src1.spectral_model.index  # gammapy links by sharing the object
    data, wcs = _template_inputs()
    tmap = Map.from_geom(WcsGeom(wcs, npix=(40, 30)), data=data, unit="sr-1")
    tpl_file = tmp_path / "template.fits"
    tmap.write(tpl_file)
    src4 = gm.SkyModel(gm.LogParabolaSpectralModel(alpha=2.2, beta=0.1),
                       gm.TemplateSpatialModel.read(str(tpl_file)), name="diffuse")
    src5 = gm.SkyModel(gm.TemplateSpectralModel(TPL_E, TPL_V), gm.PointSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg"),
                       name="tpl-point")
    src6 = gm.SkyModel(gm.BrokenPowerLawSpectralModel(index1=1.5, index2=3.0, ebreak="3 TeV"), name="bpl")
    src7 = gm.SkyModel(gm.SmoothBrokenPowerLawSpectralModel(index1=1.5, index2=3.0, ebreak="3 TeV"),
                       gm.ConstantSpatialModel(), name="sbpl-iso")
    src8 = gm.SkyModel(gm.PowerLaw2SpectralModel(index=2.1) + gm.ConstantSpectralModel(), name="pl2-const")
    axis = MapAxis.from_nodes([0.0, 0.5, 1.0, 2.0] * u.d, name="time", interp="lin")
    lc = gm.LightCurveTemplateTemporalModel(RegionNDMap.create(region=None, axes=[axis], data=np.array([0.1, 1.0, 2.0, 0.5])),
                                            t_ref=T_REF, filename=str(tmp_path / "lc.fits"))
    lc.write(format="table")
    src9 = gm.SkyModel(gm.PowerLawSpectralModel(), temporal_model=lc, name="flare")
    bkg = gm.FoVBackgroundModel(dataset_name="ds1")
    bkg.spectral_model.norm.value = 1.1
    bkg.spectral_model.tilt.frozen = False
    return gm.Models([src1, src2, src3, src4, src5, src6, src7, src8, src9, bkg])


def _param_records(params):
    return [(p.name, p.value, u.Unit(p.unit), p.frozen, p.error, p.min, p.max) for p in params]


def _shared_parameters(model):
    """Parameters gammapy knows too (our TemplateSpectral has an extra ``norm``)."""
    extra = [m.norm for m in model._parts().values() if isinstance(m, TemplateSpectral)]
    return [p for p in model.parameters if not any(p is x for x in extra)]


def _assert_same_parameters(ours, theirs):
    a, b = _param_records(ours), _param_records(theirs)
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        assert ra[0] == rb[0] and ra[2] == rb[2] and ra[3] == rb[3], (ra, rb)
        np.testing.assert_allclose(ra[1], rb[1], rtol=1e-15, err_msg=ra[0])
        np.testing.assert_allclose(ra[4:], rb[4:], rtol=1e-15, err_msg=ra[0])  # error, min, max (NaN == NaN)


def test_gammapy_yaml_loads_here_with_identical_parameters(tmp_path):
    gmodels = _gammapy_models(tmp_path)
    path = tmp_path / "gammapy.yaml"
    gmodels.write(path, write_covariance=False)
    ours = Models.read(path)
    assert ours.names == gmodels.names
    for om, gmodel in zip(ours, gmodels):
        _assert_same_parameters(_shared_parameters(om), gmodel.parameters)
    assert ours["src2"].datasets_names == ["ds1"]
    assert ours["src1"].spatial_model.frame == "galactic"
    assert isinstance(ours["ds1-bkg"], FoVBackgroundModel) and ours["ds1-bkg"].norm.value == 1.1
    assert isinstance(ours["src2"].spectral_model, CompoundSpectral)
    assert ours.links == [("src1.spectral.index", "src3.spectral.index")]
    ours["src1"].spectral_model.index.value = 2.7
    assert ours["src3"].spectral_model.index.value == 2.7
    # models evaluate as gammapy's
    np.testing.assert_allclose(ours["src2"].spectral_model(E_GRID * u.TeV).value,
                               gmodels["src2"].spectral_model(E_GRID * u.TeV).to_value(DNDE), rtol=1e-9, atol=1e-300)
    times = T_REF + np.linspace(0, 2, 9) * u.d
    np.testing.assert_allclose(ours["flare"].temporal_model(times),
                               u.Quantity(gmodels["flare"].temporal_model(times)).to_value("").ravel(), rtol=1e-9)
    lon, lat = np.linspace(-0.8, 0.8, 50), np.linspace(-0.6, 0.6, 50)
    np.testing.assert_allclose(ours["diffuse"].spatial_model.values(lon, lat),
                               gmodels["diffuse"].spatial_model(lon * u.deg, lat * u.deg).to_value("sr-1"), rtol=1e-6)


def test_our_yaml_loads_in_gammapy_with_identical_parameters(tmp_path):
    gmodels = _gammapy_models(tmp_path)
    gmodels.write(tmp_path / "gammapy.yaml", write_covariance=False)
    ours = Models.read(tmp_path / "gammapy.yaml")
    ours["src1"].spectral_model.index.value = 2.55
    ours["src2"].spatial_model.r_0.value = 0.45
    ours["src2"].spatial_model.r_0.max = 2.0
    ours["src1"].spatial_model.lat_0.min = np.nan  # a default bound removed must stay removed
    out = tmp_path / "ours.yaml"
    ours.write(out)
    back = gm.Models.read(out)
    assert back.names == ours.names
    for om, gmodel in zip(ours, back):
        _assert_same_parameters(_shared_parameters(om), gmodel.parameters)
    assert back["src3"].spectral_model.index is back["src1"].spectral_model.index  # the link survives
    assert back["src3"].spectral_model.index.value == 2.55
    with pytest.raises(GwidgetsError, match="exists"):
        ours.write(out)
    ours.write(out, overwrite=True)


def test_our_yaml_round_trip_is_identical(tmp_path):
    gmodels = _gammapy_models(tmp_path)
    gmodels.write(tmp_path / "gammapy.yaml", write_covariance=False)
    ours = Models.read(tmp_path / "gammapy.yaml")
    lp10 = SkyModel(LogParabola(alpha=2.3, beta=0.4, log_base=10), name="lp10")
    ours.append(lp10)
    lc = SkyModel(PowerLaw(), temporal_model=LightCurveTemplateTemporalModel([0, 1, 2] * u.d, [1, 2, 1], t_ref=T_REF.mjd),
                  name="lc")
    ours.append(lc)
    ours.append(SkyModel(ScaleSpectral(PowerLaw(index=3.0), norm=0.5), name="scaled"))
    ours.link("bpl.spectral.index1", "sbpl-iso.spectral.index1")
    text = ours.to_yaml()
    again = Models.from_yaml(text)
    assert again.to_yaml() == text
    assert again.links == ours.links
    assert ("bpl.spectral.index1", "sbpl-iso.spectral.index1") in again.links
    assert again["lp10"].spectral_model.log_base == "10"
    np.testing.assert_allclose(again["lp10"].spectral_model.dnde_values(E_GRID), lp10.spectral_model.dnde_values(E_GRID))
    np.testing.assert_allclose(again["lc"].temporal_model(T_REF + 0.5 * u.d), 1.5)
    # file round trip too (relative template filename resolved against the YAML directory)
    ours.write(tmp_path / "ours.yaml")
    assert Models.read(tmp_path / "ours.yaml").to_yaml() == text


def test_link_direction_survives_and_gammapy_labels_are_read():
    text = """
components:
-   name: a
    type: SkyModel
    spectral:
        type: pl
        parameters:
        -   {name: index, value: 2.1, link: index@xyz}
-   name: b
    type: SkyModel
    spectral:
        type: PowerLawSpectralModel
        parameters:
        -   {name: index, value: 2.1, link: index@xyz}
        -   {name: amplitude, value: 1.0e-11, unit: cm-2 s-1 TeV-1}
"""
    models = Models.from_yaml(text)
    assert models.links == [("a.spectral.index", "b.spectral.index")]
    assert models["b"].spectral_model.amplitude.value == 1e-11
    models.unlink("b.spectral.index")
    assert models.links == []
    # the second model leads: its path is kept in the label
    models.link("b.spectral.index", "a.spectral.index")
    assert Models.from_yaml(models.to_yaml()).links == [("b.spectral.index", "a.spectral.index")]


def test_yaml_errors_name_the_culprit():
    base = "components:\n-   name: a\n    type: SkyModel\n    spectral:\n        type: {type}\n        parameters:\n{pars}"
    with pytest.raises(ParameterError, match=r"Unknown spectral model type 'NoSuchModel'.*PowerLawSpectralModel"):
        Models.from_yaml(base.format(type="NoSuchModel", pars="        - {name: index, value: 2}\n"))
    with pytest.raises(ParameterError, match=r"'amplitude'.*'deg'"):
        Models.from_yaml(base.format(type="PowerLawSpectralModel",
                                     pars="        - {name: amplitude, value: 2, unit: deg}\n"))
    with pytest.raises(ParameterError, match=r"'spectral_index'"):
        Models.from_yaml(base.format(type="PowerLawSpectralModel", pars="        - {name: spectral_index, value: 2}\n"))
    with pytest.raises(ParameterError, match=r"'index'.*finite"):
        Models.from_yaml(base.format(type="PowerLawSpectralModel", pars="        - {name: index, value: .nan}\n"))
    with pytest.raises(ParameterError, match="Unknown model type 'TemplateNPredModel'; known: FoVBackgroundModel, SkyModel"):
        Models.from_dict({"components": [{"type": "TemplateNPredModel", "name": "x"}]})
    with pytest.raises(GwidgetsError, match="not found"):
        Models.read("/nonexistent/models.yaml")
    assert issubclass(ParameterError, GwidgetsError)


def test_unit_conversion_on_read_is_kept_and_evaluates_correctly():
    text = ("components:\n-   name: a\n    type: SkyModel\n    spectral:\n        type: PowerLawSpectralModel\n"
            "        parameters:\n        - {name: amplitude, value: 1.0e-15, unit: cm-2 s-1 GeV-1}\n"
            "        - {name: reference, value: 1000.0, unit: GeV}\n")
    m = Models.from_yaml(text)["a"].spectral_model
    assert m.amplitude.unit == u.Unit("cm-2 s-1 GeV-1")
    np.testing.assert_allclose(m.dnde_values(1.0), 1e-12, rtol=1e-12)


# --------------------------------------------------------------------------- parameters
def test_parameter_bounds_frozen_factor_scale():
    p = Parameter("amplitude", "3.2e-11 cm-2 s-1 TeV-1", min=0, max=1e-9)
    assert p.scale == 1e-11 and p.factor == pytest.approx(3.2)
    assert p.factor_min == 0 and p.factor_max == pytest.approx(100)
    p.factor = 5.0
    assert p.value == pytest.approx(5e-11)
    p.value = -1e-12
    with pytest.raises(ParameterError, match="amplitude.*outside"):
        p.check_bounds()
    pars = Parameters([p, Parameter("index", 2.0), Parameter("reference", 1.0, "TeV", frozen=True)])
    assert pars.free_parameters.names == ["amplitude", "index"]
    pars["index"].frozen = True
    assert pars.free_parameters.names == ["amplitude"]
    snap = pars.snapshot()
    pars["amplitude"].value = 7e-11
    pars.restore(snap)
    assert pars["amplitude"].value == -1e-12
    with pytest.raises(ParameterError, match="'index'.*finite"):
        pars["index"].value = np.nan
    with pytest.raises(ParameterError, match="'sigma'"):
        Parameter("sigma", np.nan)
    with pytest.raises(ParameterError, match="'lon_0'"):
        GaussianSpatialModel(lon_0="3 TeV")


def test_observe_fires_once_per_change_and_through_links():
    a = Parameter("index", 2.0)
    b = Parameter("index", 3.0)
    calls_a, calls_b = [], []
    a.observe(lambda p, attr, old, new: calls_a.append((attr, old, new)))
    b.observe(lambda p, attr, old, new: calls_b.append((p.name, attr, old, new)))
    a.value = 2.5
    a.value = 2.5  # no change, no call
    a.factor = 3.0
    a.frozen = True
    assert calls_a == [("value", 2.0, 2.5), ("value", 2.5, 3.0), ("frozen", False, True)]
    b.link_to(a)
    assert b.value == 3.0 and b.linked_to is a
    a.value = 1.5
    assert calls_b[-1] == ("index", "value", 3.0, 1.5) and len(calls_b) == 1
    b.value = 1.7  # writing the follower writes the leader: one call each
    assert a.value == 1.7 and len(calls_b) == 2 and calls_a[-1] == ("value", 1.5, 1.7)
    b.link_to(None)
    a.value = 0.5
    assert b.value == 1.7 and len(calls_b) == 2
    with pytest.raises(ParameterError, match="itself"):
        a.link_to(a)


def test_link_converts_compatible_units_and_refuses_others():
    lead = Parameter("lon_0", "1 deg")
    follower = Parameter("lon_0", "0.5 rad")
    follower.link_to(lead)
    assert follower.unit == u.deg and follower.quantity == 1 * u.deg
    with pytest.raises(ParameterError, match="Cannot link"):
        Parameter("x", "1 TeV").link_to(lead)


def test_model_parameter_construction_and_access():
    pl = PowerLaw(index=2.1, amplitude=u.Quantity(1e-15, "cm-2 s-1 GeV-1"), reference="1000 GeV")
    assert pl.amplitude.unit == DNDE and pl.amplitude.value == pytest.approx(1e-12)
    pl.index = 2.5
    assert pl.index.value == 2.5
    with pytest.raises(ParameterError, match="no parameter"):
        PowerLaw(spectral_index=2)
    with pytest.raises(ParameterError, match="amplitude"):
        PowerLaw(amplitude="1e-12 cm-2 s-1")
    ecpl = ExpCutoffPowerLaw(index=1.5, lambda_="0.1 TeV-1")
    assert ecpl.e_peak.to_value("TeV") == pytest.approx(5.0)
    for p in ecpl.parameters:
        p.frozen = True
    ecpl.unfreeze()
    assert [p.frozen for p in ecpl.parameters] == [False, False, True, False, True]


# --------------------------------------------------------------------------- sky models
def test_sky_model_and_models_collection():
    crab = SkyModel(PowerLaw(index=2.6), PointSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg"),
                    ExpDecayTemporalModel(), name="crab")
    other = SkyModel(LogParabola(), GaussianSpatialModel(sigma="0.2 deg"), name="other")
    bkg = FoVBackgroundModel("run1")
    models = Models([crab, other, bkg])
    assert models.names == ["crab", "other", "run1-bkg"]
    assert models["crab"] is crab and models[1] is other and "crab" in models
    assert crab.parameters.names == ["index", "amplitude", "reference", "lon_0", "lat_0", "t0", "t_ref"]
    assert len(models.parameters) == len(crab.parameters) + len(other.parameters) + 3
    assert models.get_parameter("crab.spectral.index") is crab.spectral_model.index
    assert models.get_parameter("crab.index") is crab.spectral_model.index
    assert models.get_parameter("run1-bkg.spectral.norm") is bkg.norm
    with pytest.raises(ParameterError, match="ambiguous"):
        SkyModel(PowerLaw() + PowerLaw(), name="two").get_parameter("index")
    with pytest.raises(ParameterError, match="unique"):
        models.append(SkyModel(PowerLaw(), name="crab"))
    assert crab.position.ra.deg == pytest.approx(83.63)
    assert "crab" in repr(crab) and "PowerLaw" in repr(crab)
    np.testing.assert_allclose(crab.evaluate(1.0), 1e-12)
    # freeze / unfreeze, per kind
    models.freeze("spatial")
    assert crab.spatial_model.lon_0.frozen and not crab.spectral_model.index.frozen
    models.freeze()
    assert len(models.parameters.free_parameters) == 0
    models.unfreeze()
    assert not crab.spectral_model.index.frozen and crab.spectral_model.reference.frozen
    assert bkg.tilt.frozen and not bkg.norm.frozen
    # links and copies
    models.link("crab.spectral.index", "other.spectral.alpha")
    assert other.spectral_model.alpha.value == 2.6
    assert "alpha" not in models.parameters.free_parameters.names
    copy = models.copy()
    assert copy.links == models.links and copy["crab"] is not crab
    copy["crab"].spectral_model.index.value = 3.0
    assert copy["other"].spectral_model.alpha.value == 3.0 and other.spectral_model.alpha.value == 2.6
    assert models.select(dataset_name="run2").names == ["crab", "other"]
    assert list(models.background_models) == ["run1"]
    with pytest.raises(ParameterError, match="norm spectral model"):
        FoVBackgroundModel("run1", spectral_model=PowerLaw())
    with pytest.raises(ParameterError, match="spectral"):
        SkyModel(GaussianSpatialModel())


def test_registry_knows_gammapy_tags():
    for tag in ["PowerLawSpectralModel", "PowerLaw2SpectralModel", "ExponentialCutoffPowerLawSpectralModel",
                "ExpCutoffPowerLawSpectralModel", "BrokenPowerLawSpectralModel", "SmoothBrokenPowerLawSpectralModel",
                "ConstantSpectralModel", "TemplateSpectralModel", "CompoundSpectralModel", "LogParabolaSpectralModel",
                "PowerLawNormSpectralModel", "EBLAbsorptionNormSpectralModel"]:
        assert gwm.get_model_class(tag, "spectral").kind == "spectral"
    for tag in ["PointSpatialModel", "GaussianSpatialModel", "DiskSpatialModel", "ShellSpatialModel",
                "TemplateSpatialModel", "ConstantSpatialModel", "gauss", "template"]:
        assert gwm.get_model_class(tag, "spatial").kind == "spatial"
    for tag in ["ConstantTemporalModel", "LightCurveTemplateTemporalModel", "ExpDecayTemporalModel",
                "GaussianTemporalModel", "LinearTemporalModel", "gauss"]:
        assert gwm.get_model_class(tag, "temporal").kind == "temporal"
    assert gwm.get_model_class("gauss", "spectral") is GaussianSpectral
    # parameter names equal gammapy's for the shared types
    for ours, theirs in [(PowerLaw, gm.PowerLawSpectralModel), (PowerLaw2, gm.PowerLaw2SpectralModel),
                         (ExpCutoffPowerLaw, gm.ExpCutoffPowerLawSpectralModel), (LogParabola, gm.LogParabolaSpectralModel),
                         (BrokenPowerLaw, gm.BrokenPowerLawSpectralModel), (SmoothBrokenPowerLaw, gm.SmoothBrokenPowerLawSpectralModel),
                         (ConstantSpectral, gm.ConstantSpectralModel), (PowerLawNorm, gm.PowerLawNormSpectralModel),
                         (GaussianSpatialModel, gm.GaussianSpatialModel), (DiskSpatialModel, gm.DiskSpatialModel),
                         (ShellSpatialModel, gm.ShellSpatialModel), (PointSpatialModel, gm.PointSpatialModel),
                         (ConstantSpatialModel, gm.ConstantSpatialModel), (ExpDecayTemporalModel, gm.ExpDecayTemporalModel),
                         (GaussianTemporalModel, gm.GaussianTemporalModel), (LinearTemporalModel, gm.LinearTemporalModel)]:
        a = [(d.name, d.value, u.Unit(d.unit), d.frozen) for d in ours.parameter_defs]
        b = [(p.name, p.value, p.unit, p.frozen) for p in theirs.default_parameters]
        assert [x[0] for x in a] == [x[0] for x in b], ours
        for x, y in zip(a, b):
            assert x[2] == y[2] and x[3] == y[3] and x[1] == pytest.approx(y[1]), (ours, x, y)
