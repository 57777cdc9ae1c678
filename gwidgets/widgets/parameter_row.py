"""ParameterRow: one model parameter as slider + value box + unit + bounds + error + frozen toggle.

The row writes only to its `Parameter` (``value``, ``frozen``), inside its
view's ``action`` (`SessionView.action`: a bad value is shown in the page and
the parameter keeps its value); the model
editor listens to the parameters and calls `ParameterRow.sync` (coalesced) when
something else — a fit, a script, a YAML load — changed them, so widgets and
parameters stay in step without feedback loops: while a row writes its own
widgets (``sync``) their observers do nothing.

The value box is a `Text` box, not a `FloatText`: the browser's FloatText
silently drops what is not a number, and we want a typed ``abc`` (or a value
outside the bounds) to reach the kernel and be reported in the page. It also
accepts a value with a unit (``"3e-11 cm-2 s-1 TeV-1"``, ``"500 GeV"``).
"""
from __future__ import annotations

import html
import math
import re
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

import astropy.units as u
import ipywidgets as w

# not all Style classes are exported at the top level of ipywidgets 8
from ipywidgets.widgets.widget_bool import ToggleButtonStyle
from ipywidgets.widgets.widget_string import HTMLStyle, TextStyle

from ..core.models.parameter import ParameterError

__all__ = ["ParameterRow", "parse_value", "slider_range", "css_name"]

#: number of slider steps over its range (keyboard arrows move one step)
SLIDER_STEPS = 200
#: half-width [deg] of the slider window for sky positions (lon_0/lat_0)
POSITION_WINDOW = 2.0


#: Layout / Style widgets shared by all rows (one browser model each instead of one per row and widget)
_SHARED: dict = {}


def _shared(cls, **traits):
    """One shared instance of a Layout / Style class per set of traits (made again if it was closed).

    Every widget otherwise makes its own Layout and Style: for a parameter row that is
    ~25 widget models the browser must create before the first paint instead of 8.
    """
    key = (cls, tuple(sorted(traits.items())))
    obj = _SHARED.get(key)
    if obj is None or getattr(obj, "comm", None) is None:
        obj = _SHARED[key] = cls(**traits)
    return obj


def _layout(width: str) -> w.Layout:
    return _shared(w.Layout, width=width)


