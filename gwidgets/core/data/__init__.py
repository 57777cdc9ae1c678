"""DL3 data: data store, observation table, observations, events and GTIs."""
from .datastore import DataStore, NoDataError
from .events import GTI, EventList
from .hdu_index import HDUIndex, HDULocation
from .obs_table import ObservationTable
from .observation import Observation, Observations

__all__ = [
    "DataStore", "NoDataError", "GTI", "EventList", "HDUIndex", "HDULocation",
    "ObservationTable", "Observation", "Observations",
]
