"""Rolling-origin backtests: fit on everything below a scale, forecast the next scale(s) up.

:func:`backtest` sorts the runs by a scale (``by="flops"``, ``"n_params"`` or
any numeric column), groups equal scales into *levels*, and for each origin
fits every law on the runs strictly below the origin's level and forecasts the
runs at the next ``horizon`` levels.  A training curve is one unit: its scale
is the largest value over its checkpoints, and either all of its checkpoints
are in a fit or none (rows are grouped by ``runs.table["run"]``).  A held-out
run is scored on its final checkpoint.

Every forecast gets prediction intervals (:mod:`._predictive`: bootstrap
parameter draws, residual noise and the extrapolation error per decade measured
by an inner backtest on that origin's training runs) at each of ``levels``; the result says,
per held-out run, whether each interval covered the truth, and per law the
mean and maximum absolute error, the signed bias, the coverage and width of
each interval and how the error grows with the extrapolation ratio (held-out
scale over the largest training scale).

The name ``"auto"`` among the laws runs ``fit(train, law="auto")`` at every
origin, so its choice is made on that origin's training runs only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._errors import FitCarriedWarning, ScalefitInputError, ScalefitWarning, warn
from .._json import jsonable
from .._summary import Summary, Table
from .._validation import check_level
from ..laws import Law, evaluate, get_law
from ..runs import as_runs
from ._predictive import extrapolation_calibration, forecast_draws, stored_calibration

_TOL = 1e-6  # relative difference under which two scales are one level


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Result of :func:`backtest` (frozen).

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per (origin, law, held-out run): ``origin`` (index of the
        first held-out level), ``law``, ``chosen`` (the law ``auto`` picked, else
        the law), ``run``, ``row`` (input row of the scored checkpoint),
        ``scale``, ``train_max``, ``ratio`` (scale / train_max), ``n_train``,
        ``prediction``, ``truth``, ``error`` (relative error in percent,
        positive when the law over-predicts), ``abs_error``, ``per_decade``
        (the extrapolation error per decade the interval was widened by; NaN
        without it) and for each level
        ``low_<l>``, ``high_<l>``, ``covered_<l>``.
    laws : pandas.DataFrame
        One row per law: ``n``, ``mean_error``, ``max_error``, ``bias`` (percent),
        ``coverage_<l>`` and ``width_<l>`` (mean interval width in percent of the
        truth) per level, and ``error_per_decade`` (slope of the absolute error
        in percent against log10 of the extrapolation ratio).
    skipped : pandas.DataFrame
        (origin, law, reason) for fits, or their intervals, that could not be made.
    by : str
    levels : tuple of float
    options : dict
        The options the backtest ran with; ``options["auto"]`` lists, per
        origin, what ``"auto"`` chose there, why, every candidate's inner
        scores and its extrapolation calibration.
    """

    rows: pd.DataFrame
    laws: pd.DataFrame
    skipped: pd.DataFrame
    by: str
    levels: tuple
    options: dict

    @property
    def best(self) -> str:
        """The law with the lowest mean absolute error."""
        return str(self.laws.sort_values("mean_error").iloc[0]["law"])

    def to_frame(self) -> pd.DataFrame:
        """The per-run rows."""
        return self.rows.copy()

    def summary(self) -> Summary:
        """Per-law errors and interval coverage (text or HTML)."""
        intervals = bool(self.options.get("intervals", True))
        levels = self.levels if intervals else ()
        head = ["law", "n", "mean err %", "max err %", "bias %"]
        for lv in levels:
            head += [f"cover {lv:.0%}", f"width {lv:.0%} %"]
        head.append("err %/decade")
        body = []
        for r in self.laws.to_dict(orient="records"):
            row = [r["law"], r["n"], r["mean_error"], r["max_error"], r["bias"]]
            for lv in levels:
                row += [r[f"coverage_{lv:g}"], r[f"width_{lv:g}"]]
            row.append(r["error_per_decade"])
            body.append(row)
        ratio = self.rows["ratio"] if len(self.rows) else pd.Series(dtype=float)
        info = [
            ("scale", self.by),
            ("origins", int(self.rows["origin"].nunique()) if len(self.rows) else 0),
            ("held-out forecasts", len(self.rows)),
            # how far the forecasts reach: a backtest of 1-2x steps says little about a 100x jump
            ("extrapolation", f"{ratio.min():.3g}x to {ratio.max():.3g}x the largest training scale" if len(ratio) else "-"),
            ("best (mean error)", self.best if len(self.laws) else "-"),
        ]
        notes = [
            "error = (prediction - truth) / truth in percent on held-out runs (bias > 0: over-predicts loss); each fit "
            "saw only runs below the origin's scale, whole training curves included or excluded.",
        ]
        if intervals:
            notes.append(
                f"intervals: prediction intervals (bootstrap of {self.options.get('n_boot')} resamples plus residual "
                "noise" + (", plus the extrapolation error per decade an inner backtest on each origin's training runs "
                           "measured" if self.options.get("extrapolation", True) else "")
                + "); width is the mean (high - low) / truth in percent.")
        if len(self.laws) and self.laws["error_per_decade"].isna().any():
            notes.append("err %/decade: the slope of the absolute error on log10 of the extrapolation ratio; nan where "
                         "a law's forecasts span too narrow a range of ratios to measure it.")
        if len(self.skipped):
            notes.append(f"{len(self.skipped)} fit(s) skipped; see result.skipped.")
        return Summary("scalefit backtest", info, [Table("Laws", head, body)], notes)

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def to_dict(self) -> dict:
        """JSON-safe dictionary: options, per-law summaries and every per-run row."""
        return {
            "by": self.by,
            "levels": list(self.levels),
            "options": jsonable(self.options),
            "laws": jsonable(self.laws.to_dict(orient="records")),
            "rows": jsonable(self.rows.to_dict(orient="records")),
            "skipped": jsonable(self.skipped.to_dict(orient="records")),
        }


