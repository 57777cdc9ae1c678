"""The dashboard's first look: open with an analysis already done, not with empty panels.

`default_analysis` puts a session into the state a user would reach after a
few clicks: every observation selected, a circular ON region on the main
source (reflected OFF regions follow), the default log-parabola point source
at its centre, and the fit started in the session's worker (the counts map,
spectra, fit, residuals and — once the fit converged — flux points arrive as
they are computed; the page is never blocked).

Where the ON region goes is decided by the first of `TARGET_FINDERS` that
answers:

1. ``truth`` — a simulated store (``truth.yaml`` next to its index files):
   the source with the most expected counts summed over the observations;
2. ``obs_table`` — the observations' target: the most frequent ``OBJECT``
   with its ``RA_OBJ`` / ``DEC_OBJ``;
3. ``pointings`` — the centre of the pointings (`default_position`).

The radius is the PSF's 68 % containment radius at 1 TeV at the median
offset of the target (0.11° on the simulated store), rounded to 0.01° and
kept within [`MIN_RADIUS`, `MAX_RADIUS`]; `DEFAULT_RADIUS` without a PSF.

>>> import gwidgets as gw
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)
>>> look.target_name, round(float(look.radius.to_value("deg")), 2)
('bright', 0.11)
>>> session.fit_result.success
True
"""
from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord

from ..core.registry import Registry

__all__ = ["FirstLook", "default_analysis", "apply_first_look", "run_first_look", "start_first_look", "start_when",
           "SHOWN_FALLBACK", "plan_first_look", "find_target", "on_radius", "truth_path",
           "banner_html", "TARGET_FINDERS", "DEFAULT_RADIUS", "MIN_RADIUS", "MAX_RADIUS", "PSF_FRACTION",
           "PSF_ENERGY", "FLUX_POINT_EDGES"]

DEFAULT_RADIUS = 0.11 * u.deg
MIN_RADIUS = 0.05 * u.deg
MAX_RADIUS = 0.3 * u.deg
PSF_FRACTION = 0.68
PSF_ENERGY = 1 * u.TeV
#: flux points computed once the first-look fit converged (the SED view's default bins)
FLUX_POINT_EDGES = np.geomspace(0.1, 30.0, 9) * u.TeV


@dataclass
class FirstLook:
    """What `default_analysis` chose (and what the banner says)."""

    obs_ids: list
    target: SkyCoord
    target_name: str
    found_by: str  # key of TARGET_FINDERS
    radius: u.Quantity
    radius_from: str  # "PSF" or "default"
    simulated: bool
    model_name: str = "LogParabola"  # class of the fitted spectral model


# ---------------------------------------------------------------- targets
def truth_path(store) -> Path | None:
    """``truth.yaml`` of a simulated store (next to its index files), or None."""
    index = getattr(store, "hdu_index", None)
    for folder in (getattr(index, "filename", None), getattr(index, "base_dir", None)):
        if folder is None:
            continue
        folder = Path(folder)
        path = (folder if folder.is_dir() else folder.parent) / "truth.yaml"
        if path.is_file():
            return path
    return None


def _from_truth(store, obs_ids):
    """The simulated source with the most expected counts in the selected observations."""
    from ..core.simulate.truth import read_truth

    path = truth_path(store)
    if path is None:
        return None
    sim = (read_truth(path) or {}).get("simulation") or {}
    sources = sim.get("sources") or {}
    wanted = set(int(i) for i in obs_ids)
    totals = Counter()
    for run in sim.get("observations") or []:
        if int(run.get("obs_id", -1)) in wanted:
            for name, n in (run.get("expected_counts") or {}).items():
                if name in sources:
                    totals[name] += float(n)
    if not totals:
        return None
    name = totals.most_common(1)[0][0]
    pos = sources[name]["position"]
    return SkyCoord(pos["ra"], pos["dec"], unit=pos.get("unit", "deg"), frame=pos.get("frame", "icrs")), name


