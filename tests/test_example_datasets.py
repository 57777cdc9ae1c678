"""The example datasets of `gwidgets.core.datasets.examples` against the event lists they are reduced from.

The reference is the raw EVENTS table of each run, read and counted here with astropy alone
(angular separations, an astropy WCS made from the FITS header of the dataset's geometry).
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
import yaml
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS

import gwidgets as gw
from gwidgets.core.datasets import (
    EXAMPLE_SOURCE_POSITION,
    example_exclusion_mask,
    example_map_dataset,
    example_spectrum_datasets,
)
from gwidgets.core.simulate import example_store_path
from gwidgets.errors import ObservationNotFoundError

SOURCE = SkyCoord(83.63, 22.01, unit="deg")   # the bright source of the simulated store (truth.yaml)


def _events(obs):
    table = obs.events.table
    radec = SkyCoord(table["RA"].quantity, table["DEC"].quantity, frame="icrs")
    return radec, table["ENERGY"].quantity.to_value("TeV")


def test_example_source_position_is_the_bright_source():
    """The documented source position is the one the store simulates (its truth.yaml, read as plain YAML)."""
    truth = yaml.safe_load((example_store_path() / "truth.yaml").read_text())
    (bright,) = [c for c in truth["components"] if c["name"] == "bright"]
    pars = {p["name"]: p["value"] for p in bright["spatial"]["parameters"]}
    true_position = SkyCoord(pars["lon_0"], pars["lat_0"], unit="deg", frame=bright["spatial"]["frame"])
    assert EXAMPLE_SOURCE_POSITION.separation(true_position) < 1e-9 * u.deg
    assert SOURCE.separation(true_position) < 1e-9 * u.deg


def test_spectrum_counts_are_the_events_in_the_on_circle():
    """Each run's ON counts are its events within 0.15 deg of the source, histogrammed in 15 log bins 0.3-100 TeV."""
    datasets = example_spectrum_datasets([1001, 1003])
    assert datasets.names == ["1001", "1003"]
    edges = np.geomspace(0.3, 100, 16)
    for obs, dataset in zip(gw.example_store().get_observations([1001, 1003]), datasets):
        radec, energy = _events(obs)
        inside = radec.separation(SOURCE) < 0.15 * u.deg
        expected = np.histogram(energy[inside], edges)[0]
        np.testing.assert_array_equal(np.asarray(dataset.counts).ravel(), expected)
        assert dataset.models is None or len(dataset.models) == 0


def test_map_counts_are_the_events_in_the_cube():
    """The stacked counts cube: the runs' events (offset < 2.5 deg) binned by an astropy WCS, 4 log bins 1-10 TeV."""
    dataset = example_map_dataset([1001, 1002])
    header = dataset.counts.geom.wcs.to_header()
    wcs = WCS(header)
    assert dataset.counts.data.shape == (4, 50, 50)
    edges = np.geomspace(1, 10, 5)
    expected = np.zeros((4, 50, 50))
    for obs in gw.example_store().get_observations([1001, 1002]):
        radec, energy = _events(obs)
        keep = radec.separation(obs.pointing_radec) < 2.5 * u.deg
        x, y = wcs.world_to_pixel(radec[keep])
        expected += np.histogramdd(np.column_stack([energy[keep], y, x]),
                                   [edges, np.arange(51) - 0.5, np.arange(51) - 0.5])[0]
    assert expected.sum() > 100
    np.testing.assert_array_equal(dataset.counts.data, expected)


def test_exclusion_mask_is_the_sky_beyond_the_radius():
    """Each pixel is True exactly when its centre (astropy WCS) lies more than the radius from the source."""
    geom = example_map_dataset([1001]).counts.geom
    mask = example_exclusion_mask(geom, radius=0.5 * u.deg)
    wcs = WCS(geom.wcs.to_header())
    y, x = np.mgrid[0:50, 0:50]
    separation = wcs.pixel_to_world(x, y).separation(SOURCE).deg
    assert mask.data.dtype == bool and mask.data.shape == (50, 50)
    np.testing.assert_array_equal(mask.data, separation > 0.5)
    assert 0 < (~mask.data).sum() < 50 * 50


def test_unknown_observation_id_is_named():
    """An id the store does not hold raises ObservationNotFoundError naming it."""
    with pytest.raises(ObservationNotFoundError, match="9999"):
        example_map_dataset([9999])
    with pytest.raises(ObservationNotFoundError, match="9999"):
        example_spectrum_datasets([1001, 9999])
