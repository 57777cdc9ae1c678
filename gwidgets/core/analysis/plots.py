"""Registry of the PNG plots that ``gwidgets run`` writes into ``plots/`` (no drawing code here).

The core never imports a plotting library: the plots themselves live in
`gwidgets.plotting.products`, which registers them here when imported
(``gwidgets run`` and ``gw.Analysis`` do that). Each plot is a function
``plot(analysis, folder) -> file name`` with an ``applies(analysis)`` predicate.
With no plot registered, the ``plots`` output writes nothing.
"""
from __future__ import annotations

__all__ = ["PLOTS", "register_plot"]

PLOTS = {}


def register_plot(name, applies):
    """Decorator: register ``func(analysis, folder) -> file name`` as plot ``name``, drawn when ``applies(analysis)``."""

    def deco(func):
        func.applies = applies
        PLOTS[name] = func
        return func

    return deco
