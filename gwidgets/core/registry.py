"""One registry type for everything gwidgets looks up by name.

Models, IRF classes, analysis steps, plots, product writers, reducers, dataset
modes and session products are all kept in a `Registry`: a name -> object
mapping that **refuses a second entry under a name already taken** (a
`RegistryError` naming both entries) instead of silently replacing it, and that
is filled explicitly, by a decorator or one ``registry.add(...)`` line next to
the definition.

Examples
--------
>>> from gwidgets.core.registry import Registry, RegistryError
>>> shapes = Registry("shape")
>>> @shapes.register("disk")
... def disk(r):
...     return 3.14159 * r ** 2
>>> shapes["disk"](1.0)
3.14159
>>> list(shapes)
['disk']
>>> shapes.add("disk", abs)
Traceback (most recent call last):
...
gwidgets.core.registry.RegistryError: shape 'disk' is already registered (gwidgets.core.registry.disk); \
cannot register builtins.abs under the same name
>>> shapes["ring"]
Traceback (most recent call last):
...
gwidgets.core.registry.RegistryError: unknown shape 'ring'; known: disk
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["Registry", "RegistryError"]


class RegistryError(KeyError, ValueError):
    """A name registered twice, or looked up but never registered.

    It is a `KeyError` (an unknown name is a missing key) and a `ValueError`
    (a user-supplied name is a bad value), so callers can catch either.
    """

    def __str__(self):  # KeyError quotes its message; this one is a sentence
        return str(self.args[0]) if self.args else ""


def _qualname(obj) -> str:
    """How an entry is named in errors: ``module.qualname`` of a class or function, else its repr."""
    name = getattr(obj, "__qualname__", None)
    if isinstance(name, str):
        return f"{getattr(obj, '__module__', None) or type(obj).__module__}.{name}"
    return repr(obj)


class Registry(Mapping):
    """Name -> object mapping that refuses duplicates and is filled explicitly.

    Parameters
    ----------
    kind : str
        What the entries are ("model", "analysis step", ...), used in error messages.

    Examples
    --------
    >>> reg = Registry("writer")
    >>> reg.add("csv", str)
    <class 'str'>
    >>> "csv" in reg, len(reg)
    (True, 1)
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Any] = {}

    # -- filling ---------------------------------------------------------------------------------
    def add(self, name: str, obj: Any, *, replace: bool = False) -> Any:
        """Register ``obj`` under ``name``.

        Parameters
        ----------
        name : str
            The name it is looked up by.
        obj : object
            The registered object (a class, a function ...).
        replace : bool, optional
            Allow replacing an existing entry (for tests and deliberate overrides). Registering
            the very same object again is always allowed and changes nothing.

        Returns
        -------
        object
            ``obj`` itself, so that ``add`` can be used inside a decorator.

        Raises
        ------
        RegistryError
            If ``name`` is taken by another object and ``replace`` is false.
        """
        if not isinstance(name, str) or not name:
            raise RegistryError(f"{self.kind} name must be a non-empty string, got {name!r}")
        old = self._entries.get(name)
        if old is not None and old is not obj and not replace:
            raise RegistryError(
                f"{self.kind} '{name}' is already registered ({_qualname(old)}); "
                f"cannot register {_qualname(obj)} under the same name")
        self._entries[name] = obj
        return obj

    def register(self, name: str | None = None, **kwargs) -> Callable[[Any], Any]:
        """Decorator form of `add`; the name defaults to the object's ``__name__``.

        Parameters
        ----------
        name : str, optional
            The name to register under.
        **kwargs
            Passed to `add` (``replace``).

        Returns
        -------
        callable
            A decorator that registers its argument and returns it unchanged.
        """

        def deco(obj):
            self.add(name or obj.__name__, obj, **kwargs)
            return obj

        return deco

    def remove(self, name: str) -> Any:
        """Remove and return the entry ``name`` (for tests that register temporary entries).

        Parameters
        ----------
        name : str
            A registered name.

        Returns
        -------
        object
            The removed entry.

        Raises
        ------
        KeyError
            If nothing is registered under ``name``.

        Examples
        --------
        >>> r = Registry("demo")
        >>> r.add("one", 1)
        1
        >>> r.remove("one"), list(r)
        (1, [])
        """
        return self._entries.pop(name)

    # -- lookup ----------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Any:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._entries)) or "(none)"
            raise RegistryError(f"unknown {self.kind} '{name}'; known: {known}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries: {', '.join(self._entries)})"
