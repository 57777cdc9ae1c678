"""Write the simulated DL3 data store (GADF 0.3): one IRF file, one events file per run, two indexes.

The sky: a bright point source with a curved spectrum, a faint Gaussian
source, a variable point source (a flare on the third night), and hadronic
background from the BKG IRF. Twenty 28-minute runs in wobble mode (0.5° in
four directions) over five nights. The true models are written to
``truth.yaml`` (gwidgets / gammapy model YAML) next to the files.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import astropy.units as u
from astropy.coordinates import AltAz, EarthLocation, SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time

from ...errors import GwidgetsError
from .instrument import make_irfs
from .sampling import sample_background_events, sample_source_events

__all__ = ["simulate_datastore", "SKY", "DEFAULT_SEED", "FIELD_CENTER"]

DEFAULT_SEED = 20261125
FIELD_CENTER = SkyCoord(83.6, 22.2, unit="deg")
MJDREF = Time(51910.0007428703703, format="mjd", scale="tt")
SITE = EarthLocation(lat=-23.27 * u.deg, lon=16.5 * u.deg, height=1800 * u.m)
T_START = Time("2026-01-10T21:00:00", scale="utc")
FLARE_NIGHT, FLARE_HOURS = 2, 1.0

#: the injected sky (energies in TeV, fluxes in cm-2 s-1 TeV-1)
SKY = {
    "bright": {"position": (83.35, 22.45), "spectrum": ("LogParabola", {"amplitude": 6.0e-11, "reference": 1.0, "alpha": 2.4, "beta": 0.12})},
    "extended": {"position": (83.95, 21.95), "sigma": 0.25, "spectrum": ("PowerLaw", {"amplitude": 4.0e-12, "reference": 1.0, "index": 2.3})},
    "variable": {"position": (83.9, 22.6), "spectrum": ("PowerLaw", {"amplitude": 3.0e-12, "reference": 1.0, "index": 2.2}),
                 "flare": {"night": FLARE_NIGHT, "factor": 6.0, "sigma_hours": FLARE_HOURS}},
}


def _dnde(kind, p):
    if kind == "PowerLaw":
        return lambda e: p["amplitude"] * (e / p["reference"]) ** -p["index"]
    return lambda e: p["amplitude"] * (e / p["reference"]) ** (-p["alpha"] - p["beta"] * np.log(e / p["reference"]))


def _schedule(n_obs):
    """(start time, pointing) of each run: 4 wobble offsets per night."""
    runs = []
    wobbles = [(0, 0.5), (90, 0.5), (180, 0.5), (270, 0.5)]
    for i in range(n_obs):
        night, k = divmod(i, 4)
        start = T_START + night * u.day + k * 30 * u.min
        pa, sep = wobbles[k % 4]
        runs.append((start, FIELD_CENTER.directional_offset_by(pa * u.deg, sep * u.deg)))
    return runs


def _flare_weight(times_mjd, night_start_mjd, s):
    centre = night_start_mjd + 1.0 / 24
    return 1 + (s["factor"] - 1) * np.exp(-0.5 * ((times_mjd - centre) * 24 / s["sigma_hours"]) ** 2)


def _events_hdu(obs_id, start, pointing, energy, coords, times, livetime, ontime):
    order = np.argsort(times)
    met = (times[order] - 0) if len(times) else times
    cols = [
        fits.Column("EVENT_ID", "K", array=np.arange(1, len(order) + 1)),
        fits.Column("TIME", "D", unit="s", array=met),
        fits.Column("RA", "E", unit="deg", array=coords.ra.deg[order] if len(order) else []),
        fits.Column("DEC", "E", unit="deg", array=coords.dec.deg[order] if len(order) else []),
        fits.Column("ENERGY", "E", unit="TeV", array=energy[order]),
    ]
    tstart = (start - MJDREF).to_value("s")
    altaz = pointing.transform_to(AltAz(obstime=start + 14 * u.min, location=SITE))
    h = fits.Header()
    h.update({
        "EXTNAME": "EVENTS", "HDUCLASS": "GADF", "HDUDOC": "https://gamma-astro-data-formats.readthedocs.io",
        "HDUVERS": "0.3", "HDUCLAS1": "EVENTS", "OBS_ID": obs_id, "TELESCOP": "GWSIM", "INSTRUME": "analytic",
        "TSTART": tstart, "TSTOP": tstart + ontime, "ONTIME": ontime, "LIVETIME": livetime, "DEADC": livetime / ontime,
        "MJDREFI": int(MJDREF.mjd), "MJDREFF": MJDREF.mjd - int(MJDREF.mjd), "TIMESYS": "TT", "TIMEUNIT": "s",
        "TIMEREF": "LOCAL", "RA_PNT": pointing.ra.deg, "DEC_PNT": pointing.dec.deg, "ALT_PNT": altaz.alt.deg,
        "AZ_PNT": altaz.az.deg, "OBJECT": "GW simulated field", "RADECSYS": "ICRS", "EQUINOX": 2000.0, "N_TELS": 4,
        "GEOLON": SITE.lon.deg, "GEOLAT": SITE.lat.deg, "ALTITUDE": SITE.height.to_value("m"),
    })
    return fits.BinTableHDU.from_columns(cols, header=h), tstart, altaz


def _simulate_run(rng, irfs, obs_id, start, pointing, ontime=1680.0, deadc=0.92):
    livetime = ontime * deadc
    parts_e, parts_c = [], []
    for name, src in SKY.items():
        pos = SkyCoord(*src["position"], unit="deg")
        kind, pars = src["spectrum"]
        if "sigma" in src:
            sig = src["sigma"]

            def sampler(r, n, pos=pos, sig=sig):
                radius = np.hypot(*r.normal(0, sig, (2, n)))  # 2D Gaussian: Rayleigh-distributed radius
                return pos.directional_offset_by(r.uniform(0, 360, n) * u.deg, radius * u.deg)
        else:
            def sampler(r, n, pos=pos):
                return SkyCoord(np.full(n, pos.ra.deg), np.full(n, pos.dec.deg), unit="deg")
        dnde = _dnde(kind, pars)
        if "flare" in src:
            t = start.mjd + np.linspace(0, ontime, 50) / 86400
            night0 = (T_START + src["flare"]["night"] * u.day).mjd
            boost = float(np.mean(_flare_weight(t, night0, src["flare"])))
            dnde = (lambda f, b: (lambda e: f(e) * b))(dnde, boost)
        e, c = sample_source_events(rng, irfs, pointing, livetime, dnde, sampler, pos)
        parts_e.append(e)
        parts_c.append(c)
    e, c = sample_background_events(rng, irfs[3], pointing, livetime)
    parts_e.append(e)
    parts_c.append(c)
    energy = np.concatenate(parts_e)
    coords = SkyCoord(np.concatenate([p.ra.deg for p in parts_c]), np.concatenate([p.dec.deg for p in parts_c]), unit="deg")
    keep = (energy > 0.05) & (energy < 150) & (coords.separation(pointing).deg < 3.0)
    energy, coords = energy[keep], coords[keep]
    tstart = (start - MJDREF).to_value("s")
    times = tstart + rng.uniform(0, ontime, len(energy))
    events, tstart, altaz = _events_hdu(obs_id, start, pointing, energy, coords, times, livetime, ontime)
    gti = fits.BinTableHDU.from_columns(
        [fits.Column("START", "D", unit="s", array=[tstart]), fits.Column("STOP", "D", unit="s", array=[tstart + ontime])],
        name="GTI")
    gti.header.update({"HDUCLASS": "GADF", "HDUCLAS1": "GTI", "MJDREFI": events.header["MJDREFI"],
                       "MJDREFF": events.header["MJDREFF"], "TIMESYS": "TT", "TIMEUNIT": "s"})
    row = {"OBS_ID": obs_id, "RA_PNT": pointing.ra.deg, "DEC_PNT": pointing.dec.deg, "ZEN_PNT": 90 - altaz.alt.deg,
           "ALT_PNT": altaz.alt.deg, "AZ_PNT": altaz.az.deg, "ONTIME": ontime, "LIVETIME": livetime, "DEADC": deadc,
           "TSTART": tstart, "TSTOP": tstart + ontime, "OBJECT": "GW simulated field", "N_TELS": 4,
           "EVENT_COUNT": len(energy)}
    return fits.HDUList([fits.PrimaryHDU(), events, gti]), row


def _truth_models():
    from ..models import LogParabola, Models, PowerLaw, SkyModel
    from ..models.spatial import GaussianSpatialModel, PointSpatialModel

    models = []
    for name, src in SKY.items():
        kind, pars = src["spectrum"]
        spec = (PowerLaw if kind == "PowerLaw" else LogParabola)(**pars)
        lon, lat = src["position"]
        if "sigma" in src:
            spatial = GaussianSpatialModel(lon_0=lon, lat_0=lat, sigma=src["sigma"], frame="icrs")
        else:
            spatial = PointSpatialModel(lon_0=lon, lat_0=lat, frame="icrs")
        models.append(SkyModel(spec, spatial, name=name))
    return Models(models)


def simulate_datastore(outdir, seed: int = DEFAULT_SEED, n_obs: int = 20, overwrite: bool = False, progress=None) -> Path:
    """Simulate the example DL3 data store into ``outdir`` (deterministic for a given seed).

    Returns the directory. Writes into a temporary sibling first and renames,
    so an interrupted run never leaves a half-written store.
    """
    outdir = Path(outdir)
    if outdir.exists() and any(outdir.iterdir()):
        if not overwrite:
            raise GwidgetsError(f"'{outdir}' exists and is not empty; use overwrite=True")
    if n_obs < 1:
        raise GwidgetsError("n_obs must be at least 1")
    rng = np.random.default_rng(seed)
    irfs = make_irfs()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".gwsim-", dir=outdir.parent))
    try:
        irf_hdus = [irfs[0].to_hdu("EFFECTIVE AREA"), irfs[1].to_hdu("ENERGY DISPERSION"),
                    irfs[2].to_hdu("POINT SPREAD FUNCTION"), irfs[3].to_hdu("BACKGROUND")]
        for h in irf_hdus:
            h.header["HDUCLAS2"] = {"AEFF_2D": "EFF_AREA", "EDISP_2D": "EDISP", "PSF_TABLE": "PSF", "BKG_3D": "BKG"}[h.header["HDUCLAS4"]]
        fits.HDUList([fits.PrimaryHDU(), *irf_hdus]).writeto(tmp / "irf.fits.gz")
        rows, hdu_rows = [], []
        runs = _schedule(n_obs)
        for i, (start, pointing) in enumerate(runs):
            obs_id = 1001 + i
            hdul, row = _simulate_run(rng, irfs, obs_id, start, pointing)
            name = f"run_{obs_id:06d}.fits.gz"
            hdul.writeto(tmp / name)
            rows.append(row)
            hdu_rows += [(obs_id, "events", "events", ".", name, "EVENTS"), (obs_id, "gti", "gti", ".", name, "GTI")]
            for t, c, h in (("aeff", "aeff_2d", "EFFECTIVE AREA"), ("edisp", "edisp_2d", "ENERGY DISPERSION"),
                            ("psf", "psf_table", "POINT SPREAD FUNCTION"), ("bkg", "bkg_3d", "BACKGROUND")):
                hdu_rows.append((obs_id, t, c, ".", "irf.fits.gz", h))
            if progress is not None:
                progress(i + 1, len(runs), f"OBS_ID {obs_id}")
        obs = Table(rows=[list(r.values()) for r in rows], names=list(rows[0]))
        for c in ("RA_PNT", "DEC_PNT", "ZEN_PNT", "ALT_PNT", "AZ_PNT"):
            obs[c].unit = "deg"
        for c in ("ONTIME", "LIVETIME", "TSTART", "TSTOP"):
            obs[c].unit = "s"
        obs.meta.update({"EXTNAME": "OBS_INDEX", "HDUCLASS": "GADF", "HDUCLAS1": "INDEX", "HDUCLAS2": "OBS",
                         "MJDREFI": int(MJDREF.mjd), "MJDREFF": MJDREF.mjd - int(MJDREF.mjd), "TIMESYS": "TT"})
        obs.write(tmp / "obs-index.fits.gz")
        hdu = Table(rows=hdu_rows, names=["OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME"])
        hdu.meta.update({"EXTNAME": "HDU_INDEX", "HDUCLASS": "GADF", "HDUCLAS1": "INDEX", "HDUCLAS2": "HDU"})
        hdu.write(tmp / "hdu-index.fits.gz")
        truth = _truth_models()
        text = truth.to_yaml()
        text += "\n# variable source flare (gwidgets simulation): night index, peak factor, gaussian sigma in hours\n"
        text += f"# flare: {SKY['variable']['flare']}\n# seed: {seed}\n"
        (tmp / "truth.yaml").write_text(text)
        if outdir.exists():
            shutil.rmtree(outdir)
        os.replace(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return outdir