def _from_obs_table(store, obs_ids):
    """The most frequent OBJECT of the selected observations, at the mean of its RA_OBJ / DEC_OBJ."""
    table = store.obs_table
    if not {"RA_OBJ", "DEC_OBJ"} <= set(table.colnames):
        return None
    rows = table[np.isin(np.asarray(table["OBS_ID"]), list(obs_ids))]
    ra, dec = np.asarray(rows["RA_OBJ"], float), np.asarray(rows["DEC_OBJ"], float)
    ok = np.isfinite(ra) & np.isfinite(dec)
    if not ok.any():
        return None
    names = np.array([str(o).strip() for o in rows["OBJECT"]]) if "OBJECT" in rows.colnames else np.full(len(rows), "")
    name = Counter(names[ok]).most_common(1)[0][0]
    pick = ok & (names == name)
    xyz = SkyCoord(ra[pick], dec[pick], unit="deg").cartesian.xyz.value.mean(axis=1)
    mean = SkyCoord(*xyz, representation_type="cartesian", frame="icrs")
    return SkyCoord(mean.spherical.lon, mean.spherical.lat, frame="icrs"), str(name) or "the observations' target"


def _from_pointings(store, obs_ids):
    """The mean direction of the selected pointings."""
    table = store.obs_table
    pnt = table.pointing_radec[np.isin(np.asarray(table["OBS_ID"]), list(obs_ids))]
    if len(pnt) == 0:
        return None
    xyz = pnt.cartesian.xyz.value.mean(axis=1)
    mean = SkyCoord(*xyz, representation_type="cartesian", frame="icrs")
    return SkyCoord(mean.spherical.lon, mean.spherical.lat, frame="icrs"), "the pointings' centre"


#: name -> finder(store, obs_ids) -> (SkyCoord, name) or None; tried in this order
TARGET_FINDERS = Registry("target finder")
TARGET_FINDERS.add("truth", _from_truth)
TARGET_FINDERS.add("obs_table", _from_obs_table)
TARGET_FINDERS.add("pointings", _from_pointings)


def find_target(store, obs_ids=None) -> tuple[SkyCoord, str, str]:
    """``(position, name, finder)`` of the source the first look analyses (see the module docs)."""
    from ..errors import GwidgetsError

    obs_ids = list(store.obs_ids) if obs_ids is None else list(obs_ids)
    for key, finder in TARGET_FINDERS.items():
        found = finder(store, obs_ids)
        if found is not None:
            return found[0], found[1], key
    raise GwidgetsError(f"No target for the first look in data store '{store.name}': no truth.yaml, "
                        "no RA_OBJ/DEC_OBJ in the observation table and no pointings")


