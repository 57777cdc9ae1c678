"""A small Voilà app: model editor + live fit view over ready OGIP spectra (e.g. the 10 joint-crab datasets).

Used by the browser tests and the latency benchmarks; also a template for
"build your own dashboard"::

    from gwidgets.app.fit_app import write_fit_notebook
    write_fit_notebook("out_dir", "joint-crab/results/spectra")   # then: voila out_dir/gwidgets-fit.ipynb
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["fit_notebook", "write_fit_notebook", "FIT_NOTEBOOK_NAME", "SPECTRA_ENV"]

FIT_NOTEBOOK_NAME = "gwidgets-fit.ipynb"
#: environment variable with the directory of OGIP spectra (``*/pha_*.fits`` or ``pha_*.fits``)
SPECTRA_ENV = "GWIDGETS_SPECTRA"

CODE = """import os
from pathlib import Path

import ipywidgets as w
from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
from gwidgets.core.models import LogParabola, SkyModel
from gwidgets.state import AnalysisSession
from gwidgets.widgets import FitView, ModelEditor, StatusBar

spectra = Path(os.environ["GWIDGETS_SPECTRA"])
files = sorted(spectra.glob("*/pha_*.fits")) or sorted(spectra.glob("pha_*.fits"))
datasets = Datasets([SpectrumDatasetOnOff.read(f) for f in files])
datasets.set_fit_range(0.03, 30)
model = SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.23), name="crab")
session = AnalysisSession.from_datasets(datasets, models=[model], background=True)
editor = ModelEditor(session)
fit_view = FitView(session, show_errors=False)
app = w.VBox([StatusBar(session), editor, fit_view])
app.add_class("gw-fit-app")
app"""


def fit_notebook(extra_code: str | None = None):
    """The fit-app notebook (`nbformat` v4); ``extra_code`` runs before the app is displayed."""
    import nbformat

    code = CODE
    if extra_code:
        head, _, last = CODE.rpartition("\n")
        code = f"{head}\n{extra_code.strip()}\n{last}"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# gwidgets: live fit of OGIP spectra"), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write_fit_notebook(directory, extra_code: str | None = None) -> Path:
    import nbformat

    path = Path(directory) / FIT_NOTEBOOK_NAME
    nbformat.write(fit_notebook(extra_code), str(path))
    return path
