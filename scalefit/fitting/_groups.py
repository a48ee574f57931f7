"""Shared-parameter fits across groups of runs: one set of exponents, per-group scales.

``fit(runs, "chinchilla", group_by="dataset", shared=("alpha", "beta"))``
fits every group (each distinct value of the ``group_by`` columns: a dataset,
an architecture, a training recipe) with the same alpha and beta and its own
E, A and B, so that groups can be compared on one footing (as Porian et al.
2024 and Gadre et al. 2024 compare datasets, or Kaplan et al. 2020 compare
architectures).

How it is fitted.  The objective is the sum over all runs of
``weight * rho(residual)``, as :func:`scalefit.fit`.  The joint law is an
ordinary :class:`scalefit.Law` whose per-group parameters are named
``<param>__g<i>`` and whose extra input ``group_code`` (1, 2, ...) says which
group a run belongs to; it is fitted by the engine for any law from a warm
start.  The warm start comes from a profile: each group is fitted alone; each
candidate value of the shared parameters (the median of the groups' own
values, and up to five groups' own values) is scored by refitting every group
with the shared parameters fixed at it (the objective then separates across
groups, and the law's own engine finds each group's optimum); the best
candidate, with its per-group optima, starts the joint fit.  At the joint
optimum the groups are refitted once more with the shared values fixed, so
each group's result is an ordinary :class:`FitResult` of the law itself,
which the planners accept (``compute_optimal(result["rw"], flops)``).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from .._errors import Option, ScalefitInputError
from .._json import jsonable
from .._summary import Summary, Table
from ..laws import Law, get_law
from ._problem import Problem, build_spec, law_inputs, run_weights
from ._result import FitResult

__all__ = ["GroupFitResult", "fit_groups", "grouped_law"]

#: At most this many groups' own values of the shared parameters are tried as warm starts (besides the median).
MAX_GROUP_CANDIDATES = 5
_SEP = "__g"


def grouped_law(base: Law, shared: Sequence[str], n_groups: int, start: Mapping[str, float] | None = None) -> Law:
    """The joint law of ``n_groups`` groups: ``shared`` parameters common, the others as ``<name>__g<i>``.

    Its inputs are the base law's and ``group_code`` (1 .. n_groups).  Parameter
    values must be scalars (the joint law is fitted, not evaluated on draws;
    each group's own law is :func:`scalefit.laws.evaluate`'d as usual).
    ``start`` sets the parameters' default values (the engine's first start).
    """
    from ..laws import Param

    # No start grids: the joint fit starts from the profile (a product of every parameter's grid would
    # hold grid_size ** (3 * groups) starts), so each parameter's default value is its warm start.
    start = dict(start or {})
    own = [p for p in base.params if p.name not in shared]
    params: list[Param] = [Param(p.name, start.get(p.name, p.value), min=p.min, max=p.max, log=p.log)
                           for p in base.params if p.name in shared]
    for i in range(n_groups):
        params += [Param(f"{p.name}{_SEP}{i}", start.get(f"{p.name}{_SEP}{i}", p.value), min=p.min, max=p.max,
                         log=p.log) for p in own]
    names = [p.name for p in params]
    args = ", ".join(list(base.inputs) + ["group_code"] + names)
    inputs = tuple(base.inputs)
    own_names = tuple(p.name for p in own)
    base_function = base.function

    def joint(kw: Mapping[str, Any]) -> Any:
        idx = np.asarray(kw["group_code"], dtype=float).astype(int) - 1
        values = {name: kw[name] for name in shared}
        for name in own_names:
            values[name] = np.asarray([kw[f"{name}{_SEP}{i}"] for i in range(n_groups)], dtype=float)[idx]
        return base_function(**{k: kw[k] for k in inputs}, **values)

    ns: dict[str, Any] = {"_joint": joint}
    exec(f"def f({args}):\n    return _joint(locals())\n", ns)  # keyword names are the parameters' names
    return Law(f"{base.name}[shared {','.join(shared)}]", ns["f"], params,
               description=f"{base.description or base.name}, {n_groups} groups sharing {', '.join(shared)}",
               formula=base.formula)


def _labels(runs: Any, columns: list[str]) -> np.ndarray:
    """One label per run: the ``group_by`` values joined with '/', or a ScalefitInputError naming bad rows."""
    table = runs.table
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ScalefitInputError(
            f"group_by names column(s) {missing} that the runs do not have; available columns are "
            f"{list(table.columns)}.", column=missing[0], option="group_by",
        )
    values = table[columns]
    bad = values.isna().any(axis=1).to_numpy()
    if bad.any():
        rows = table["row"].to_numpy()[bad] if "row" in table.columns else np.flatnonzero(bad)
        raise ScalefitInputError(
            f"group_by column(s) {columns} are empty at {int(bad.sum())} row(s) {[int(r) for r in rows[:10]]}, "
            "so those runs belong to no group; fill the values or exclude the rows "
            "(read_runs(..., exclude=...) or Runs.exclude(...)).",
            column=columns[0], rows=rows, option="group_by",
        )
    return np.array(["/".join(str(v) for v in row) for row in values.itertuples(index=False, name=None)], dtype=object)


def _shared_names(base: Law, shared: Any, fixed: Mapping[str, float]) -> tuple[str, ...]:
    if shared is None:
        names = tuple(p.name for p in base.params if not p.log and p.name not in fixed)
    else:
        names = (shared,) if isinstance(shared, str) else tuple(str(s) for s in shared)
    unknown = [n for n in names if n not in base.param_names]
    if unknown:
        raise ScalefitInputError(
            f"shared names parameter(s) {unknown} that law {base.name!r} does not have; its parameters are "
            f"{list(base.param_names)}.", option="shared", values=unknown,
        )
    if not names:
        raise ScalefitInputError(
            f"no parameter of law {base.name!r} is shared across groups; name them, e.g. shared=('alpha', 'beta').",
            option="shared",
        )
    clash = [n for n in names if n in fixed]
    if clash:
        raise ScalefitInputError(f"parameter(s) {clash} are both fixed and shared; fix them or share them.",
                                 option="shared", values=clash)
    if len(set(names)) + len(fixed) >= len(base.param_names):
        raise ScalefitInputError(
            f"shared={list(names)} and fixed={sorted(fixed)} leave no parameter of law {base.name!r} to fit per "
            "group; fit the runs together without group_by instead.", option="shared",
            options=[Option("group_by", text="group_by=None")],
        )
    return tuple(dict.fromkeys(names))


def fit_groups(runs: Any, law: str | Law, *, group_by: str | Sequence[str], shared: Any, loss: str, delta: float,
               space: str, fixed: Mapping[str, float] | None, bounds: Mapping[str, Any] | None, weights: Any,
               seed: int, strict: bool, max_starts: int) -> "GroupFitResult":
    """Fit ``law`` to every group with the ``shared`` parameters common; see the module docstring."""
    from ._fit import check_objective, fit, solve

    base = get_law(law)
    delta, seed, max_starts = check_objective(loss, delta, space, seed, max_starts)
    if loss == "huber-likelihood":
        raise ScalefitInputError("loss='huber-likelihood' is not available for group fits; use 'huber' or 'mse'.",
                                 option="loss")
    columns = [group_by] if isinstance(group_by, str) else [str(c) for c in group_by]
    if not columns:
        raise ScalefitInputError("group_by is empty; name the column(s) that define the groups.", option="group_by")
    fixed = dict(fixed or {})
    build_spec(base, fixed, None, bounds)  # the base law's checks of fixed and bounds, with their messages
    names = _shared_names(base, shared, fixed)
    labels = _labels(runs, columns)
    order = list(dict.fromkeys(labels.tolist()))
    if len(order) < 2:
        raise ScalefitInputError(
            f"group_by={columns} puts every run in one group ({order[0]!r}); a shared fit needs at least two "
            "groups. Fit without group_by, or group by another column.", column=columns[0], option="group_by",
        )
    w = run_weights(weights, runs)
    masks = {g: labels == g for g in order}
    def group_fit(g: str, extra_fixed: Mapping[str, float]) -> FitResult:
        m = masks[g]
        return fit(runs.subset(m), base, fixed={**fixed, **extra_fixed}, weights=w[m], loss=loss, delta=delta,
                   space=space, bounds=bounds, seed=seed, max_starts=max_starts)

    with warnings.catch_warnings():  # starting values only: the final per-group fits below warn for themselves
        warnings.simplefilter("ignore")
        alone = {g: group_fit(g, {}) for g in order}
        start_shared, start_groups = _profile_start(alone, names, group_fit)
    # ---- the joint fit, warm-started from the profile
    warm_params = dict(start_shared)
    for i, g in enumerate(order):
        warm_params.update({f"{k}{_SEP}{i}": v for k, v in start_groups[g].params.items() if k not in names})
    joint_law = grouped_law(base, names, len(order), start=warm_params)
    joint_fixed = {f"{k}{_SEP}{i}": v for k, v in fixed.items() for i in range(len(order))}
    joint_bounds = None
    if bounds:
        joint_bounds = {}
        for k, v in bounds.items():
            if k in names:
                joint_bounds[k] = v
            else:
                joint_bounds.update({f"{k}{_SEP}{i}": v for i in range(len(order))})
    spec = build_spec(joint_law, joint_fixed, None, joint_bounds)
    inputs = law_inputs(base, runs)
    inputs["group_code"] = np.array([order.index(g) + 1 for g in labels], dtype=float)
    problem = Problem(joint_law, spec, inputs, runs.loss, w, loss, delta, space)
    options = dict(loss=loss, delta=delta, space=space, fixed=dict(spec.fixed), tie=[],
                   bounds={k: list(v) for k, v in (joint_bounds or {}).items()},
                   weights=None if weights is None else (weights if isinstance(weights, str) else "array"),
                   group_by=columns, shared=list(names), groups=order)
    joint = solve(problem, runs, options, seed=seed, max_starts=1, strict=strict)  # starts at the defaults: warm_params
    shared_values = {k: joint.params[k] for k in names}
    groups = {g: group_fit(g, shared_values) for g in order}
    # each group's standard errors from the joint fit, which carries the shared parameters' uncertainty
    for i, g in enumerate(order):
        se = {k: joint.stderr.get(k if k in names else f"{k}{_SEP}{i}", float("nan")) for k in base.param_names}
        se.update({k: float("nan") for k in fixed})
        groups[g] = replace(groups[g], stderr=se, stderr_kind=joint.stderr_kind + " (from the joint fit)",
                            options={**groups[g].options, "shared": dict(shared_values), "group": g,
                                     "group_by": columns})
    return GroupFitResult(law=base, group_by=tuple(columns), shared=shared_values,
                          shared_stderr={k: joint.stderr.get(k, float("nan")) for k in names},
                          groups=groups, separate=alone, joint=joint, runs=runs)


def _profile_start(alone: Mapping[str, FitResult], names: Sequence[str], group_fit: Any) -> tuple[dict, dict]:
    """The best candidate of the shared values and each group's fit at it (see the module docstring)."""
    own = np.array([[r.params[k] for k in names] for r in alone.values()])
    candidates = [np.median(own, axis=0)]
    order = np.argsort(own[:, 0])
    picks = order[np.unique(np.linspace(0, len(order) - 1, min(MAX_GROUP_CANDIDATES, len(order))).round().astype(int))]
    candidates += [own[i] for i in picks]
    best: tuple[float, dict, dict] | None = None
    for cand in candidates:
        values = {k: float(v) for k, v in zip(names, cand)}
        fits = {g: group_fit(g, values) for g in alone}
        total = float(sum(f.objective for f in fits.values()))
        if np.isfinite(total) and (best is None or total < best[0]):
            best = (total, values, fits)
    if best is None:
        raise ScalefitInputError("no starting value of the shared parameters gave a finite objective for every "
                                 "group; check the groups' runs (each group alone must be fittable).")
    return best[1], best[2]


