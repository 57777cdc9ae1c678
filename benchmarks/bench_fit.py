"""Joint-crab spectral fitting: gwidgets vs gammapy 2.1 (and Sherpa when installed).

1. Read the 10 OGIP datasets (PHA + BKG + ARF + RMF).                       target < 0.1 s
2. Six log10-parabola fits with errors (MIGRAD + HESSE): the five instruments
   (joint likelihood over each instrument's observations, own energy range)
   and the joint fit of all ten datasets (0.03-30 TeV).                      target < 0.1 s
3. One joint statistic evaluation (10 datasets, WStat) after a parameter
   change, averaged over many calls (best of 5 batches).                     target < 50 µs

Each case runs in a fresh interpreter (`_harness.run_case`); the datasets of
case 2 and 3 are read in the untimed setup.
"""
from __future__ import annotations

from _harness import DATA, report, run_case

SPECTRA = DATA / "joint-crab" / "results" / "spectra"
RANGES = {"fermi": (0.03, 2), "magic": (0.08, 30), "veritas": (0.15, 30), "fact": (0.4, 30), "hess": (0.66, 30)}

FILES = f"""
import glob
RANGES = {RANGES!r}
FILES = {{k: sorted(glob.glob(r"{SPECTRA}/" + k + "/pha_*.fits")) for k in RANGES}}
ALL = [f for k in RANGES for f in FILES[k]]
"""

# ----------------------------------------------------------------------------- read
READ_OURS = FILES + "from gwidgets.core.datasets import SpectrumDatasetOnOff\n"
READ_OURS_BODY = """
sets = [SpectrumDatasetOnOff.read(f) for f in ALL]
extra = {"n_on": int(sum(d.counts.sum() for d in sets))}
"""
READ_GAMMAPY = FILES + "from gammapy.datasets import SpectrumDatasetOnOff\n"
READ_GAMMAPY_BODY = """
sets = [SpectrumDatasetOnOff.read(f) for f in ALL]
extra = {"n_on": int(sum(d.counts.data.sum() for d in sets))}
"""

# ----------------------------------------------------------------------------- fits
FIT_OURS = FILES + """
import math
from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
from gwidgets.core.models import LogParabola, SkyModel
from gwidgets.core.fit import Fit
sets = {k: [SpectrumDatasetOnOff.read(f) for f in FILES[k]] for k in RANGES}
"""
FIT_OURS_BODY = """
out = {}
for key in list(RANGES) + ["joint"]:
    chosen = [d for k in RANGES for d in sets[k]] if key == "joint" else sets[key]
    datasets = Datasets(chosen)
    datasets.set_fit_range(*((0.03, 30) if key == "joint" else RANGES[key]))
    datasets.models = SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5,
                                           beta=0.1 * math.log(10)), name="crab")
    result = Fit().run(datasets)
    p = result.parameters
    out[key] = [result.success, round(result.total_stat, 3)] + [
        (p[n].value, p[n].error) for n in ("amplitude", "alpha", "beta")]
extra = out
"""
FIT_GAMMAPY = FILES + """
import math
import astropy.units as u
from gammapy.datasets import Datasets, SpectrumDatasetOnOff
from gammapy.modeling import Fit
from gammapy.modeling.models import LogParabolaSpectralModel, SkyModel
sets = {k: [SpectrumDatasetOnOff.read(f, name=k + str(i)) for i, f in enumerate(FILES[k])] for k in RANGES}
"""
FIT_GAMMAPY_BODY = """
out = {}
for key in list(RANGES) + ["joint"]:
    chosen = [d for k in RANGES for d in sets[k]] if key == "joint" else sets[key]
    datasets = Datasets(chosen)
    lo, hi = (0.03, 30) if key == "joint" else RANGES[key]
    for d in datasets:
        d.mask_fit = d.counts.geom.energy_mask(lo * u.TeV, hi * u.TeV)
    datasets.models = SkyModel(spectral_model=LogParabolaSpectralModel(
        amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1), name="crab")
    result = Fit().run(datasets)
    p = result.parameters
    out[key] = [result.success, round(result.total_stat, 3)] + [
        (p[n].value * (math.log(10) if n == "beta" else 1), p[n].error * (math.log(10) if n == "beta" else 1))
        for n in ("amplitude", "alpha", "beta")]
extra = out
"""

