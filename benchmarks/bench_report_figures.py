"""What the report's figures cost to draw, with and without the constrained layout and mathtext tick labels.

    python benchmarks/bench_report_figures.py --repeats 5            # the bundled 72 runs (synthetic:isoflop)
    python benchmarks/bench_report_figures.py --repeats 3 --curves   # with the bundled training curves (the demo)

The analyses are run once (``build_report(..., figures=False)``, 1,000 resamples); then every figure
the report shows is drawn and encoded to PNG (as :func:`scalefit._report_figures._png` does) under
each variant, the variants taking turns within each repeat, in one process with BLAS pinned to one
thread.  Variants:

- ``constrained+mathtext``: the report before issue 12's quick-report work: the constrained layout
  and matplotlib's mathtext log labels (10^{21} parsed by mathtext);
- ``constrained+plain``: the constrained layout, log labels as plain text with Unicode superscripts;
- ``fixed+plain``: what the report draws now: fixed margins (``plots._base.fixed_layout``) and plain labels.

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
    args = p.parse_args(argv)

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
    draws: list = []
    real = rf._render_figures
    rf._render_figures = lambda d, dpi, n: (draws.extend(d), [(None, "skipped", [])] * len(d))[1]
    try:
        rf._figures(rep.fit, rep.bootstrap, rep.isoflop, rep.envelope, rep.hardware, {}, budgets=budgets, dpi=100, n_jobs=1)
    finally:
        rf._render_figures = real
    plain, fixed = _base._plain_log_labels, _base._FIXED_LAYOUT

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
        try:
            yield
        finally:
            _base._plain_log_labels = plain
            _base._FIXED_LAYOUT = fixed

    names = ("constrained+mathtext", "constrained+plain", "fixed+plain")
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


if __name__ == "__main__":
    raise SystemExit(main())