@dataclass(frozen=True, eq=False)
class GroupFitResult(Mapping):
    """Result of ``scalefit.fit(runs, law, group_by=..., shared=...)``: per group and overall.

    A read-only mapping from group label to that group's :class:`FitResult`
    (the law itself, the shared parameters held at their joint values, standard
    errors from the joint fit), so ``scalefit.compute_optimal(result["rw"], flops)``
    plans one group.

    Attributes
    ----------
    law : Law
        The law fitted to each group.
    group_by : tuple of str
        The columns that define the groups (labels join their values with '/').
    shared : dict
        The shared parameters' values.
    shared_stderr : dict
        Their asymptotic standard errors (joint fit).
    groups : dict
        Group label -> :class:`FitResult`.
    separate : dict
        Group label -> the group fitted alone, nothing shared (for comparison).
    joint : FitResult
        The joint fit: every parameter, its covariance, diagnostics and
        ``bootstrap()`` (resamples all runs and refits the joint law).
    runs : Runs
        All the runs fitted.
    """

    law: Law
    group_by: tuple
    shared: dict
    shared_stderr: dict
    groups: dict
    separate: dict
    joint: FitResult = field(repr=False)
    runs: Any = field(default=None, repr=False)

    # ------------------------------------------------------------ mapping
    def __getitem__(self, group: str) -> FitResult:
        if group not in self.groups:
            raise ScalefitInputError(f"no group {group!r}; the groups are {list(self.groups)}.", values=[group])
        return self.groups[group]

    def __iter__(self) -> Iterator[str]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    # ------------------------------------------------------------ overall
    @property
    def objective(self) -> float:
        """The minimised objective over all runs (sum over groups)."""
        return float(sum(r.objective for r in self.groups.values()))

    @property
    def separate_objective(self) -> float:
        """The objective with nothing shared (each group alone): never above :attr:`objective` at a global optimum."""
        return float(sum(r.objective for r in self.separate.values()))

    @property
    def success(self) -> bool:
        return bool(self.joint.success and all(r.success for r in self.groups.values()))

    @property
    def n_runs(self) -> int:
        return int(sum(r.n_runs for r in self.groups.values()))

    def predict(self, group: str, n_params: Any = None, n_tokens: Any = None, **inputs: Any) -> Any:
        """Predicted loss of one group, as :meth:`FitResult.predict`."""
        return self[group].predict(n_params, n_tokens, **inputs)

    def to_frame(self) -> pd.DataFrame:
        """One row per group: every parameter (shared ones repeat), runs, objective shared and alone."""
        rows = []
        for g, r in self.groups.items():
            row: dict[str, Any] = {"group": g, **r.params, "n_runs": r.n_runs, "objective": r.objective,
                                   "objective_alone": self.separate[g].objective}
            rows.append(row)
        return pd.DataFrame(rows).set_index("group")

    def summary(self) -> Summary:
        """Shared parameters, each group's own, and what sharing costs in objective (text or HTML)."""
        info = [
            ("law", f"{self.law.name}: {self.law.formula}" if self.law.formula else self.law.name),
            ("groups", f"{len(self)} by {', '.join(self.group_by)}"),
            ("shared", ", ".join(f"{k} = {v:.5g} (se {self.shared_stderr.get(k, float('nan')):.2g})"
                                 for k, v in self.shared.items())),
            ("objective (shared)", self.objective),
            ("objective (each group alone)", self.separate_objective),
            ("runs used", self.n_runs),
            ("success", self.success),
        ]
        own = [n for n in self.law.param_names if n not in self.shared]
        rows = [[g, *[r.params[n] for n in own], *[r.stderr.get(n, float("nan")) for n in own], r.n_runs, r.objective]
                for g, r in self.groups.items()]
        header = ["group", *own, *[f"se {n}" for n in own], "runs", "objective"]
        notes = ["Each group's standard errors come from the joint fit (they include the shared parameters' "
                 "uncertainty); for intervals, bootstrap the joint fit: result.joint.bootstrap(n).",
                 # the joint law's own names, which its bootstrap samples and intervals use
                 "In result.joint and its bootstrap a group's own parameters are named <name>" + _SEP + "<i>: "
                 + ", ".join(f"{_SEP.lstrip('_')}{i} = {g}" for i, g in enumerate(self.groups)) + "."]
        for g, r in self.groups.items():
            if not r.trustworthy:
                notes.append(f"group {g!r} is NOT TRUSTWORTHY: " + "; ".join(r.diagnostics.trust_issues))
        if not self.joint.success:
            notes.append("the joint fit did not converge; treat the shared values with suspicion.")
        return Summary(f"scalefit group fit: {self.law.name}, shared {', '.join(self.shared)}", info,
                       [Table("Per group", header, rows)], notes)

    def to_dict(self) -> dict:
        """JSON-safe dictionary: the shared values, every group's fit, and the objectives."""
        return {
            "law": self.law.name,
            "group_by": list(self.group_by),
            "shared": {k: jsonable(v) for k, v in self.shared.items()},
            "shared_stderr": {k: jsonable(v) for k, v in self.shared_stderr.items()},
            "objective": jsonable(self.objective),
            "objective_alone": jsonable(self.separate_objective),
            "success": bool(self.success),
            "groups": {g: r.to_dict() for g, r in self.groups.items()},
        }

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __repr__(self) -> str:
        sh = ", ".join(f"{k}={v:.5g}" for k, v in self.shared.items())
        return f"GroupFitResult(law={self.law.name!r}, groups={len(self)}, {sh}, objective={self.objective:.6g})"
