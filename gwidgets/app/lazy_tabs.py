"""LazyTabs: an `ipywidgets.Tab` whose panels are built the first time they are shown.

Every widget on a page costs the browser a model and a view before the first
paint; a panel nobody has opened yet costs one placeholder instead.

>>> import ipywidgets as w
>>> tabs = LazyTabs([("A", lambda: w.Label("a")), ("B", lambda: w.Label("b"))])
>>> tabs.is_built("B")
False
>>> tabs.selected_index = 1          # what a click on tab "B" does
>>> tabs.is_built("B"), tabs.children[1].value
(True, 'b')
"""
from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

__all__ = ["LazyTabs"]


class LazyTabs(w.Tab):
    """Tabs built on demand.

    Parameters
    ----------
    panels : list of (title, factory)
        ``factory()`` returns the panel's widget; it is called once, when the
        tab is first selected (the first tab: at once) or `panel` asks for it.
    placeholder : str
        HTML shown in a tab until its panel is built.
    """

    def __init__(self, panels: list[tuple[str, Callable[[], w.Widget]]], placeholder: str = "<i>loading…</i>",
                 **kwargs):
        if not panels:
            raise ValueError("LazyTabs needs at least one panel")
        self._factories = {title: factory for title, factory in panels}
        self._titles = [title for title, _ in panels]
        self._built: dict[str, w.Widget] = {}
        children = [w.HTML(placeholder) for _ in panels]
        super().__init__(children=children, titles=self._titles, **kwargs)
        self.observe(self._on_select, "selected_index")
        self._build(self._titles[0])
        self.selected_index = 0

    def is_built(self, title: str) -> bool:
        return title in self._built

    def panel(self, title: str) -> w.Widget:
        """The panel of tab ``title``, built now if needed (without switching to it)."""
        if title not in self._factories:
            raise KeyError(f"no tab '{title}' (tabs: {', '.join(self._titles)})")
        return self._build(title)

    def _build(self, title: str) -> w.Widget:
        if title not in self._built:
            widget = self._factories[title]()
            self._built[title] = widget
            children = list(self.children)
            children[self._titles.index(title)] = widget
            self.children = children
        return self._built[title]

    def _on_select(self, change):
        index = change["new"]
        if index is None or not 0 <= index < len(self._titles):
            return
        title = self._titles[index]
        try:
            self._build(title)
        except Exception as exc:  # a panel that cannot be built must not break the page: say why in its tab
            import html

            children = list(self.children)
            children[index] = w.HTML(f"<span class='gw-error'>The {html.escape(title)} panel could not be built: "
                                     f"{html.escape(str(exc))}</span>")
            self.children = children
