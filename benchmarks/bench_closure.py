"""Closure: simulate the example store with N seeds, analyse each as a user would, compare with the truth.

    python benchmarks/run.py closure                 # 20 seeds, 2 processes
    python benchmarks/run.py closure --seeds 5 --jobs 1

Every seed is written with `simulate_datastore` into a temporary folder (deleted
afterwards) and analysed with the defaults a user gets:

* **1D** — the bright point source: `make_spectrum_datasets` (reflected regions,
  0.11° ON circle, ``aeff-default`` safe mask, PSF containment correction left at
  its default), one dataset per run, joint WStat fit of a log-parabola; and the same
  with the runs stacked (``stack=True``), which separates the WStat low-count bias of the
  joint per-run fit (one background nuisance per run and bin) from the reduction;
* **3D** — `MapDatasetMaker.run_stacked` (PSF + EDISP at the map centre, offset-max
  safe mask) and a Cash fit of the bright point source (log-parabola, position), the
  Gaussian source (power law, position, σ) and the flaring source (power law,
  position), with the FoV background norm free;
* **light curve** — the flaring source: per-run 1D datasets, its power law fitted on all
  runs, then `LightCurveEstimator` (one bin per run) with asymmetric errors at 1σ and 2σ.

Printed: per free parameter the truth, the mean and standard deviation of the pulls
``(fit − truth) / error`` and their number (target: |mean| ≤ 0.2, 0.8 ≤ std ≤ 1.2), and
for the light curve the fraction of bins whose 1σ (2σ) interval covers the injected
flux of that bin (expected 68.3 % (95.4 %)), with its binomial uncertainty.
The injected flux of a run is ``∫_band dN/dE × ∫_GTI norm(t) dt / ∫_GTI dt`` with the
steady spectrum and the flare of ``truth.yaml``.
"""
from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

N_SEEDS = 20
N_OBS = 20
ON_RADIUS_DEG = 0.11
#: pull bounds of the issue (20 seeds); the light-curve coverage is judged by its binomial error
PULL_MEAN_MAX = 0.2
PULL_STD_RANGE = (0.8, 1.2)
LC_BAND_TEV = (0.3, 100.0)
COVERAGE = {1: 0.6827, 2: 0.9545}


# ------------------------------------------------------------------------------------------- truth
def truth_value(truth: dict, source: str, name: str) -> float:
    """Injected value of parameter ``name`` of ``source`` (from truth.yaml's ``simulation.sources``)."""
    s = truth["sources"][source]
    if name == "lon_0":
        return float(s["position"]["ra"])
    if name == "lat_0":
        return float(s["position"]["dec"])
    if name == "sigma":
        return float(s["spatial"]["sigma"]["value"])
    v = s["spectral"][name]
    return float(v["value"] if isinstance(v, dict) else v)


def source_position(truth: dict, source: str):
    from astropy.coordinates import SkyCoord

    p = truth["sources"][source]["position"]
    return SkyCoord(p["ra"], p["dec"], unit="deg", frame=p.get("frame", "icrs"))


def mean_flare_norm(temporal: dict, gtis) -> float:
    """``∫ norm dt / ∫ dt`` over ``gtis`` ((start, stop) MET s) for truth.yaml's constant-plus-gaussian-flare."""
    if temporal.get("type") == "constant":
        return 1.0
    a, sig = temporal["amplitude"], temporal["sigma"]["value"]
    t0 = temporal["t_peak"]["met"]
    s = math.sqrt(2.0) * sig
    num = sum((b - e) + a * sig * math.sqrt(math.pi / 2) * (math.erf((b - t0) / s) - math.erf((e - t0) / s))
              for e, b in gtis)
    return num / sum(b - e for e, b in gtis)


def band_flux_powerlaw(spectral: dict, e_min: float, e_max: float) -> float:
    """∫ amplitude (E/E0)^-index dE over [e_min, e_max] TeV (cm-2 s-1)."""
    amp, e0, idx = spectral["amplitude"]["value"], spectral["reference"]["value"], spectral["index"]
    g = 1.0 - idx
    return amp * e0 / g * ((e_max / e0) ** g - (e_min / e0) ** g)


