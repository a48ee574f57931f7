"""Benchmark: forecasting held-out large runs on three public data sets.

Usage
-----
    python benchmarks/bench_backtest.py --data chinchilla --out /tmp/bt_chinchilla.json
    python benchmarks/bench_backtest.py --data li --out /tmp/bt_li.json
    python benchmarks/bench_backtest.py --data porian --part 1/2 --out /tmp/bt_porian1.json
    python benchmarks/bench_backtest.py --data porian --part 2/2 --out /tmp/bt_porian2.json
    python benchmarks/bench_backtest.py --combine /tmp/bt_chinchilla.json /tmp/bt_li.json /tmp/bt_porian1.json /tmp/bt_porian2.json

Data (read from ``../shared/data/``, see its README; never copied into the project):

- ``chinchilla``: the replication data of Besiroglu et al. (2024), 240 runs after dropping the
  5 highest losses; fit the runs below 1e21 FLOPs, forecast those above.
- ``li``: Li, Kudugunta and Zettlemoyer (2025) curves; final checkpoints only, and for each
  (model, total_steps) the run with the best peak learning rate; fit the models up to 0.52B
  parameters (N with embeddings), forecast the 1.18B runs.
- ``porian``: Porian et al. (2024) IsoFLOP sweeps, each of the 15 configurations on its own;
  fit budgets up to 1/8 of the largest, forecast the runs of the larger budgets.

Every law is fitted with its default objective (Huber, delta 1e-3, log loss), ``auto``
chooses its own on the training runs only; 80% and 95% prediction intervals come from
``--n-boot`` bootstrap resamples, residual noise and the extrapolation error per decade that
an inner backtest on the same training runs measures (``--no-extrapolation`` leaves that
term out, as the intervals were before).  The plain default is ``chinchilla``.

Laws: ``--laws`` takes a comma-separated list, or ``all`` for every law
``scalefit.available_laws()`` lists whose inputs the data have (laws added to scalefit later
are picked up with no change here), plus ``auto``.  ``--margin-se Z`` sets the margin, in
standard errors of the paired inner-backtest difference, by which ``auto`` must beat the
default (``scalefit.fitting._auto.MARGIN_SE``) to study the rule; ``--rule outer`` runs ``auto`` with
the rule that scores the last inner fold and the folds' trend (``scalefit.fitting._auto.RULE``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

import scalefit
from scalefit.fitting import _auto

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():  # the worktrees live next to the main checkout
    DATA = Path("/work/shared/data")
LAWS = ["chinchilla", "chinchilla-tied", "kaplan-c-e", "kaplan-n-e", "kaplan-nd", "auto"]
LEVELS = (0.8, 0.95)


def law_names(spec: str, runs) -> list[str]:
    """The laws of ``--laws``: a list, or ``all`` (every built-in law the runs have inputs for, then auto)."""
    if spec.strip() != "all":
        return [x for x in spec.split(",") if x]
    cols = set(runs.table.columns)
    return [n for n in scalefit.available_laws() if set(scalefit.get_law(n).inputs) <= cols] + ["auto"]
DEFAULT = "chinchilla"


def chinchilla_task():
    df = pd.read_csv(DATA / "chinchilla_epoch" / "svg_extracted_data.csv")
    df = df.sort_values("loss").iloc[:-5]  # the replication drops the 5 highest losses
    runs = scalefit.read_runs(df[["Model Size", "Training FLOP", "loss"]],
                              columns={"Model Size": "n_params", "Training FLOP": "flops"})
    return [("chinchilla", runs, dict(by="flops", origins=[1e21], horizon=None))]


def li_task():
    df = pd.read_csv(DATA / "li2025_misfitting" / "scaling_results.csv")
    final = df[df["portion_steps_elapsed"] == 1].drop_duplicates()
    best = final.loc[final.groupby(["model", "total_steps"])["loss"].idxmin()]
    runs = scalefit.read_runs(best[["N", "D", "loss"]].reset_index(drop=True), columns={"N": "n_params", "D": "n_tokens"})
    return [("li", runs, dict(by="n_params", origins=[1e9], horizon=None))]


def porian_task():
    df = pd.read_csv(DATA / "porian2024" / "isoflop_points.csv")
    keys = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]
    out = []
    for cfg, g in df.groupby(keys):
        top = g["flops"].max()
        runs = scalefit.read_runs(g[["n_params", "tokens", "flops", "loss"]].reset_index(drop=True),
                                  columns={"tokens": "n_tokens"})
        # fit budgets <= top/8, forecast every larger budget (origin between top/8 and the next doubling)
        out.append(("porian:" + "/".join(cfg), runs, dict(by="flops", origins=[top / 8 * 1.5], horizon=None)))
    return out


TASKS = {"chinchilla": chinchilla_task, "li": li_task, "porian": porian_task}


def run(data: str, n_boot: int, spec: str, part: str = "1/1", extrapolation: bool = True) -> dict:
    rows = []
    timings = {}
    auto_evidence = {}
    skipped = {}
    k, n = (int(x) for x in part.split("/"))
    for name, runs, kw in TASKS[data]()[k - 1::n]:
        laws = law_names(spec, runs)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = scalefit.backtest(runs, laws, n_boot=max(n_boot, 1), seed=0, levels=LEVELS, extrapolation=extrapolation,
                                    intervals=n_boot > 0, **kw)
        for a in res.options.get("auto", []):  # what auto's inner backtest saw on each training set
            auto_evidence[f"{name}@{a['origin']}"] = {k: a[k] for k in ("why", "scores", "calibration")}
        timings[name] = time.perf_counter() - t0
        if len(res.skipped):
            skipped[name] = res.skipped.to_dict(orient="records")
        r = res.rows.copy()
        r["task"] = name
        rows.append(r)
        print(f"{name}: {len(runs)} runs, {len(res.rows) // max(1, len(laws))} held out, "
              f"{timings[name]:.1f} s; skipped {len(res.skipped)}", file=sys.stderr)
        print(res.summary(), file=sys.stderr)
    table = pd.concat(rows, ignore_index=True)
    return {"data": data, "n_boot": n_boot, "laws": spec, "extrapolation": extrapolation,
            "margin_se": _auto.MARGIN_SE, "rule": _auto.RULE, "rows": json.loads(table.to_json(orient="records")),
            "seconds": timings, "auto": auto_evidence, "skipped": skipped, "load": os.getloadavg(), "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"}


def _covered(g: pd.DataFrame, level: float) -> float:
    """Share of held-out runs the ``level`` interval covered (NaN when intervals were not computed, --n-boot 0)."""
    return float(pd.to_numeric(g[f"covered_{level:g}"], errors="coerce").astype(float).mean())


def _pct(x: float) -> str:
    return "-" if pd.isna(x) else f"{x:.0%}"


def _num(x: float) -> str:
    return "-" if pd.isna(x) else f"{x:.2f}"


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    out = []
    for law, g in table.groupby("law", sort=False):
        w80 = ((g["high_0.8"] - g["low_0.8"]) / g["truth"] * 100).median()
        w95 = ((g["high_0.95"] - g["low_0.95"]) / g["truth"] * 100).median()
        out.append(dict(law=law, n=len(g), mean_err=g["abs_error"].mean(), max_err=g["abs_error"].max(),
                        bias=g["error"].mean(), cover80=_covered(g, 0.8), width80=w80,
                        cover95=_covered(g, 0.95), width95=w95))
    return pd.DataFrame(out)


def merge_parts(paths: list[str]) -> list[dict]:
    """The JSON results in ``paths``, one per data set: the parts of one data set (``--part``) merged, the load
    average at the end of each part in ``loads``."""
    parts: list[dict] = []
    for p in paths:
        d = json.loads(Path(p).read_text())
        same = [q for q in parts if q["data"] == d["data"]]
        if same:
            same[0]["rows"] += d["rows"]
            same[0]["seconds"].update(d["seconds"])
            same[0].setdefault("auto", {}).update(d.get("auto", {}))
            same[0].setdefault("skipped", {}).update(d.get("skipped", {}))
            same[0]["loads"].append(d.get("load", [float("nan")])[0])
        else:
            parts.append(dict(d, loads=[d.get("load", [float("nan")])[0]]))
    return parts


def combine(paths: list[str]) -> None:
    parts = merge_parts(paths)
    all_rows = []
    for part in parts:
        t = pd.DataFrame(part["rows"])
        t["data"] = part["data"]
        all_rows.append(t)
        print(f"\n### {part['data']} (n_boot {part['n_boot']}; extrapolation term {part.get('extrapolation', False)}; "
              f"rule {part.get('rule', 'pooled')}; margin {part.get('margin_se', '-')} SE; {sum(part['seconds'].values()):.0f} s; load average at the end "
              f"{part.get('load', ['?'])[0]})\n")
        s = summarise(t)
        print("| law | held out | mean err % | max err % | bias % | 80% cover | 80% median width % | 95% cover | "
              "95% median width % |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in s.itertuples(index=False):
            print(f"| {r.law} | {r.n} | {r.mean_err:.2f} | {r.max_err:.2f} | {r.bias:+.2f} | {_pct(r.cover80)} | "
                  f"{_num(r.width80)} | {_pct(r.cover95)} | {_num(r.width95)} |")
        for task, sk in sorted(part.get("skipped", {}).items()):
            print(f"\nskipped in {task}: " + "; ".join(f"{x['law']} ({x['reason'][:90]})" for x in sk))
        a = t[t["law"] == "auto"]
        if len(a):
            picks = a.groupby(["task", "chosen", "objective"]).size().reset_index()
            print("\nauto chose: " + "; ".join(f"{p.task}: {p.chosen} ({p.objective})" for p in picks.itertuples(index=False)))
            for task, ev in sorted(part.get("auto", {}).items()):
                cal = ev["calibration"]
                print(f"- {task}: {ev['why']}; extrapolation error {cal['per_decade']:.3g} per decade (log loss), "
                      f"residual noise {cal['noise']:.3g}")
    t = pd.concat(all_rows, ignore_index=True)
    print("\n### all three combined\n")
    print("| law | data sets | held out | 80% cover | 80% median width % | 95% cover | 95% median width % |")
    print("|---|---|---|---|---|---|---|")
    for law, g in t.groupby("law", sort=False):
        w = {lv: ((g[f"high_{lv:g}"] - g[f"low_{lv:g}"]) / g["truth"] * 100).median() for lv in LEVELS}
        print(f"| {law} | {g['data'].nunique()} | {len(g)} | {_covered(g, 0.8):.1%} | {w[0.8]:.2f} | "
              f"{_covered(g, 0.95):.1%} | {w[0.95]:.2f} |")
    print("\n### auto against the default (max error, points)\n")
    for part in parts:
        tt = pd.DataFrame(part["rows"])
        m = tt.groupby("law")["abs_error"].max()
        mean = tt.groupby("law")["abs_error"].mean()
        print(f"- {part['data']}: auto max {m['auto']:.2f} vs {DEFAULT} {m[DEFAULT]:.2f} "
              f"(difference {m['auto'] - m[DEFAULT]:+.2f}); mean {mean['auto']:.2f} vs {mean[DEFAULT]:.2f}")


def emit(result: dict, out: str | None) -> None:
    """Write a benchmark's JSON result to ``out`` (the --out of every script here), or print it."""
    text = json.dumps(result)
    if out:
        Path(out).write_text(text)
    else:
        print(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=sorted(TASKS))
    ap.add_argument("--n-boot", type=int, default=50, help="Bootstrap resamples per fit; 0: point forecasts only, no intervals.")
    ap.add_argument("--laws", default=",".join(LAWS), help="Comma-separated laws, or 'all' (every applicable built-in law and auto).")
    ap.add_argument("--no-extrapolation", action="store_true", help="Intervals without the calibrated extrapolation term.")
    ap.add_argument("--margin-se", type=float, default=None, help="Override auto's margin (standard errors).")
    ap.add_argument("--rule", choices=list(_auto._RULES), default=None, help="auto's choice rule (default: pooled).")
    ap.add_argument("--out", default=None)
    ap.add_argument("--part", default="1/1", help="K/N: run every N-th task from the K-th (to split porian over processes).")
    ap.add_argument("--combine", nargs="+", default=None)
    args = ap.parse_args()
    if args.combine:
        combine(args.combine)
        return 0
    if not DATA.exists():
        print(f"skipped: {DATA} is absent (public data of ../shared/data)", file=sys.stderr)
        return 0
    from threadpoolctl import threadpool_limits

    if args.margin_se is not None:
        _auto.MARGIN_SE = args.margin_se
    if args.rule is not None:
        _auto.RULE = args.rule
    with threadpool_limits(limits=1):
        result = run(args.data, args.n_boot, args.laws, args.part, extrapolation=not args.no_extrapolation)
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
