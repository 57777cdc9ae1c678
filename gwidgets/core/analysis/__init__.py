"""The config-driven high-level analysis: `Analysis`, ``gwidgets run``, and session export.

>>> from gwidgets.core.analysis import Analysis
>>> # needs the joint-crab data: gwidgets download joint-crab
>>> Analysis("examples/joint_crab_dl3.yaml").run()   # doctest: +SKIP
PosixPath('joint-crab-results')
"""
from ..._lazy import lazy_exports

# names load from their module on first use: the dashboard's session imports `.export` alone, without
# `Analysis`, the config, the executors, the steps and the writers (memory of every dashboard kernel)
_LAZY = {
    "Analysis": ".analysis",
    "SessionState": ".export", "config_to_script": ".export", "config_to_state": ".export",
    "session_to_config": ".export", "session_to_state": ".export", "state_to_config": ".export",
    "PLOTS": ".plots", "Plot": ".plots",
    "STEPS": ".steps", "Step": ".steps", "StepNotAvailableError": ".steps",
    "WRITERS": ".writers", "read_fit_result": ".writers",
}

__all__ = ["Analysis", "STEPS", "Step", "StepNotAvailableError", "PLOTS", "Plot", "WRITERS", "read_fit_result",
           "SessionState",
           "session_to_state", "session_to_config", "state_to_config", "config_to_state", "config_to_script"]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
