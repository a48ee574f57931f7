"""Small data that scalefit generates or transcribes itself.

Installed as ``scalefit.datasets.data``; read it through :mod:`scalefit.datasets`.
Every file here has a note on its source in ``scalefit/datasets/data/README.md``.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

#: Bundled synthetic data sets: name -> file in this folder.  The one table of them, read by
#: :mod:`scalefit.datasets` and by ``read_runs("synthetic:<name>")`` (this module imports nothing of scalefit).
SYNTHETIC_FILES = {"isoflop": "synthetic_isoflop.csv", "curves": "synthetic_curves.csv"}


def data_file(name: str) -> Path:
    """Path of a file in this folder."""
    return Path(str(resources.files(__name__).joinpath(name)))
