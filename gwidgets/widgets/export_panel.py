"""ExportPanel: save the session as a config YAML or a Python script, load a config back.

Three buttons over a filename box, all going through the session
(`~gwidgets.state.config_io.ConfigMixin`, which uses
`gwidgets.core.analysis.export`):

* **Save config** writes ``session.export_config()`` (YAML, what ``gwidgets run`` takes);
* **Save script** writes ``session.export_script()`` (a plain Python script
  re-creating the same fit without the widgets; the ``.py`` name is derived
  from the filename box);
* **Load config** restores selection, regions, models, binning and fit range
  from the file — every view follows, as they all observe the session.

Errors (a missing file, a bad key, an unknown observation …) are shown in the
panel's error banner (``show_errors``) and in ``session.error``; a failed load
leaves the session exactly as it was.

>>> import gwidgets as gw
>>> from gwidgets.app.first_look import default_analysis
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)       # all runs, ON region on the bright source, a fitted model "source"
>>> panel = ExportPanel(session, filename="my_analysis.yaml")
>>> panel.save_config_button.click()
>>> from pathlib import Path
>>> Path("my_analysis.yaml").is_file()
True
"""
from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as w

from ..errors import GwidgetsError
from .base import SessionView

__all__ = ["ExportPanel"]

_OK = '<span style="color:#2e7d32">{}</span>'


class ExportPanel(SessionView):
    """Save / load the analysis of an `AnalysisSession` (see the module docs).

    Parameters
    ----------
    session : AnalysisSession
    filename : str
        Initial content of the filename box (the config; the script gets the same stem with ``.py``).
    directory : str or Path
        Where relative filenames are resolved (default: the working directory).
    show_errors : bool
        Show ``session.error`` in the panel's banner (False where a `StatusBar` shows it).
    """

    def __init__(self, session, filename: str = "analysis.yaml", directory=None, show_errors: bool = True,
                 **kwargs):
        self.directory = Path(directory) if directory is not None else None
        self.filename = w.Text(value=filename, description="file", layout=w.Layout(width="320px"))
        self.filename.add_class("gw-export-filename")
        self.save_config_button = w.Button(description="Save config", icon="save")
        self.save_config_button.add_class("gw-export-save-config")
        self.save_script_button = w.Button(description="Save script", icon="file-code-o")
        self.save_script_button.add_class("gw-export-save-script")
        self.load_config_button = w.Button(description="Load config", icon="folder-open")
        self.load_config_button.add_class("gw-export-load-config")
        self.message = w.HTML()
        self.message.add_class("gw-export-message")
        self.save_config_button.on_click(lambda _: self.run(self.save_config, "Save config"))
        self.save_script_button.on_click(lambda _: self.run(self.save_script, "Save script"))
        self.load_config_button.on_click(lambda _: self.run(self.load_config, "Load config"))
        super().__init__(session, [w.HBox([w.HTML("<b>Analysis</b>", layout=w.Layout(width="70px")), self.filename,
                                           self.save_config_button, self.save_script_button,
                                           self.load_config_button]),
                                   self.message], show_errors=show_errors, **kwargs)
        self.add_class("gw-export-panel")

    # ------------------------------------------------------------ paths
    def path(self, suffix: str | None = None) -> Path:
        """The file named in the box (relative to ``directory``), optionally with another suffix."""
        name = self.filename.value.strip()
        if not name:
            raise GwidgetsError("Enter a file name first")
        path = Path(name).expanduser()
        if not path.is_absolute() and self.directory is not None:
            path = self.directory / path
        return path.with_suffix(suffix) if suffix else path

    # ---------------------------------------------------------- actions
    def save_config(self) -> Path:
        """Write the session's config YAML (overwrites); returns the path."""
        path = self.path()
        self.session.export_config().write(path, overwrite=True)
        return self._done(f"config saved to {path}", path)

    def save_script(self) -> Path:
        """Write the plain Python script (``<stem>.py``); returns the path."""
        path = self.path(".py")
        path.write_text(self.session.export_script(name=path.name))
        return self._done(f"script saved to {path} (run it with: python {path.name})", path)

    def load_config(self) -> Path:
        """Restore the session from the config file (all or nothing)."""
        path = self.path()
        self.session.load_config(path)
        n = len(self.session.selection)
        return self._done(f"loaded {path}: {n} observation{'s' if n != 1 else ''} selected", path)

    def _done(self, text, path):
        self.message.value = _OK.format(html.escape(text))
        return path

    def run(self, func, what: str):
        """What a button does: ``func()``, its error shown in the page (`SessionView.action`), never raised.

        Returns what ``func`` returns (the path), None after an error.
        """
        self.message.value = ""
        with self.action(what, busy=f"{what}…"):
            return func()
        return None
