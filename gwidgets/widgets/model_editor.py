"""ModelEditor: build, edit, load and save the session's sky models.

A view over ``session.models`` (a `~gwidgets.core.models.Models`):

* one row per parameter (`ParameterRow`: slider — logarithmic for
  ``interp == "log"`` parameters —, value box, unit, bounds, error, frozen
  toggle); moving a slider or typing a value sets ``Parameter.value``, so
  ``session.model_version`` increases and whatever depends on the models
  recomputes;
* "Add component" makes a `SkyModel` of the chosen spectral and spatial types
  (registry kinds ``"spectral"`` / ``"spatial"``) at the ON region or the map
  centre; "Remove component" drops the one named in the name box;
* "Load YAML" / "Save YAML" read and write the path in the path box; the upload
  button loads a YAML file from the browser.

Structural changes build a new `Models` holding the same component objects and
hand it to ``session.set_models`` (so the session watches the new parameters);
the editor rebuilds its rows whenever ``session.models`` is replaced. Parameter
changes made elsewhere (a fit) move the widgets, coalesced: one widget update
per burst (see `Coalescer`). Errors go to ``session.error`` (shown by the
StatusBar) through `SessionView.action` and leave the models as they were;
closing the editor stops its observers (session and parameters).

>>> import gwidgets as gw
>>> from gwidgets.app.first_look import default_analysis
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)       # all runs, ON region on the bright source, a fitted model "source"
>>> editor = ModelEditor(session)
>>> editor.row("source.spectral.alpha").slider.value = 2.6
>>> editor.flush()                                      # the dashboard does this by itself
>>> session.models["source"].spectral_model.alpha.value
2.6
"""
from __future__ import annotations

import html

import ipywidgets as w
import numpy as np
from astropy.coordinates import SkyCoord

from ..core.models import KIND_REGISTRY, LogParabola, Models, PointSpatialModel, SkyModel
from ..errors import GwidgetsError
from .base import SessionView, close_tree
from .parameter_row import ParameterRow, css_name

__all__ = ["ModelEditor", "default_models", "default_position", "model_types"]

NO_SPATIAL = "none"


def model_types(kind: str) -> list[str]:
    """Class names of the registered models of ``kind`` that can be made without arguments."""
    out = []
    for cls in dict.fromkeys(KIND_REGISTRY.get(kind, {}).values()):
        try:
            cls()
        except Exception:  # templates, compound models: need data or sub-models
            continue
        out.append(cls.__name__)
    return out


def _model_class(kind: str, name: str):
    return KIND_REGISTRY[kind][name]


def default_position(session) -> SkyCoord | None:
    """Where a new source goes: ON region centre, else counts-map centre, else the pointings' centre."""
    on = session.on_region
    if on is not None and hasattr(on, "center"):
        return on.center.icrs
    counts = session.counts_map
    if counts is not None:
        return counts.geom.center_skydir.icrs
    try:
        table = session.store.obs_table
        pnt = table.pointing_radec
        if session.selection:
            pnt = pnt[np.isin(np.asarray(table["OBS_ID"]), session.selection)]
    except Exception:  # a store without pointings: no position
        return None
    if len(pnt) == 0:
        return None
    xyz = pnt.cartesian.xyz.value.mean(axis=1)
    mean = SkyCoord(*xyz, representation_type="cartesian", frame="icrs")
    mean = SkyCoord(mean.spherical.lon, mean.spherical.lat, frame="icrs")
    # pointings spread over the sky (several targets): the first pointing is more useful than the mean
    return mean if pnt.separation(mean).deg.max() < 5 else SkyCoord(pnt[0].ra, pnt[0].dec, frame="icrs")


def _spatial(name: str, position: SkyCoord | None):
    if name == NO_SPATIAL:
        return None
    cls = _model_class("spatial", name)
    model = cls()
    if position is not None and "lon_0" in model.parameters:
        model = cls.from_position(position)
    return model


