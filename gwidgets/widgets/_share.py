"""Fewer widget models for the browser: one shared, read-only instance of each default Layout / Style class.

Every ipywidgets control makes its own ``layout`` and ``style`` models
(``Layout``, ``HTMLStyle``, ``ButtonStyle``, …), and the page must create each
of them before it shows anything. Those left at their defaults are identical,
so one instance per class can serve every widget. The shared instances are
read-only: setting an attribute on one (``widget.layout.display = "none"``
on a widget that had a default layout) raises `SharedWidgetError` instead of
silently changing every widget that shares it. Give such a widget its own
``Layout(...)`` at construction (any non-default trait keeps it unshared).

>>> import ipywidgets as w
>>> box = w.VBox([w.HTML("a"), w.HTML("b"), w.Button(description="c", layout=w.Layout(width="80px"))])
>>> share_defaults(box)                          # models removed: 6 replaced, 3 shared ones made
3
>>> box.children[0].style is box.children[1].style, box.children[0].layout is box.children[1].layout
(True, True)
>>> box.children[2].layout.width                 # a layout with its own values is left alone
'80px'
>>> box.children[0].layout.display = "none"      # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
SharedWidgetError: This Layout is shared by many widgets: give the widget its own Layout(...) to change 'display'
"""
from __future__ import annotations

import ipywidgets as w

__all__ = ["share_defaults", "SharedWidgetError"]

_SKIP = {"comm", "keys", "log"}


class SharedWidgetError(AttributeError):
    """An attribute of a shared, read-only Layout / Style was set."""


def _walk(root):
    stack, seen = [root], set()
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        yield widget
        stack.extend(c for c in getattr(widget, "children", ()) or () if isinstance(c, w.Widget))


def _names(obj) -> list[str]:
    return [n for n in obj.keys if not n.startswith("_") and n not in _SKIP]


def _is_default(obj) -> bool:
    for name in _names(obj):
        try:
            if getattr(obj, name) != obj.trait_defaults(name):
                return False
        except Exception:  # a trait without a comparable default: keep the object as it is
            return False
    return True


_LOCKED: dict[type, type] = {}


def _locked_class(cls: type) -> type:
    """``cls`` with public synced traits read-only once ``_gw_locked`` is set (same browser model)."""
    sub = _LOCKED.get(cls)
    if sub is None:
        def __setattr__(self, name, value, _cls=cls):
            if self.__dict__.get("_gw_locked") and name in _names(self):
                raise SharedWidgetError(f"This {_cls.__name__} is shared by many widgets: give the "
                                        f"widget its own {_cls.__name__}(...) to change '{name}'")
            super(sub_ref[0], self).__setattr__(name, value)

        sub_ref = []
        sub = type(f"Shared{cls.__name__}", (cls,), {"__setattr__": __setattr__, "__module__": __name__})
        sub_ref.append(sub)
        _LOCKED[cls] = sub
    return sub


def _shared_instance(cls, shared: dict):
    obj = shared.get(cls)
    if obj is None or getattr(obj, "comm", None) is None:
        obj = _locked_class(cls)()
        obj.__dict__["_gw_locked"] = True
        shared[cls] = obj
    return obj


def share_defaults(root, shared: dict | None = None, attrs=("layout", "style")) -> int:
    """Give every widget below ``root`` whose ``layout`` / ``style`` is at its defaults the shared instance.

    The shared read-only instance of that class replaces it; the replaced objects are closed (their
    models leave the page).

    Returns how many models were removed.
    """
    shared = {} if shared is None else shared
    replaced = 0
    for widget in _walk(root):
        for attr in attrs:
            obj = getattr(widget, attr, None) if widget.has_trait(attr) else None
            if not isinstance(obj, w.Widget) or type(obj) in _LOCKED.values() or not _is_default(obj):
                continue
            keep = _shared_instance(type(obj), shared)
            setattr(widget, attr, keep)
            obj.close()
            replaced += 1
    return replaced - len([o for o in shared.values() if o is not None])
