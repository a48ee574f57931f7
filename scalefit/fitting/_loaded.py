"""A fit read back from JSON (:class:`LoadedFit`, :func:`load_fit`): law, parameters, saved metadata, no data."""
from __future__ import annotations

import json
import types
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from .._errors import ScalefitInputError
from .._summary import Summary, Table
from ..laws import Law, chinchilla_exponents, evaluate, get_law
from ._result import _predict

if TYPE_CHECKING:  # pragma: no cover
    from .bootstrap import BootstrapResult


@dataclass(frozen=True)
class LoadedFit:
    """A fit read back from JSON: law, parameters and the saved metadata (no data)."""

    law: Law
    params: dict
    stderr: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, law: Law | None = None) -> "LoadedFit":
        """The fit ``d`` holds (``FitResult.to_dict()``); ``law``: the :class:`~scalefit.Law` of a user-defined law,
        which a file saves by name only."""
        if "law" not in d or "params" not in d:
            raise ScalefitInputError(
                f"a saved fit needs keys 'law' and 'params'; found {sorted(d)}. Write it with FitResult.to_json(path)."
            )
        law = _saved_law(d["law"], law)
        params = {k: float(v) for k, v in dict(d["params"]).items()}
        missing = [n for n in law.param_names if n not in params]
        if missing:
            raise ScalefitInputError(f"saved fit for law {law.name!r} lacks parameters {missing}.")
        return cls(law, params, {k: (float(v) if v is not None else float("nan")) for k, v in dict(d.get("stderr", {})).items()}, dict(d))

    @classmethod
    def from_json(cls, path: str | Path, *, law: Law | None = None) -> "LoadedFit":
        path = Path(path)
        if not path.exists():
            raise ScalefitInputError(f"fit file {str(path)!r} does not exist.")
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ScalefitInputError(f"fit file {str(path)!r} is not valid JSON ({exc}).") from None
        return cls.from_dict(d, law=law)

    @property
    def trustworthy(self) -> bool:
        """As saved (:attr:`FitResult.trustworthy`): False when an exponent sat at a bound or a scale exploded."""
        saved = self.info.get("trustworthy") if isinstance(self.info, dict) else None
        return bool(saved) if isinstance(saved, bool) else not self._trust_issues

    @property
    def _trust_issues(self) -> list:
        diag = self.info.get("diagnostics") if isinstance(self.info, dict) else None
        issues = diag.get("trust_issues") if isinstance(diag, Mapping) else None
        return [str(i) for i in issues] if isinstance(issues, list) else []

    @property
    def warnings(self) -> tuple:
        """What the fit warned about, as saved (see :attr:`FitResult.warnings`)."""
        saved = self.info.get("warnings") if isinstance(self.info, dict) else None
        if not isinstance(saved, list):
            return ()
        return tuple(
            {"category": str(w.get("category", "")), "message": str(w.get("message", "")), "fatal": bool(w.get("fatal", False))}
            for w in saved if isinstance(w, Mapping)
        )

    @property
    def runs(self) -> Any:
        """The range of the fitted runs saved with the fit (``data_range``), or None.

        It stands in for the runs so that planners can warn when a plan extrapolates.
        """
        rng = self.info.get("data_range") if isinstance(self.info, dict) else None
        if not isinstance(rng, Mapping):
            return None
        try:
            ranges = {k: np.asarray(rng[k], dtype=float) for k in ("n_params", "n_tokens", "flops")}
            # the ratio's range is not that of n_tokens over that of n_params: only a saved one will do (None if absent)
            ratio = np.asarray(rng["tokens_per_param"], dtype=float) if "tokens_per_param" in rng else None
        except (KeyError, TypeError, ValueError):
            return None
        return types.SimpleNamespace(**ranges, tokens_per_param=ratio,
                                     flops_per_param_token=float(self.info.get("flops_per_param_token", 6.0)))

    @property
    def a(self) -> float:
        """Exponent of N* ~ C^a (Chinchilla forms), from the saved parameters."""
        return float(chinchilla_exponents(self.params["alpha"], self.params.get("beta", self.params["alpha"]))[0])

    @property
    def b(self) -> float:
        """Exponent of D* ~ C^b (Chinchilla forms), from the saved parameters."""
        return float(chinchilla_exponents(self.params["alpha"], self.params.get("beta", self.params["alpha"]))[1])

    @cached_property
    def bootstrap(self) -> "BootstrapResult | None":
        """The saved bootstrap (a :class:`BootstrapResult` whose ``fit`` is this fit), or None.

        Present when the file holds the resamples (``BootstrapResult.to_json(path)``,
        ``scalefit fit --bootstrap N --out fit.json``); planners given it report intervals.
        """
        from .bootstrap import BootstrapResult

        saved = self.info.get("bootstrap") if isinstance(self.info, dict) else None
        if not isinstance(saved, Mapping) or not saved.get("samples"):
            return None
        rows = saved["samples"]
        samples = pd.DataFrame.from_records(list(rows))
        missing = [n for n in self.law.param_names if n not in samples.columns]
        if missing:
            raise ScalefitInputError(f"the saved bootstrap samples lack parameters {missing}; re-save the fit.")
        samples = samples[[n for n in self.law.param_names]].astype(float)
        n = len(samples)
        objective = np.array(saved.get("objective", [np.nan] * n), dtype=np.float64)
        converged = np.array(saved.get("converged", [True] * n), dtype=np.bool_)
        if len(objective) != n or len(converged) != n:
            raise ScalefitInputError(
                f"the saved bootstrap has {n} samples but {len(objective)} objectives and {len(converged)} "
                "convergence flags; re-save the fit."
            )
        return BootstrapResult(fit=self, samples=samples, objective=objective, converged=converged,
                               n=int(saved.get("n", n)), seed=int(saved.get("seed", 0)), unit=str(saved.get("unit", "runs")))

    def interval(self, level: float = 0.95) -> pd.DataFrame:
        """Bootstrap intervals at ``level`` from the saved samples (see :meth:`BootstrapResult.interval`)."""
        boot = self.bootstrap
        if boot is None:
            raise ScalefitInputError(
                "this saved fit holds no bootstrap samples, so it has no intervals; save it with "
                "FitResult.bootstrap(n).to_json(path) or scalefit fit --bootstrap N --out fit.json."
            )
        return boot.interval(level)

    def summary(self) -> Summary:
        """The saved parameters, their standard errors and (with a bootstrap) 95% intervals."""
        boot = self.bootstrap
        iv = boot.interval(0.95) if boot is not None else None
        header = ["parameter", "value", "stderr"] + (["95% low", "95% high"] if iv is not None else [])
        rows = []
        for name, value in self.params.items():
            row = [name, value, self.stderr.get(name, float("nan"))]
            if iv is not None:
                row += [float(iv.loc[name, "low"]), float(iv.loc[name, "high"])]
            rows.append(row)
        info: list[tuple[str, Any]] = [("law", self.law.name), ("stderr", str(self.info.get("stderr_kind", "")))]
        for key, label in (("objective", "objective"), ("success", "success"), ("n_runs", "runs")):
            if self.info.get(key) is not None:
                info.append((label, self.info[key]))
        diag = self.info.get("diagnostics")
        if isinstance(diag, Mapping) and diag.get("condition_number") is not None:
            info.append(("condition number", float(diag["condition_number"])))
        tables = [Table("Parameters", header, rows)]
        if {"alpha", "E", "A", "B"} <= set(self.params):
            tables.append(Table("Derived", ("name", "value", ""), [("a = beta/(alpha+beta)", self.a, ""),
                                                                    ("b = alpha/(alpha+beta)", self.b, "")]))
        notes = [f"{w['category']}: {w['message']}" for w in self.warnings]
        if not self.trustworthy and not any("NOT TRUSTWORTHY" in n for n in notes):  # files saved before the record
            notes.append("NOT TRUSTWORTHY: " + "; ".join(self._trust_issues or ["saved as not trustworthy"]))
        return Summary(f"scalefit fit (loaded): {self.law.name}", info, tables, notes)

    def to_dict(self) -> dict:
        """The saved dictionary, as read (so saving it again keeps every number)."""
        return dict(self.info)

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: ``value``, ``stderr`` (and ``low`` / ``high`` at 95% with a bootstrap)."""
        frame = pd.DataFrame({"value": pd.Series(self.params), "stderr": pd.Series(self.stderr, dtype=float)})
        frame.index.name = "parameter"
        if self.bootstrap is not None:
            iv = self.bootstrap.interval(0.95)
            frame["low"], frame["high"] = iv["low"], iv["high"]
        return frame

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.5g}" for k, v in self.params.items())
        boot = self.bootstrap
        return f"LoadedFit(law={self.law.name!r}, {ps}" + (f", bootstrap={boot.n}" if boot is not None else "") + ")"

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def predict(self, n_params: Any = None, n_tokens: Any = None, *, interval: str | None = None,
                level: float = 0.95, **inputs: Any) -> Any:
        """Predicted loss, as :meth:`FitResult.predict` (with the saved ``flops_per_param_token``, default 6).

        ``interval="confidence"`` adds the ``level`` percentile interval over the saved bootstrap samples
        (a frame with ``prediction``, ``low``, ``high``); a loaded fit keeps no residuals, so it has no
        prediction interval.
        """
        from .._intervals import percentile_interval
        from .._validation import check_level

        k = float(self.info.get("flops_per_param_token", 6.0) if isinstance(self.info, dict) else 6.0)
        if interval is None:
            return _predict(self.law, self.params, k, n_params=n_params, n_tokens=n_tokens, **inputs)
        if interval not in ("confidence", "prediction"):
            raise ScalefitInputError(f"interval must be 'confidence', 'prediction' or None; got {interval!r}.",
                                     option="interval")
        if interval == "prediction":
            raise ScalefitInputError(
                "a fit loaded from JSON keeps no residuals, so it has no prediction interval (the run-to-run noise); "
                "refit the runs with scalefit.fit for one, or ask interval='confidence' (from saved bootstrap samples).",
                option="interval")
        check_level(level)
        boot = self.bootstrap
        if boot is None:
            raise ScalefitInputError(
                "this saved fit holds no bootstrap samples, so it has no confidence interval; save it with "
                "FitResult.bootstrap(n).to_json(path) or scalefit fit --bootstrap N --out fit.json.", option="interval")
        given = {n: v for n, v in dict(inputs, n_params=n_params, n_tokens=n_tokens).items() if v is not None}
        point = np.atleast_1d(_predict(self.law, self.params, k, **given))
        draws = {c: boot.samples[c].to_numpy(float)[:, None] for c in self.law.param_names}
        flat = {n: np.atleast_1d(np.asarray(v, float)) for n, v in given.items()}
        low, high = percentile_interval(np.atleast_2d(evaluate(self.law, draws, flops_per_param_token=k,
                                                               where="predict()", **flat)), level, axis=0)
        frame = {n: np.broadcast_to(v, point.shape) for n, v in flat.items()}
        frame.update(prediction=point, low=np.atleast_1d(low), high=np.atleast_1d(high))
        return pd.DataFrame(frame)


def _saved_law(name: Any, law: Law | None) -> Law:
    """The law a saved fit names: a built-in one, or ``law`` (a user-defined :class:`~scalefit.Law` of that name)."""
    if law is None:
        try:
            return get_law(name)
        except ScalefitInputError as exc:
            raise ScalefitInputError(
                f"{exc} A fit of a user-defined law saves the law's name only: pass the Law itself, "
                f"e.g. scalefit.load(path, law=my_law) or load_fit(path, law=my_law).", option="law") from None
    law = get_law(law)
    if law.name != name:
        raise ScalefitInputError(f"the saved fit is of law {name!r}, but law={law.name!r} was given; pass the Law "
                                 f"named {name!r}.", option="law", values=[law.name])
    return law


def load_fit(path: str | Path, *, law: Law | None = None) -> LoadedFit:
    """Read a fit saved by ``FitResult.to_json(path)``.

    Parameters
    ----------
    path : str or Path
    law : Law, optional
        The law of a fit of a user-defined law (a file saves a law by name; built-in laws need nothing).

    Returns
    -------
    LoadedFit

    Raises
    ------
    ScalefitInputError
        The file does not exist, is not JSON, or lacks the law or its parameters.
    """
    return LoadedFit.from_json(path, law=law)
