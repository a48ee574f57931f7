"""Runs read from an MLflow tracking server through its client (private; the ``mlflow`` extra).

:func:`fetch_mlflow` asks the server for the experiment's runs (params, last
metric values), finds the metrics that map to scalefit's columns by the
aliases, fetches only their histories, and builds the long table of
:func:`scalefit.runs._tracked.curves_frame`.
"""
from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from .._validation import ColumnMap
from .._errors import ScalefitInputError
from ._tracked import MLFLOW_SCHEMES, MlflowSource, TrackedRun, curves_frame, resolve_targets

__all__ = ["fetch_mlflow", "parse_mlflow_uri"]

_QUERY_KEYS = ("filter", "history")
_PAGE = 1000
#: Histories are fetched one request each (MLflow's client has no bulk call), this many at a time.
_THREADS = 8


def parse_mlflow_uri(text: str) -> MlflowSource:
    """``"mlflow://host:port/<experiment>[?filter=...&history=false]"`` as an :class:`MlflowSource`."""
    parts = urllib.parse.urlsplit(text)
    scheme = MLFLOW_SCHEMES[parts.scheme.lower()]
    experiment = urllib.parse.unquote(parts.path.lstrip("/"))
    if not parts.netloc or not experiment:
        raise ScalefitInputError(
            f"{text!r} names no {'server' if not parts.netloc else 'experiment'}; write "
            "mlflow://HOST:PORT/EXPERIMENT, e.g. mlflow://127.0.0.1:5000/chinchilla-sweep "
            "(mlflow+https://... for https).", values=[text],
        )
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    unknown = [k for k in query if k not in _QUERY_KEYS]
    if unknown:
        raise ScalefitInputError(
            f"{text!r}: unknown query key(s) {', '.join(map(repr, unknown))}; the MLflow address takes "
            "?filter=<MLflow run filter> and ?history=true|false.", values=unknown,
        )
    history_text = query.get("history", ["true"])[-1].strip().lower()
    if history_text not in ("true", "false", "1", "0", "yes", "no"):
        raise ScalefitInputError(f"{text!r}: history={history_text!r}; write history=true or history=false.",
                                 values=[history_text])
    return MlflowSource(f"{scheme}://{parts.netloc}", experiment, filter_string=query.get("filter", [""])[-1],
                        history=history_text in ("true", "1", "yes"))


def _client(uri: str) -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ScalefitInputError(
            "reading runs from MLflow needs its client, which is not installed: pip install 'scalefit[mlflow]' "
            "(mlflow-skinny).",
        ) from None
    return MlflowClient(tracking_uri=uri)


def _check_reachable(uri: str, timeout: float) -> None:
    """Refuse, within ``timeout`` seconds, an http(s) server that does not answer (the client would retry for minutes)."""
    if urllib.parse.urlsplit(uri).scheme not in ("http", "https"):
        return
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # it answered: a proxy or an older server without /health
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ScalefitInputError(
            f"could not reach the MLflow tracking server at {uri} ({reason}). Start it (e.g. mlflow server "
            "--host 127.0.0.1 --port 5000 --backend-store-uri sqlite:///mlflow.db) or check the host and port.",
            values=[uri],
        ) from None


