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
kept = [o.load_all() for o in observations]
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


def main():
    ours = run_case(SETUP_OURS, OURS)
    ref = run_case(SETUP_GAMMAPY, GAMMAPY)
    assert ours["extra"] == ref["extra"], (ours["extra"], ref["extra"])
    print(report(f"H.E.S.S. DR1: read {ours['extra']['observations']} observations, "
                 f"{ours['extra']['events']} events + all IRFs", ours, ref))


if __name__ == "__main__":
    main()
