"""The batched Chinchilla bootstrap and the engine pieces it rests on (issue 12).

Reference values here are the plain definitions the fast paths must reproduce: the per-row
derivative formulas (``_chinchilla._derivatives_stable``), the eigendecomposition form of the
saddle-free step, the objective evaluated directly, and the full search of ``scalefit.fit`` on
each resample's weights.
"""
from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import ScalefitInputError
from scalefit.fitting import _chinchilla as C
from scalefit.fitting import bootstrap as boot_mod

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import reference  # noqa: E402  (synthetic data sets, benchmarks/reference.py)


def _runs(seed: int, n: int = 120) -> pd.DataFrame:
    N, D, L, _ = reference.synthetic_dataset(seed, n)
    return pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L))


@pytest.mark.parametrize("space", ["log", "linear"])
@pytest.mark.parametrize("kind", ["huber", "mse"])
def test_derivatives_match_their_plain_definition(space, kind):
    N, D, L, _ = reference.synthetic_dataset(3, 90)
    prob = C.Problem(np.log(N), np.log(D), L, space, kind, 1e-2)
    rng = np.random.default_rng(0)
    theta = np.array([[0.5, 6.0, 7.0, 0.34, 0.3]]) + rng.normal(0, 0.3, (6, 5))
    W = rng.integers(0, 3, (6, 90)).astype(float)
    work = C.Workspace(8, 90)  # a workspace larger than the batch, as a polish's shrinking batches use
    fast = C._derivatives(theta, prob, W, work=work)
    plain = C._derivatives_stable(theta, prob, W)
    for a, b in zip(fast, plain):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * np.max(np.abs(b)))
    # shared weights give the same as the same weights repeated
    f1, g1, H1 = C._derivatives(theta, prob, W[0])
    f2, g2, H2 = C._derivatives(theta, prob, np.repeat(W[:1], 6, axis=0))
    np.testing.assert_allclose(f1, f2, rtol=1e-12)
    np.testing.assert_allclose(H1, H2, rtol=1e-10, atol=1e-14 * np.abs(H2).max())


def test_derivatives_survive_extreme_parameters():
    # the per-problem shift overflows for a term e^900; those problems fall back to the per-row shift
    N, D, L, _ = reference.synthetic_dataset(3, 60)
    prob = C.Problem(np.log(N), np.log(D), L)
    theta = np.array([[0.5, 6.0, 7.0, 0.34, 0.3], [0.5, 900.0, 7.0, 30.0, 0.3], [0.5, -900.0, 7.0, -30.0, 0.3]])
    with np.errstate(all="ignore"):
        f, g, H = C._derivatives(theta, prob, np.ones(60))
        fs, gs, Hs = C._derivatives_stable(theta, prob, np.ones(60))
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(H))
    np.testing.assert_allclose(f, fs, rtol=1e-12)
    np.testing.assert_allclose(g, gs, rtol=1e-9, atol=1e-12 * np.abs(gs).max())


def test_fast_steps_equal_the_eigendecomposition_where_positive_definite():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(40, 5, 5))
    H = A @ np.swapaxes(A, 1, 2) + 1e-3 * np.eye(5)
    H[::4] -= 3.0 * np.eye(5)  # every fourth problem indefinite: eigh path
    g = rng.normal(size=(40, 5))
    lam = np.full(40, 1e-4)
    fast = C._damped_step(H, g, lam, fast=True)
    ev, V = np.linalg.eigh(H)
    aev = np.abs(ev)
    want = -(V @ ((np.swapaxes(V, 1, 2) @ g[:, :, None])[:, :, 0] / (aev + lam[:, None] * aev.sum(1, keepdims=True)))[:, :, None])[:, :, 0]
    np.testing.assert_allclose(fast, want, rtol=1e-8, atol=1e-12)


def test_basin_screen_objective_is_the_objective():
    res = scalefit.fit(_runs(5))
    prob, red = C.engine_problem(res.problem)
    W = boot_mod._resample_weights(np.arange(120), 120, 0, range(7))
    theta = C.theta_from_params(res.params) + np.array([0.05, 0.3, -0.2, 0.02, -0.01])
    f, decrease = C.basin_screen(theta, prob, red, W)
    np.testing.assert_allclose(f, C.objective(np.repeat(theta[None], 7, axis=0), prob, W), rtol=1e-12)
    assert np.all(decrease >= 0)
    # away from a minimum the promised decrease is positive; at the full fit's minimum, with its own weights, ~0
    assert np.all(decrease > 0)
    f0, d0 = C.basin_screen(C.theta_from_params(res.params), prob, red, res.problem.weights[None, :])
    assert d0[0] <= 1e-8 * f0[0]


