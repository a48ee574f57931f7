"""Faults and bad input found by the issue-13 probe: each gets a ScalefitInputError (exit 2) or a typed warning."""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import threading
import zipfile

import pytest

import scalefit
from scalefit import ScalefitInputError
from scalefit._errors import ScalefitWarning, collect_warnings, warn
from scalefit.cli import main

CSV = b"n_params,n_tokens,loss\n1e8,2e9,3.1\n2e8,4e9,2.9\n4e8,8e9,2.7\n"


@pytest.fixture(scope="module")
def result():
    return scalefit.fit("synthetic:isoflop")


def _zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("runs.csv", data)
    return buf.getvalue()


COMPRESSED = [(suffix, compress, fmt)
              for suffix, compress in (("gz", gzip.compress), ("bz2", bz2.compress), ("xz", lzma.compress))
              for fmt in ("csv", "tsv", "json", "jsonl")] + [("zip", _zip, "csv"), ("zip", _zip, "tsv")]


@pytest.mark.parametrize("suffix, compress, fmt", COMPRESSED)
@pytest.mark.parametrize("damage", ["truncated", "not compressed"])
def test_damaged_compressed_files_are_typed_errors(tmp_path, suffix, compress, fmt, damage):
    data = compress(CSV)
    path = tmp_path / f"runs.{fmt}.{suffix}"
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"plain text, not compressed")
    with pytest.raises(ScalefitInputError, match=r"could not decompress .*truncated or is not|could not read"):
        scalefit.read_runs(path)


def test_not_utf8_names_the_byte_and_the_fix(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_bytes("n_params,n_tokens,loss,note\n1e8,2e9,3.1,caf\xe9\n2e8,4e9,2.9,x\n".encode("latin-1"))
    with pytest.raises(ScalefitInputError, match=r"is not UTF-8 .*save the file as UTF-8"):
        scalefit.read_runs(path)


@pytest.mark.parametrize("seed", [None, 1.5, "a", -1, True])
def test_bad_seed_in_fit_and_bootstrap(result, seed):
    with pytest.raises(ScalefitInputError, match=r"fit: seed must be an integer >= 0"):
        scalefit.fit("synthetic:isoflop", "kaplan-n", seed=seed)
    with pytest.raises(ScalefitInputError, match=r"bootstrap: seed must be an integer >= 0"):
        result.bootstrap(10, seed=seed)


@pytest.mark.parametrize("max_starts", [0, 1.5, "8"])
def test_bad_max_starts(max_starts):
    with pytest.raises(ScalefitInputError, match=r"fit: max_starts must be an integer >= 1"):
        scalefit.fit("synthetic:isoflop", "kaplan-n", max_starts=max_starts)


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, "2"])
def test_bad_n_jobs(result, n_jobs):
    with pytest.raises(ScalefitInputError, match=r"bootstrap: n_jobs=.*: give a positive integer or -1"):
        result.bootstrap(10, n_jobs=n_jobs)


