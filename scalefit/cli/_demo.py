"""``scalefit demo``: the whole pipeline on the bundled synthetic data."""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ._report import add_report_options, hardware


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="Run the whole pipeline on the bundled synthetic data and write DIR/report.html.",
        description=(
            "Ingest the bundled SYNTHETIC IsoFLOP sweep and training curves (drawn from Hoffmann et al.'s "
            "law with noise), fit the Chinchilla law with a bootstrap, run Approaches 1 and 2, plan "
            "compute-optimal runs, and write DIR/report.html and DIR/fit.json."
        ),
    )
    p.add_argument("--out", default="scalefit-demo", metavar="DIR", help="Output folder (default ./scalefit-demo).")
    add_report_options(p, bootstrap_default=1000)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import datasets
    from .._errors import ScalefitInputError
    from .._io import Replace, write_text, written_by_scalefit
    from ..report import build_report
    from ._common import emit_json
    from ._fit import fit_payload

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ScalefitInputError(f"--out {out} is a file; the demo writes report.html and fit.json into a folder. Choose a folder path.")
    report_path, fit_path = out / "report.html", out / "fit.json"
    replace: Replace = "any" if args.force else "ours"  # re-running the demo replaces only what scalefit wrote (its marker)
    for p in (report_path, fit_path):
        if not args.force and os.path.lexists(p) and not written_by_scalefit(p):
            raise ScalefitInputError(f"{p} exists and was not written by scalefit; pass --force or choose another --out.")
    t0 = time.perf_counter()
    runs = datasets.load_synthetic()
    curves = datasets.load_synthetic_curves()
    print(f"ingested {len(runs)} synthetic IsoFLOP runs and {curves.n_runs} synthetic training curves ({len(curves)} checkpoints)")
    rep = build_report(runs, curves=curves, law=args.law, bootstrap=args.bootstrap, seed=args.seed,
                       hardware=hardware(args), n_jobs=args.jobs, title="scalefit demo: bundled SYNTHETIC data")
    out.mkdir(parents=True, exist_ok=True)
    write_text(report_path, rep.to_html(), replace=replace)
    emit_json(fit_payload(rep.fit, rep.bootstrap, samples=True), out=str(fit_path), replace=replace)
    p = rep.fit.params
    print(f"fit: E={p['E']:.3f} A={p['A']:.1f} B={p['B']:.1f} alpha={p['alpha']:.3f} beta={p['beta']:.3f} "
          f"(objective {rep.fit.objective:.3g}, {'converged' if rep.fit.success else 'NOT converged'})")
    if rep.approaches is not None:
        print("N* ~ C^a by approach (95% intervals):")
        for name, row in rep.approaches.table().iterrows():
            print(f"  {name:<10} a = {row['a']:.3f} [{row['a_low']:.3f}, {row['a_high']:.3f}]")
    print("plan (compute-optimal):")
    print(rep.plan)
    for k, v in rep.skipped.items():
        print(f"not shown: {k}: {v}")
    print(f"wrote {report_path} and {fit_path} in {time.perf_counter() - t0:.1f} s")
    return 0