# ----------------------------------------------------------------------------- one joint statistic
STAT_OURS = FILES + """
import time
from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
from gwidgets.core.models import LogParabola, SkyModel
datasets = Datasets([SpectrumDatasetOnOff.read(f) for f in ALL])
datasets.set_fit_range(0.03, 30)
model = LogParabola(log_base=10, amplitude=3.85e-11, reference=1.0, alpha=2.51, beta=0.24)
datasets.models = SkyModel(model, name="crab")
datasets.stat_sum()
amplitude = model.amplitude
"""
STAT_GAMMAPY = FILES + """
import time
import astropy.units as u
from gammapy.datasets import Datasets, SpectrumDatasetOnOff
from gammapy.modeling.models import LogParabolaSpectralModel, SkyModel
datasets = Datasets([SpectrumDatasetOnOff.read(f, name=str(i)) for i, f in enumerate(ALL)])
for d in datasets:
    d.mask_fit = d.counts.geom.energy_mask(0.03 * u.TeV, 30 * u.TeV)
spectral = LogParabolaSpectralModel(amplitude="3.85e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.51, beta=0.104)
datasets.models = SkyModel(spectral_model=spectral, name="crab")
datasets.stat_sum()
amplitude = spectral.amplitude
"""
STAT_BODY = """
values = [amplitude.value, amplitude.value * (1 + 1e-6)]
best = float("inf")
for batch in range(5):
    t0 = time.perf_counter()
    for i in range(N):
        amplitude.value = values[i & 1]     # a parameter change: nothing cached
        datasets.stat_sum()
    best = min(best, (time.perf_counter() - t0) / N)
extra = {"us_per_call": best * 1e6, "stat": float(datasets.stat_sum())}
"""

SHERPA_NOTE = "   sherpa   : not installed (optional reference) - skipped"


def _sherpa_available() -> bool:
    try:
        import sherpa  # noqa: F401
    except ImportError:
        return False
    return True


def _fit_table(ours, ref):
    lines = ["   fitted parameters (β for log10; value ± error), gwidgets | gammapy:"]
    for key, row in ours.items():
        g = ref[key]
        cells = []
        for (v, e), (gv, ge) in zip(row[2:], g[2:]):
            cells.append(f"{v:.5g}±{e:.3g} | {gv:.5g}±{ge:.3g}")
        lines.append(f"     {key:8s} stat {row[1]:9.3f} | {g[1]:9.3f}   " + "   ".join(cells))
    return "\n".join(lines)


def main():
    ours = run_case(READ_OURS, READ_OURS_BODY)
    ref = run_case(READ_GAMMAPY, READ_GAMMAPY_BODY)
    assert ours["extra"] == ref["extra"], (ours["extra"], ref["extra"])
    print(report("joint-crab: read 10 OGIP datasets (PHA+BKG+ARF+RMF)", ours, ref))
    print(f"   target   : < 0.1 s -> {'OK' if ours['seconds'] < 0.1 else 'MISSED'}")

    ours = run_case(FIT_OURS, FIT_OURS_BODY)
    ref = run_case(FIT_GAMMAPY, FIT_GAMMAPY_BODY)
    print(report("joint-crab: six log-parabola fits with errors (5 instruments + joint)", ours, ref))
    print(f"   target   : < 0.1 s -> {'OK' if ours['seconds'] < 0.1 else 'MISSED'}")
    print(_fit_table(ours["extra"], ref["extra"]))

    ours = run_case(STAT_OURS, "N = 2000\n" + STAT_BODY)
    ref = run_case(STAT_GAMMAPY, "N = 30\n" + STAT_BODY)
    us, us_ref = ours["extra"]["us_per_call"], ref["extra"]["us_per_call"]
    print("== joint-crab: one joint WStat evaluation (10 datasets, after a parameter change)")
    print(f"   gwidgets : {us:9.1f} µs   (stat {ours['extra']['stat']:.4f})")
    print(f"   gammapy  : {us_ref:9.1f} µs   (stat {ref['extra']['stat']:.4f})")
    print(f"   speed-up : {us_ref / us:6.1f}x")
    print(f"   target   : < 50 µs -> {'OK' if us < 50 else 'MISSED'}")
    if not _sherpa_available():
        print(SHERPA_NOTE)


if __name__ == "__main__":
    main()
