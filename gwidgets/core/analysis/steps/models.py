"""Step ``models``: the models from ``models`` (a YAML path, or inline components) → ``analysis.models``."""
from __future__ import annotations

from ....errors import GwidgetsError
from ...config import ConfigError
from .observations import resolve_path

__all__ = ["read_models"]


def read_models(spec, base_dir=None):
    """`Models` from a config ``models`` value (path or ``{"components": [...]}``); None when not set.

    Parameters
    ----------
    spec : str, dict or None
        A YAML path (``$VARS`` expanded) or an inline ``{"components": [...]}`` dict.
    base_dir : str or `~pathlib.Path`, optional
        Folder relative paths are tried against (the config file's).

    Returns
    -------
    `~gwidgets.core.models.Models` or None
        The models.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If the file does not exist, or the models cannot be read (the message starts with ``'models'``).
    """
    from ...models import Models

    if spec is None:
        return None
    try:
        if isinstance(spec, str):
            path = resolve_path(spec, "models", base_dir)
            if not path.exists():
                raise ConfigError(f"'models': model file '{path}' does not exist")
            return Models.read(path)
        return Models.from_dict(spec, base_dir)
    except ConfigError:
        raise
    except GwidgetsError as exc:
        raise ConfigError(f"'models': {exc}") from None


def run(analysis, progress=None):
    """Read the config's ``models`` and give them to the analysis (`~gwidgets.core.analysis.Analysis.set_models`).

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis.
    progress : callable, optional
        Unused.

    Returns
    -------
    `~gwidgets.core.models.Models` or None
        The models read (None when the config has none).

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If the models cannot be read.
    """
    models = read_models(analysis.config.get("models"), analysis.base_dir)
    if models is not None:
        analysis.set_models(models)
    return models