def _call(what: str, uri: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the client, turning MLflow's exceptions into a ScalefitInputError that says what was asked."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # MlflowException, requests' errors: all are the server's answer to our input
        if type(exc).__module__.split(".")[0] not in ("mlflow", "requests", "urllib3"):
            raise
        message = getattr(exc, "message", None) or str(exc)
        raise ScalefitInputError(f"the MLflow server at {uri} could not {what}: {message}", values=[uri]) from None


def _experiment(client: Any, source: MlflowSource) -> Any:
    uri = source.tracking_uri
    found = _call(f"look up experiment {source.experiment!r}", uri, client.get_experiment_by_name, source.experiment)
    if found is None and source.experiment.isdigit():
        try:
            found = client.get_experiment(source.experiment)
        except Exception:  # no experiment with that id either
            found = None
    if found is None:
        known = _call("list its experiments", uri, client.search_experiments, max_results=50)
        names = [e.name for e in known]
        listed = ", ".join(map(repr, names[:20])) + (", ..." if len(names) > 20 else "") if names else "none"
        raise ScalefitInputError(
            f"the MLflow server at {uri} has no experiment named {source.experiment!r}; it has {listed}. "
            "Name one of those (mlflow://HOST:PORT/<experiment>), or check the server.",
            values=[source.experiment],
        )
    return found


def _search_runs(client: Any, source: MlflowSource, experiment_id: str) -> list:
    runs: list = []
    token = None
    while True:
        page = _call("search the runs" + (f" with filter {source.filter_string!r}" if source.filter_string else ""),
                     source.tracking_uri, client.search_runs, [experiment_id], filter_string=source.filter_string,
                     max_results=_PAGE, page_token=token)
        runs.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return runs


def _history(client: Any, uri: str, run_id: str, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points = _call(f"read the history of metric {key!r} of run {run_id}", uri, client.get_metric_history, run_id, key)
    return (np.array([p.step for p in points], dtype=float), np.array([p.value for p in points], dtype=float),
            np.array([p.timestamp for p in points], dtype=float))


def fetch_mlflow(source: MlflowSource, *, columns: ColumnMap | None = None,
                 use_non_embedding: bool = False,
                 nan_policy: str = "raise") -> tuple[pd.DataFrame, str]:
    """The experiment's runs as one table (see :func:`scalefit.read_mlflow`) and a label for messages."""
    client = _client(source.tracking_uri)
    _check_reachable(source.tracking_uri, source.timeout)
    experiment = _experiment(client, source)
    label = f"MLflow experiment {experiment.name!r} at {source.tracking_uri}"
    found_runs = _search_runs(client, source, experiment.experiment_id)
    if not found_runs:
        raise ScalefitInputError(
            f"{label} has no runs" + (f" matching filter {source.filter_string!r}" if source.filter_string else "")
            + "; log runs to it, or name another experiment.",
            values=[experiment.name],
        )
    found_runs.sort(key=lambda r: (r.info.start_time or 0, r.info.run_id))
    metric_keys = sorted({k for r in found_runs for k in r.data.metrics})
    param_keys = sorted({k for r in found_runs for k in r.data.params})
    info_cols = ["run_id", "run_name", "status"]
    available = info_cols + (["step"] if source.history else []) + [f"metrics.{k}" for k in metric_keys] \
        + [f"params.{k}" for k in param_keys]
    found = (f"metrics {', '.join(map(repr, metric_keys)) or '(none)'} and params "
             f"{', '.join(map(repr, param_keys)) or '(none)'} in {len(found_runs)} runs")
    mapping = resolve_targets(available, columns, use_non_embedding=use_non_embedding, label=label, found=found,
                              loss_hint="metrics.<name>")
    notes = [f"read {len(found_runs)} runs of {label}"]
    if not source.history:
        frame = pd.DataFrame([
            {"run_id": r.info.run_id, "run_name": r.info.run_name, "status": r.info.status,
             **{f"metrics.{k}": v for k, v in r.data.metrics.items()},
             **{f"params.{k}": v for k, v in r.data.params.items()}}
            for r in found_runs
        ]).reindex(columns=[c for c in available if c != "step"])
        notes.append("history=False: the last logged value of each metric, one row per run")
    else:
        wanted = [c[len("metrics."):] for c, t in mapping.items() if c.startswith("metrics.")]
        asks = [(r.info.run_id, key) for r in found_runs for key in wanted if key in r.data.metrics]
        with ThreadPoolExecutor(max_workers=min(_THREADS, max(len(asks), 1))) as pool:  # one request per history
            answers = dict(zip(asks, pool.map(lambda ask: _history(client, source.tracking_uri, *ask), asks)))
        tracked = []
        for r in found_runs:
            histories = {f"metrics.{key}": answers[(r.info.run_id, key)] for key in wanted
                         if (r.info.run_id, key) in answers}
            tracked.append(TrackedRun(
                run=r.info.run_id, info={"run_name": r.info.run_name, "status": r.info.status},
                constants={f"params.{k}": v for k, v in r.data.params.items()}, histories=histories,
            ))
        frame, more = curves_frame(tracked, mapping, run_column="run_id", label=label,
                                    nan_policy=nan_policy)
        notes += more
        skipped = [k for k in metric_keys if f"metrics.{k}" not in mapping]
        if skipped:
            notes.append(f"metrics not mapped to a scalefit column were not read ({', '.join(map(repr, skipped))}); "
                         "map one with columns= to read it, or history=False for the last value of every metric")
    frame.attrs["scalefit_notes"] = notes
    return frame, label
