"""Extrapolation checks: fit laws on the smaller runs, score them on the larger ones.

:func:`compare` holds out the runs above a FLOP or parameter threshold (or the
top fraction by compute), fits every law on the rest with the same engine and
loss, and reports each law's error on the held-out runs: mean and maximum
absolute percentage error and the signed bias.  It also refits every law on all
runs and reports AIC and BIC.

AIC and BIC use a Gaussian likelihood of the residuals in the fitted space,
``n log(RSS/n) + 2k`` and ``n log(RSS/n) + k log n`` with ``k`` the number of
free parameters: a convention for ranking laws, not the Huber objective itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._errors import ScalefitInputError
from .._json import jsonable
from .._summary import Summary, Table
from ..laws import Law, evaluate, get_law
from ..runs import as_runs
from ._fit import fit


@dataclass(frozen=True, eq=False)
class CompareResult:
    """Result of :func:`compare`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per law: ``law``, ``n_free``, ``mape``, ``max_ape``, ``bias``
        (held-out, in percent), ``aic``, ``bic`` (all runs), ``success``.
    fits_train : dict
        Law name -> FitResult on the training runs.
    fits_all : dict
        Law name -> FitResult on all runs.
    holdout : numpy.ndarray of bool
        Which runs were held out.
    rule : str
        How the held-out runs were chosen.
    rows : pandas.DataFrame
        One row per (law, held-out row): ``law``, ``row`` (input row number),
        ``n_params``, ``n_tokens``, ``flops``, ``prediction``, ``truth`` and
        ``error`` (percent, positive when the law over-predicts).
    """

    table: pd.DataFrame
    fits_train: dict
    fits_all: dict
    holdout: np.ndarray
    rule: str
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["law", "row", "n_params", "n_tokens", "flops", "prediction", "truth", "error"]))

    def __repr__(self) -> str:
        return f"CompareResult(laws={list(self.table['law'])!r}, best={self.best!r}, held_out={int(np.sum(self.holdout))})"

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`, one row per law."""
        return self.table.copy()

    @property
    def best(self) -> str:
        """Law with the lowest held-out mean absolute percentage error."""
        return str(self.table.sort_values("mape").iloc[0]["law"])

    def summary(self) -> Summary:
        """The laws' held-out errors and information criteria (text or HTML)."""
        rows = [
            (r.law, r.n_free, r.mape, r.max_ape, r.bias, r.aic, r.bic, r.success)
            for r in self.table.itertuples(index=False)
        ]
        info = [("held out", f"{int(self.holdout.sum())} of {self.holdout.size} rows ({self.rule})"), ("best extrapolation", self.best)]
        notes = [
            "mape, max_ape and bias are percentage errors of the law fitted on the other runs, on the held-out runs; "
            "bias > 0 means the law over-predicts loss.",
            "AIC/BIC: Gaussian likelihood of the residuals of the fit on all runs (lower is better).",
        ]
        return Summary(
            "scalefit compare",
            info,
            [Table("Laws", ("law", "free params", "MAPE %", "max APE %", "bias %", "AIC", "BIC", "converged"), rows)],
            notes,
        )

    def to_dict(self) -> dict:
        """JSON-safe dictionary of the comparison."""
        return {
            "holdout": {"rule": self.rule, "n_holdout": int(self.holdout.sum()), "n_runs": int(self.holdout.size)},
            "best": self.best,
            "laws": jsonable(self.table.to_dict(orient="records")),
            "params_train": {k: f.params for k, f in self.fits_train.items()},
            "rows": jsonable(self.rows.to_dict(orient="records")),
        }


