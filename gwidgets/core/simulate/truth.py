"""``truth.yaml``: the injected sky in machine-readable form, written beside the simulated files.

The file is a valid gammapy / gwidgets model YAML (its ``components`` list:
``Models.read("truth.yaml")`` works with both), so fits can be compared with the
truth directly. A variable source is the sum of two components at the same
position: the steady part (no temporal model) and the flare (same spectral
shape, amplitude × A, ``GaussianTemporalModel`` with ``t_ref`` in MJD UTC).

The ``simulation`` section has everything else, with units spelled out:
seed, time reference, target, site, reconstructed-energy range, every source in
plain numbers (``spectral``, ``spatial``, ``temporal``, ``mc_id``, the names of
its ``components``), the background (MC_ID, integrated rate), and per run the
expected numbers of events per component: ``expected_counts`` in the event list
(reconstructed energy in ``energy_reco_range``, i.e. what the file should hold)
and, for sources, ``expected_counts_all_true_energies`` (photons detected at any
reconstructed energy: ``DEADC × ∫ norm dt × ∫ dN/dE A_eff dE``).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .sampling import E_RECO_RANGE
from .schedule import MJDREFF, MJDREFI, SITE, TARGET, TT_MINUS_UTC, met_to_mjd_tt
from .sky import BACKGROUND_MC_ID

__all__ = ["truth_dict", "write_truth", "read_truth", "FORMAT", "VERSION"]

FORMAT = "gwidgets-simulation-truth"
VERSION = 2  # 2: background drawn per observation time (ONTIME), not live time

_HEADER = """\
# True sky and instrument of a DL3 data store simulated by gwidgets.core.simulate.
# `components` is gammapy/gwidgets model YAML (Models.read works on this file);
# `simulation` lists sources, background and expected counts with units.
"""


def _spectral_model(spec, amplitude_factor=1.0):
    from ..models import LogParabola, PowerLaw

    if spec["type"] == "PowerLaw":
        return PowerLaw(amplitude=spec["amplitude"] * amplitude_factor, reference=spec["reference"],
                        index=spec["index"])
    return LogParabola(amplitude=spec["amplitude"] * amplitude_factor, reference=spec["reference"],
                       alpha=spec["alpha"], beta=spec["beta"])


def _components(sources) -> tuple[list, dict]:
    from ..models import GaussianTemporalModel, Models, SkyModel
    from ..models.spatial import GaussianSpatialModel, PointSpatialModel

    models, names = [], {}
    for s in sources:
        if s.is_point:
            spatial = PointSpatialModel(lon_0=s.ra, lat_0=s.dec, frame="icrs")
        else:
            spatial = GaussianSpatialModel(lon_0=s.ra, lat_0=s.dec, sigma=s.sigma, frame="icrs")
        models.append(SkyModel(_spectral_model(s.spectrum), spatial, name=s.name))
        names[s.name] = [s.name]
        if s.flare:
            f = s.flare
            t_ref = float(met_to_mjd_tt(f["t_peak"])) - TT_MINUS_UTC / 86400.0  # MJD UTC
            temporal = GaussianTemporalModel(t_ref=t_ref, sigma=f["sigma"] / 86400.0)
            models.append(SkyModel(_spectral_model(s.spectrum, f["amplitude"]), spatial.copy(), temporal,
                                   name=f"{s.name}-flare"))
            names[s.name].append(f"{s.name}-flare")
    return Models(models).to_dict()["components"], names


def _quantity(value, unit):
    return {"value": float(value), "unit": unit}


def _source_entry(s, components):
    spec = dict(s.spectrum)
    kind = spec.pop("type")
    spectral = {"type": kind, "amplitude": _quantity(spec.pop("amplitude"), "cm-2 s-1 TeV-1"),
                "reference": _quantity(spec.pop("reference"), "TeV")}
    if kind == "LogParabola":
        spectral["formula"] = "amplitude * (E/reference) ** (-alpha - beta * ln(E/reference))"
    else:
        spectral["formula"] = "amplitude * (E/reference) ** -index"
    spectral.update({k: float(v) for k, v in spec.items()})
    entry = {
        "mc_id": s.mc_id,
        "components": components,
        "position": {"ra": float(s.ra), "dec": float(s.dec), "unit": "deg", "frame": "icrs"},
        "spatial": {"type": "point"} if s.is_point else {"type": "gaussian", "sigma": _quantity(s.sigma, "deg")},
        "spectral": spectral,
    }
    if s.flare:
        f = s.flare
        entry["temporal"] = {
            "type": "constant-plus-gaussian-flare",
            "formula": "1 + amplitude * exp(-(t - t_peak)**2 / (2 * sigma**2))",
            "amplitude": float(f["amplitude"]),
            "t_peak": {"met": float(f["t_peak"]), "unit": "s", "mjd_tt": float(met_to_mjd_tt(f["t_peak"]))},
            "sigma": _quantity(f["sigma"], "s"),
        }
    else:
        entry["temporal"] = {"type": "constant"}
    return entry


def truth_dict(sources, runs, expected, seed, background_rate) -> dict:
    """The truth document.

    ``expected[obs_id]`` is a pair of dicts of expected counts per component: in the
    reconstructed-energy range, and (sources only) over all true energies.

    Parameters
    ----------
    sources : list of `~gwidgets.core.simulate.sky.Source`
        The sky.
    runs : list of `~gwidgets.core.simulate.schedule.Run`
        The observations.
    expected : dict
        obs_id → (expected counts in the reconstructed range, over all true energies).
    seed : int
        The simulation seed.
    background_rate : float
        Background rate in s-1 (see `~gwidgets.core.simulate.sampling.InstrumentSampler.background_rate`).

    Returns
    -------
    dict
        ``components`` (gammapy model YAML of the sources) and ``simulation`` (format, seed, times, site,
        instrument, sources, background and per-observation expected counts).
    """
    components, names = _components(sources)
    return {
        "components": components,
        "simulation": {
            "format": FORMAT,
            "version": VERSION,
            "generator": "gwidgets.core.simulate",
            "seed": int(seed),
            "n_obs": len(runs),
            "time_reference": {"mjdrefi": MJDREFI, "mjdreff": MJDREFF, "timesys": "tt", "timeunit": "s",
                               "tt_minus_utc": _quantity(TT_MINUS_UTC, "s")},
            "target": {"ra": TARGET[0], "dec": TARGET[1], "unit": "deg", "frame": "icrs"},
            "site": {"lon": _quantity(SITE[0], "deg"), "lat": _quantity(SITE[1], "deg"),
                     "height": _quantity(SITE[2], "m")},
            "energy_reco_range": {"min": E_RECO_RANGE[0], "max": E_RECO_RANGE[1], "unit": "TeV"},
            "instrument": {"module": "gwidgets.core.simulate.instrument", "fov_alignment": "RADEC",
                           "same_irfs_for_all_runs": True},
            "sources": {s.name: _source_entry(s, names[s.name]) for s in sources},
            "background": {"mc_id": BACKGROUND_MC_ID, "irf": "BKG (bkg_3d)", "norm": 1.0, "tilt": 0.0,
                           "rate": _quantity(background_rate, "s-1"),
                           "rate_definition": "integral of the BKG table over energy_reco_range and its "
                                              "fov square, per second of observation time (ONTIME, "
                                              "dead time included, as GADF defines BKG)"},
            "observations": [
                {"obs_id": r.obs_id, "livetime": _quantity(round(r.livetime, 6), "s"),
                 "expected_counts": {k: round(float(v), 4) for k, v in expected[r.obs_id][0].items()},
                 "expected_counts_all_true_energies": {k: round(float(v), 4) for k, v in expected[r.obs_id][1].items()}}
                for r in runs
            ],
        },
    }


def write_truth(path, truth: dict):
    """Write the truth document as YAML (with a comment header).

    Parameters
    ----------
    path : str or Path
        Output file.
    truth : dict
        What `truth_dict` returned.
    """
    text = _HEADER + yaml.safe_dump(truth, sort_keys=False, default_flow_style=None, width=110)
    Path(path).write_text(text)


def read_truth(path) -> dict:
    """The truth document of a simulated store (``path``: the file or the store directory).

    Parameters
    ----------
    path : str or Path
        ``truth.yaml`` or the store directory.

    Returns
    -------
    dict
        The document.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "truth.yaml"
    return yaml.safe_load(path.read_text())