# ------------------------------------------------------------------------------------------- analyses
def exclusion_mask(truth: dict):
    """Boolean map (True = usable for OFF regions) without the injected sources: 0.3° around point
    sources, 3σ + 0.1° around Gaussian ones."""
    import astropy.units as u
    from regions import CircleSkyRegion

    from gwidgets.core.geom import Map, WcsGeom

    t = truth["target"]
    from astropy.coordinates import SkyCoord

    geom = WcsGeom.create(SkyCoord(t["ra"], t["dec"], unit="deg"), binsz=0.02, width=6.0)
    regions = []
    for name, s in truth["sources"].items():
        r = 0.3 if s["spatial"]["type"] == "point" else 3 * s["spatial"]["sigma"]["value"] + 0.1
        regions.append(CircleSkyRegion(source_position(truth, name), r * u.deg))
    return Map(geom, geom.region_mask(regions, inside=False))


def _axes_1d():
    import astropy.units as u

    from gwidgets.core.geom import MapAxis

    return (MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 30),
            MapAxis.from_energy_bounds(0.03 * u.TeV, 300 * u.TeV, 60, name="energy_true"))


def spectra_1d(observations, truth, source: str, **options):
    """Per-run ON/OFF datasets of ``source`` (reflected regions, user defaults; ``options`` override them)."""
    import astropy.units as u
    from regions import CircleSkyRegion

    from gwidgets.core.reduction import make_spectrum_datasets

    e_reco, e_true = _axes_1d()
    on = CircleSkyRegion(source_position(truth, source), ON_RADIUS_DEG * u.deg)
    return make_spectrum_datasets(observations, on, e_reco, e_true, exclusion_mask=exclusion_mask(truth), **options)


def _pulls(model, truth, source, names=None) -> dict:
    out = {}
    for p in model.parameters.free_parameters:
        if names is not None and p.name not in names:
            continue
        t = truth_value(truth, source, p.name)
        out[f"{source}.{p.name}"] = (t, (p.value - t) / p.error if p.error > 0 else np.nan)
    return out


def analyse_1d(observations, truth, **options) -> dict:
    """Joint fit of the bright source's log-parabola on its per-run ON/OFF spectra → pulls
    (``options``: reduction settings other than the defaults, e.g. ``stack=True``)."""
    from gwidgets.core.fit import Fit
    from gwidgets.core.models import LogParabola, SkyModel

    datasets = spectra_1d(observations, truth, "bright", **options)
    model = SkyModel(LogParabola(amplitude=1e-11, reference=1.0, alpha=2.0, beta=0.0), name="bright")
    datasets.models = model
    result = Fit().run(datasets)
    if not result.success:
        raise RuntimeError(f"1D fit failed: {result}")
    return _pulls(model, truth, "bright")