def test_pruning_keeps_the_best_seed():
    res = scalefit.fit(_runs(6))
    prob, red = C.engine_problem(res.problem)
    good = C.theta_from_params(res.params) + np.array([0.05, 0.2, -0.2, 0.01, -0.01])
    bad = np.array([0.4, -8.0, 4.3, 2.0, 0.18])  # a dead A term: a basin far above the optimum
    with np.errstate(all="ignore"):
        pr = C.polish(np.array([good, bad]), prob, red, res.problem.weights, prune=1.5)
    assert not pr.pruned[0] and pr.converged[0]
    np.testing.assert_allclose(pr.f[0], res.objective, rtol=1e-9)


@pytest.mark.parametrize("seed", [0, 7])
def test_batched_refits_are_no_worse_than_a_full_search(seed):
    # each resample's objective must match what scalefit.fit's full search reaches on the same weights
    res = scalefit.fit(_runs(seed, 80))
    m = 25
    boot = res.bootstrap(m, seed=1, n_jobs=1, progress=False)
    W = boot_mod._resample_weights(np.arange(80), 80, 1, range(m))
    with np.errstate(all="ignore"):
        full = np.array([C.fit_chinchilla(res.problem.with_weights(w)).objective for w in W])
    assert np.all(boot.objective <= full * (1 + 1e-9))
    assert boot.converged.all()


def test_chunk_size_and_workers():
    res = scalefit.fit(_runs(2, 60))
    a = res.bootstrap(48, seed=3, n_jobs=1, chunk_size=16, progress=False)
    b = res.bootstrap(48, seed=3, n_jobs=2, chunk_size=16, progress=False)
    pd.testing.assert_frame_equal(a.samples, b.samples, check_exact=True)
    c = res.bootstrap(48, seed=3, n_jobs=1, progress=False)  # one default chunk: batched differently
    pd.testing.assert_frame_equal(a.samples, c.samples, rtol=1e-6)
    for bad in (0, 2.5, "8"):
        with pytest.raises(ScalefitInputError, match="chunk_size must be an integer >= 1"):
            res.bootstrap(10, chunk_size=bad, progress=False)


def test_default_workers_follow_the_amount_of_work(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert boot_mod._default_jobs(True, 4000, 240, 8) == 1  # ~1 s of batched work: serial
    assert boot_mod._default_jobs(True, 200, 10**6, 200) == -1  # minutes of work: all cores
    assert boot_mod._default_jobs(False, 1000, 240, 4) == -1  # one-at-a-time refits
    assert boot_mod._default_jobs(False, 10**6, 10**6, 1) == 1  # one chunk: nothing to share
    assert boot_mod._default_chunk(True, 240) == 2000 and boot_mod._default_chunk(True, 10**6) == 1
    assert boot_mod._default_chunk(False, 240) == 250


def test_fit_memory_grows_linearly_with_rows():
    # peak traced memory of a fit at 4x the rows stays within 5x (a rows x cells array would be 16x larger
    # than linear at these sizes); the full 1e4..1e6 measurement is benchmarks/bench_fit_rows.py
    peaks = []
    rng = np.random.default_rng(8)
    for n in (5_000, 20_000):
        N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
        D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
        # Hoffmann et al. (2022) eq. 10 with 1% noise
        L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(rng.normal(0, 0.01, n))
        df = pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L))
        tracemalloc.start()
        scalefit.fit(df)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    print(peaks)
    assert peaks[1] < 5 * peaks[0]
    assert peaks[1] / 20_000 < 8_000  # bytes per row (the engine before issue 12 needed about 47 KB)


def test_resample_counts_come_from_default_rng_seed_i():
    # the determinism rule (README): resample i draws from numpy.random.default_rng([seed, i])
    units = np.array([0, 0, 1, 2, 2, 2])  # curves: rows grouped by run
    W = boot_mod._resample_weights(units, 3, 11, [4, 9])
    for row, i in zip(W, [4, 9]):
        counts = np.bincount(np.random.default_rng([11, i]).integers(0, 3, 3), minlength=3)
        np.testing.assert_array_equal(row, counts[units])


def test_derivatives_in_row_blocks_equal_all_rows_at_once(monkeypatch):
    from scalefit.fitting import _chinchilla_kernel as K

    N, D, L, _ = reference.synthetic_dataset(4, 300)
    prob = C.Problem(np.log(N), np.log(D), L)
    theta = np.array([[0.5, 6.0, 7.0, 0.34, 0.3], [0.6, 6.2, 7.1, 0.36, 0.29]])
    W = np.random.default_rng(2).integers(0, 3, (2, 300)).astype(float)
    whole = K._derivatives_rows(theta, prob, W, with_scale=True)
    monkeypatch.setattr(K, "ROWS_BLOCK", 64)  # 300 rows: blocks of 64, the last one short
    blocked = K._derivatives(theta, prob, W, with_scale=True, work=K.Workspace(2, 300))
    for a, b in zip(blocked, whole):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14 * np.abs(b).max())