def default_models(session, name: str = "source") -> Models:
    """A log-parabola point source (Crab-like) at `default_position` (spectrum only without one)."""
    spectral = LogParabola(amplitude="3.5e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1)
    position = default_position(session)
    spatial = PointSpatialModel.from_position(position) if position is not None else None
    return Models([SkyModel(spectral, spatial, name=name)])


class ModelEditor(SessionView):
    """Sky-model editor bound to an `AnalysisSession` (see the module docs)."""

    def __init__(self, session, delay: float = 0.05, **kwargs):
        self.rows: list[ParameterRow] = []
        self._params: list = []
        self._rows_of: dict[int, list[ParameterRow]] = {}
        self.version = w.HTML()
        self.version.add_class("gw-model-version")
        self.name = w.Text(placeholder="component name", layout=w.Layout(width="160px"))
        self.name.add_class("gw-model-name")
        self.spectral_type = w.Dropdown(options=model_types("spectral"), value="LogParabola", description="spectral",
                                        layout=w.Layout(width="260px"))
        self.spectral_type.add_class("gw-model-spectral")
        self.spatial_type = w.Dropdown(options=[NO_SPATIAL, *model_types("spatial")], value="PointSpatialModel",
                                       description="spatial", layout=w.Layout(width="280px"))
        self.spatial_type.add_class("gw-model-spatial")
        self.add_button = w.Button(description="Add component", icon="plus", layout=w.Layout(width="160px"))
        self.add_button.add_class("gw-model-add")
        self.remove_button = w.Button(description="Remove component", icon="minus", layout=w.Layout(width="180px"))
        self.remove_button.add_class("gw-model-remove")
        self.path = w.Text(value="models.yaml", description="YAML", layout=w.Layout(width="320px"))
        self.path.add_class("gw-model-path")
        self.load_button = w.Button(description="Load YAML", icon="folder-open")
        self.load_button.add_class("gw-model-load")
        self.save_button = w.Button(description="Save YAML", icon="save")
        self.save_button.add_class("gw-model-save")
        self.upload = w.FileUpload(accept=".yaml,.yml", multiple=False, description="Upload YAML")
        self.upload.add_class("gw-model-upload")
        self.body = w.VBox()
        self.body.add_class("gw-model-rows")

        self.add_button.on_click(lambda _: self.add_component())
        self.remove_button.on_click(lambda _: self.remove_component())
        self.load_button.on_click(lambda _: self.load(self.path.value))
        self.save_button.on_click(lambda _: self.save(self.path.value))
        self.upload.observe(self._on_upload, "value")
        header = w.HBox([w.HTML("<b>Models</b>", layout=w.Layout(width="80px")), self.version])
        controls = w.HBox([self.name, self.spectral_type, self.spatial_type, self.add_button, self.remove_button])
        files = w.HBox([self.path, self.load_button, self.save_button, self.upload])
        super().__init__(session, [header, controls, files, self.body], **kwargs)
        self.add_class("gw-model-editor")
        self._coalescer = self.coalescer(self._flush, delay)
        self.watch(session, self._on_models, "models")
        self.watch(session, self._on_version, "model_version")
        self.rebuild()

    # ------------------------------------------------------------- access
    def row(self, path: str) -> ParameterRow:
        """The row of the parameter at ``path`` (``"source.spectral.alpha"``)."""
        for r in self.rows:
            if r.path == path:
                return r
        raise KeyError(f"No parameter row '{path}' (have: {', '.join(r.path for r in self.rows)})")

    # ------------------------------------------------------------ actions
    def _new_name(self) -> str:
        names = set(self.session.models.names) if self.session.models is not None else set()
        name, i = "source", 1
        while name in names:
            i += 1
            name = f"source-{i}"
        return name

    def add_component(self, name: str | None = None, spectral: str | None = None, spatial: str | None = None):
        """Add a SkyModel of the chosen types (name from the name box, else ``source[-N]``)."""
        with self.action("Add component"):
            name = (name if name is not None else self.name.value).strip() or self._new_name()
            spec_cls = _model_class("spectral", spectral or self.spectral_type.value)
            model = SkyModel(spec_cls(), _spatial(spatial or self.spatial_type.value, default_position(self.session)),
                             name=name)
            current = list(self.session.models) if self.session.models is not None else []
            self.session.set_models(Models([*current, model]))
            self.session.status = f"model component '{name}' added"

    def remove_component(self, name: str | None = None):
        """Remove the component named ``name`` (default: the name box)."""
        with self.action("Remove component"):
            name = (name if name is not None else self.name.value).strip()
            models = self.session.models
            have = list(models.names) if models is not None else []
            if not name:
                raise GwidgetsError(f"Type the name of the component to remove (have: {', '.join(have) or 'none'})")
            if name not in have:
                raise GwidgetsError(f"No model component named '{name}' (have: {', '.join(have) or 'none'})")
            self.session.set_models(Models([m for m in models if m.name != name]))
            self.session.status = f"model component '{name}' removed"

    def load(self, path):
        """Read a model YAML file into the session."""
        with self.action("Load YAML", busy=f"reading {path}…"):
            self.session.set_models(str(path).strip())
            self.session.status = f"models read from {path}"

    def save(self, path):
        """Write the session's models to a YAML file (overwriting)."""
        with self.action("Save YAML", busy=f"writing {path}…"):
            if self.session.models is None:
                raise GwidgetsError("There are no models to save")
            self.session.models.write(str(path).strip(), overwrite=True)
            self.session.status = f"models written to {path}"

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        with self.action("Upload YAML"):
            try:
                text = bytes(item["content"]).decode("utf-8")
            except UnicodeDecodeError:
                raise GwidgetsError(f"Uploaded file '{item.get('name')}' is not UTF-8 text") from None
            self.session.set_models(Models.from_yaml(text))
            self.session.status = f"models read from uploaded file {item.get('name')}"
        self.upload.value = ()

    # ------------------------------------------------------ session → view
    def _on_models(self, change):
        self.rebuild()

    def _on_version(self, change):
        self._coalescer.request()

    def _on_param(self, param, attr, old, new):
        # any thread, possibly thousands of times a second (a fit): mark and coalesce
        for r in self._rows_of.get(id(param), ()):
            if not r.writing:
                r.dirty = True
        self._coalescer.request()

    def _flush(self):
        for r in self.rows:
            if r.dirty:
                r.sync()
        self.version.value = f"<span style='color:#555'>model version {self.session.model_version}</span>"

    def flush(self):
        """Bring the widgets up to date now (scripts and tests; the dashboard does it by itself)."""
        self._coalescer.flush_now()

    def rebuild(self):
        """Recreate the parameter rows for the current ``session.models``."""
        self._coalescer.cancel()
        for p in self._params:
            self.unwatch(p)
        self._params = []
        old = self.body.children
        self.rows = []
        self._rows_of: dict[int, list[ParameterRow]] = {}
        children = []
        models = self.session.models
        for m in models or ():
            kinds = " × ".join(type(getattr(m, f"{kind}_model")).__name__
                               for kind in dict.fromkeys(path.split(".")[0] for path, _ in m.parameter_paths()))
            head = w.HTML(f"<b>{html.escape(m.name)}</b> <span style='color:#555'>{html.escape(kinds)}</span>")
            head.add_class("gw-model-component")
            head.add_class(f"gw-model-component-{css_name(m.name)}")
            children.append(head)
            for path, p in m.parameter_paths():
                row = ParameterRow(p, f"{m.name}.{path}", self.action)
                self.rows.append(row)
                self._rows_of.setdefault(id(p), []).append(row)
                # a linked parameter notifies its own observers when the leader changes
                if p not in self._params:
                    self.watch(p, self._on_param)
                    self._params.append(p)
                children.append(row)
        if not children:
            children = [w.HTML("<i>No models: add a component or load a YAML file.</i>")]
        self.body.children = children
        for widget in old:  # the old rows leave the page (their models too)
            close_tree(widget)
        self._flush()
