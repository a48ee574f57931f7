"""Reading back what scalefit saved: :func:`load` (after ``plan`` in the data flow, so it may build any result).

A JSON file scalefit wrote carries ``"written_by": "scalefit <version>"``
(:mod:`scalefit._io`); :func:`load` recognises what the file holds by its keys.
"""
from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any, Callable, Mapping

from ._errors import ScalefitInputError
from ._io import MARKER_KEY

__all__ = ["load"]


def load(path: str | PathLike, *, law: Any = None) -> Any:
    """Read a result scalefit saved as JSON.

    What the file holds is recognised by its keys: a fit (``law``, ``params``),
    an IsoFLOP analysis (``"approach": "isoflop"``, with ``groups`` when it was
    grouped), an envelope analysis (``"approach": "envelope"``), or a plan
    (``allocations``, or one allocation's ``n_params``, ``flops`` and
    ``tokens_per_param``).

    Parameters
    ----------
    path : str or path
        A file written by a result's ``to_json(path)`` (``FitResult``,
        ``BootstrapResult``, ``IsoFLOPResult``, ``GroupedIsoFLOPResult``,
        ``EnvelopeResult``, ``AllocationTable``, ``Allocation``), by
        ``scalefit fit --out`` or ``scalefit demo`` (``fit.json``), or the
        standard output of ``scalefit isoflop --json``, ``scalefit envelope
        --json`` or ``scalefit plan --json`` saved to a file.

    law : Law, optional
        For a fit of a user-defined law: the :class:`~scalefit.Law` itself (a file saves a law by name only).

    Returns
    -------
    LoadedFit, IsoFLOPResult, GroupedIsoFLOPResult, EnvelopeResult, AllocationTable or Allocation
        A fit has the law, the parameters, their standard errors and
        everything saved with them; ``.bootstrap`` is the saved
        :class:`BootstrapResult` (its samples, objectives and convergence
        flags, number for number) when the file holds one, so
        ``compute_optimal(loaded.bootstrap, flops)`` gives the intervals it gave
        before saving.  An IsoFLOP or envelope result comes back with its runs,
        optima (each budget's fitted curve and rows), bootstrap samples and
        intervals, so ``summary()``, ``to_frame()``, ``predict_optimal()`` and
        the plots give what they gave before saving.  A plan comes back with its
        intervals, shape and warnings.

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
    p = Path(path).expanduser()
    if not p.is_file():
        raise ScalefitInputError(f"{str(p)!r} does not exist or is not a file; give the path of a JSON file "
                                 "scalefit wrote (e.g. fit.json).", values=[str(p)])
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScalefitInputError(f"{str(p)!r} is not valid JSON ({exc}); give a file scalefit wrote.",
                                 values=[str(p)]) from None
    reader = _reader(data)
    if reader is not None:
        if law is not None:
            from .fitting import LoadedFit

            if reader != LoadedFit.from_dict:
                raise ScalefitInputError(f"law= is for a saved fit; {str(p)!r} holds another result.", option="law")
            return LoadedFit.from_dict(data, law=law)
        return reader(data)
    what = (f"written by {data[MARKER_KEY]}" if isinstance(data, dict) and MARKER_KEY in data
            else "not marked as written by scalefit")
    keys = sorted(data)[:12] if isinstance(data, dict) else type(data).__name__
    raise ScalefitInputError(
        f"{str(p)!r} ({what}) holds nothing scalefit.load reads: no saved fit (keys 'law' and 'params'), IsoFLOP or "
        f"envelope analysis (key 'approach') or plan (key 'allocations', or 'n_params', 'flops' and "
        f"'tokens_per_param'); found {keys}. Save results with their to_json(path), scalefit fit --out, or the "
        "--json output of scalefit isoflop, envelope and plan.",
        values=[str(p)],
    )


def _reader(data: Any) -> Callable[[Mapping[str, Any]], Any] | None:
    """The function that rebuilds what ``data`` holds, or None."""
    if not isinstance(data, dict):
        return None
    if "law" in data and "params" in data:
        from .fitting import LoadedFit

        return LoadedFit.from_dict
    approach = data.get("approach")
    if approach == "isoflop":
        from .approaches import GroupedIsoFLOPResult, IsoFLOPResult

        return GroupedIsoFLOPResult.from_dict if "groups" in data else IsoFLOPResult.from_dict
    if approach == "envelope":
        from .approaches import EnvelopeResult

        return EnvelopeResult.from_dict
    if isinstance(data.get("allocations"), list):
        from .plan import AllocationTable

        return AllocationTable.from_dict
    if {"n_params", "flops", "tokens_per_param"} <= set(data):
        from .plan import Allocation

        return Allocation.from_dict
    return None
