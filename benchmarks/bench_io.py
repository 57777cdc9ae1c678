"""Read all 105 H.E.S.S. DL3 DR1 observations (events + GTI + all IRFs, kept in memory).

Target (issue 3): >= 10x faster than gammapy, peak RSS below gammapy's.
"""
from __future__ import annotations

from _harness import DATA, report, run_case

PATH = DATA / "hess-dl3-dr1"

OURS = f"""
from gwidgets.core.data import DataStore
store = DataStore.from_dir(r"{PATH}")
observations = store.get_observations()
kept = [o.load_all() for o in observations]   # one at a time
n_events = sum(len(o.events) for o in kept)
extra = {{"observations": len(kept), "events": n_events}}
"""

GAMMAPY = f"""
from gammapy.data import DataStore
store = DataStore.from_dir(r"{PATH}")
observations = store.get_observations()
kept = [(o.events, o.gti, o.aeff, o.edisp, o.psf, o.bkg) for o in observations]
n_events = sum(len(k[0].table) for k in kept)
extra = {{"observations": len(kept), "events": n_events}}
"""

SETUP_OURS = "import gwidgets.core.data, gwidgets.core.irf, astropy.table"
SETUP_GAMMAPY = "import gammapy.data, gammapy.irf"


OURS_THREADS = OURS.replace("kept = [o.load_all() for o in observations]   # one at a time",
                            "kept = observations.load_all(n_threads=2)")


def main():
    ours = run_case(SETUP_OURS, OURS)
    threads = run_case(SETUP_OURS, OURS_THREADS)
    ref = run_case(SETUP_GAMMAPY, GAMMAPY)
    assert ours["extra"] == ref["extra"] == threads["extra"], (ours["extra"], ref["extra"])
    title = f"H.E.S.S. DR1: read {ours['extra']['observations']} observations, {ours['extra']['events']} events + all IRFs"
    print(report(title + " (serial)", ours, ref))
    print(report(title + " (Observations.load_all, 2 threads)", threads, ref))


if __name__ == "__main__":
    main()
