"""Lazy module attributes (PEP 562): names imported from their module on first access.

Keeps ``import gwidgets`` and the subpackages light: heavy modules load only
when one of their names is used.

>>> import types
>>> mod = types.ModuleType("demo")
>>> mod.__getattr__, mod.__dir__ = lazy_exports("demo", {"sqrt": "math"}, vars(mod))
>>> mod.sqrt(4.0)
2.0
"""
from __future__ import annotations

import importlib

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str], namespace: dict):
    """``(__getattr__, __dir__)`` for a module whose names ``exports`` maps to the modules defining them.

    A module name starting with ``"."`` is relative to ``package``; others are absolute.
    The value is cached in ``namespace`` (the module's globals) after the first access.
    """

    def __getattr__(name):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package if module.startswith(".") else None), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
