"""The pixel-grid cache of gwidgets.core.models._sphere (pixel centres, solid angles, pixel scale per WCS).

Stale-cache property: after a change of what the cache keys on (the WCS's reference pixel, its scale, the image
shape), every cached quantity equals astropy's direct computation on the changed WCS; and the cache stays within
its memory bound however many grids pass through it.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.wcs import WCS

import gwidgets.core.models._sphere as sphere


def _wcs(cdelt=0.02, crpix=(10.5, 8.5)):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---CAR", "DEC--CAR"]
    w.wcs.crval = [83.63, 0.0]  # CAR about the equator: pixels of constant lat per row
    w.wcs.cdelt = [-cdelt, cdelt]
    w.wcs.crpix = list(crpix)
    w.wcs.set()
    return w


def test_cached_grids_follow_the_wcs_and_shape():
    """Each call equals astropy on the WCS it is given, also when a WCS equal to a cached one is modified."""
    w = _wcs()
    for change in (None, ("crpix", (12.5, 8.5)), ("cdelt", 0.05), ("shape", (7, 9))):
        shape = (20, 16)
        if change is not None and change[0] == "shape":
            shape = change[1]
        elif change is not None:
            w = _wcs(**{change[0]: change[1]})
        lon, lat = sphere.pixel_centers_world(w, shape)
        y, x = np.mgrid[0:shape[0], 0:shape[1]]
        ref_lon, ref_lat = w.pixel_to_world_values(x, y)
        np.testing.assert_allclose(lon, ref_lon, rtol=0, atol=1e-12, err_msg=str(change))
        np.testing.assert_allclose(lat, ref_lat, rtol=0, atol=1e-12, err_msg=str(change))
        scale = np.min(np.abs(w.proj_plane_pixel_scales()[0].to_value(u.deg)))
        assert sphere.pixel_scale_deg(w) == scale
        # the solid angles sum to the area of the image: Δlon Δ(sin lat)
        area = sphere.pixel_solid_angle(w, shape).sum()
        cdelt = abs(w.wcs.cdelt[0])
        lat_edges = ref_lat[[0, -1], 0] + np.array([-0.5, 0.5]) * cdelt
        expected = np.radians(cdelt * shape[1]) * np.ptp(np.sin(np.radians(lat_edges)))
        assert abs(area / expected - 1) < 1e-6, change


def test_cache_memory_is_bounded():
    """Many different grids through the cache: at most the entry count and total bytes are kept."""
    for i in range(40):
        sphere.pixel_centers_world(_wcs(crpix=(10.5 + i, 8.5)), (500, 500))  # 4 MB each
    entries, kept = sphere.grid_cache_usage()
    assert 0 < entries <= sphere.GRID_CACHE_ENTRIES and kept <= sphere.GRID_CACHE_BYTES
    assert sphere.GRID_CACHE_BYTES < sphere.GRID_CACHE_ENTRIES * 4e6  # the byte bound was the binding one


def test_one_minus_cos_separation_against_astropy():
    """1 − cos θ from the haversine identity against astropy's separation, from 1e-9 rad to the antipode."""
    from astropy.coordinates import SkyCoord

    rng = np.random.default_rng(7)
    lon1, lat1 = rng.uniform(0, 2 * np.pi, 400), np.arcsin(rng.uniform(-1, 1, 400))
    scale = 10.0 ** rng.uniform(-9, 0.5, 400)  # small steps to the far side
    lon2, lat2 = lon1 + scale * rng.normal(size=400), np.clip(lat1 + scale * rng.normal(size=400), -1.5, 1.5)
    lon2[:20], lat2[:20] = lon1[:20] + np.pi, -lat1[:20]  # antipodes
    theta = SkyCoord(lon1, lat1, unit="rad").separation(SkyCoord(lon2, lat2, unit="rad")).rad
    expected = 2 * np.sin(theta / 2) ** 2
    got = sphere.one_minus_cos_separation(lon1, lat1, lon2, lat2)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-15)
    assert (got[:20] > 2 - 1e-12).all()


def _window_wcs(w, x0, y0):
    """The WCS of the map pixels from (x0, y0) on."""
    v = w.deepcopy()
    v.wcs.crpix = [w.wcs.crpix[0] - x0, w.wcs.crpix[1] - y0]
    v.wcs.set()
    return v


def test_windows_of_a_map_served_from_one_grid_equal_astropy():
    """Grids of windows of one map, served as slices of one cached padded grid, equal astropy's.

    Windows: integer shifts of the reference pixel, inside the map (all served from the map's grid, computed
    once) and off its edge. Centres against astropy's pixel_to_world, solid angles against the exact area of
    each lat-lon pixel (CAR about the equator); a half-integer and an arbitrary reference pixel.
    """
    rng = np.random.default_rng(3)
    for crpix in ((75.5, 75.5), (60.123456, 71.654321)):
        w = _wcs(crpix=crpix)
        sphere.pixel_centers_world(w, (150, 150))
        sphere.pixel_solid_angle(w, (150, 150))
        entries = sphere.grid_cache_usage()[0]
        for i in range(40):
            shape = tuple(int(v) for v in rng.integers(1, 60, 2))
            inside = i < 30  # within the map's grid (+ its padding): no new grid
            hi = (150 - shape[0], 150 - shape[1]) if inside else (300, 300)
            y0, x0 = (int(rng.integers(-sphere.GRID_PAD_PIX if inside else 160, h + 1)) for h in hi)
            v = _window_wcs(w, x0, y0)
            lon, lat = sphere.pixel_centers_world(v, shape)
            y, x = np.mgrid[0:shape[0], 0:shape[1]]
            ref_lon, ref_lat = v.pixel_to_world_values(x, y)
            np.testing.assert_allclose(lon, ref_lon, rtol=0, atol=1e-11)
            np.testing.assert_allclose(lat, ref_lat, rtol=0, atol=1e-11)
            omega = sphere.pixel_solid_angle(v, shape)
            d = abs(w.wcs.cdelt[1])
            exact = np.radians(abs(w.wcs.cdelt[0])) * (np.sin(np.radians(ref_lat + d / 2))
                                                       - np.sin(np.radians(ref_lat - d / 2)))
            np.testing.assert_allclose(omega, exact, rtol=1e-6)
            assert not lon.flags.writeable and not omega.flags.writeable
            if inside:
                assert sphere.grid_cache_usage()[0] == entries, (x0, y0, shape)


def test_grid_cache_from_two_threads():
    """Two threads (a fit's worker and the kernel's thread) asking for many grids at once: no error, right values."""
    import threading

    w = _wcs(crpix=(40.5, 30.5))
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(300):
                x0, y0 = (int(v) for v in rng.integers(-200, 200, 2))
                v = _window_wcs(w, x0, y0)
                lon, lat = sphere.pixel_centers_world(v, (8, 9))
                ref_lon, ref_lat = v.pixel_to_world_values(np.arange(9)[None, :], np.arange(8)[:, None])
                assert np.allclose(lon, ref_lon, rtol=0, atol=1e-11) and np.allclose(lat, ref_lat, rtol=0, atol=1e-11)
                sphere.pixel_solid_angle(v, (8, 9))
                sphere.grid_cache_usage()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
