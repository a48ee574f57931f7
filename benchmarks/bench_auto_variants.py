"""Benchmark: candidate choice rules for ``law="auto"``, scored offline on saved fold evidence.

Usage
-----
    python benchmarks/bench_auto_variants.py /tmp/folds_chinchilla.json /tmp/folds_li.json /tmp/folds_porian.json \\
        --synthetic /tmp/folds_synthetic.json

The inputs are the files ``bench_auto_folds.py --data X --out F`` and ``--synthetic --seeds 8 --out F``
write: for every task of ``bench_backtest.py`` (and every seed of the true-law sweeps), every ``auto``
candidate's inner-fold forecasts on the task's training runs and its outer forecasts of the held-out
runs.  A choice rule sees only the inner rows (what ``fit(runs, "auto")`` sees); the outer rows score
its pick.  No fit is made here, so a rule is evaluated in seconds.

Each rule keeps the default (``chinchilla``, Huber on log loss) unless a candidate passes; among those
that pass, the one with the best value of the rule's own statistic wins.  ``d`` is the paired
difference in absolute percentage error, candidate minus default, on the same inner forecasts.

Rules (the first two are ``scalefit.fitting._auto.RULE``, called through ``_auto._choose``):

- ``pooled``: mean ``d`` over every inner forecast below zero by more than ``MARGIN_SE`` paired standard
  errors, and pooled worst error no larger than the default's.
- ``outer``: the opt-in rule of ``_auto`` (last-fold win, last-fold worst error, projected trend).
- ``veto-last``: ``pooled``, plus: at the inner fold with the most training levels (the nearest to the
  user's fit) the candidate's worst error is no larger than the default's.  A veto only.
- ``w-levels``: the folds' mean ``d`` weighted by each fold's number of training levels (not by its
  number of forecasts, which is largest for the smallest training set); standard error from the folds'
  paired standard errors, the folds independent; plus the pooled worst-error condition.
- ``w-equal``: the same with every fold weighted equally.
- ``reach-oracle``: ``pooled`` on the folds whose largest extrapolation ratio is at least the outer
  test's (which ``fit`` cannot know: an oracle, to see whether matching the reach would help).
- ``ratio-oracle``: ``pooled`` on the inner forecasts whose extrapolation ratio lies in the outer test's
  range (an oracle too).
- ``first-fold``: ``pooled`` on the fold that reaches furthest (the smallest training set) alone.
- ``cluster-se``: ``pooled`` with a standard error that treats the forecasts of one held-out level
  at one fold as one cluster (they share their fit's error), ``sqrt(G/(G-1)) * sqrt(sum_c s_c^2) / n``
  with ``s_c`` the sum of the centred ``d`` in cluster ``c``.
- ``random-effects``: the folds' means pooled by DerSimonian-Laird (between-fold variance ``tau^2``
  added to each fold's squared standard error), so the margin grows when folds disagree.
- ``rank-last``: ``pooled``'s conditions, then ``d`` below zero at the last fold; the lowest last-fold
  mean wins (eligibility from every fold, ranking by the fold nearest the user's fit).
- ``either-rank-last``: eligible by ``pooled`` or by a resolved last-fold win with no larger last-fold
  worst error; ranked as ``rank-last``.
- ``all-folds``: ``pooled``, plus ``d`` below zero at every fold.
- combinations, named with ``+``; ``, k SE``: a margin of ``k`` standard errors instead of ``MARGIN_SE``;
  ``no chinchilla-tied`` and ``Huber only``: ``pooled`` with a smaller candidate set.
- ``pooled (replica of _auto's)``: this file's own statistics reproducing ``pooled``, to check them: its
  picks must equal those of ``_auto._choose`` in every task.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from scalefit.fitting import _auto

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_auto_folds as baf  # noqa: E402  (the saved evidence's format and the shipped rules)

DEFAULT = baf.DEFAULT


def _evidence(inn: pd.DataFrame) -> dict[str, dict]:
    """Per non-default candidate: paired differences per forecast, with fold and cluster labels, and worst errors."""
    key = ["origin", "run"]
    base = inn[inn["cand"] == DEFAULT].set_index(key).sort_index()
    out = {}
    for cand, g in inn.groupby("cand"):
        if cand == DEFAULT:
            continue
        c = g.set_index(key).sort_index()
        d = (c["abs_error"] - base["abs_error"]).dropna()
        f = pd.DataFrame({"d": d, "cand_err": c["abs_error"].loc[d.index], "base_err": base["abs_error"].loc[d.index],
                          "scale": base["scale"].loc[d.index], "ratio": base["ratio"].loc[d.index]}).reset_index()
        out[cand] = f
    return out


def _mean_se(d: np.ndarray) -> tuple[float, float]:
    return float(np.mean(d)), (float(np.std(d, ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("inf"))


def _fold_stats(f: pd.DataFrame) -> pd.DataFrame:
    """Per fold (ascending training levels): n, mean d, paired SE, candidate and default worst error."""
    rows = []
    for origin, g in f.groupby("origin", sort=True):
        m, se = _mean_se(g["d"].to_numpy())
        rows.append(dict(origin=origin, n=len(g), mean=m, se=se, cmax=g["cand_err"].max(), bmax=g["base_err"].max(),
                         reach=g["ratio"].max()))
    return pd.DataFrame(rows)


# every statistic returns (value, standard error, extra condition); a candidate passes when the condition holds
# and value + MARGIN_SE * se < 0, and the passing candidate with the lowest value wins
Stat = Callable[[pd.DataFrame, dict], "tuple[float, float, bool]"]


def _pooled(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
    if f.empty:
        return 0.0, float("inf"), False
    m, se = _mean_se(f["d"].to_numpy())
    return m, se, f["cand_err"].max() <= f["base_err"].max()


def _veto_last(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
    last = _fold_stats(f).iloc[-1]
    return 0.0, 0.0, bool(last["cmax"] <= last["bmax"])


def _weighted(weight: str) -> Stat:
    def stat(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
        fs = _fold_stats(f)
        w = fs["origin"].to_numpy(float) if weight == "levels" else np.ones(len(fs))
        m = float(np.sum(w * fs["mean"]) / w.sum())
        se = float(np.sqrt(np.sum((w * fs["se"]) ** 2)) / w.sum())
        return m, se, f["cand_err"].max() <= f["base_err"].max()
    return stat


def _subset(pick: str) -> Stat:
    def stat(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
        fs = _fold_stats(f)
        if pick == "reach":
            keep = fs[fs["reach"] >= ctx["outer_reach"] * (1 - 1e-9)]["origin"]
            if keep.empty:  # no fold reaches as far: the one that reaches furthest
                keep = fs["origin"].iloc[:1]
        else:
            keep = fs["origin"].iloc[:1]
        return _pooled(f[f["origin"].isin(set(keep))], ctx)
    return stat


def _ratio_matched(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
    lo, hi = ctx["outer_ratios"]
    return _pooled(f[(f["ratio"] >= lo * (1 - 1e-9)) & (f["ratio"] <= hi * (1 + 1e-9))], ctx)


def _pooled_pass(f: pd.DataFrame, ctx: dict) -> bool:
    m, se, ok = _pooled(f, ctx)
    return bool(ok and m + _auto.MARGIN_SE * se < 0)


def _rank_last(either: bool) -> Stat:
    def stat(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
        last = _fold_stats(f).iloc[-1]
        ok = _pooled_pass(f, ctx)
        if either:
            ok = ok or bool(last["mean"] + _auto.MARGIN_SE * last["se"] < 0 and last["cmax"] <= last["bmax"])
        return float(last["mean"]), 0.0, ok
    return stat


def _cluster_se(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
    d = f["d"].to_numpy()
    m = float(d.mean())
    sums = (f["d"] - m).groupby([f["origin"], f["scale"]]).sum().to_numpy()
    g = sums.size
    se = float(np.sqrt(g / (g - 1) * np.sum(sums ** 2)) / d.size) if g > 1 else float("inf")
    return m, se, f["cand_err"].max() <= f["base_err"].max()


def _random_effects(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
    fs = _fold_stats(f)
    y, v = fs["mean"].to_numpy(), fs["se"].to_numpy() ** 2
    if len(fs) == 1:
        return float(y[0]), float(np.sqrt(v[0])), f["cand_err"].max() <= f["base_err"].max()
    w = 1 / v
    q = float(np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2))
    tau2 = max(0.0, (q - (len(y) - 1)) / (w.sum() - np.sum(w ** 2) / w.sum()))
    wr = 1 / (v + tau2)
    return float(np.sum(wr * y) / wr.sum()), float(np.sqrt(1 / wr.sum())), f["cand_err"].max() <= f["base_err"].max()


def _all_folds(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
    return 0.0, 0.0, bool((_fold_stats(f)["mean"] < 0).all())


def _margin(stat: Stat, k: float) -> Stat:
    """``stat`` with its standard error multiplied by ``k`` (a margin of ``k * MARGIN_SE`` standard errors)."""
    def scaled(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
        m, se, ok = stat(f, ctx)
        return m, k * se, ok
    return scaled


def _without(stat: Stat, word: str) -> Stat:
    """``stat`` with the candidates whose name contains ``word`` left out of the candidate set."""
    def only(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
        m, se, ok = stat(f, ctx)
        return m, se, ok and word not in ctx["cand"]
    return only


def _both(primary: Stat, *vetoes: Stat) -> Stat:
    def stat(f: pd.DataFrame, ctx: dict) -> tuple[float, float, bool]:
        m, se, ok = primary(f, ctx)
        return m, se, ok and all(v(f, ctx)[2] for v in vetoes)
    return stat


VARIANTS: dict[str, Stat] = {
    "veto-last": _both(_pooled, _veto_last),
    "w-levels": _weighted("levels"),
    "w-equal": _weighted("equal"),
    "reach-oracle": _subset("reach"),
    "first-fold": _subset("first"),
    "ratio-oracle": _ratio_matched,
    "rank-last": _rank_last(either=False),
    "either-rank-last": _rank_last(either=True),
    "cluster-se": _cluster_se,
    "random-effects": _random_effects,
    "all-folds": _both(_pooled, _all_folds),
    "w-levels+veto-last": _both(_weighted("levels"), _veto_last),
    "cluster-se+veto-last": _both(_cluster_se, _veto_last),
    "random-effects+veto-last": _both(_random_effects, _veto_last),
    "all-folds+veto-last": _both(_pooled, _all_folds, _veto_last),
    "cluster-se+all-folds": _both(_cluster_se, _all_folds),
    "pooled, 2 SE": _margin(_pooled, 2.0),
    "pooled, 3 SE": _margin(_pooled, 3.0),
    "pooled, 5 SE": _margin(_pooled, 5.0),
    "veto-last, 3 SE": _margin(_both(_pooled, _veto_last), 3.0),
    "pooled, no chinchilla-tied": _without(_pooled, "chinchilla-tied/"),
    "pooled, Huber only": _without(_pooled, "/mse"),
    "pooled (replica of _auto's)": _pooled,
}
RULES = list(_auto._RULES) + list(VARIANTS)


def pick(inn: pd.DataFrame, out: pd.DataFrame, rule: str, ev: dict[str, pd.DataFrame] | None = None) -> str:
    """The candidate ``rule`` picks from a task's inner rows (``out`` gives only the oracles' ratios and full_max)."""
    if inn.empty:
        return DEFAULT
    if rule in _auto._RULES:
        return baf.choose(inn, float(out["train_max"].iloc[0]), rule)
    ctx = {"outer_reach": float(out["ratio"].max()), "outer_ratios": (float(out["ratio"].min()), float(out["ratio"].max()))}
    best, best_v = DEFAULT, 0.0
    for cand, f in sorted((ev if ev is not None else _evidence(inn)).items()):
        m, se, ok = VARIANTS[rule](f, {**ctx, "cand": cand})
        if ok and m + _auto.MARGIN_SE * se < 0 and m < best_v:
            best, best_v = cand, m
    return best


def evaluate(paths: list[str]) -> dict[str, pd.DataFrame]:
    """Per data set and rule: the outer errors of the picks, per task."""
    res = {}
    for p in paths:
        d = json.loads(Path(p).read_text())
        t = pd.DataFrame(d["rows"])
        rows = []
        for task, g in t.groupby("task", sort=False):
            inn, out = g[g["fold"] == "inner"], g[g["fold"] == "outer"]
            ev = _evidence(inn) if len(inn) else {}
            for rule in RULES:
                c = pick(inn, out, rule, ev)
                rows.append(dict(task=task, rule=rule, pick=c, errors=out[out["cand"] == c]["abs_error"].to_numpy(),
                                 default=out[out["cand"] == DEFAULT]["abs_error"].to_numpy()))
        res[d["data"]] = pd.DataFrame(rows)
    return res


def separation(paths: list[str], synthetic: str) -> None:
    """How strong is the inner evidence for the picks that break the max bound, against the true law's?

    Prints every candidate, on the public tasks, whose pooled ``d`` is below zero and whose outer worst error
    alone exceeds the default's worst over its data set by more than 0.2 points, with its pooled z (mean over
    paired standard error), its cluster z (``cluster-se``) and its per-fold means and worst-error differences;
    then the same z of the true law (its better objective) in every seed of the saturating sweep.
    """
    print("\n| task | candidate | pooled z | cluster z | per fold: mean d / worst-error difference | outer worst minus the data set's default worst |")
    print("|---|---|---|---|---|---|")
    for p in paths:
        t = pd.DataFrame(json.loads(Path(p).read_text())["rows"])
        outer = t[t["fold"] == "outer"]
        bound = outer[outer["cand"] == DEFAULT]["abs_error"].max() + 0.2
        for task, g in t.groupby("task", sort=False):
            inn, out = g[g["fold"] == "inner"], g[g["fold"] == "outer"]
            for cand, f in sorted(_evidence(inn).items() if len(inn) else []):
                m, se, _ = _pooled(f, {})
                mc, sec, _ = _cluster_se(f, {})
                worst = out[out["cand"] == cand]["abs_error"].max()
                if m < 0 and worst > bound:
                    fs = _fold_stats(f)
                    folds = ", ".join(f"{r.mean:+.2f} / {r.cmax - r.bmax:+.2f}" for r in fs.itertuples())
                    print(f"| {task.split(':', 1)[-1]} | {cand} | {m / se:.1f} | {mc / sec:.1f} | {folds} | "
                          f"{worst - bound + 0.2:+.2f} |")
    t = pd.DataFrame(json.loads(Path(synthetic).read_text())["rows"])
    zs, zc = [], []
    for task, g in t[t["task"].str.startswith("synthetic:kaplan-c-e")].groupby("task", sort=False):
        ev = _evidence(g[g["fold"] == "inner"])
        best = min((c for c in ev if c.startswith("kaplan-c-e/")), key=lambda c: _pooled(ev[c], {})[0])
        m, se, _ = _pooled(ev[best], {})
        mc, sec, _ = _cluster_se(ev[best], {})
        zs.append(m / se)
        zc.append(mc / sec)
    print(f"\nThe true law of the saturating sweep (better objective), {len(zs)} seeds: pooled z "
          + ", ".join(f"{z:.1f}" for z in zs) + "; cluster z " + ", ".join(f"{z:.1f}" for z in zc))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folds", nargs="+", help="bench_auto_folds.py --data X --out files")
    ap.add_argument("--synthetic", default=None, help="bench_auto_folds.py --synthetic --out file")
    ap.add_argument("--detail", action="store_true", help="list what each rule switched to, per task")
    args = ap.parse_args()
    res = evaluate(args.folds)
    names = list(res)
    print("| rule | " + " | ".join(f"{n}: auto mean / max (default)" for n in names) + " | meets the max bound | better on |")
    print("|---|" + "---|" * len(names) + "---|---|")
    for rule in RULES:
        cells, ok, better = [], True, 0
        for n in names:
            r = res[n][res[n]["rule"] == rule]
            e, b = np.concatenate(list(r["errors"])), np.concatenate(list(r["default"]))
            cells.append(f"{e.mean():.2f} / {e.max():.2f} ({b.mean():.2f} / {b.max():.2f})")
            ok &= e.max() - b.max() <= 0.2 + 1e-12
            better += e.mean() < b.mean() - 1e-12
        print(f"| {rule} | " + " | ".join(cells) + f" | {'yes' if ok else 'no'} | {better} by mean |")
    if args.detail:
        for n in names:
            for rule in RULES:
                r = res[n][(res[n]["rule"] == rule) & (res[n]["pick"] != DEFAULT)]
                sw = "; ".join(f"{t.split(':', 1)[-1]}: {c} (max {e.max():.2f} vs {b.max():.2f})"
                               for t, c, e, b in zip(r["task"], r["pick"], r["errors"], r["default"]))
                print(f"- {n}, {rule}: {sw or 'the default everywhere'}")
    if args.synthetic:
        separation(args.folds, args.synthetic)
        syn = evaluate([args.synthetic])["synthetic"]
        print("\n| rule | saturating truth: true law chosen (seeds) | its picks' outer mean err % (default's) | "
              "chinchilla truth: default law kept |")
        print("|---|---|---|---|")
        for rule in RULES:
            r = syn[syn["rule"] == rule]
            sat = r[r["task"].str.startswith("synthetic:kaplan-c-e")]
            chi = r[r["task"].str.startswith("synthetic:chinchilla")]
            n_true = int(sat["pick"].str.startswith("kaplan-c-e/").sum())
            n_kept = int(chi["pick"].str.startswith("chinchilla/").sum())
            e, b = np.concatenate(list(sat["errors"])), np.concatenate(list(sat["default"]))
            print(f"| {rule} | {n_true}/{len(sat)} | {e.mean():.2f} ({b.mean():.2f}) | {n_kept}/{len(chi)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
