"""The config-driven high-level analysis: `Analysis`, ``gwidgets run``, and session export.

>>> from gwidgets.core.analysis import Analysis
>>> # needs the joint-crab data: gwidgets download joint-crab
>>> Analysis("examples/joint_crab_dl3.yaml").run()   # doctest: +SKIP
PosixPath('joint-crab-results')
"""
from .analysis import Analysis
from .export import (
           SessionState,
           config_to_script,
           config_to_state,
           session_to_config,
           session_to_state,
           state_to_config,
)
from .plots import PLOTS, Plot
from .steps import STEPS, Step, StepNotAvailableError
from .writers import WRITERS, read_fit_result

__all__ = ["Analysis", "STEPS", "Step", "StepNotAvailableError", "PLOTS", "Plot", "WRITERS", "read_fit_result",
           "SessionState",
           "session_to_state", "session_to_config", "state_to_config", "config_to_state", "config_to_script"]
