"""Benchmark: does ``law="auto"``'s inner backtest ask the question the outer benchmark asks?

Usage
-----
    python benchmarks/bench_auto_folds.py --data porian --out /tmp/folds_porian.json
    python benchmarks/bench_auto_folds.py --data chinchilla --out /tmp/folds_chinchilla.json
    python benchmarks/bench_auto_folds.py --data li --out /tmp/folds_li.json
    python benchmarks/bench_auto_folds.py --synthetic --seeds 8 --out /tmp/folds_synthetic.json
    python benchmarks/bench_auto_folds.py --combine /tmp/folds_chinchilla.json /tmp/folds_li.json /tmp/folds_porian.json

For each task of ``bench_backtest.py`` (the same data, training sets and held-out runs), every
``auto`` candidate (law, objective) is backtested twice with point forecasts only:

- *outer*: fitted on the task's training runs, forecasting its held-out runs (what the benchmark scores);
- *inner*: the folds ``auto`` itself uses on those training runs only (origins at 60/70/80% of their
  log-scale range, ``scalefit.fitting._auto.inner_origins``).

``--combine`` prints, per task and candidate, the paired difference in absolute percentage error
(candidate minus the default) at each inner fold, smallest training set first, with its standard
error, pooled over the folds, and at the outer test (mean and max), then what each choice rule
(``scalefit.fitting._auto.RULE``: ``pooled``, ``outer``) would pick and how the picks score outside.

``--synthetic`` asks the outer question on the sweep of ``tests/test_backtest.py`` whose true law
(``kaplan-c-e``, and ``chinchilla``) ``auto`` must choose: the same 5 budgets 1e17..1e21 plus two
larger ones, fitted on the 5, forecasting 1e22 and 1e23, for ``--seeds`` noise seeds of each true law;
it prints which candidate each rule chooses from the 5 budgets of the saturating law, and ``--out``
saves every task's inner and outer rows (the format of ``--data``) for ``bench_auto_variants.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scalefit
from scalefit.fitting import _auto
from scalefit.fitting.backtest import run_units

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_backtest as bb  # noqa: E402  (the tasks of the forecasting benchmark)

DEFAULT = "chinchilla/huber"


def _cands(runs) -> list[str]:
    return [law for law in _auto.CANDIDATE_LAWS if all(k in runs.table.columns for k in scalefit.get_law(law).inputs)]


def task_rows(name: str, runs, kw: dict) -> pd.DataFrame:
    """Outer and inner point forecasts of every candidate on one task."""
    by = kw["by"]
    laws = _cands(runs)
    _, scale = run_units(runs, by)
    train = runs.subset(scale < kw["origins"][0])
    _, tscale = run_units(train, by)
    origins = _auto.inner_origins(tscale)
    out = []
    for loss, delta, space in _auto.CANDIDATE_OBJECTIVES:
        res = scalefit.backtest(runs, laws, intervals=False, seed=0, loss=loss, delta=delta, space=space, **kw)
        r = res.rows.assign(fold="outer")
        out.append(r)
        if origins:
            bt = scalefit.backtest(train, laws, by=by, origins=origins, horizon=None, loss=loss, delta=delta,
                                   space=space, intervals=False, seed=0)
            out.append(bt.rows.assign(fold="inner"))
    t = pd.concat(out, ignore_index=True)
    t["cand"] = t["law"] + "/" + t["objective"].str.split("/").str[0]
    t["task"] = name
    return t


def run(data: str) -> dict:
    from threadpoolctl import threadpool_limits

    rows = []
    t0 = time.perf_counter()
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, runs, kw in bb.TASKS[data]():
            rows.append(task_rows(name, runs, kw))
            print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    t = pd.concat(rows, ignore_index=True)
    return {"data": data, "rows": json.loads(t.to_json(orient="records")), "seconds": time.perf_counter() - t0,
            "load": os.getloadavg()}


def _inner_frames(inn: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """The inner rows per candidate key, as ``_auto._choose`` receives them."""
    out = {}
    for cand, g in inn.groupby("cand"):
        law, loss = cand.split("/")
        out[(law, loss, 1e-3, "log")] = g.sort_values(["origin", "run"]).reset_index(drop=True)
    return out


def choose(inn: pd.DataFrame, full_max: float, rule: str) -> str:
    """The candidate ``rule`` picks from these inner rows (through ``_auto._choose`` itself)."""
    frames = _inner_frames(inn)
    scores = []
    for key, g in frames.items():
        scores.append(dict(law=key[0], loss=key[1], delta=key[2], space=key[3], mean_error=float(g["abs_error"].mean()),
                           max_error=float(g["abs_error"].max()), n=len(g), origins=int(g["origin"].nunique())))
    scores.sort(key=lambda s: s["mean_error"])
    old = _auto.RULE
    try:
        _auto.RULE = rule
        key, _, _ = _auto._choose(scores, frames, "flops", full_max=full_max)
    finally:
        _auto.RULE = old
    return f"{key[0]}/{key[1]}"


def combine(paths: list[str]) -> None:
    for p in paths:
        d = json.loads(Path(p).read_text())
        t = pd.DataFrame(d["rows"])
        print(f"\n### {d['data']} ({d['seconds']:.0f} s; load average at the end {d['load'][0]:.1f})\n")
        print("| task | candidate | inner folds: mean d (SE), smallest training set first | pooled d (SE) | "
              "outer d mean | outer d max |")
        print("|---|---|---|---|---|---|")
        picks: dict[str, list] = {r: [] for r in _auto._RULES}
        for task, g in t.groupby("task", sort=False):
            inn, out = g[g["fold"] == "inner"], g[g["fold"] == "outer"]
            base_o = out[out["cand"] == DEFAULT]["abs_error"]
            base_i = inn[inn["cand"] == DEFAULT].set_index(["origin", "run"])["abs_error"]
            for cand, gi in inn.groupby("cand"):
                if cand == DEFAULT:
                    continue
                diff = (gi.set_index(["origin", "run"])["abs_error"] - base_i).dropna().reset_index()
                folds = [f"{v.mean():+.2f} ({v.std(ddof=1) / np.sqrt(len(v)):.2f})"
                         for _, v in diff.groupby("origin")["abs_error"]]
                go = out[out["cand"] == cand]["abs_error"]
                v = diff["abs_error"]
                print(f"| {task.replace('porian:', '')} | {cand} | {', '.join(folds)} | {v.mean():+.2f} "
                      f"({v.std(ddof=1) / np.sqrt(len(v)):.2f}) | {go.mean() - base_o.mean():+.2f} | "
                      f"{go.max() - base_o.max():+.2f} |")
            if len(inn):
                full_max = float(out["train_max"].iloc[0])
                for r in _auto._RULES:
                    c = choose(inn, full_max, r)
                    picks[r].append((task, c, out[out["cand"] == c]["abs_error"].to_numpy()))
            else:
                for r in _auto._RULES:
                    picks[r].append((task, DEFAULT, base_o.to_numpy()))
        base = t[(t["fold"] == "outer") & (t["cand"] == DEFAULT)]["abs_error"]
        print()
        for cand in sorted(set(t["cand"]) - {DEFAULT}):
            tally = np.zeros(4, int)
            for _, g in t.groupby("task", sort=False):
                inn, out = g[g["fold"] == "inner"], g[g["fold"] == "outer"]
                if not len(inn):
                    continue
                b = inn[inn["cand"] == DEFAULT].set_index(["origin", "run"])["abs_error"]
                d = (inn[inn["cand"] == cand].set_index(["origin", "run"])["abs_error"] - b).dropna().reset_index()
                per = d.groupby("origin")["abs_error"].mean().to_numpy()
                od = out[out["cand"] == cand]["abs_error"].mean() - out[out["cand"] == DEFAULT]["abs_error"].mean()
                tally += [d["abs_error"].mean() < 0, od < 0, per[-1] > per[0], (d["abs_error"].mean() < 0) == (od < 0)]
            n = t[t["fold"] == "inner"]["task"].nunique()
            print(f"- {cand}: better than the default pooled over the inner folds in {tally[0]}/{n} tasks, at the outer "
                  f"test in {tally[1]}/{n}; the same sign in {tally[3]}/{n}; its last fold less favourable than its "
                  f"first in {tally[2]}/{n}")
        print()
        for r, lst in picks.items():
            e = np.concatenate([x[2] for x in lst])
            chosen = "; ".join(f"{task.replace('porian:', '')}: {c}" for task, c, _ in lst if c != DEFAULT) or "the default everywhere"
            print(f"- rule {r}: outer mean {e.mean():.2f} / max {e.max():.2f} against the default's "
                  f"{base.mean():.2f} / {base.max():.2f} (switched: {chosen})")


#: The true laws of tests/test_backtest.py (TRUE_SATURATING, TRUE_CHINCHILLA = Hoffmann et al. 2022, eq. 10).
SYNTHETIC_TRUTHS = {"kaplan-c-e": {"E": 1.8, "C_c": 2.0e11, "alpha_C": 0.15},
                    "chinchilla": dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)}


def synthetic_sweep(law: str, seed: int) -> pd.DataFrame:
    """The design of tests/test_backtest.py::_sweep (6 sizes per budget, 0.2% noise), with budgets 1e17..1e23."""
    from scalefit.laws import evaluate

    rng = np.random.default_rng(seed)
    rows = []
    for c in np.logspace(17, 23, 7):
        n_opt = 0.1 * np.sqrt(c / 6)
        for n in n_opt * np.logspace(-0.8, 0.8, 6):
            d = c / (6 * n)
            loss = float(evaluate(law, SYNTHETIC_TRUTHS[law], n_params=n, n_tokens=d))
            rows.append(dict(n_params=n, n_tokens=d, flops=c, loss=loss * np.exp(0.002 * rng.standard_normal())))
    return pd.DataFrame(rows)


def synthetic_rows(seeds: int) -> dict:
    """The outer question on the true-law sweeps: fitted on the 5 budgets of the test, forecasting 1e22 and 1e23.

    One task per (true law, seed), in the row format of :func:`run`: ``auto``'s inner folds on the 5 budgets and
    every candidate's outer forecasts, so that the choice rules can be scored offline as on the public data.
    """
    from threadpoolctl import threadpool_limits

    rows = []
    t0 = time.perf_counter()
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for law in SYNTHETIC_TRUTHS:
            for seed in range(1, seeds + 1):
                runs = scalefit.read_runs(synthetic_sweep(law, seed))
                rows.append(task_rows(f"synthetic:{law}:{seed}", runs, dict(by="flops", origins=[1e22], horizon=None)))
    t = pd.concat(rows, ignore_index=True)
    return {"data": "synthetic", "rows": json.loads(t.to_json(orient="records")), "seconds": time.perf_counter() - t0,
            "load": os.getloadavg()}


def synthetic(seeds: int, out: str | None) -> None:
    """Print, per seed of the saturating true law, its outer errors against the default's and each rule's pick."""
    d = synthetic_rows(seeds)
    if out:
        bb.emit(d, out)
    t = pd.DataFrame(d["rows"])
    print("| seed | chinchilla err % at 1e22 / 1e23 | kaplan-c-e err % at 1e22 / 1e23 | "
          + " | ".join(f"{r} picks" for r in _auto._RULES) + " |")
    print("|---" * (3 + len(_auto._RULES)) + "|")
    for task, g in t[t["task"].str.startswith("synthetic:kaplan-c-e")].groupby("task", sort=False):
        out_rows = g[(g["fold"] == "outer") & g["cand"].str.endswith("/huber")]
        e = out_rows.groupby(["law", "scale"])["abs_error"].mean()
        inn = g[g["fold"] == "inner"]
        picks = [choose(inn, float(g[g["fold"] == "outer"]["train_max"].iloc[0]), r) for r in _auto._RULES]
        print(f"| {task.split(':')[-1]} | {e['chinchilla'].iloc[0]:.2f} / {e['chinchilla'].iloc[1]:.2f} | "
              f"{e['kaplan-c-e'].iloc[0]:.2f} / {e['kaplan-c-e'].iloc[1]:.2f} | " + " | ".join(picks) + " |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=sorted(bb.TASKS))
    ap.add_argument("--out", default=None)
    ap.add_argument("--combine", nargs="+", default=None)
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--seeds", type=int, default=8)
    args = ap.parse_args()
    if args.combine:
        combine(args.combine)
        return 0
    if args.synthetic:
        synthetic(args.seeds, args.out)
        return 0
    if not bb.DATA.exists():
        print(f"skipped: {bb.DATA} is absent (public data of ../shared/data)", file=sys.stderr)
        return 0
    bb.emit(run(args.data), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