def compare(
    runs: Any,
    laws: Sequence[str | Law] = ("chinchilla", "chinchilla-tied", "kaplan-nd"),
    *,
    holdout_flops: float | None = None,
    holdout_params: float | None = None,
    holdout_fraction: float | None = None,
    train_rows: Sequence[int] | None = None,
    loss: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
) -> CompareResult:
    """Fit each law on the smaller runs and score its extrapolation to the larger ones.

    Parameters
    ----------
    runs : Runs or anything :func:`scalefit.read_runs` accepts
    laws : sequence of str or Law
    holdout_flops : float, optional
        Hold out runs with ``flops`` strictly above this.
    holdout_params : float, optional
        Hold out runs with ``n_params`` strictly above this.
    holdout_fraction : float, optional
        Hold out this fraction of runs with the most compute (default 0.2 when
        no threshold is given).
    train_rows : sequence of int, optional
        A fixed training set: the input row numbers (``runs.table["row"]``)
        to fit on, as a published fitting design names them; every other row
        is held out.  Training curves must be given whole.
    loss, delta, space
        As in :func:`scalefit.fit`.

    Returns
    -------
    CompareResult

    Raises
    ------
    ScalefitInputError
        No law given, more than one hold-out rule, a rule that holds out no run
        or leaves too few to fit.
    """
    runs = as_runs(runs)
    chosen = [get_law(law) for law in laws]
    if not chosen:
        raise ScalefitInputError("laws is empty; give at least one law, e.g. laws=['chinchilla', 'kaplan-nd'].")
    given = [x is not None for x in (holdout_flops, holdout_params, holdout_fraction, train_rows)]
    if sum(given) > 1:
        raise ScalefitInputError(
            "give one hold-out rule: holdout_flops, holdout_params, holdout_fraction or train_rows, not several."
        )
    # Training curves are held out whole: a run is judged by its final compute and size, and
    # either all of its checkpoints are held out or none (otherwise early checkpoints of a
    # held-out run would leak into training).
    if runs.has_curves:
        codes, _ = pd.factorize(runs.table["run"])
        run_flops = pd.Series(runs.flops).groupby(codes).transform("max").to_numpy()
        run_params = pd.Series(runs.n_params).groupby(codes).transform("max").to_numpy()
        unit = "training curves"
    else:
        codes = np.arange(len(runs))
        run_flops, run_params, unit = runs.flops, runs.n_params, "runs"
    flops = run_flops
    if train_rows is not None:
        mask = _train_rows_mask(runs, train_rows, codes)
        rule = f"fixed training set of {int((~mask).sum())} rows (train_rows)"
    elif holdout_flops is not None:
        mask = flops > float(holdout_flops)
        rule = f"flops > {float(holdout_flops):.3g}"
    elif holdout_params is not None:
        mask = run_params > float(holdout_params)
        rule = f"n_params > {float(holdout_params):.3g}"
    else:
        frac = 0.2 if holdout_fraction is None else float(holdout_fraction)
        if not 0 < frac < 1:
            raise ScalefitInputError(f"holdout_fraction must lie strictly between 0 and 1; got {frac!r}.")
        n_units = int(codes.max()) + 1
        k = max(1, int(round(frac * n_units)))
        unit_flops = pd.Series(flops).groupby(codes).max().to_numpy()
        top = np.argsort(unit_flops, kind="stable")[-k:]
        mask = np.isin(codes, top)
        rule = f"top {frac:.0%} of {unit} by compute ({k} {unit})"
    if runs.has_curves:
        rule += f"; whole {unit} held out ({int(np.unique(codes[mask]).size)} of {int(codes.max()) + 1})"
    if not mask.any():
        raise ScalefitInputError(
            f"the hold-out rule ({rule}) selects no run; the largest run has flops {flops.max():.3g} and "
            f"n_params {run_params.max():.3g}. Lower the threshold."
        )
    if mask.all():
        raise ScalefitInputError(f"the hold-out rule ({rule}) selects every run; raise the threshold.")
    train, test = runs.subset(~mask), runs.subset(mask)
    rows, fits_train, fits_all, per_run = [], {}, {}, []
    obs = test.loss
    for law in chosen:
        ft = fit(train, law, loss=loss, delta=delta, space=space)
        fa = fit(runs, law, loss=loss, delta=delta, space=space)
        inputs = {k: test.table[k].to_numpy(dtype=float) for k in law.inputs}
        pred = evaluate(law, ft.params, flops_per_param_token=test.flops_per_param_token, where="compare()", **inputs)
        rel = (pred - obs) / obs * 100.0
        per_run.append(pd.DataFrame(dict(
            law=law.name, row=test.table["row"].to_numpy(int), n_params=test.n_params, n_tokens=test.n_tokens,
            flops=test.flops, prediction=np.asarray(pred, float), truth=obs, error=rel,
        )))
        resid = fa.residuals
        n = resid.size
        k = fa.problem.spec.n_free
        rss = float(np.sum(resid**2))
        ll_term = n * math.log(rss / n) if rss > 0 else -math.inf
        rows.append(dict(
            law=law.name, n_free=k, mape=float(np.mean(np.abs(rel))), max_ape=float(np.max(np.abs(rel))),
            bias=float(np.mean(rel)), aic=ll_term + 2 * k, bic=ll_term + k * math.log(n),
            success=bool(ft.success and fa.success),
        ))
        fits_train[law.name] = ft
        fits_all[law.name] = fa
    return CompareResult(pd.DataFrame(rows), fits_train, fits_all, mask, rule, pd.concat(per_run, ignore_index=True))


def _train_rows_mask(runs: Any, train_rows: Sequence[int], codes: np.ndarray) -> np.ndarray:
    """Hold-out mask for a fixed training set of input row numbers; whole curves only."""
    wanted = np.asarray(list(train_rows), dtype=int)
    have = runs.table["row"].to_numpy(int)
    unknown = np.setdiff1d(wanted, have)
    if unknown.size:
        raise ScalefitInputError(
            f"train_rows names {unknown.size} row(s) the runs do not have (e.g. {unknown[:5].tolist()}); give input "
            "row numbers as in runs.table['row'].", option="train_rows", rows=unknown,
        )
    train = np.isin(have, wanted)
    split = [int(c) for c in np.unique(codes) if 0 < train[codes == c].sum() < (codes == c).sum()]
    if split:
        raise ScalefitInputError(
            f"train_rows splits {len(split)} training curve(s) between fit and hold-out; give every checkpoint of a "
            "run or none, so no checkpoint of a held-out run enters the fit.", option="train_rows",
        )
    return ~train
