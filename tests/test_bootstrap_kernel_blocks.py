"""The Chinchilla kernel's cache blocks: a batch evaluated block by block equals the same batch in one piece.

Reference: the kernel's unblocked evaluation, ``_chinchilla_kernel._derivatives_rows`` over every
problem and row at once (itself checked against the plain per-row definition in
tests/test_bootstrap_batched.py); blocks only regroup the sums over rows and problems.
"""
from __future__ import annotations

import numpy as np
import pytest

from scalefit.fitting import _chinchilla_kernel as K


def _problem(n: int, seed: int = 0) -> K.Problem:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(np.log(1e7), np.log(1e10), n), rng.uniform(np.log(1e9), np.log(1e12), n)
    loss = (1.69 + 406.4 * np.exp(-0.34 * x) + 410.7 * np.exp(-0.28 * y)) * np.exp(rng.normal(0, 0.01, n))
    return K.Problem(x, y, loss, "log", "huber", 1e-3)


@pytest.mark.parametrize("n_problems, n_rows, shared", [(700, 240, False), (700, 240, True), (3, 40000, False)])
def test_blocked_derivatives_equal_one_piece(n_problems, n_rows, shared, monkeypatch):
    prob = _problem(n_rows)
    rng = np.random.default_rng(1)
    theta = np.array([[0.52, 5.8, 6.0, 0.34, 0.28]]) + rng.normal(0, 0.05, (n_problems, 5))
    w = rng.integers(0, 3, n_rows if shared else (n_problems, n_rows)).astype(float)
    kb, rb = K.block_shape(n_problems, n_rows)
    assert kb < n_problems or rb < n_rows  # the batch is really split
    blocked = K._derivatives(theta, prob, w, work=K.Workspace(n_problems, n_rows), with_scale=True)
    whole = K._derivatives_rows(theta, prob, w, with_scale=True)
    for got, want in zip(blocked, whole):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12 * np.max(np.abs(want)))
    # a workspace holds one block, not the batch
    assert K.Workspace(n_problems, n_rows).buf["t1"].size <= max(K.BLOCK_VALUES, K.ROWS_BLOCK)


@pytest.mark.parametrize("space", ["log", "linear"])
@pytest.mark.parametrize("kind", ["huber", "mse"])
@pytest.mark.parametrize("with_scale", [True, False])
def test_shared_point_derivatives_equal_the_general_kernel(space, kind, with_scale):
    # a batch all at one point (a polish started from one minimum) takes the per-row-feature product path;
    # reference: the general kernel on the same batch
    base = _problem(240, seed=2)
    prob = K.Problem(base.x, base.y, base.loss, space, kind, 1e-3)
    rng = np.random.default_rng(3)
    theta = np.repeat(np.array([[0.52, 5.8, 6.0, 0.34, 0.28]]), 50, axis=0)
    w = rng.integers(0, 4, (50, 240)).astype(float)
    shared = K._derivatives_shared(theta[0], prob, w, with_scale=with_scale)
    assert shared is not None
    via = K._derivatives(theta, prob, w, with_scale=with_scale)  # dispatches to the shared path
    whole = K._derivatives_rows(theta, prob, w, with_scale=with_scale)
    assert len(shared) == len(whole) == len(via)
    for got, alt, want in zip(shared, via, whole):
        scale = np.max(np.abs(want))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11 * scale)
        np.testing.assert_array_equal(got, alt)
