"""The joint-crab paper in one command: gwidgets vs gammapy 2.1 on the same recipe, times and fitted values.

Recipe (``examples/joint_crab_dl3.yaml``): the Fermi-LAT OGIP spectrum plus H.E.S.S., MAGIC, VERITAS and
all 125 FACT runs reduced from DL3 (reflected regions, the paper's exclusion mask, each instrument's ON
radius, safe range and fit range, FACT stacked with a 0.4 TeV threshold; H.E.S.S. corrected for the PSF
containment, as our default does for full-enclosure IRFs), then one joint log10-parabola fit.

1. gwidgets: ``Analysis(config).run_fit()`` (read, reduce, fit) in a fresh interpreter; and the whole
   ``gwidgets run`` command (with flux points, plots and every file written), timed as a subprocess.
                                                                                target < 4 s
2. gammapy 2.1: the same reduction and joint fit.

The fitted values of both, and the paper's (results/fit/fit_joint.yaml of the joint-crab repository),
are printed side by side.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time

from _harness import DATA, ROOT, report, run_case

CONFIG = ROOT / "examples" / "joint_crab_dl3.yaml"
PAPER = {"amplitude": (3.8491e-11, 1.1435e-12), "alpha": (2.5054, 0.0255), "beta": (0.23621, 0.02451)}

OURS_SETUP = f"""
import os
os.environ["GWIDGETS_DATA"] = r"{DATA}"
from gwidgets.core.analysis import Analysis
"""
OURS_BODY = f"""
analysis = Analysis(r"{CONFIG}")
result = analysis.run_fit()
p = result.parameters
extra = {{n: [p[n].value, p[n].error] for n in ("amplitude", "alpha", "beta")}}
"""

GAMMAPY_SETUP = f"""
import math
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from gammapy.data import DataStore
from gammapy.datasets import Datasets, SpectrumDataset, SpectrumDatasetOnOff
from gammapy.makers import ReflectedRegionsBackgroundMaker, SafeMaskMaker, SpectrumDatasetMaker
from gammapy.maps import Map, MapAxis, RegionGeom
from gammapy.modeling import Fit
from gammapy.modeling.models import LogParabolaSpectralModel, SkyModel
ROOT = r"{DATA}/joint-crab"
CRAB = SkyCoord(83.633, 22.014, unit="deg")
RECIPE = {{"hess": (0.11, (0.66, 30), None, False, True), "magic": (0.1414, (0.08, 30), None, False, False),
          "veritas": (0.1, (0.15, 30), None, False, False), "fact": (0.1732, (0.4, 30), 0.4, True, False)}}
"""
GAMMAPY_BODY = """
mask = Map.read(ROOT + "/results/maps/exclusion_mask.fits.gz")
mask.data = mask.data > 0.5
e = MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV")
et = MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV", name="energy_true")
fermi = SpectrumDatasetOnOff.read(ROOT + "/results/spectra/fermi/pha_obs0.fits", format="ogip")
fermi.mask_fit = fermi.counts.geom.energy_mask(0.03 * u.TeV, 2 * u.TeV)
datasets = Datasets([fermi])
for name, (radius, (lo, hi), safe_min, stack, full) in RECIPE.items():
    obs = DataStore.from_dir(ROOT + "/data/" + name).get_observations(
        required_irf=["aeff", "edisp", "psf"] if full else "point-like")
    empty = SpectrumDataset.create(geom=RegionGeom.create(CircleSkyRegion(CRAB, radius * u.deg), axes=[e]),
                                   energy_axis_true=et)
    maker = SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"], containment_correction=full)
    bkg = ReflectedRegionsBackgroundMaker(exclusion_mask=mask)
    sets = Datasets()
    for o in obs:
        d = SafeMaskMaker(methods=["aeff-default"]).run(bkg.run(maker.run(empty.copy(name=f"{name}_{o.obs_id}"), o), o), o)
        if safe_min is not None:
            d.mask_safe &= d.counts.geom.energy_mask(energy_min=safe_min * u.TeV)
        sets.append(d)
    if stack:
        sets = Datasets([sets.stack_reduce(name=name)])
    for d in sets:
        d.mask_fit = d.counts.geom.energy_mask(lo * u.TeV, hi * u.TeV)
        datasets.append(d)
datasets.models = SkyModel(LogParabolaSpectralModel(amplitude="3.85e-11 cm-2 s-1 TeV-1", reference="1 TeV",
                                                    alpha=2.5, beta=0.24 / math.log(10)), name="crab")
result = Fit().run(datasets)
p = result.parameters
extra = {"amplitude": [p["amplitude"].value, p["amplitude"].error], "alpha": [p["alpha"].value, p["alpha"].error],
         "beta": [p["beta"].value * math.log(10), p["beta"].error * math.log(10)]}
"""


def _cli_seconds() -> float:
    """Wall time of the README's command, ``gwidgets run examples/joint_crab_dl3.yaml``, as a user runs it."""
    env = dict(os.environ, GWIDGETS_DATA=str(DATA), PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gwidgets", "run", str(CONFIG), "--outdir", f"{tmp}/out", "--quiet"],
                       check=True, env=env, capture_output=True)
        return time.perf_counter() - t0


def main(argv=None):
    if not (DATA / "joint-crab").exists():
        print("== joint-crab paper: shared data not found, skipped")
        return
    ours = run_case(OURS_SETUP, OURS_BODY)
    cli = _cli_seconds()
    ref = run_case(GAMMAPY_SETUP, GAMMAPY_BODY, timeout=1200)
    print(report("joint-crab paper: Fermi OGIP + 4 IACTs from DL3 (133 runs) -> joint fit", ours, ref))
    print(f"   whole `gwidgets run` command (interpreter start, flux points, plots, files): {cli:.2f} s")
    print(f"   {'':<10}{'gwidgets':>24}{'gammapy 2.1':>24}{'paper':>24}  (ours-gammapy)/σ")
    for name in ("amplitude", "alpha", "beta"):
        (v, e), (gv, ge), (pv, pe) = ours["extra"][name], ref["extra"][name], PAPER[name]
        print(f"   {name:<10}{v:>13.5g} ± {e:<8.3g}{gv:>13.5g} ± {ge:<8.3g}{pv:>13.5g} ± {pe:<8.3g}  "
              f"{(v - gv) / ge:+.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
