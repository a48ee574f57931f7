"""Reading back what scalefit saved: :func:`load` (after ``plan`` in the data flow, so it may build any result).

A JSON file scalefit wrote carries ``"written_by": "scalefit <version>"``
(:mod:`scalefit._io`); :func:`load` recognises what the file holds by its keys.
"""
from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

from ._errors import ScalefitInputError
from ._io import MARKER_KEY

__all__ = ["load"]


def load(path: str | PathLike) -> Any:
    """Read a result scalefit saved as JSON.

    Parameters
    ----------
    path : str or path
        A file written by ``FitResult.to_json(path)``, ``BootstrapResult.to_json(path)``,
        ``scalefit fit --out`` or ``scalefit demo`` (``fit.json``).

    Returns
    -------
    LoadedFit
        The law, the parameters, their standard errors and everything saved with
        them; ``.bootstrap`` is the saved :class:`BootstrapResult` (its samples,
        objectives and convergence flags, number for number) when the file holds
        one, so ``compute_optimal(loaded.bootstrap, flops)`` gives the intervals it
        gave before saving.

    Raises
    ------
    ScalefitInputError
        The file does not exist, is not JSON, or holds nothing :func:`load` knows.

    Examples
    --------
    >>> import scalefit, tempfile, os
    >>> fit = scalefit.fit("synthetic:isoflop")
    >>> path = os.path.join(tempfile.mkdtemp(), "fit.json")
    >>> _ = fit.to_json(path)
    >>> scalefit.load(path).params == fit.params
    True
    """
    from .fitting import LoadedFit

    p = Path(path).expanduser()
    if not p.is_file():
        raise ScalefitInputError(f"{str(p)!r} does not exist or is not a file; give the path of a JSON file "
                                 "scalefit wrote (e.g. fit.json).", values=[str(p)])
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScalefitInputError(f"{str(p)!r} is not valid JSON ({exc}); give a file scalefit wrote.",
                                 values=[str(p)]) from None
    if isinstance(data, dict) and "law" in data and "params" in data:
        return LoadedFit.from_dict(data)
    what = (f"written by {data[MARKER_KEY]}" if isinstance(data, dict) and MARKER_KEY in data
            else "not marked as written by scalefit")
    keys = sorted(data)[:12] if isinstance(data, dict) else type(data).__name__
    raise ScalefitInputError(
        f"{str(p)!r} ({what}) holds no saved fit (keys 'law' and 'params'; found {keys}). scalefit.load reads "
        "fits saved by FitResult.to_json(path), BootstrapResult.to_json(path) or scalefit fit --out.",
        values=[str(p)],
    )