@pytest.mark.parametrize("argv, match", [
    (["fit", "synthetic:isoflop", "--seed", "-1"], "seed must be an integer >= 0"),
    (["fit", "synthetic:isoflop", "--jobs", "0"], "--jobs 0: give a positive integer or -1"),
    (["plan", "--params", "E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28", "--n-params", "1e300"], "overflows the float range"),
    (["plan", "--params", "E=1e-300,A=406.4,B=410.7,alpha=0.34,beta=0.28", "--target-loss", "1e-299"],
     "overflows the float range"),
])
def test_cli_bad_values_exit_2(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err


def test_predict_number_strings(result):
    with pytest.raises(ScalefitInputError, match=r"n_params must be a number .* not text such as '1.3B'"):
        result.predict(n_params="1.3B", n_tokens=1e9)


@pytest.mark.parametrize("flags, match", [
    (["--gpu", "Z9000"], "unknown GPU 'Z9000'"),
    (["--mfu", "-1"], "mfu must be a fraction in"),
    (["--gpus", "0"], "n_gpus must be a whole number >= 1"),
    (["--seed", "-1"], "seed must be an integer >= 0"),
    (["--jobs", "0"], "--jobs 0: give a positive integer"),
    (["--price-per-gpu-hour", "-1"], "--price-per-gpu-hour must be"),
    (["--law", "nope"], "unknown law 'nope'"),
])
def test_report_refuses_bad_options_before_any_work(tmp_path, monkeypatch, capsys, flags, match):
    import scalefit.fitting as fitting

    def no_fit(*args, **kwargs):
        raise AssertionError("an option was checked only after the fit")

    monkeypatch.setattr(fitting, "fit", no_fit)
    out = tmp_path / "r.html"
    assert main(["report", "synthetic:isoflop", "--out", str(out), "--bootstrap", "0", *flags]) == 2
    assert match in capsys.readouterr().err
    assert not out.exists()


def test_warnings_are_collected_per_thread():
    """Two threads collecting at once each get exactly their own warnings."""
    barrier = threading.Barrier(2)
    got: dict[str, list[str]] = {}

    def work(name: str) -> None:
        with collect_warnings() as box:
            barrier.wait()
            for i in range(50):
                warn(f"{name} {i}", ScalefitWarning)
            barrier.wait()
        got[name] = [str(w) for w in box]

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got["a"] == [f"a {i}" for i in range(50)]
    assert got["b"] == [f"b {i}" for i in range(50)]


def test_report_keeps_its_own_warnings():
    from scalefit.report import build_report

    with pytest.warns(ScalefitWarning) as outside:  # a warning outside the report is not taken by it
        rep = build_report("synthetic:isoflop", bootstrap=0, figures=False, n_jobs=1)
        warn("outside the report", ScalefitWarning)
    assert [str(w.message) for w in outside] == ["outside the report"]
    assert not any("outside the report" in w for w in rep.warnings)


def _half_outliers(seed: int = 3):
    """The synthetic sweep with half its losses replaced by uniform noise in [0.5, 10] (the issue's probe)."""
    import numpy as np

    base = scalefit.read_runs("synthetic:isoflop").table[["n_params", "n_tokens", "loss"]].copy()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(base), len(base) // 2, replace=False)
    base.loc[idx, "loss"] = rng.uniform(0.5, 10, len(idx))
    return base


def test_nonsense_fit_is_flagged_not_trustworthy():
    from scalefit import BoundWarning

    with pytest.warns(BoundWarning, match=r"beta = 5 \(upper\)") as record:
        result = scalefit.fit(_half_outliers(), loss="mse")
    assert any("NOT TRUSTWORTHY" in str(w.message) for w in record)
    assert result.success  # the optimiser converged ...
    assert not result.trustworthy  # ... to nonsense, and says so
    issues = result.diagnostics.trust_issues
    assert any(i.startswith("exponent beta = 5 sits at its upper bound") for i in issues)
    assert any(i.startswith("scale parameter B = ") for i in issues)
    d = result.to_dict()
    assert d["trustworthy"] is False and d["diagnostics"]["trust_issues"] == list(issues)
    assert "NOT TRUSTWORTHY" in str(result.summary())


def test_sound_fit_is_trustworthy():
    result = scalefit.fit("synthetic:isoflop")
    assert result.trustworthy and result.to_dict()["trustworthy"] is True


def test_data_constrained_plan_with_one_unique_token_warns():
    from scalefit import ExtrapolationWarning
    from scalefit.plan import data_constrained_optimal

    with pytest.warns(ExtrapolationWarning, match=r"unique_tokens=1 .* parameters .* do not use it"):
        data_constrained_optimal(flops=1e22, unique_tokens=1)


@pytest.mark.parametrize("offset, value, what", [(8, 99, "compression method"), (6, 1, "encrypted")])
def test_zip_with_an_unreadable_member_is_refused_with_a_fix(tmp_path, offset, value, what):
    """Found by the CI hypothesis profile: a flipped header byte made zipfile raise NotImplementedError/RuntimeError."""

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("runs.csv", "n_params,n_tokens,loss\n1e8,2e9,3.1\n2e8,4e9,2.9\n")
    data = bytearray(buf.getvalue())
    data[offset] = value  # local file header: general-purpose flags at byte 6, compression method at byte 8
    for central in range(len(data) - 4):  # the central directory repeats both fields 2 bytes further on
        if data[central:central + 4] == b"PK\x01\x02":
            data[central + offset + 2] = value
    path = tmp_path / "runs.csv.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(ScalefitInputError, match=r"could not read the zip archive .*(encrypted|compression method)"):
        scalefit.read_runs(path)