# ====================================================================== units
def run_units(runs: Any, by: str) -> tuple[np.ndarray, np.ndarray]:
    """Unit code of each row (one per training curve, else per row) and each row's unit scale (its max of ``by``)."""
    table = runs.table
    if by not in table.columns:
        raise ScalefitInputError(
            f"backtest by={by!r}: the runs have no such column; use 'flops', 'n_params' or one of {list(table.columns)}.",
            option="by", values=[by],
        )
    values = pd.to_numeric(table[by], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        raise ScalefitInputError(
            f"backtest by={by!r}: column {by!r} needs finite positive numbers; rows "
            f"{[int(r) for r in table['row'].to_numpy()[bad][:10]]} are not.",
            column=by, rows=table["row"].to_numpy()[bad],
        )
    if "run" in table.columns:
        codes = pd.factorize(table["run"])[0]
    else:
        codes = np.arange(len(table))
    scale = pd.Series(values).groupby(codes).transform("max").to_numpy()
    return codes, scale


def scale_levels(scale: np.ndarray) -> np.ndarray:
    """Sorted distinct scales, merging values within a relative 1e-6 of the previous level."""
    out: list[float] = []
    for s in np.sort(np.unique(scale)):
        if not out or s > out[-1] * (1 + _TOL):
            out.append(float(s))
    return np.asarray(out)


def _level_of(scale: np.ndarray, levels: np.ndarray) -> np.ndarray:
    return np.searchsorted(levels, scale * (1 + _TOL), side="right") - 1


def _final_rows(sub: Any) -> Any:
    return sub.final() if getattr(sub, "has_curves", False) else sub


def point_forecast(fit_result: Any, test: Any) -> np.ndarray:
    """The fit's forecast at each row of ``test``, through :func:`scalefit.laws.evaluate`."""
    law = fit_result.law
    inputs = {k: test.table[k].to_numpy(float) for k in law.inputs if k in test.table.columns}
    return np.atleast_1d(evaluate(law, fit_result.params, flops_per_param_token=test.flops_per_param_token,
                                  where="backtest()", **inputs))


# =================================================================== backtest
def backtest(
    runs: Any,
    laws: Sequence[str | Law] = ("chinchilla",),
    *,
    by: str = "flops",
    origins: Sequence[float] | None = None,
    min_train: int = 3,
    horizon: int | None = 1,
    max_origins: int = 4,
    levels: Sequence[float] = (0.8, 0.95),
    n_boot: int = 100,
    loss: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    seed: int = 0,
    intervals: bool = True,
    extrapolation: bool = True,
    fit_options: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> BacktestResult:
    """Rolling-origin backtest of laws: fit below a scale, forecast the runs above it.

    Parameters
    ----------
    runs : Runs or anything :func:`scalefit.read_runs` accepts
        Training curves are kept whole: every checkpoint of a training run is
        fitted, a held-out run is scored on its final checkpoint.
    laws : sequence of str or Law
        Laws to test; ``"auto"`` runs ``fit(train, law="auto")`` on each
        origin's training runs.
    by : str, default "flops"
        The scale: ``"flops"``, ``"n_params"`` or another numeric column.
    origins : sequence of float, optional
        Explicit thresholds: each fits on runs with scale strictly below it
        and forecasts the ``horizon`` levels at or above it (all of them when
        ``horizon`` is None).  By default the last ``max_origins`` levels that
        leave ``min_train`` levels below them.
    min_train : int, default 3
        Fewest scale levels a default origin trains on.
    horizon : int or None, default 1
        Levels forecast from each origin; None forecasts every level above.
    max_origins : int, default 4
        Cap on default origins (the largest are kept).
    levels : sequence of float
        Prediction-interval levels.
    n_boot : int, default 100
        Bootstrap resamples per fit for the intervals.
    loss, delta, space
        The objective, as in :func:`scalefit.fit` (``auto`` chooses its own).
    seed : int
    intervals : bool, default True
        Compute prediction intervals (False: point forecasts only, faster).
    extrapolation : bool, default True
        Widen the intervals by the extrapolation error per decade that an
        inner backtest on each origin's training runs measures
        (:func:`scalefit.fitting._predictive.extrapolation_calibration`);
        False keeps bootstrap plus residual noise only.
    fit_options : mapping, optional
        Further options of :func:`scalefit.fit` for every named law
        (``fixed``, ``tie``, ``bounds``); not with ``"auto"``.

    progress : bool, default False
        Show a progress bar over the fits (``tqdm.auto``, on standard error).

    Returns
    -------
    BacktestResult

    Raises
    ------
    ScalefitInputError
        Unknown law or column, bad levels, fewer than two scale levels, or
        origins that leave no training or no held-out run.
    """
    runs = as_runs(runs)
    names = list(laws)
    if not names:
        raise ScalefitInputError("laws is empty; give at least one law, e.g. laws=['chinchilla', 'auto'].", option="laws")
    chosen: list[Any] = [law if (isinstance(law, str) and law.strip().lower() == "auto") else get_law(law) for law in names]
    lv = tuple(check_level(x, where="backtest()") for x in levels)
    codes, scale = run_units(runs, by)
    lev = scale_levels(scale)
    if lev.size < 2:
        raise ScalefitInputError(
            f"backtest by={by!r}: every run has the same {by} ({lev[0]:.4g}), so there is no larger scale to "
            "forecast; backtest by another column.", option="by",
        )
    level_idx = _level_of(scale, lev)
    plan = _origins(lev, origins, min_train, horizon, max_origins)
    from ._fit import fit

    rows: list[dict] = []
    skipped: list[dict] = []
    auto_info: list[dict] = []
    import warnings

    bar = None
    if progress:
        from .._progress import progress_bar

        bar = progress_bar(len(plan) * len(chosen), "backtest")
    for start, stop, threshold in plan:
        train_mask = level_idx < start
        test_mask = (level_idx >= start) & (level_idx < stop)
        train, test = runs.subset(train_mask), _final_rows(runs.subset(test_mask))
        truth = test.loss
        t_codes, t_scale = run_units(test, by)
        train_max = float(np.max(scale[train_mask]))
        run_ids = test.table["run"].astype(str).to_numpy() if "run" in test.table.columns else test.table["row"].astype(str).to_numpy()
        for law in chosen:
            label = "auto" if isinstance(law, str) else law.name
            try:
                with warnings.catch_warnings():
                    # a fold's fit is not the user's: its diagnostics travel in the rows (trustworthy, and
                    # f.success below) and one summary warning at the end, not once per fold
                    warnings.simplefilter("ignore", ScalefitWarning)
                    if isinstance(law, str):
                        f = fit(train, "auto", auto_by=by, seed=seed)
                        auto_info.append(dict(origin=int(start), **f.options["auto"]))
                    else:
                        f = fit(train, law, loss=loss, delta=delta, space=space, seed=seed, **dict(fit_options or {}))
                    pred = point_forecast(f, test)
                    bounds = {}
                    cal = None
                    if intervals:
                        boot = f.bootstrap(n_boot, seed=seed, n_jobs=1, progress=False)
                        inputs = {k: test.table[k].to_numpy(float) for k in f.law.inputs if k in test.table.columns}
                        if extrapolation:
                            cal = stored_calibration(f, by) or extrapolation_calibration(f, by=by)
                        draws = forecast_draws(f, boot, inputs, interval="prediction", seed=seed, calibration=cal,
                                               scale=t_scale)
                        from .._intervals import percentile_interval

                        for x in lv:
                            bounds[x] = percentile_interval(draws, x, axis=0)
            except ScalefitInputError as exc:
                skipped.append(dict(origin=int(start), law=label, reason=str(exc)))
                continue
            except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # a numerical failure of one law
                skipped.append(dict(origin=int(start), law=label, reason=f"{type(exc).__name__}: {exc}"))
                continue
            finally:
                if bar is not None:
                    bar.update(1)
            err = (pred - truth) / truth * 100.0
            for j in range(len(truth)):
                row = dict(
                    origin=int(start), threshold=float(threshold), law=label, chosen=f.law.name,
                    objective=f"{f.options.get('loss')}/{f.options.get('space')}", run=run_ids[j],
                    row=int(test.table["row"].iloc[j]), scale=float(t_scale[j]), train_max=train_max,
                    ratio=float(t_scale[j] / train_max), n_train=int(len(train)), prediction=float(pred[j]),
                    truth=float(truth[j]), error=float(err[j]), abs_error=float(abs(err[j])),
                    per_decade=float(cal["per_decade"]) if cal else float("nan"),
                    trustworthy=bool(getattr(f, "trustworthy", True)),
                )
                for x in lv:
                    if x in bounds:
                        lo, hi = float(np.atleast_1d(bounds[x][0])[j]), float(np.atleast_1d(bounds[x][1])[j])
                        row[f"low_{x:g}"], row[f"high_{x:g}"] = lo, hi
                        row[f"covered_{x:g}"] = bool(lo <= truth[j] <= hi)
                    else:
                        row[f"low_{x:g}"] = row[f"high_{x:g}"] = float("nan")
                        row[f"covered_{x:g}"] = None
                rows.append(row)
    if bar is not None:
        bar.close()
    table = pd.DataFrame(rows)
    if len(table) and not table["trustworthy"].all():
        folds = table.drop_duplicates(["origin", "law"])
        bad = folds[~folds["trustworthy"]]
        warn(f"backtest: {len(bad)} of {len(folds)} fold fits are flagged not trustworthy (a parameter at a bound, "
             f"or not identified), e.g. law {bad['law'].iloc[0]!r} at origin {bad['threshold'].iloc[0]:.4g}; their "
             "forecasts are in the rows with trustworthy=False.", FitCarriedWarning)
    options = dict(laws=[c if isinstance(c, str) else c.name for c in chosen], origins=[p[2] for p in plan],
                   min_train=min_train, horizon=horizon, max_origins=max_origins, n_boot=n_boot, loss=loss,
                   delta=delta, space=space, seed=seed, intervals=intervals, extrapolation=extrapolation,
                   auto=auto_info)
    return BacktestResult(table, law_summaries(table, lv), pd.DataFrame(skipped, columns=["origin", "law", "reason"]),
                          by, lv, options)


def _origins(lev: np.ndarray, origins: Sequence[float] | None, min_train: int, horizon: int | None,
             max_origins: int) -> list[tuple[int, int, float]]:
    """(first held-out level, one past the last, threshold) for each origin."""
    n = lev.size
    if horizon is not None and (int(horizon) != horizon or horizon < 1):
        raise ScalefitInputError(f"horizon must be a positive integer or None; got {horizon!r}.", option="horizon")
    if origins is not None:
        starts = []
        for t in origins:
            s = int(np.searchsorted(lev, float(t) * (1 - _TOL), side="left"))
            if s == 0 or s >= n:
                raise ScalefitInputError(
                    f"origin {float(t):.4g} leaves no run to train on or none to forecast (scales run from "
                    f"{lev[0]:.4g} to {lev[-1]:.4g}).", option="origins", values=[t],
                )
            starts.append(s)
    else:
        first = max(1, int(min_train))
        if first >= n:
            raise ScalefitInputError(
                f"min_train={min_train} leaves no level to forecast: the runs have {n} distinct scale levels; "
                "lower min_train.", option="min_train",
            )
        starts = list(range(first, n))[-max(1, int(max_origins)):]
    out = []
    for s in starts:
        stop = n if horizon is None else min(n, s + int(horizon))
        out.append((s, stop, float(lev[s])))
    return out


def law_summaries(rows: pd.DataFrame, levels: Sequence[float]) -> pd.DataFrame:
    """Per-law mean and max absolute error, bias, interval coverage and width, error growth per decade of ratio."""
    out = []
    if rows.empty:
        return pd.DataFrame(columns=["law", "n", "mean_error", "max_error", "bias", "error_per_decade"])
    for law, g in rows.groupby("law", sort=False):
        r = dict(law=law, n=int(len(g)), mean_error=float(g["abs_error"].mean()), max_error=float(g["abs_error"].max()),
                 bias=float(g["error"].mean()))
        for x in levels:
            cov = g[f"covered_{x:g}"].dropna()
            r[f"coverage_{x:g}"] = float(cov.astype(float).mean()) if len(cov) else float("nan")
            width = (g[f"high_{x:g}"] - g[f"low_{x:g}"]) / g["truth"] * 100.0
            r[f"width_{x:g}"] = float(width.mean()) if width.notna().any() else float("nan")
        lr = np.log10(g["ratio"].to_numpy(float))
        if np.ptp(lr) > 0:
            r["error_per_decade"] = float(np.polyfit(lr, g["abs_error"].to_numpy(float), 1)[0])
        else:
            r["error_per_decade"] = float("nan")
        out.append(r)
    return pd.DataFrame(out)

