"""Approach 1 of Hoffmann et al. (2022): the lower envelope of training curves (private; see :func:`envelope`).

The curves are interpolated once onto a common log-FLOP grid, giving a
``(runs, grid)`` matrix of log losses (NaN where a run does not reach).  The
envelope of a bootstrap resample is then a masked ``argmin`` over the runs
present in it, done for a block of resamples at a time.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from .._errors import Option, ScalefitInputError
from .._validation import check_positive_scalar
from ..runs import as_runs
from ._checks import check_bool, check_flags, check_int, check_levels, check_seed, warn_notes
from ._envelope_result import EnvelopeResult
from ._powerlaw import few_resamples_note, fit_power_laws, intervals_from_samples

if TYPE_CHECKING:
    from ..runs import Runs

_BLOCK_CELLS = 4_000_000  # resamples x runs x grid cells per block (bounded memory)


def envelope(
    runs: Any,
    *,
    n_grid: int = 200,
    final_only: bool = False,
    min_tokens: float | None = None,
    min_fraction: float | None = None,
    exclude_flags: Sequence[str] = ("edge",),
    bootstrap: int = 1000,
    level: float | Sequence[float] = 0.95,
    seed: int | None = 0,
) -> EnvelopeResult:
    """Minimum-over-training-curves analysis (Approach 1 of Hoffmann et al., 2022).

    Every run's loss is interpolated (log loss against log FLOPs) onto a grid
    of ``n_grid`` log-spaced FLOP values spanning the checkpoints.  At each
    grid value the run with the lowest loss is on the envelope; its model size
    and the tokens it had seen there give N_opt(C) and D_opt(C), and
    N_opt = k_n C^a, D_opt = k_d C^b are fitted by least squares in log-log
    space.  With several runs per model size (e.g. a learning-rate sweep) the
    envelope takes the best one.

    Parameters
    ----------
    runs : Runs or anything :func:`scalefit.read_runs` accepts
        Training curves: a ``run`` column (``read_runs(..., run_id=[...])``)
        and optionally ``step``.  FLOPs along a curve are the table's ``flops``.
    n_grid : int, default 200
        Number of log-spaced FLOP values.
    final_only : bool, default False
        Use only each run's final checkpoint.  An intermediate checkpoint of a
        run with a decaying (e.g. cosine) schedule is not a fair point: its
        learning rate has not been annealed, so its loss is higher than a run
        planned for that many tokens would reach (Hoffmann et al., 2022,
        Sec. 3.1 and App. A).  The envelope is then the set of final
        checkpoints that no run with fewer or as many FLOPs beats (of runs
        sharing a FLOP value, as an IsoFLOP sweep's do, only the lowest
        loss); no point is flagged ``"edge"``.  Without curves (no ``run``
        column) each row counts as one run's final checkpoint.
    min_tokens : float, optional
        Drop checkpoints that had seen fewer tokens (warmup noise).
    min_fraction : float, optional
        Drop checkpoints before this fraction (0 to 1) of their run's length
        (tokens relative to the run's last checkpoint).
    exclude_flags : sequence of str, default ("edge",)
        Frontier points carrying these flags are left out of the fit.
        ``"edge"``: the winning run is the smallest or largest model covering
        that FLOP value, so the true optimum may lie beyond the sampled sizes
        (always the case where only one model size reaches a FLOP value).
    bootstrap : int, default 1000
        Resamples of whole runs, with replacement (0 for none).
    level : float or sequence of float, default 0.95
        Level(s) of the percentile intervals.
    seed : int or None, default 0
        Seed of the bootstrap.

    Returns
    -------
    EnvelopeResult
        ``dropped`` counts the checkpoints each filter removed; the result
        keeps the runs (``result.runs``) and its options (``result.options``).

    Raises
    ------
    ScalefitInputError
        For a bad option, runs without curves (unless ``final_only``), or no
        frontier to fit.

    Warns
    -----
    IsoFLOPWarning
        When runs cannot contribute or frontier points are left out.
    """
    what = "envelope"
    n_grid = check_int(what, "n_grid", n_grid, 2)
    bootstrap = check_int(what, "bootstrap", bootstrap, 0)
    levels = check_levels(what, level)
    seed = check_seed(what, seed)
    final_only = check_bool(what, "final_only", final_only)
    if min_tokens is not None:
        min_tokens = check_positive_scalar(min_tokens, "min_tokens", allow_zero=True, where=what)
    if min_fraction is not None:
        min_fraction = check_positive_scalar(min_fraction, "min_fraction", allow_zero=True, where=what)
        if min_fraction >= 1:
            raise ScalefitInputError(
                f"{what}: min_fraction must be below 1 (it is the fraction of each run's length to skip); got {min_fraction!r}.",
                option="min_fraction",
            )
    flags = check_flags(what, exclude_flags)
    runs = as_runs(runs)
    if not runs.has_curves and not final_only:
        # "(CLI: --run-id)" stays: tests/test_envelope.py asserts it (only imports may change in tests)
        raise ScalefitInputError(
            f"{what}: needs training curves, but the runs have no 'run' column. Read them with "
            "read_runs(..., run_id=[...]) naming the columns that identify a run (CLI: --run-id), or pass "
            "final_only=True to treat every row as one run's final checkpoint.",
            options=[Option("run_id", text="read_runs(..., run_id=[...])"), Option("final_only", "True")],
        )
    msgs: list[str] = []
    table, not_final = runs.table, 0
    if final_only and runs.has_curves:
        table = runs.final().table
        not_final = len(runs) - len(table)
    res = compute_envelope(
        table, not_final=not_final, n_grid=n_grid, final_only=bool(final_only), min_tokens=min_tokens, min_fraction=min_fraction,
        exclude_flags=flags, bootstrap=bootstrap, levels=levels, seed=seed, msgs=msgs, runs=runs,
    )
    warn_notes(msgs)
    return res



def _prepare(table: pd.DataFrame, *, not_final: int, min_tokens, min_fraction, msgs: list[str]):
    """Apply the warmup filters; ``table`` already holds only final checkpoints under final_only."""
    t = table.copy()
    if "run" not in t.columns:  # final_only without curves: every row is a run
        t["run"] = t["row"] if "row" in t.columns else np.arange(len(t))
    dropped = {"min_tokens": 0, "min_fraction": 0, "not_final": int(not_final)}
    keep_tokens = np.ones(len(t), dtype=bool)
    keep_fraction = np.ones(len(t), dtype=bool)
    if min_tokens is not None:
        keep_tokens = t["n_tokens"].to_numpy(float) >= min_tokens
    if min_fraction is not None and len(t):
        # position along the run (step if known, else tokens seen) relative to the run's last checkpoint
        col = "step" if "step" in t.columns else "n_tokens"
        length = t.groupby("run")[col].transform("max").to_numpy(float)
        keep_fraction = t[col].to_numpy(float) >= min_fraction * length
    # a checkpoint failing both filters is counted under min_tokens
    dropped["min_tokens"] = int((~keep_tokens).sum())
    dropped["min_fraction"] = int((keep_tokens & ~keep_fraction).sum())
    t = t[keep_tokens & keep_fraction]
    n = {k: v for k, v in dropped.items() if v}
    if n.get("min_tokens") or n.get("min_fraction"):
        msgs.append("warmup filter dropped " + ", ".join(f"{v} checkpoint(s) by {k}" for k, v in n.items() if k != "not_final") + ".")
    return t, dropped


def compute_envelope(table: pd.DataFrame, *, not_final: int, n_grid, final_only, min_tokens, min_fraction, exclude_flags,
                     bootstrap, levels, seed, msgs, runs: Runs | None = None) -> EnvelopeResult:
    all_runs = pd.unique(table["run"]) if "run" in table.columns else None
    t, dropped = _prepare(table, not_final=not_final, min_tokens=min_tokens, min_fraction=min_fraction, msgs=msgs)
    excluded = []
    if all_runs is not None:
        gone = sorted(set(all_runs) - set(pd.unique(t["run"])), key=str)
        excluded += [{"run": r, "reason": "no checkpoint left after the warmup filter"} for r in gone]
    if t.empty:
        raise ScalefitInputError(
            "envelope: no checkpoints left after filtering "
            f"(min_tokens={min_tokens}, min_fraction={min_fraction}); lower the thresholds."
        )
    # average exact repeats of a checkpoint (same run, same FLOPs) so interpolation is well defined
    t = t.assign(_logc=np.log10(t["flops"].to_numpy(float)), _logl=np.log(t["loss"].to_numpy(float)),
                 _logd=np.log10(t["n_tokens"].to_numpy(float)), _logn=np.log10(t["n_params"].to_numpy(float)))
    agg = t.groupby(["run", "_logc"], sort=True).agg(_logl=("_logl", "mean"), _logd=("_logd", "mean"), _logn=("_logn", "first"))
    agg = agg.reset_index()
    run_ids = pd.unique(agg["run"])
    rng = np.random.default_rng(seed)
    if final_only:
        res = _final_frontier(agg, run_ids, bootstrap, rng)
    else:
        res = _curve_frontier(agg, run_ids, n_grid, bootstrap, rng, excluded)
    fr, logn_s, logd_s, logc_s, has, edge = res

    used = np.array([not (set(f) & set(exclude_flags)) for f in fr["flags"]], dtype=bool)
    fr["used"] = used
    # row 0 of the stacked arrays is the data itself, rows 1.. the resamples
    mask_s = has & ~edge if "edge" in exclude_flags else has
    # a slope needs the envelope to change hands between model sizes at least once
    with np.errstate(invalid="ignore"):
        one_size = ~(np.nanmax(np.where(mask_s, logn_s, -np.inf), axis=1) > np.nanmin(np.where(mask_s, logn_s, np.inf), axis=1))
    mask_s = mask_s & ~one_size[:, None]
    fits = fit_power_laws(logc_s, logn_s, logd_s, mask_s)
    ok = fits.ok
    n_used = int(used.sum())
    if ok:
        message = f"power laws fitted through {n_used} of {len(fr)} frontier points"
    else:
        message = (f"fewer than 2 distinct usable frontier points ({n_used} of {len(fr)}); no power law fitted. "
                   "More model sizes must overlap in FLOPs, or pass exclude_flags=().")
        msgs.append(message)
    if n_used < len(fr):
        msgs.append(f"{len(fr) - n_used} of {len(fr)} frontier point(s) left out of the fit (flags {', '.join(exclude_flags)}); "
                    "see result.frontier['used'].")
    if excluded:
        msgs.append(f"{len(excluded)} run(s) could not contribute (see result.excluded_runs).")
    msgs += few_resamples_note(fits, bootstrap)
    nan = float("nan")
    return EnvelopeResult(
        a=fits.a, b=fits.b, k_n=fits.k_n if ok else nan, k_d=fits.k_d if ok else nan,
        intervals=intervals_from_samples(fits.samples, levels, dict(a=fits.a, b=fits.b, k_n=fits.k_n, k_d=fits.k_d)), level=levels, bootstrap_samples=fits.samples,
        n_bootstrap=bootstrap, n_bootstrap_valid=fits.n_valid, success=ok, message=message, seed=seed,
        frontier=fr, dropped=MappingProxyType(dropped),
        excluded_runs=pd.DataFrame(excluded, columns=["run", "reason"]), n_runs=len(run_ids),
        final_only=final_only, n_grid=n_grid, min_tokens=min_tokens, min_fraction=min_fraction,
        exclude_flags=tuple(exclude_flags), runs=runs,
    )


def _presence(rng, n_runs: int, n_boot: int) -> np.ndarray:
    """Row 0 all runs; rows 1.. runs drawn with replacement (only presence matters for a minimum)."""
    pres = np.ones((n_boot + 1, n_runs), dtype=bool)
    if n_boot:
        draws = rng.integers(0, n_runs, size=(n_boot, n_runs))
        pres[1:] = False
        np.put_along_axis(pres[1:], draws, True, axis=1)
    return pres


def _curve_frontier(agg, run_ids, n_grid, bootstrap, rng, excluded):
    R = len(run_ids)
    lo, hi = agg["_logc"].min(), agg["_logc"].max()
    grid = np.linspace(lo, hi, n_grid)
    L = np.full((R, n_grid), np.nan)
    D = np.full((R, n_grid), np.nan)
    logn = np.zeros(R)
    # agg is sorted by run, so each run's checkpoints are one slice (numpy slices: no pandas group per run)
    codes = pd.factorize(agg["run"], sort=False)[0]
    starts = np.flatnonzero(np.diff(codes, prepend=-1) != 0)
    ends = np.append(starts[1:], len(codes))
    logc_all, logl_all, logd_all, logn_all = (agg[c].to_numpy() for c in ("_logc", "_logl", "_logd", "_logn"))
    for i, (a, z) in enumerate(zip(starts.tolist(), ends.tolist())):
        x = logc_all[a:z]
        logn[i] = logn_all[a]
        if len(x) < 2:
            excluded.append({"run": run_ids[i], "reason": "only one checkpoint left; a curve needs two to interpolate (use final_only=True to use single points)"})
            continue
        inside = (grid >= x[0]) & (grid <= x[-1])
        L[i, inside] = np.interp(grid[inside], x, logl_all[a:z])
        D[i, inside] = np.interp(grid[inside], x, logd_all[a:z])
    covered = np.isfinite(L)
    if not covered.any():
        raise ScalefitInputError("envelope: no run has two or more checkpoints, so no curve can be interpolated; "
                                 "pass final_only=True to use each run's final checkpoint.")
    Lc = np.where(covered, L, np.inf)
    pres = _presence(rng, R, bootstrap)
    n_rep = bootstrap + 1
    best = np.zeros((n_rep, n_grid), dtype=int)
    has = np.zeros((n_rep, n_grid), dtype=bool)
    edge = np.zeros((n_rep, n_grid), dtype=bool)
    n_models = np.zeros(n_grid, dtype=int)
    block = max(1, _BLOCK_CELLS // max(1, R * n_grid))
    N = logn[:, None]
    for s in range(0, n_rep, block):
        p = pres[s:s + block, :, None] & covered[None]  # (b, R, J)
        vals = np.where(p, Lc[None], np.inf)
        bi = np.argmin(vals, axis=1)
        best[s:s + block] = bi
        has[s:s + block] = np.isfinite(np.take_along_axis(vals, bi[:, None, :], axis=1)[:, 0])
        nmin = np.where(p, N[None], np.inf).min(axis=1)
        nmax = np.where(p, N[None], -np.inf).max(axis=1)
        win = logn[bi]
        edge[s:s + block] = (win <= nmin) | (win >= nmax)
    for j in range(n_grid):
        n_models[j] = len(np.unique(logn[covered[:, j]]))
    logn_s = np.where(has, logn[best], np.nan)
    logd_s = np.where(has, D[best, np.arange(n_grid)[None, :]], np.nan)
    j = has[0]
    fr = pd.DataFrame({
        "flops": 10.0 ** grid[j],
        "n_params": 10.0 ** logn_s[0, j],
        "n_tokens": 10.0 ** logd_s[0, j],
        "loss": np.exp(L[best[0, j], np.flatnonzero(j)]),
        "run": run_ids[best[0, j]],
        "n_models": n_models[j],
        "flags": [("edge",) if e else () for e in edge[0, j]],
    }).reset_index(drop=True)
    # "edge" is recomputed within each resample (from the runs present in it)
    return fr, logn_s[:, j], logd_s[:, j], grid[j], has[:, j], edge[:, j]


def _final_frontier(agg, run_ids, bootstrap, rng):
    last = agg.groupby("run", sort=False).tail(1).reset_index(drop=True)
    order = np.argsort(last["_logc"].to_numpy(), kind="stable")
    last = last.iloc[order].reset_index(drop=True)
    R = len(last)
    logc = last["_logc"].to_numpy()
    logl = last["_logl"].to_numpy()
    pres = _presence(rng, R, bootstrap)
    vals = np.where(pres, logl[None], np.inf)
    # runs that share a FLOP value (an IsoFLOP sweep's budget) compete there: only the lowest loss of the budget,
    # the first one on ties, is on the envelope, and only if it beats every run with fewer FLOPs
    starts = np.flatnonzero(np.r_[True, np.diff(logc) != 0])
    budget = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, R]))
    best = np.minimum.reduceat(vals, starts, axis=1)  # (resamples, budgets)
    before = np.concatenate([np.full((len(vals), 1), np.inf), np.minimum.accumulate(best, axis=1)[:, :-1]], axis=1)
    on = pres & (vals < before[:, budget]) & (vals == best[:, budget])
    for a, z in zip(starts, np.r_[starts[1:], R]):
        if z - a > 1:
            on[:, a:z] &= np.cumsum(on[:, a:z], axis=1) == 1
    fr = pd.DataFrame({
        "flops": 10.0 ** logc[on[0]],
        "n_params": 10.0 ** last["_logn"].to_numpy()[on[0]],
        "n_tokens": 10.0 ** last["_logd"].to_numpy()[on[0]],
        "loss": np.exp(logl[on[0]]),
        "run": last["run"].to_numpy()[on[0]],
        "n_models": np.nan,
        "flags": [()] * int(on[0].sum()),
    })
    logn_s = np.broadcast_to(last["_logn"].to_numpy(), on.shape)
    logd_s = np.broadcast_to(last["_logd"].to_numpy(), on.shape)
    return fr, logn_s, logd_s, logc, on, np.zeros_like(on)