def on_radius(store, obs_ids, target: SkyCoord) -> tuple[u.Quantity, str]:
    """ON radius: the PSF's `PSF_FRACTION` containment at `PSF_ENERGY` at the median offset (see module docs)."""
    table = store.obs_table
    rows = table[np.isin(np.asarray(table["OBS_ID"]), list(obs_ids))]
    if len(rows) == 0:
        return DEFAULT_RADIUS, "default"
    offsets = rows.pointing_radec.separation(target).deg
    k = int(np.argsort(offsets)[len(offsets) // 2])
    try:
        psf = store.obs(int(rows["OBS_ID"][k])).psf
    except Exception:  # an unreadable PSF: the default radius
        psf = None
    if psf is None:
        return DEFAULT_RADIUS, "default"
    radius = float(np.asarray(psf.containment_radius(PSF_FRACTION, PSF_ENERGY, offsets[k] * u.deg).to_value("deg")))
    if not np.isfinite(radius) or radius <= 0:
        return DEFAULT_RADIUS, "default"
    radius = float(np.clip(round(radius, 2), MIN_RADIUS.to_value("deg"), MAX_RADIUS.to_value("deg")))
    return radius * u.deg, "PSF"


def plan_first_look(session) -> FirstLook:
    """Choose the observations, target and ON radius (reads the store only; the session is not changed)."""
    store = session.store
    if store is None:
        from ..errors import GwidgetsError

        raise GwidgetsError("The first look needs a data store (this session was made from datasets)")
    obs_ids = [int(i) for i in store.obs_ids]
    target, name, found_by = find_target(store, obs_ids)
    radius, radius_from = on_radius(store, obs_ids, target)
    return FirstLook(obs_ids, target, name, found_by, radius, radius_from, simulated=truth_path(store) is not None)


# ---------------------------------------------------------------- running
def apply_first_look(session) -> FirstLook:
    """Set the first look's inputs — all observations, ON region, default model — without computing.

    Cheap (no reduction): views built afterwards show the selection, the ON region and the
    model at once. `run_first_look` then computes.
    """
    from regions import CircleSkyRegion

    from ..widgets.model_editor import default_models

    look = plan_first_look(session)
    background = session.background
    session.background = False  # set the intents without one recomputation per intent
    try:
        with session.hold_trait_notifications():
            session.select(look.obs_ids)
            session.set_on_region(CircleSkyRegion(look.target, look.radius))
        models = default_models(session)  # a point source at the ON centre
        session.set_models(models)
        look.model_name = type(models[0].spectral_model).__name__
    finally:
        session.background = background
    return look


def run_first_look(session, fit: bool = True, flux_points: bool = True):
    """Compute the session's outputs and fit (in its worker when ``session.background``: returns at once).

    After a successful fit, ``flux_points`` asks for flux points in `FLUX_POINT_EDGES`.
    Errors go to ``session.error`` like any other computation's.
    """
    if flux_points and fit:
        _flux_points_after_fit(session)
    session.refresh()  # in the worker when background, else here
    if fit:
        session.fit()


#: seconds after which a first look waiting for its page (``when="shown"``) starts anyway
SHOWN_FALLBACK = 10.0


def start_when(when: str = "auto") -> str:
    """``"now"`` or ``"shown"``: when the first look starts.

    ``"auto"`` waits for the page only in a Voilà kernel that a visitor's request started
    (``VOILA_PREHEAT=False``: the page is loading while the kernel computes); a pre-heated Voilà kernel,
    a notebook or a script start at once (nobody is waiting yet).
    """
    if when not in ("auto", "now", "shown"):
        from ..errors import GwidgetsError

        raise GwidgetsError(f"Unknown first-look start '{when}' (known: auto, now, shown)")
    if when == "auto":
        import os

        return "shown" if os.environ.get("VOILA_PREHEAT") == "False" else "now"
    return when


def start_first_look(session, widget=None, when: str = "auto", fallback: float = SHOWN_FALLBACK) -> str:
    """`run_first_look` now, or once ``widget`` is displayed in the page (``when="shown"``).

    "Displayed" is the widget's ``_view_count`` (ipywidgets counts the views the browser made);
    without a view within ``fallback`` seconds the first look starts anyway. Returns the policy used.
    """
    import threading

    when = start_when(when)
    if when == "now" or widget is None:
        run_first_look(session)
        return "now"
    lock, started = threading.Lock(), []

    def start(*_):
        with lock:
            if started:
                return
            started.append(True)
        timer.cancel()
        run_first_look(session)

    def on_views(change):
        if (change["new"] or 0) > 0:
            widget.unobserve(on_views, "_view_count")
            start()

    timer = threading.Timer(fallback, start)
    timer.daemon = True
    widget._view_count = 0  # ask the browser to count the views it makes of this widget
    widget.observe(on_views, "_view_count")
    timer.start()
    return "shown"


def default_analysis(session, fit: bool = True, flux_points: bool = True) -> FirstLook:
    """`apply_first_look` then `run_first_look`.

    Select all observations, put the ON region on the target, use the default model and fit it
    (see the module docs).
    """
    look = apply_first_look(session)
    run_first_look(session, fit=fit, flux_points=flux_points)
    return look


def _flux_points_after_fit(session):
    """Once: flux points of the first-look fit, when it converged (the SED view then shows them)."""

    def on_result(change):
        session.unobserve(on_result, "fit_result")
        result = change["new"]
        if result is not None and result.success and not result.cancelled:
            with session.capture_errors():
                session.flux_points(FLUX_POINT_EDGES)

    session.observe(on_result, "fit_result")


# ---------------------------------------------------------------- banner
def banner_html(look: FirstLook, store_name: str = "") -> str:
    """One line saying what the first look shows and how to change it."""
    data = "Simulated data" if look.simulated else f"Data store '{html.escape(store_name)}'"
    where = ("the brightest simulated source" if look.found_by == "truth" else "the observations' target"
             if look.found_by == "obs_table" else "the pointings' centre")
    radius = f"{look.radius.to_value('deg'):.2f}°" + (" (PSF 68 % containment at 1 TeV)" if look.radius_from == "PSF"
                                                        else "")
    return (f"<div class='gw-first-look-text' style='background:#eef6fc;border-left:4px solid #1f77b4;"
            f"padding:4px 8px;margin:2px 0'><b>{data}</b>: {len(look.obs_ids)} observations selected, "
            f"ON region of {radius} on {where} (<i>{html.escape(look.target_name)}</i>) with reflected OFF regions, "
            f"{html.escape(look.model_name)} point source is fitted. Draw another ON region on the sky map, change the "
            "observation selection or edit the model, then press <b>Fit</b>, to re-analyse.</div>")
