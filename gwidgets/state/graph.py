"""A small dependency graph of derived values: staleness is computed, not tracked by hand.

Each *node* is either an **input** (set by the user: selection, regions,
model parameters) with a version number that increases on every change, or a
**derived** value computed by a pure function of other nodes. A derived value
is cached together with the versions of the inputs it was computed from; it
is stale exactly when one of those versions changed. Nothing is recomputed
until somebody asks for it, and only what depends on a change is recomputed.

Heavy nodes may run in a worker thread (see `gwidgets.state.worker`); the
graph itself is thread-safe for reading versions and storing results.

Examples
--------
>>> g = Graph()
>>> g.add_input("x", 2)
>>> g.add_derived("square", ["x"], lambda x: x * x)
>>> g.get("square")
4
>>> g.set("x", 3); g.is_stale("square")
True
>>> g.get("square")
9
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.progress import Cancelled
from ..errors import GwidgetsError

__all__ = ["Graph", "Node"]


@dataclass
class Node:
    name: str
    inputs: tuple = ()
    compute: Callable | None = None  # None for an input node
    heavy: bool = False
    value: Any = None
    version: int = 0
    key: tuple | None = None  # versions of the inputs the cached value was computed from
    error: BaseException | None = None
    n_computed: int = 0
    pass_token: bool = False


class Graph:
    """Inputs + derived values with version-keyed caches."""

    def __init__(self):
        self._nodes: dict[str, Node] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------- building
    def add_input(self, name: str, value=None):
        self._nodes[name] = Node(name, value=value, version=1)

    def add_derived(self, name: str, inputs, compute: Callable, heavy: bool = False, pass_token: bool = False):
        """``compute(*input_values)`` (plus ``token=`` if ``pass_token``) gives the node's value."""
        missing = [i for i in inputs if i not in self._nodes]
        if missing:
            raise GwidgetsError(f"Node '{name}' depends on unknown node(s) {missing}")
        self._nodes[name] = Node(name, tuple(inputs), compute, heavy, pass_token=pass_token)

    # --------------------------------------------------------------- inputs
    def set(self, name: str, value):
        node = self._node(name)
        if node.compute is not None:
            raise GwidgetsError(f"'{name}' is derived; it cannot be set")
        with self._lock:
            node.value = value
            node.version += 1

    def touch(self, name: str):
        """Mark an input as changed in place (e.g. a model parameter moved)."""
        node = self._node(name)
        with self._lock:
            node.version += 1

    # -------------------------------------------------------------- reading
    def _node(self, name) -> Node:
        try:
            return self._nodes[name]
        except KeyError:
            raise GwidgetsError(f"Unknown node '{name}'") from None

    def is_input(self, name: str) -> bool:
        """True if ``name`` is an input node (set by `set`, never computed)."""
        return self._node(name).compute is None

    def n_computed(self, name: str) -> int:
        """How many times the derived node ``name`` was computed and cached (0 for an input)."""
        return self._node(name).n_computed

    def version(self, name: str) -> int:
        """An input's version; for a derived node, a tuple of its inputs' versions."""
        node = self._node(name)
        if node.compute is None:
            return node.version
        return self.key(name)

    def key(self, name: str) -> tuple:
        node = self._node(name)
        return tuple(self.version(i) for i in node.inputs)

    def is_stale(self, name: str) -> bool:
        node = self._node(name)
        if node.compute is None:
            return False
        return node.key != self.key(name)

    def stale_nodes(self) -> list[str]:
        return [n for n, node in self._nodes.items() if node.compute is not None and self.is_stale(n)]

    def peek(self, name: str):
        """The cached value, stale or not, without computing."""
        return self._node(name).value

    def get(self, name: str, token=None):
        """The value of ``name``, computing it (and what it needs) if stale.

        A compute function's exception is stored on the node and re-raised;
        the previous value is kept (nothing the user made is lost).
        """
        node = self._node(name)
        if node.compute is None:
            return node.value
        key = self.key(name)
        if node.key == key:
            if node.error is not None:
                raise node.error
            return node.value
        args = [self.get(i, token) for i in node.inputs]
        kwargs = {"token": token} if node.pass_token else {}
        try:
            value = node.compute(*args, **kwargs)
        except Cancelled:
            raise  # not a result: the next request computes it (storing it would poison the node for its key)
        except BaseException as exc:
            with self._lock:
                node.error = exc
                node.key = key
            raise
        return self._store(name, key, value)

    def _store(self, name, key, value):
        node = self._node(name)
        with self._lock:
            if self.key(name) != key:
                return value  # inputs changed while computing: result is already stale, do not cache
            node.value = value
            node.key = key
            node.error = None
            node.n_computed += 1
        return value

    def __contains__(self, name):
        return name in self._nodes

    def __repr__(self):
        stale = self.stale_nodes()
        return f"Graph({len(self._nodes)} nodes, stale: {stale or 'none'})"
