"""The config-driven high-level analysis: `Analysis`, ``gwidgets run``, and session export.

>>> from gwidgets.core.analysis import Analysis               # doctest: +SKIP
>>> Analysis("examples/joint_crab_dl3.yaml").run()             # doctest: +SKIP
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
from .products import read_fit_result
from .steps import STEPS, StepNotAvailableError, register_step

__all__ = ["Analysis", "STEPS", "register_step", "StepNotAvailableError", "read_fit_result", "SessionState",
           "session_to_state", "session_to_config", "state_to_config", "config_to_state", "config_to_script"]