def analyse_3d(observations, truth) -> dict:
    """Stacked MapDataset (PSF + EDISP) and a joint fit of the three sources + background norm → pulls."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    from gwidgets.core.reduction import MapDatasetMaker
    from gwidgets.core.fit import Fit
    from gwidgets.core.geom import MapAxis, WcsGeom
    from gwidgets.core.models import FoVBackgroundModel, LogParabola, PointSpatialModel, PowerLaw, SkyModel
    from gwidgets.core.models.spatial import GaussianSpatialModel

    t = truth["target"]
    target = SkyCoord(t["ra"], t["dec"], unit="deg")
    e_reco = MapAxis.from_energy_bounds(0.3 * u.TeV, 100 * u.TeV, 20)
    e_true = MapAxis.from_energy_bounds(0.1 * u.TeV, 300 * u.TeV, 35, name="energy_true")
    geom = WcsGeom.create(target, binsz=0.04, width=4 * u.deg, axes=[e_reco])
    dataset = MapDatasetMaker(geom, e_true, offset_max=2.5 * u.deg).run_stacked(observations)
    # starting points away from the truth (rounded positions, generic spectra)
    pos = {n: source_position(truth, n) for n in ("bright", "extended", "variable")}
    bright = SkyModel(LogParabola(amplitude=1e-11, reference=1.0, alpha=2.0, beta=0.0),
                      PointSpatialModel(lon_0=round(pos["bright"].ra.deg, 1), lat_0=round(pos["bright"].dec.deg, 1),
                                        frame="icrs"), name="bright")
    extended = SkyModel(PowerLaw(amplitude=1e-11, reference=1.0, index=2.0),
                        GaussianSpatialModel(lon_0=round(pos["extended"].ra.deg, 1),
                                             lat_0=round(pos["extended"].dec.deg, 1), sigma=0.2, frame="icrs"),
                        name="extended")
    variable = SkyModel(PowerLaw(amplitude=1e-12, reference=1.0, index=2.0),
                        PointSpatialModel(lon_0=round(pos["variable"].ra.deg, 1),
                                          lat_0=round(pos["variable"].dec.deg, 1), frame="icrs"), name="variable")
    background = FoVBackgroundModel(dataset.name)
    dataset.models = [bright, extended, variable, background]
    result = Fit().run(dataset)
    if not result.success:
        raise RuntimeError(f"3D fit failed: {result}")
    out = _pulls(bright, truth, "bright")
    out.update(_pulls(extended, truth, "extended"))
    norm = background.parameters["norm"]
    out["background.norm"] = (1.0, (norm.value - 1.0) / norm.error)
    return out


def analyse_light_curve(observations, truth) -> list:
    """Per-run light curve of the flaring source: one (flux, errn, errp, errn2, errp2, truth) row per run."""
    import astropy.units as u

    from gwidgets.core.estimators import LightCurveEstimator
    from gwidgets.core.fit import Fit
    from gwidgets.core.models import PowerLaw, SkyModel

    gtis = {int(o.obs_id): list(zip(o.gti.start.to_value("s").tolist(), o.gti.stop.to_value("s").tolist()))
            for o in observations}
    datasets = spectra_1d(observations, truth, "variable")
    model = SkyModel(PowerLaw(amplitude=1e-12, reference=1.0, index=2.0), name="variable")
    datasets.models = model
    if not Fit().run(datasets).success:
        raise RuntimeError("1D fit of the flaring source failed")
    src = truth["sources"]["variable"]
    lcs = {n: LightCurveEstimator(energy_edges=list(LC_BAND_TEV) * u.TeV, source="variable", n_sigma=n,
                                  selection_optional=["errn-errp"]).run(datasets).to_table("flux")
           for n in (1, 2)}
    t1, t2 = lcs[1], lcs[2]
    col = {(k, c): t[c].quantity.to_value("cm-2 s-1") for k, t in lcs.items() for c in ("flux", "flux_err",
                                                                                         "flux_errn", "flux_errp")}
    e_min, e_max = t1["e_min"].quantity.to_value("TeV"), t1["e_max"].quantity.to_value("TeV")
    rows = []
    for i in range(len(t1)):
        if not t1["success"][i]:
            continue
        (obs_id,) = [int(x) for x in str(t1["datasets"][i]).split(",")]
        injected = (band_flux_powerlaw(src["spectral"], e_min[i], e_max[i])
                    * mean_flare_norm(src["temporal"], gtis[obs_id]))
        rows.append((col[1, "flux"][i], col[1, "flux_err"][i], col[1, "flux_errn"][i], col[1, "flux_errp"][i],
                     col[2, "flux_errn"][i], col[2, "flux_errp"][i], injected))
    return rows


def analyse_1d_stacked(observations, truth) -> dict:
    """As `analyse_1d` on the runs stacked into one ON/OFF spectrum (``stack=True``)."""
    return analyse_1d(observations, truth, stack=True)


ANALYSES = {"1d": analyse_1d, "1d-stacked": analyse_1d_stacked, "3d": analyse_3d, "lc": analyse_light_curve}


def analyse_store(path, analyses=tuple(ANALYSES)) -> dict:
    """Run the analyses on the simulated store at ``path`` (its truth.yaml gives the seed and the truth)."""
    from gwidgets.core.data import DataStore
    from gwidgets.core.simulate import read_truth

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    truth = read_truth(path)["simulation"]
    store = DataStore.from_dir(path)
    out = {"seed": truth["seed"]}
    for name in analyses:
        out[name] = ANALYSES[name](store.get_observations(), truth)
    out["seconds"] = time.perf_counter() - t0
    return out


def run_seed(seed: int, n_obs: int = N_OBS, analyses=tuple(ANALYSES), workdir=None) -> dict:
    """Simulate one store (temporary folder, deleted afterwards) and run the analyses on it."""
    from gwidgets.core.simulate import simulate_datastore

    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f"gw-closure-{seed}-", dir=workdir))
    try:
        out = analyse_store(simulate_datastore(tmp / "store", seed=seed, n_obs=n_obs), analyses)
        out["seconds"] = time.perf_counter() - t0
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_seeds(seeds, n_obs=N_OBS, jobs=2, analyses=tuple(ANALYSES), log=print) -> list:
    """``run_seed`` for every seed (a process pool of ``jobs``), one line per finished seed."""
    results = []

    def done(r):
        results.append(r)
        if log:
            extra = ""
            if "1d" in r:
                extra += f"  1D amplitude pull {r['1d']['bright.amplitude'][1]:+.2f}"
            if "3d" in r:
                extra += f"  3D bkg norm pull {r['3d']['background.norm'][1]:+.2f}"
            log(f"[{len(results):2d}/{len(seeds)}] seed {r['seed']}: {r['seconds']:.1f} s{extra}")

    if jobs <= 1:
        for s in seeds:
            done(run_seed(s, n_obs, analyses))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_seed, s, n_obs, analyses) for s in seeds]
            for f in futures:
                done(f.result())
    return sorted(results, key=lambda r: r["seed"])


# ------------------------------------------------------------------------------------------- summary
def pull_table(results, key: str) -> list:
    """Rows (parameter, truth, mean pull, std pull, n) over seeds for analysis ``key``."""
    names = list(results[0][key])
    rows = []
    for name in names:
        pulls = np.array([r[key][name][1] for r in results], float)
        pulls = pulls[np.isfinite(pulls)]
        std = float(np.std(pulls, ddof=1)) if len(pulls) > 1 else np.nan
        rows.append((name, results[0][key][name][0], float(np.mean(pulls)), std, len(pulls)))
    return rows


def coverage(results) -> dict:
    """Light-curve coverage at 1σ and 2σ (asymmetric errors) and the flux pulls (fit − truth) / error, with
    the 1σ error on the side of the truth (errp if the truth is above, errn if below)."""
    rows = np.array([row for r in results for row in r["lc"]], float)
    flux, err, errn, errp, errn2, errp2, inj = rows.T
    out = {"n": len(rows)}
    out[1] = float(np.mean((inj >= flux - errn) & (inj <= flux + errp)))
    out[2] = float(np.mean((inj >= flux - errn2) & (inj <= flux + errp2)))
    pull = (flux - inj) / np.where(inj > flux, errp, errn)
    out["pull_mean"], out["pull_std"] = float(np.mean(pull)), float(np.std(pull, ddof=1))
    return out


def format_report(results) -> str:
    lines = []
    for key, title in (("1d", "1D reflected, bright point source (default: one dataset per run, joint WStat fit)"),
                       ("1d-stacked", "1D reflected, bright point source, runs stacked (stack=True)"),
                       ("3d", "3D MapDataset (PSF + EDISP), bright + Gaussian + flaring source, FoV background")):
        if key not in results[0]:
            continue
        lines += [f"== {title}",
                  f"   {'parameter':<22}{'truth':>12}{'mean pull':>10} {'± s.e.':<7}{'pull std':>9}{'n':>4}  check"]
        for name, truth, mean, std, n in pull_table(results, key):
            ok = abs(mean) <= PULL_MEAN_MAX and PULL_STD_RANGE[0] <= std <= PULL_STD_RANGE[1]
            se = std / math.sqrt(n)
            check = "ok" if ok else "OUT"
            lines.append(f"   {name:<22}{truth:>12.5g}{mean:>+10.3f} ±{se:<6.3f}{std:>9.3f}{n:>4}  {check}")
        lines.append(f"   (check: |mean| <= {PULL_MEAN_MAX} and {PULL_STD_RANGE[0]} <= std <= {PULL_STD_RANGE[1]}; "
                     "s.e. = std / sqrt(n), the seeds' own noise on the mean)")
    if "lc" in results[0]:
        c = coverage(results)
        lines.append(f"== Light curve of the flaring source ({c['n']} run bins, {LC_BAND_TEV[0]}-{LC_BAND_TEV[1]} TeV)")
        for k in (1, 2):
            p = COVERAGE[k]
            sd = math.sqrt(p * (1 - p) / c["n"])
            lines.append(f"   {k} sigma coverage {100 * c[k]:5.1f} %  (expected {100 * p:.1f} ± {100 * sd:.1f} %)  "
                         f"{'ok' if abs(c[k] - p) <= 3 * sd else 'OUT'}")
        lines.append(f"   flux pulls (asymmetric error): mean {c['pull_mean']:+.3f}, std {c['pull_std']:.3f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="benchmarks/run.py closure", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=N_SEEDS, help="number of seeds (default %(default)s)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default %(default)s)")
    parser.add_argument("--n-obs", type=int, default=N_OBS, help="observations per store (default %(default)s)")
    args = parser.parse_args(argv if argv is not None else [])
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    t0 = time.perf_counter()
    print(f"== Closure: {len(seeds)} seeds x {args.n_obs} observations, {args.jobs} process(es)", flush=True)
    results = run_seeds(seeds, n_obs=args.n_obs, jobs=args.jobs, log=lambda s: print(s, flush=True))
    print(format_report(results))
    print(f"   wall time {time.perf_counter() - t0:.0f} s")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
