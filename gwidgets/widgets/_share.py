"""Fewer widget models for the browser: one shared instance of each default-valued Style class.

Every ipywidgets control makes its own ``style`` model (``HTMLStyle``,
``ButtonStyle``, ``DescriptionStyle``, …), and the page must create each of
them before it shows anything. Styles left at their defaults are identical,
so one instance per class can serve every widget. Styles are never changed at
run time in gwidgets (layouts are, so layouts are not shared).

>>> import ipywidgets as w
>>> box = w.VBox([w.HTML("a"), w.HTML("b"), w.Button(description="c")])
>>> share_default_styles(box)
1
>>> box.children[0].style is box.children[1].style
True
"""
from __future__ import annotations

import ipywidgets as w

__all__ = ["share_default_styles"]

_SKIP = {"comm", "keys", "log"}


def _walk(root):
    stack, seen = [root], set()
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        yield widget
        stack.extend(c for c in getattr(widget, "children", ()) or () if isinstance(c, w.Widget))


def _is_default(style) -> bool:
    for name in style.keys:
        if name.startswith("_") or name in _SKIP:
            continue
        try:
            if getattr(style, name) != style.trait_defaults(name):
                return False
        except Exception:  # noqa: BLE001 - a trait without a comparable default: keep this style as it is
            return False
    return True


def share_default_styles(root, shared: dict | None = None) -> int:
    """Give every widget below ``root`` whose style is at its defaults the shared style of that class.

    The replaced styles are closed (their models leave the page). Returns how many were replaced.
    """
    shared = {} if shared is None else shared
    replaced = 0
    for widget in _walk(root):
        style = getattr(widget, "style", None) if widget.has_trait("style") else None
        if not isinstance(style, w.Widget) or not _is_default(style):
            continue
        keep = shared.get(type(style))
        if keep is None or getattr(keep, "comm", None) is None:
            shared[type(style)] = style
            continue
        if keep is not style:
            widget.style = keep
            style.close()
            replaced += 1
    return replaced
