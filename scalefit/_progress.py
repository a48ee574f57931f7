"""One progress bar for long loops (private): ``tqdm.auto`` on standard error."""
from __future__ import annotations

import sys
import warnings
from typing import Any


def progress_bar(total: int, desc: str, unit: str = "fit") -> Any:
    """A ``tqdm.auto`` bar on standard error: a widget in a notebook with ipywidgets, text elsewhere.

    Without ipywidgets, ``tqdm.auto`` falls back to the text bar and warns "IProgress not found"; the
    text bar is what a user without ipywidgets gets anyway, so that warning is not passed on.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*IProgress not found.*")
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr)