def css_name(text: str) -> str:
    """A string usable in a CSS class (``"my source.spectral.alpha"`` → ``"my_source-spectral-alpha"``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(text).replace(".", "-"))


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _bound(value: float) -> str:
    return "∞" if not math.isfinite(value) else f"{value:g}"


def parse_value(text, param, where: str | None = None) -> float:
    """The number typed for ``param`` (in its unit), or `ParameterError` naming it.

    Accepts a plain number or a number with a unit convertible to the
    parameter's; rejects non-finite values and values outside ``[min, max]``.
    """
    name = where or param.name
    s = str(text).strip()
    if not s:
        raise ParameterError(f"Parameter '{name}': empty value (kept {_fmt(param.value)})")
    try:
        value = float(s)
    except ValueError:
        try:
            q = u.Quantity(s)
        except Exception:  # astropy raises TypeError / ValueError / its own parse errors
            raise ParameterError(f"Parameter '{name}': {s!r} is not a number (kept {_fmt(param.value)})") from None
        try:
            value = float(q.value) if q.unit == u.one else float(q.to_value(param.unit))
        except u.UnitConversionError:
            raise ParameterError(
                f"Parameter '{name}': unit '{q.unit}' of {s!r} does not convert to '{param.unit}' "
                f"(kept {_fmt(param.value)})"
            ) from None
    if not math.isfinite(value):
        raise ParameterError(f"Parameter '{name}': value must be finite, got {s!r} (kept {_fmt(param.value)})")
    lo, hi = param.min, param.max
    if (math.isfinite(lo) and value < lo) or (math.isfinite(hi) and value > hi):
        raise ParameterError(
            f"Parameter '{name}': {value:g} is outside its bounds [{_bound(lo)}, {_bound(hi)}] "
            f"(kept {_fmt(param.value)})"
        )
    return value


def _is_position(param) -> bool:
    return param.name in ("lon_0", "lat_0") and param.unit.is_equivalent(u.deg)


def slider_range(param) -> tuple[float, float, bool]:
    """``(lo, hi, log)`` for a slider around the parameter's current value.

    Log sliders (``interp == "log"`` and a positive value) span the finite
    positive bounds, else the value's decade and two more either side; linear
    sliders span the finite bounds, else ``value ± max(|value|, 1)`` (sky
    positions: ± 2°), clipped to the bounds.
    """
    v, pmin, pmax = param.value, param.min, param.max
    if param.interp == "log" and v > 0:
        decade = math.floor(math.log10(v))
        lo = pmin if math.isfinite(pmin) and pmin > 0 else 10.0 ** (decade - 2)
        hi = pmax if math.isfinite(pmax) and pmax > lo else 10.0 ** (decade + 3)
        lo, hi = min(lo, v), max(hi, v)
        return lo, hi if hi > lo else lo * 10.0, True
    if _is_position(param):
        window = POSITION_WINDOW * float(u.deg.to(param.unit))
        lo, hi = v - window, v + window
        if math.isfinite(pmin):
            lo = max(lo, pmin)
        if math.isfinite(pmax):
            hi = min(hi, pmax)
    else:
        span = max(abs(v), 1.0)
        lo = pmin if math.isfinite(pmin) else v - span
        hi = pmax if math.isfinite(pmax) else v + span
    lo, hi = min(lo, v), max(hi, v)
    if hi <= lo:
        hi = lo + 1.0
    return lo, hi, False


class ParameterRow(w.HBox):
    """Widgets for one parameter.

    Parameters
    ----------
    param : `~gwidgets.core.models.Parameter`
    path : str
        Its path in the models (``"source.spectral.alpha"``), used in messages and CSS classes.
    action : callable
        The view's `SessionView.action`: each edit runs in ``with action():``, which shows its error in the page.
    """

    def __init__(self, param, path: str, action: Callable[[], AbstractContextManager], **kwargs):
        self.param = param
        self.path = path
        self._action = action
        self._local = threading.local()
        self.dirty = False
        lo, hi, log = slider_range(param)
        self.is_log = log
        html_style = _shared(HTMLStyle)
        self.name_label = w.HTML(f"<span title='{html.escape(path, quote=True)}'>{html.escape(param.name)}</span>",
                                 layout=_layout("110px"), style=html_style)
        slider_style = _shared(w.SliderStyle)
        if log:
            elo, ehi = math.log10(lo), math.log10(hi)
            self.slider = w.FloatLogSlider(value=param.value, base=10, min=elo, max=ehi,
                                           step=(ehi - elo) / SLIDER_STEPS,
                                           readout=False, layout=_layout("240px"), style=slider_style)
        else:
            self.slider = w.FloatSlider(value=param.value, min=lo, max=hi, step=(hi - lo) / SLIDER_STEPS,
                                        readout=False, layout=_layout("240px"), style=slider_style)
        self.text = w.Text(value=_fmt(param.value), continuous_update=False, layout=_layout("110px"),
                           style=_shared(TextStyle))
        self.unit = w.HTML(f"<code>{param.unit.to_string() if param.unit != u.one else ''}</code>",
                           layout=_layout("130px"), style=html_style)
        self.bounds = w.HTML(layout=_layout("110px"), style=html_style)
        self.err = w.HTML(layout=_layout("80px"), style=html_style)
        self.frozen = w.ToggleButton(value=param.frozen, description="frozen", icon="lock",
                                     tooltip="frozen parameters are not fitted", layout=_layout("90px"),
                                     style=_shared(ToggleButtonStyle))
        for widget, cls in ((self.slider, "gw-param-slider"), (self.text, "gw-param-value"),
                            (self.unit, "gw-param-unit"), (self.bounds, "gw-param-bounds"),
                            (self.err, "gw-param-err"), (self.frozen, "gw-param-frozen")):
            widget.add_class(cls)
        self.slider.observe(self._on_slider, "value")
        self.text.observe(self._on_text, "value")
        self.frozen.observe(self._on_frozen, "value")
        super().__init__([self.name_label, self.slider, self.text, self.unit, self.bounds, self.err, self.frozen],
                         **kwargs)
        self.add_class("gw-param-row")
        self.add_class(f"gw-param-{css_name(path)}")
        self.sync()

    # ------------------------------------------------------------ helpers
    @property
    def _syncing(self) -> bool:
        return getattr(self._local, "syncing", False)

    @property
    def writing(self) -> bool:
        """True while this row is writing its parameter (the editor ignores those notifications)."""
        return getattr(self._local, "writing", False)

    def _write(self, attr, value):
        self._local.writing = True
        try:
            setattr(self.param, attr, value)
        finally:
            self._local.writing = False

    # ------------------------------------------------------ widget → param
    def _on_slider(self, change):
        if self._syncing or (self.is_log and self.param.value <= 0):
            return
        new = float(change["new"])
        if self._snapped(new):
            return
        self._set(new)

    def _snapped(self, new: float) -> bool:
        """True if ``new`` is the browser snapping the current value to the slider grid.

        noUiSlider only shows values on its grid; a log slider's view sends the
        snapped value back when it renders. A real move is at least one step, so
        anything closer than half a step to the parameter's value is that echo
        and must not change the model.
        """
        cur = self.param.value
        step = self.slider.step
        if self.is_log:
            return new > 0 and cur > 0 and abs(math.log10(new) - math.log10(cur)) < 0.5 * step
        return abs(new - cur) < 0.5 * step

    def _on_text(self, change):
        if self._syncing:
            return
        with self._action():
            self._write("value", parse_value(change["new"], self.param, self.path))
        self.sync()  # the new value, or the one that was kept

    def _set(self, value: float):
        with self._action():
            self._write("value", value)
        self.sync()

    def _on_frozen(self, change):
        if self._syncing:
            return
        self._write("frozen", bool(change["new"]))

    # ------------------------------------------------------ param → widget
    def _slider_fits(self, v) -> bool:
        s = self.slider
        if self.is_log:
            return v > 0 and s.base ** s.min <= v <= s.base ** s.max
        return s.min <= v <= s.max

    def sync(self):
        """Show the parameter's current value, bounds, error and frozen flag (no feedback)."""
        p = self.param
        v = p.value
        self._local.syncing = True
        try:
            s = self.slider
            with s.hold_sync():
                if self.is_log:
                    s.disabled = v <= 0
                if not self._slider_fits(v) and not (self.is_log and v <= 0):
                    lo, hi, _ = slider_range(p)
                    if self.is_log:
                        lo, hi = math.log10(lo), math.log10(hi)
                    with s.hold_trait_notifications():
                        s.min, s.max, s.step = lo, hi, (hi - lo) / SLIDER_STEPS
                        s.value = v
                elif s.value != v and not (self.is_log and v <= 0):
                    s.value = v
            text = _fmt(v)
            if self.text.value != text:
                self.text.value = text
            bounds = "" if not (math.isfinite(p.min) or math.isfinite(p.max)) else f"[{_bound(p.min)}, {_bound(p.max)}]"
            if self.bounds.value != bounds:
                self.bounds.value = bounds
            err = f"± {p.error:.2g}" if p.error and math.isfinite(p.error) else ""
            if self.err.value != err:
                self.err.value = err
            if self.frozen.value != p.frozen:
                self.frozen.value = p.frozen
        finally:
            self._local.syncing = False
        self.dirty = False
