"""The PNG plots that ``gwidgets run`` writes into ``plots/``: `PLOTS` (no drawing code here).

The core never imports a plotting library, so an entry of `PLOTS` is a `Plot`
naming the function that draws it (``"module:function"``, imported only when
the plot is drawn) and a predicate saying whether it applies to an analysis.
The drawing functions live in `gwidgets.plotting.analysis_plots`. A new plot is
one drawing function plus one ``PLOTS.add(...)`` line here (see docs/extending.md).

>>> list(PLOTS)
['spectrum', 'light_curve']
>>> PLOTS["spectrum"].target
'gwidgets.plotting.analysis_plots:spectrum_png'
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ..registry import Registry

__all__ = ["PLOTS", "Plot"]


@dataclass(frozen=True)
class Plot:
    """A plot of the analysis products, drawn by a function imported when needed.

    Parameters
    ----------
    target : str
        ``"module:function"``; ``function(analysis, folder) -> file name`` draws the plot into ``folder``.
    applies : callable
        ``applies(analysis) -> bool``: whether the analysis has what the plot shows.

    Examples
    --------
    >>> plot = Plot("os.path:join", applies=lambda analysis: True)
    >>> plot.load().__name__
    'join'
    """

    target: str
    applies: Callable

    def __repr__(self):
        return f"Plot({self.target!r})"

    def load(self) -> Callable:
        """Import the drawing function.

        Returns
        -------
        callable
            ``function(analysis, folder) -> file name``.
        """
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def draw(self, analysis, folder) -> str:
        """Draw the plot of ``analysis`` into ``folder``.

        Parameters
        ----------
        analysis : `~gwidgets.core.analysis.Analysis`
            The analysis whose products are plotted.
        folder : pathlib.Path
            Where the PNG file goes.

        Returns
        -------
        str
            The name of the written file.
        """
        return self.load()(analysis, folder)


#: name -> `Plot`, in the order they are drawn
PLOTS = Registry("plot")
PLOTS.add("spectrum", Plot("gwidgets.plotting.analysis_plots:spectrum_png",
                           applies=lambda a: a.fit_result is not None and a.models is not None))
PLOTS.add("light_curve", Plot("gwidgets.plotting.analysis_plots:light_curve_png",
                              applies=lambda a: a.light_curve is not None and hasattr(a.light_curve, "to_table")))
