"""Geometry: binned axes, WCS sky geometry and maps."""
from .axes import MapAxis
from .maps import Map
from .wcs import WcsGeom

__all__ = ["MapAxis", "WcsGeom", "Map"]
