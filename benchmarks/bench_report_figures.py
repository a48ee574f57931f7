"""What the report's figures cost to draw, with and without the constrained layout and mathtext tick labels.

    python benchmarks/bench_report_figures.py --repeats 5            # the bundled 72 runs (synthetic:isoflop)
    python benchmarks/bench_report_figures.py --repeats 3 --curves   # with the bundled training curves (the demo)
    python benchmarks/bench_report_figures.py --stages               # where a report's CPU time goes, stage by stage
    python benchmarks/bench_report_figures.py --isoflop-spread       # IsoFLOP intervals against the resample count
    python benchmarks/bench_report_figures.py --timeline             # when each step of `scalefit report` starts and ends
    python benchmarks/bench_report_figures.py --parallel-cost 8      # CPU of the report serial vs in workers

The analyses are run once (``build_report(..., figures=False)``, 1,000 resamples); then every figure
the report shows is drawn and encoded to PNG (as :func:`scalefit._report_figures._png` does) under
each variant, the variants taking turns within each repeat, in one process with BLAS pinned to one
thread.  Variants:

- ``constrained+mathtext``: the report before issue 12's quick-report work: the constrained layout
  and matplotlib's mathtext log labels (10^{21} parsed by mathtext);
- ``constrained+plain``: the constrained layout, log labels as plain text with Unicode superscripts;
- ``fixed+plain+hinted``: fixed margins (``plots._base.fixed_layout``) and plain labels, text hinted by FreeType
  (matplotlib's default; the report until session 23);
- ``fixed+plain``: what the report draws now: the same with unhinted text (``_report_figures._PNG_RC``).

Printed: CPU seconds (``time.process_time``) for all figures, median over repeats, and the ratio to the
first variant; the load average is printed beside.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--curves", action="store_true", help="Add the bundled training curves (Approach 1 figures).")
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--profile", default=None, metavar="VARIANT", help="Print a cProfile of one variant instead.")
    p.add_argument("--stages", action="store_true", help="CPU time of each stage of a report instead (run it with "
                   "PYTHONPATH=<another scalefit> to time that one).")
    p.add_argument("--isoflop-spread", action="store_true", help="The 95%% interval of a from scalefit.isoflop with "
                   "200, 500 and 1,000 resamples, 5 seeds each, instead.")
    p.add_argument("--timeline", action="store_true", help="Wall-clock marks of `scalefit report synthetic:isoflop` "
                   "(default --jobs), from before its import, instead.")
    p.add_argument("--parallel-cost", type=int, default=0, metavar="PAIRS", help="CPU (this process and its workers) "
                   "and wall time of build_report with n_jobs=1 and n_jobs=-1, PAIRS alternating pairs, instead.")
    args = p.parse_args(argv)
    if args.parallel_cost:
        return parallel_cost(args.parallel_cost, args.bootstrap)
    if args.timeline:
        return timeline()
    if args.stages:
        return stages(args.bootstrap)
    if args.isoflop_spread:
        return isoflop_spread()

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.mathtext import MathTextParser

    import scalefit
    from scalefit import _report_figures as rf
    from scalefit.plots import _base
    from scalefit.report import build_report

    warnings.simplefilter("ignore")
    runs = scalefit.read_runs("synthetic:isoflop")
    curves = scalefit.datasets.load_synthetic_curves() if args.curves else None
    rep = build_report(runs, curves=curves, bootstrap=args.bootstrap, n_jobs=1, progress=False, figures=False)
    top = float(np.max(rep.fit.runs.flops))
    budgets = sorted(set([float(f"{v:.2g}") for v in np.geomspace(top, top * 1000, 4)] + [5.76e23]))  # as build_report
    specs = rf._specs(rep.fit, rep.isoflop, rep.envelope, rf._fit_specs(rep.fit, rep.hardware),
                      rf._boot_specs(rep.fit, rep.bootstrap, budgets=budgets), boot=rep.bootstrap, budgets=budgets)
    draws = [draw for _, _, draw in specs]
    plain, fixed, png_rc = _base._plain_log_labels, _base._FIXED_LAYOUT, rf._PNG_RC

    class _Off:
        def get(self) -> bool:
            return False

        def set(self, value: bool) -> None:
            return None

        def reset(self, token: None) -> None:
            return None

    @contextlib.contextmanager
    def variant(name: str):
        if name.endswith("mathtext"):
            _base._plain_log_labels = lambda ax: None
        if name.startswith("constrained"):
            _base._FIXED_LAYOUT = _Off()  # fixed_layout() inside the drawings then leaves the constrained layout on
        if name != "fixed+plain":
            rf._PNG_RC = {}  # matplotlib's text hinting
        try:
            yield
        finally:
            _base._plain_log_labels = plain
            _base._FIXED_LAYOUT = fixed
            rf._PNG_RC = png_rc

    names = ("constrained+mathtext", "constrained+plain", "fixed+plain+hinted", "fixed+plain")
    rf._png(draws[0], 100)  # warm: imports, font cache
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        with variant(args.profile):
            prof.runcall(lambda: [rf._png(d, 100) for d in draws])
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        return 0
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.repeats):
        for name in names:
            MathTextParser._parse_cached.cache_clear()  # as in a fresh process: each mathtext string parsed once
            with variant(name):
                t0 = time.process_time()
                for d in draws:
                    rf._png(d, 100)
                times[name].append(time.process_time() - t0)
    print(f"# {len(draws)} figures, {args.bootstrap} resamples, curves={args.curves}, repeats={args.repeats}, "
          f"load {os.getloadavg()[0]:.2f}; matplotlib {matplotlib.__version__}")
    base = float(np.median(times[names[0]]))
    for name in names:
        med = float(np.median(times[name]))
        print(f"{name:22s} cpu {med:.3f} s (min {min(times[name]):.3f})  {base / med:.2f}x")
    return 0


def timeline() -> int:
    """Seconds from before ``import scalefit.cli`` at which each step of the report command starts and ends (one run).

    The main process's steps only: the figures drawn in workers show as ``submit`` (a worker forked) and as the
    final wait in ``_figures``.
    """
    import functools
    import tempfile

    t0 = time.perf_counter()
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from scalefit import _report_figures as rf
    from scalefit import approaches, fitting, report
    from scalefit.cli import main as cli_main
    from scalefit.fitting import _result

    marks: list[tuple[float, str]] = [(time.perf_counter() - t0, "imported scalefit.cli, scalefit.report")]

    def wrap(owner, name: str, label: str) -> None:
        real = getattr(owner, name)

        @functools.wraps(real)
        def timed(*a, **k):
            marks.append((time.perf_counter() - t0, f"{label} start"))
            try:
                return real(*a, **k)
            finally:
                marks.append((time.perf_counter() - t0, f"{label} end"))
        setattr(owner, name, timed)

    for owner, name, label in ((report, "build_report", "build_report"), (fitting, "fit", "fit"),
                               (_result.FitResult, "bootstrap", "bootstrap"), (approaches, "isoflop", "isoflop"),
                               (report, "_configurations", "configurations"), (rf._Renderer, "submit", "submit (fork)"),
                               (report, "_figures", "figures (waiting for the workers)")):
        wrap(owner, name, label)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        cli_main(["report", "synthetic:isoflop", "--out", f"{tmp}/r.html", "-q"])
    marks.append((time.perf_counter() - t0, "done"))
    print(f"# load {os.getloadavg()[0]:.2f}")
    for t, label in marks:
        print(f"{t:7.3f} s  {label}")
    return 0


def stages(bootstrap: int) -> int:
    """CPU seconds (``time.process_time``) of each stage of ``build_report`` on the bundled 72 runs, in one process."""
    t0 = time.process_time()
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    import matplotlib.pyplot  # noqa: F401 - the figures' imports, counted with the others
    import pandas  # noqa: F401

    import scalefit
    from scalefit import approaches
    from scalefit.report import build_report

    warnings.simplefilter("ignore")
    marks = [("imports (scalefit, pandas, matplotlib)", time.process_time())]
    runs = scalefit.read_runs("synthetic:isoflop")
    marks.append(("read_runs", time.process_time()))
    fit = scalefit.fit(runs, "chinchilla")
    marks.append(("fit", time.process_time()))
    fit.bootstrap(bootstrap, seed=0, n_jobs=1, progress=False)
    marks.append((f"fit.bootstrap({bootstrap})", time.process_time()))
    approaches.isoflop(runs, bootstrap=bootstrap, seed=0)
    marks.append((f"isoflop(bootstrap={bootstrap})", time.process_time()))
    build_report(runs, bootstrap=bootstrap, n_jobs=1, progress=False, figures=False)
    marks.append(("build_report(figures=False): every analysis", time.process_time()))
    rep = build_report(runs, bootstrap=bootstrap, n_jobs=1, progress=False)
    marks.append(("build_report(n_jobs=1): analyses and figures", time.process_time()))
    rep.to_html()
    marks.append(("to_html", time.process_time()))
    print(f"# scalefit {scalefit.__file__}; load {os.getloadavg()[0]:.2f}")
    previous = t0
    for name, t in marks:
        print(f"{name:48s} cpu {t - previous:.3f} s")
        previous = t
    full, analyses = (marks[-2][1] - marks[-3][1]), (marks[-3][1] - marks[-4][1])
    print(f"{'figures (the difference of the two reports)':48s} cpu {full - analyses:.3f} s")
    return 0


def parallel_cost(pairs: int, bootstrap: int) -> int:
    """Median CPU seconds (this process plus its reaped workers) and wall seconds of ``build_report`` on the bundled
    72 runs with ``n_jobs=1`` and ``n_jobs=-1``, taking turns (imports and a warm-up report first, outside the timing);
    and of a pure-Python loop run alone and as two processes at once (what two busy cores cost each other)."""
    import resource

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    import matplotlib

    matplotlib.use("Agg")
    import scalefit
    from scalefit.report import build_report

    warnings.simplefilter("ignore")
    runs = scalefit.read_runs("synthetic:isoflop")
    build_report(runs, bootstrap=50, n_jobs=-1, progress=False)

    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    times: dict[int, list[tuple[float, float]]] = {1: [], -1: []}
    for i in range(pairs):
        for n_jobs in ((1, -1) if i % 2 == 0 else (-1, 1)):
            c, t = cpu(), time.perf_counter()
            build_report(runs, bootstrap=bootstrap, n_jobs=n_jobs, progress=False)
            times[n_jobs].append((cpu() - c, time.perf_counter() - t))
    print(f"# {pairs} pairs, {bootstrap} resamples, load {os.getloadavg()[0]:.2f}")
    for n_jobs, rows in times.items():
        print(f"build_report n_jobs={n_jobs:2d}: cpu {np.median([r[0] for r in rows]):.3f} s, "
              f"wall {np.median([r[1] for r in rows]):.3f} s (medians)")

    def loop() -> float:
        t, s = time.process_time(), 0
        for k in range(10_000_000):
            s += k * k
        return time.process_time() - t

    alone, together = [], []
    for _ in range(3):
        alone.append(loop())
        pid = os.fork()
        if pid == 0:
            loop()
            os._exit(0)
        together.append(loop())
        os.waitpid(pid, 0)
    print(f"pure-Python loop: cpu {np.median(alone):.3f} s alone, {np.median(together):.3f} s beside a second one "
          f"({np.median(together) / np.median(alone):.2f}x)")
    return 0


def isoflop_spread() -> int:
    """Mean and spread over 5 seeds of the 95% interval of a, and the CPU time, by resample count."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    import scalefit

    runs = scalefit.read_runs("synthetic:isoflop")
    for resamples in (200, 500, 1000):
        low, high, cpu = [], [], []
        for seed in range(5):
            t = time.process_time()
            iso = scalefit.isoflop(runs, bootstrap=resamples, seed=seed)
            cpu.append(time.process_time() - t)
            lo, hi = iso.intervals["a"][0.95]
            low.append(lo)
            high.append(hi)
        print(f"{resamples:5d} resamples: a low {np.mean(low):.4f} (sd {np.std(low, ddof=1):.4f}), high {np.mean(high):.4f} "
              f"(sd {np.std(high, ddof=1):.4f}), width {np.mean(np.subtract(high, low)):.4f}; cpu median {np.median(cpu):.2f} s; "
              f"load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
