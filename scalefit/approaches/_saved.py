"""The saved state of an Approach 1 or 2 result (private): what ``to_dict()["saved"]`` holds and ``from_dict`` reads.

A result's readable JSON keys (``a``, ``optima``, ...) round numbers for
nothing but leave out what a plot or a prediction needs (each budget's
fitted curve and rows, the bootstrap samples, the runs).  :func:`state_dict`
writes every field of the dataclass instead, so that :func:`from_state`
rebuilds an equal result: frames column for column
(:func:`scalefit._json.frame_to_dict`), the runs
(:func:`scalefit.runs._saved.runs_to_dict`), intervals keyed by their exact
levels, tuples as tuples.
"""
from __future__ import annotations

from dataclasses import fields
from types import MappingProxyType
from typing import Any, Mapping

import pandas as pd

from .._errors import ScalefitInputError
from .._json import decode_cell, encode_cell, frame_from_dict, frame_to_dict
from ..runs._saved import runs_from_dict, runs_to_dict

#: Version of the saved layout; :func:`from_state` refuses others.
VERSION = 1


def state_dict(result: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every dataclass field of ``result`` (except ``skip``) as JSON types."""
    out: dict[str, Any] = {"version": VERSION, "type": type(result).__name__}
    for f in fields(result):
        if f.name in skip:
            continue
        value = getattr(result, f.name)
        if f.name == "runs":
            out[f.name] = runs_to_dict(value)
        elif isinstance(value, pd.DataFrame):
            out[f.name] = {"frame": frame_to_dict(value)}
        elif f.name == "intervals":
            out[f.name] = [[q, [[encode_cell(lv), encode_cell(lo), encode_cell(hi)] for lv, (lo, hi) in per.items()]]
                           for q, per in value.items()]
        elif isinstance(value, Mapping):
            out[f.name] = {"mapping": [[str(k), encode_cell(v)] for k, v in value.items()]}
        else:
            out[f.name] = encode_cell(value)
    return out


def from_state(cls: type, state: Mapping[str, Any], **given: Any) -> Any:
    """The ``cls`` instance :func:`state_dict` saved (``given`` fields are passed as they are)."""
    if not isinstance(state, Mapping) or state.get("version") != VERSION or state.get("type") != cls.__name__:
        found = state.get("type") if isinstance(state, Mapping) else type(state).__name__
        raise ScalefitInputError(
            f"the saved {cls.__name__} is not in a layout this version reads (found type {found!r}, version "
            f"{state.get('version') if isinstance(state, Mapping) else None!r}; expected version {VERSION}). "
            "Save it again with this version of scalefit.",
        )
    kwargs: dict[str, Any] = dict(given)
    for f in fields(cls):
        if f.name in given or f.name not in state:
            continue
        value = state[f.name]
        if f.name == "runs":
            kwargs[f.name] = runs_from_dict(value)
        elif isinstance(value, Mapping) and set(value) == {"frame"}:
            kwargs[f.name] = frame_from_dict(value["frame"])
        elif f.name == "intervals":
            kwargs[f.name] = MappingProxyType({
                q: MappingProxyType({decode_cell(lv): (decode_cell(lo), decode_cell(hi)) for lv, lo, hi in per})
                for q, per in value
            })
        elif isinstance(value, Mapping) and set(value) == {"mapping"}:
            kwargs[f.name] = {k: decode_cell(v) for k, v in value["mapping"]}
        else:
            kwargs[f.name] = decode_cell(value)
    return cls(**kwargs)


def to_json(result: Any, path: Any = None, *, overwrite: bool = False) -> str:
    """JSON text of ``result.to_dict()``; written to ``path`` (atomically, marked as scalefit's) when given."""
    import json

    d = result.to_dict()
    if path is not None:
        from .._io import write_json

        write_json(path, d, replace="any" if overwrite else "never")
    return json.dumps(d, indent=2)


def saved_state(d: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """The ``"saved"`` block of a result's JSON, or a clear error naming what is missing."""
    state = d.get("saved") if isinstance(d, Mapping) else None
    if not isinstance(state, Mapping):
        raise ScalefitInputError(
            f"this {what} JSON has no 'saved' block (it was written by an older scalefit, or edited); it holds the "
            "readable summary only. Run the analysis again with this version and save it (to_json or --json).",
        )
    return state
