"""The one compute-optimal solver: N*, D* and L* along C = k N D, for any law.

For the Chinchilla law the optimum has a closed form
(:func:`scalefit.laws.chinchilla_compute_optimal`).  Any other law is
minimised numerically over log N along ``N D = C / k``: a grid over a wide
range, a check that the minimum is interior, then a polish that finds the zero
of the loss's derivative to ~1e-9.  The search is vectorised over budgets and
over parameter draws (one row per (draw, budget) pair), so the plots' frontier
bands and the planner's single budgets run through the same code.

Also here: the inverse solvers the planner needs (the budget that reaches a
loss, the tokens that reach a loss at fixed N, the budget that makes a fixed N
compute-optimal) and :class:`_Model`, a law with its parameters evaluated
through :func:`scalefit.laws.evaluate`.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .._errors import ScalefitInputError
from ..laws import Law, chinchilla_compute_optimal, chinchilla_values, evaluate, get_law, is_chinchilla

__all__ = ["frontier", "frontier_draws"]

# Numerical search ranges (natural logs).  Tokens and compute are searched up
# to 1e60, far past any physical budget, so "not reached" means "not reachable".
_LOG_MAX = math.log(1e60)
_GRID = 513
_MARGIN = 12.0  # extra e-folds on each side of the N*D = C/k line
_STEP = math.log(100.0)  # bracket expansion step: two decades
_CHUNK = 2048  # rows searched at once (a row holds _GRID points)
_PLANNED = ("n_params", "n_tokens", "flops")  # inputs the solver sets itself


# ================================================================= the loss
class _Model:
    """A law with fixed parameters, evaluated along the planning variables.

    Parameter values are floats, or arrays with one entry per search row
    (bootstrap draws); ``rows`` in :meth:`loss` picks the rows being searched.
    """

    def __init__(self, law: Law, params: Mapping[str, Any], inputs: Mapping[str, float], k: float,
                 where: str = "plan"):
        self.law, self.params, self.inputs, self.k, self.where = law, dict(params), dict(inputs), k, where
        self.drawn = any(np.ndim(v) > 0 for v in self.params.values())
        self.closed = is_chinchilla(law) and not inputs and not self.drawn
        if self.closed:
            self.E, self.A, self.B, self.alpha, self.beta = chinchilla_values(self.params)
            self.G = (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))
            self.a = self.beta / (self.alpha + self.beta)

    def loss(self, n_params: Any, n_tokens: Any, rows: np.ndarray | None = None) -> np.ndarray:
        params = self.params
        if self.drawn and rows is not None:
            tail = (1,) * (np.ndim(n_params) - 1)
            params = {p: np.asarray(v, dtype=float)[rows].reshape(-1, *tail) if np.ndim(v) else v
                      for p, v in self.params.items()}
        extra: dict[str, Any] = {}
        for name in self.law.inputs:  # unique_tokens: the tokens available (the law caps them at the run's D)
            if name not in _PLANNED:
                extra[name] = self.inputs[name]
        return evaluate(self.law, params, flops_per_param_token=self.k, where=self.where,
                        n_params=n_params, n_tokens=n_tokens, **extra)

    def irreducible(self) -> float | None:
        return self.params.get("E")


class _NoSolution(Exception):
    """A numerical search hit the edge of its range (caller turns it into a clear error)."""

    def __init__(self, x: float, value: float):
        super().__init__(x, value)
        self.x, self.value = x, value


# ========================================================== the minimiser
_RowFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _argmin(f: _RowFunction, lo: np.ndarray, hi: np.ndarray,
            rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise ``f`` row by row on ``[lo, hi]``: grid, interior check, then polish.

    ``f(x, rows)`` evaluates the search rows ``rows`` (indices into the
    model's rows, ``arange(len(lo))`` by default) at ``x`` of shape
    ``(len(rows), points)``.  The polish finds the zero of a central-difference
    derivative (:func:`_slope_root`) to brentq's tolerance (~1e-13), which resolves the
    minimiser to ~1e-9 (minimising f directly is limited to ~sqrt(machine eps)
    by the flatness at the minimum).  Kinks fall back to bounded Brent
    minimisation.

    Returns
    -------
    (x, edge_x, edge_value)
        The minimisers (NaN for rows without an interior minimum), and the grid
        point each search ended at with its value (what a failed search reports).
    """
    from scipy.optimize import minimize_scalar

    lo, hi = np.asarray(lo, dtype=float).reshape(-1), np.asarray(hi, dtype=float).reshape(-1)
    rows = np.arange(lo.size) if rows is None else np.asarray(rows)
    local = np.arange(lo.size)
    x = np.linspace(lo, hi, _GRID, axis=-1)
    y = np.asarray(f(x, rows), dtype=float)
    y = np.where(np.isfinite(y), y, np.inf)
    i = np.argmin(y, axis=1)
    edge_x, edge_y = x[local, i], y[local, i]
    out = np.full(lo.size, np.nan)
    r = local[np.isfinite(edge_y) & (i > 0) & (i < _GRID - 1)]
    if not r.size:
        return out, edge_x, edge_y
    a, b = x[r, i[r] - 1], x[r, i[r] + 1]
    h = 1e-6

    def slope(t: np.ndarray, which: np.ndarray) -> np.ndarray:
        pair = np.empty((t.size, 2))
        pair[:, 0], pair[:, 1] = t + h, t - h
        both = np.asarray(f(pair, rows[which]), dtype=float)
        return (both[:, 0] - both[:, 1]) / (2 * h)

    sa, sb = np.split(slope(np.concatenate([a, b]), np.concatenate([r, r])), 2)
    bracket = (sa < 0) & (sb > 0)
    out[r[bracket]] = _slope_root(slope, a[bracket], b[bracket], sa[bracket], sb[bracket], r[bracket])
    for j in r[~bracket]:
        one = rows[[j]]
        res = minimize_scalar(lambda t, one=one: float(f(np.array([[t]]), one)[0, 0]),
                              bounds=(x[j, i[j] - 1], x[j, i[j] + 1]), method="bounded", options={"xatol": 1e-12})
        out[j] = float(res.x)
    return out, edge_x, edge_y


def _slope_root(slope: _RowFunction, a: np.ndarray, b: np.ndarray, fa: np.ndarray, fb: np.ndarray,
                which: np.ndarray) -> np.ndarray:
    """Zero of ``slope`` in each bracket ``[a, b]`` (``fa < 0 < fb``) to brentq's tolerance, vectorised.

    Regula falsi with the Illinois modification (a retained end's value is halved,
    so both ends close in), and a bisection every fourth step, which bounds the
    work at four times plain bisection's (``xtol=1e-13``, ``rtol=4 eps``, as
    scipy's brentq is called elsewhere here).
    """
    a, b, fa, fb = (np.array(v, dtype=float) for v in (a, b, fa, fb))
    kept = np.zeros(a.shape, dtype=int)  # -1: a was kept last step, +1: b was
    for step in range(400):
        tol = 1e-13 + 4 * np.finfo(float).eps * np.abs(0.5 * (a + b))
        live = (b - a > 2 * tol) & (fa != 0) & (fb != 0)
        if not live.any():
            break
        j = np.flatnonzero(live)
        aj, bj, faj, fbj = a[j], b[j], fa[j], fb[j]
        if step % 4 == 3:
            c = 0.5 * (aj + bj)
        else:  # fa < 0 < fb throughout, so the secant stays inside the bracket
            c = np.clip(bj - fbj * (bj - aj) / (fbj - faj), aj + 0.5 * tol[j], bj - 0.5 * tol[j])
        fc = slope(c, which[j])
        left = fc < 0  # the zero lies right of c: c replaces a
        a[j], fa[j] = np.where(left, c, aj), np.where(left, fc, faj)
        b[j], fb[j] = np.where(left, bj, c), np.where(left, fbj, fc)
        fb[j] = np.where(left & (kept[j] == 1), 0.5 * fb[j], fb[j])
        fa[j] = np.where(~left & (kept[j] == -1), 0.5 * fa[j], fa[j])
        kept[j] = np.where(left, 1, -1)
    return np.where(fa == 0, a, np.where(fb == 0, b, 0.5 * (a + b)))


def _argmin_1d(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float) -> float:
    """Minimise a vectorised function of one variable on [lo, hi] (:func:`_argmin` with one row)."""
    x, edge_x, edge_y = _argmin(lambda t, rows: f(t), np.array([lo]), np.array([hi]))
    if not math.isfinite(x[0]):
        raise _NoSolution(float(edge_x[0]), float(edge_y[0]))
    return float(x[0])


def _log_n_opt(m: _Model, flops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log N* along C = k N D for every budget, one search row each (row j uses ``m``'s parameter row j).

    Returns ``(log_n, log_s, edge_log_n)``: the optimum (NaN without an interior
    one), log(C / k), and the grid point each search ended at.
    """
    ln_s = np.log(np.asarray(flops, dtype=float).reshape(-1) / m.k)  # log(N * D)
    centre, half = 0.5 * ln_s, 0.5 * np.abs(ln_s) + _MARGIN

    def f(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return m.loss(np.exp(x), np.exp(ln_s[rows, None] - x), rows)

    x, edge = np.full(ln_s.size, np.nan), np.full(ln_s.size, np.nan)
    for start in range(0, ln_s.size, _CHUNK):  # bounded memory: _CHUNK rows of _GRID points at a time
        rows = np.arange(start, min(start + _CHUNK, ln_s.size))
        x[rows], edge[rows], _ = _argmin(f, centre[rows] - half[rows], centre[rows] + half[rows], rows)
    return x, ln_s, edge


# ============================================================ the planner's
def _row(
    m: _Model, n_params: float, n_tokens: float, *, loss: float | None = None, flops: float | None = None
) -> dict[str, float]:
    """One plan as a dict.  ``loss`` and ``flops`` given by the caller are kept exactly (no round-off),
    so numbers the caller fixed stay identical across bootstrap samples."""
    if not (n_params >= 1 and n_tokens >= 1):
        raise _not_a_model(n_params, n_tokens)
    if loss is None:
        loss = float(m.loss(n_params, n_tokens))
    return {
        "n_params": float(n_params),
        "n_tokens": float(n_tokens),
        "flops": m.k * float(n_params) * float(n_tokens) if flops is None else float(flops),
        "loss": float(loss),
        "tokens_per_param": float(n_tokens) / float(n_params),
    }


def _solve_monotone(g: Callable[[float], float], x0: float, lo: float, hi: float, *, increasing: bool) -> float:
    """Root of a monotone g in [lo, hi], expanding a bracket from x0 by two decades at a time."""
    from scipy.optimize import brentq

    x0 = min(max(x0, lo), hi)
    g0 = g(x0)
    if not math.isfinite(g0):
        raise _NoSolution(x0, g0)
    if g0 == 0:
        return x0
    right = (g0 < 0) == increasing
    a, ga = x0, g0
    while True:
        b = min(a + _STEP, hi) if right else max(a - _STEP, lo)
        if b == a:
            raise _NoSolution(a, ga)
        gb = g(b)
        if not math.isfinite(gb):
            raise _NoSolution(b, gb)
        if gb == 0:
            return b
        if (gb > 0) != (g0 > 0):
            break
        a, ga = b, gb
    lo_, hi_ = sorted((a, b))
    return float(brentq(g, lo_, hi_, xtol=1e-13, rtol=4 * np.finfo(float).eps))


def _no_optimum(m: _Model, flops: float, edge_log_n: float) -> ScalefitInputError:
    return ScalefitInputError(
        f"law {m.law.name!r} has no compute-optimal allocation at flops={flops:.4g}: along C = "
        f"{m.k:g}*N*D the loss keeps falling to the edge of the search range (n_params={math.exp(edge_log_n):.3g}). "
        "Check that the law's exponents are positive and that it depends on both n_params and n_tokens."
    )


def _optimum(m: _Model, flops: float) -> dict[str, float]:
    """Compute-optimal N, D for one budget (closed form or numerical)."""
    if m.closed:
        n, d, loss = chinchilla_compute_optimal(m.params, flops, flops_per_param_token=m.k)
        return _row(m, float(n), float(d), loss=float(loss), flops=flops)
    x, ln_s, edge = _log_n_opt(m, np.array([flops]))
    if not math.isfinite(x[0]):
        raise _no_optimum(m, flops, edge[0])
    return _row(m, math.exp(x[0]), math.exp(ln_s[0] - x[0]), flops=flops)


#: Plans of many parameter draws: each key's values over the draws that gave a plan (in draw order), and
#: what each other draw raised.
DrawPlans = tuple[dict[str, np.ndarray], list[ScalefitInputError]]


def _not_a_model(n_params: float, n_tokens: float) -> ScalefitInputError:
    return ScalefitInputError(
        f"the law's plan is a model of {n_params:.3g} parameters trained on {n_tokens:.3g} tokens, which is "
        "not a model: the fit is degenerate (read its diagnostics: a term may have vanished) or the budget "
        "is far too small."
    )


def _optimum_draws(law: Law, draws: Sequence[Mapping[str, float]], inputs: Mapping[str, float], k: float,
                   flops: float) -> DrawPlans:
    """:func:`_optimum` for every parameter draw at once, as columns (:data:`DrawPlans`).

    Each value is the number :func:`_optimum` gives that draw; a draw whose plan is not a model (or
    that has no optimum) is left out of the columns and its error listed instead.
    """
    arrays = {p: np.array([d[p] for d in draws], dtype=float) for p in law.param_names}
    if is_chinchilla(law) and not inputs:
        # closed form for every draw at once: the same elementwise operations as _optimum's, so the
        # same numbers, without a Python-level model or row per draw (1,000 draws x 48 budgets in a figure)
        n, d, loss = (np.asarray(v, float) for v in chinchilla_compute_optimal(arrays, flops, flops_per_param_token=k))
        errors: dict[int, ScalefitInputError] = {}
    else:
        m = _Model(law, arrays, inputs, k)
        x, ln_s, edge = _log_n_opt(m, np.full(len(draws), flops))
        ok = np.flatnonzero(np.isfinite(x))
        n, d = np.full(len(draws), np.nan), np.full(len(draws), np.nan)
        n[ok] = [math.exp(x[j]) for j in ok]  # math.exp, as _optimum, so each draw's plan is the same number
        d[ok] = [math.exp(ln_s[j] - x[j]) for j in ok]
        loss = np.full(len(draws), np.nan)
        if ok.size:
            loss[ok] = m.loss(n[ok], d[ok], ok)
        errors = {int(j): _no_optimum(m, flops, edge[j]) for j in np.flatnonzero(~np.isfinite(x))}
    model = (n >= 1) & (d >= 1)  # as _row: NaN (no optimum) is not a model either
    errors.update({int(j): _not_a_model(n[j], d[j]) for j in np.flatnonzero(~model & np.isfinite(n))})
    n, d = n[model], d[model]
    return {"n_params": n, "n_tokens": d, "flops": np.full(n.size, float(flops)), "loss": loss[model],
            "tokens_per_param": d / n}, [errors[j] for j in sorted(errors)]


def _check_target(m: _Model, loss: float) -> None:
    E = m.irreducible()
    if E is not None and loss <= E:
        raise ScalefitInputError(
            f"target loss {loss:g} is at or below the irreducible loss E = {E:.6g} of this fit; no finite "
            f"compute reaches it. Choose a loss above E (e.g. {E + 0.05:.4g})."
        )


def _budget(m: _Model, loss: float) -> dict[str, float]:
    """Least compute whose compute-optimal loss equals ``loss``."""
    _check_target(m, loss)
    if m.closed:
        # L*(C) = E + K (C/k)^(-gamma), gamma = alpha*beta/(alpha+beta)
        K = m.A * m.G ** (-m.alpha) + m.B * m.G**m.beta
        gamma = m.alpha * m.beta / (m.alpha + m.beta)
        S = (K / (loss - m.E)) ** (1.0 / gamma)
        return {**_optimum(m, m.k * S), "loss": loss}

    def g(log_c: float) -> float:
        return _optimum(m, math.exp(log_c))["loss"] - loss

    try:
        log_c = _solve_monotone(g, math.log(1e21), math.log(m.k), _LOG_MAX, increasing=False)
    except _NoSolution as exc:
        raise ScalefitInputError(
            f"target loss {loss:g} is not reached by any compute budget up to 1e60 FLOPs under law "
            f"{m.law.name!r} (its compute-optimal loss there is {exc.value + loss:.6g}). Choose a higher loss."
        ) from None
    return {**_optimum(m, math.exp(log_c)), "loss": loss}


def _tokens_for_loss(m: _Model, n_params: np.ndarray, loss: float) -> np.ndarray:
    """Tokens D with L(N, D) = loss for each N (vectorised bisection in log D; NaN when unreachable)."""
    n_params = np.asarray(n_params, dtype=float)
    if m.closed:
        rest = loss - m.E - m.A / n_params**m.alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(rest > 0, (m.B / np.where(rest > 0, rest, 1.0)) ** (1.0 / m.beta), np.nan)
        return d
    lo = np.zeros_like(n_params)
    hi = np.full_like(n_params, _LOG_MAX)
    reachable = np.asarray(m.loss(n_params, np.exp(hi)) <= loss)
    for _ in range(60):  # 138 / 2^60: far below float resolution
        mid = 0.5 * (lo + hi)
        below = np.asarray(m.loss(n_params, np.exp(mid)) <= loss)
        hi = np.where(below, mid, hi)
        lo = np.where(below, lo, mid)
    return np.where(reachable, np.exp(hi), np.nan)


def _fixed_n(m: _Model, n_params: float, flops: float | None, loss: float | None) -> dict[str, float]:
    """optimal_tokens for one N."""
    if flops is not None:
        return _row(m, n_params, flops / (m.k * n_params), flops=flops)
    if loss is not None:
        d = float(_tokens_for_loss(m, np.array([n_params]), loss)[0])
        if not math.isfinite(d):
            # with unlimited data the Chinchilla law leaves E + A/N^alpha (its B/D^beta term vanishes)
            floor = m.E + m.A / n_params**m.alpha if m.closed else float(m.loss(n_params, 1e60))
            what = "E + A/n_params^alpha" if m.closed else "the loss with 1e60 tokens"
            raise ScalefitInputError(
                f"loss {loss:g} is unreachable with n_params={n_params:.4g}: even unlimited data leaves "
                f"{what} = {floor:.6g}. Choose a loss above {floor:.6g} or a larger model."
            )
        if d <= 1.0 and not m.closed:
            raise ScalefitInputError(
                f"loss {loss:g} is reached with less than one token at n_params={n_params:.4g}; choose a lower loss."
            )
        return _row(m, n_params, d, loss=loss)
    if m.closed:
        S = (n_params / m.G) ** (1.0 / m.a)
        return _row(m, n_params, S / n_params)

    def g(log_c: float) -> float:
        return math.log(_optimum(m, math.exp(log_c))["n_params"]) - math.log(n_params)

    try:
        log_c = _solve_monotone(g, math.log(m.k * 20.0 * n_params**2), math.log(m.k), _LOG_MAX, increasing=True)
    except _NoSolution:
        raise ScalefitInputError(
            f"no compute budget up to 1e60 FLOPs makes n_params={n_params:.4g} compute-optimal under law "
            f"{m.law.name!r}; give flops= or loss= instead."
        ) from None
    out = _optimum(m, math.exp(log_c))
    return _row(m, n_params, out["flops"] / (m.k * n_params))


# ================================================================ frontier
def _frontier_model(law: Any, params: Mapping[str, Any], k: float, where: str,
                    inputs: Mapping[str, Any] | None) -> tuple[Law, _Model | None]:
    """The law, and a model to search (None for a FLOPs-only law); refuse laws with no N/D split."""
    law = get_law(law)
    if tuple(law.inputs) == ("flops",):  # L(C) itself: there is no allocation to choose
        return law, None
    if not {"n_params", "n_tokens"} <= set(law.inputs) and "flops" not in law.inputs:
        raise ScalefitInputError(
            f"{where}: law {law.name!r} depends on {list(law.inputs)} only, so it has no compute-optimal split of "
            "compute between parameters and tokens; fit a law of both n_params and n_tokens (e.g. 'chinchilla')."
        )
    given = dict(inputs or {})
    other = [i for i in law.inputs if i not in _PLANNED and i not in given]
    if other:
        raise ScalefitInputError(
            f"{where}: law {law.name!r} also needs {other}; this plot evaluates the law over model size and tokens "
            "only, so it cannot draw it. Plot a law of n_params and n_tokens (e.g. 'chinchilla')."
        )
    return law, _Model(law, params, {i: given[i] for i in law.inputs if i in given}, k, where)


def frontier(
    law: str | Law,
    params: Mapping[str, Any],
    flops: Any,
    *,
    flops_per_param_token: float = 6.0,
    where: str = "frontier()",
    inputs: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compute-optimal model size, tokens and loss (N*, D*, L*) at each budget.

    Closed form for the Chinchilla law (Hoffmann et al. 2022, eq. 4); for any
    other law the loss is minimised numerically over log N along ``C = k N D``
    (a grid over a wide range, an interior check, then a polish to ~1e-9).

    Parameters
    ----------
    law : str or Law
        The law.
    params : mapping
        Its parameter values (floats).
    flops : float or array-like
        Training compute budgets C in FLOPs.
    flops_per_param_token : float, default 6.0
        k in ``C = k N D``.
    where : str
        Who is asking, named in error messages.
    inputs : mapping, optional
        Extra inputs of the law besides N, D and C, e.g. ``{"unique_tokens": 25e9}``.

    Returns
    -------
    (n_params, n_tokens, loss) : tuple of numpy.ndarray
        One entry per budget.  NaN where a budget has no interior optimum; for a
        FLOPs-only law (L(C)) NaN N and D and the law's loss.

    Raises
    ------
    ScalefitInputError
        If the law depends on neither both N and D nor C, or needs inputs not given.

    Examples
    --------
    >>> from scalefit.plan import frontier
    >>> hoffmann = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    >>> n_opt, d_opt, loss = frontier("chinchilla", hoffmann, [5.76e23])
    >>> round(float(n_opt[0]) / 1e9, 1)
    32.2
    """
    k = float(flops_per_param_token)
    flops = np.asarray(flops, dtype=float)
    law = get_law(law)
    if is_chinchilla(law):
        return chinchilla_compute_optimal(params, flops, flops_per_param_token=k)
    law, m = _frontier_model(law, params, k, where, inputs)
    if m is None:
        nan = np.full(flops.shape, np.nan)
        return nan, nan, np.asarray(evaluate(law, params, flops_per_param_token=k, where=where, flops=flops), dtype=float)
    x, ln_s, _ = _log_n_opt(m, flops)
    return _at(m, x, ln_s, flops.shape)


def _at(m: _Model, x: np.ndarray, ln_s: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, D, L) at log N = x along log(N D) = ln_s; NaN where x is NaN."""
    ok = np.isfinite(x)
    n, d, loss = (np.full(x.shape, np.nan) for _ in range(3))
    n[ok], d[ok] = np.exp(x[ok]), np.exp(ln_s[ok] - x[ok])
    if ok.any():
        loss[ok] = m.loss(n[ok], d[ok], np.flatnonzero(ok))
    return n.reshape(shape), d.reshape(shape), loss.reshape(shape)


def frontier_draws(
    law: str | Law,
    samples: Sequence[Mapping[str, float]],
    flops: Any,
    *,
    flops_per_param_token: float = 6.0,
    where: str = "frontier_draws()",
    inputs: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Compute-optimal loss L*(C) for every bootstrap draw, shape ``(draws, budgets)``.

    The same solver as :func:`frontier`, run on all draws and budgets at once.

    Parameters
    ----------
    law : str or Law
        The law.
    samples : sequence of mappings
        One parameter mapping per draw.
    flops : array-like
        Budgets in FLOPs, 1-d.
    flops_per_param_token, where, inputs
        As in :func:`frontier`.

    Returns
    -------
    numpy.ndarray
        ``L*`` per draw (rows) and budget (columns); NaN where a draw has no
        interior optimum.

    Raises
    ------
    ScalefitInputError
        As :func:`frontier`.
    """
    k = float(flops_per_param_token)
    law = get_law(law)
    flops = np.asarray(flops, dtype=float).reshape(-1)
    arrays = {p: np.array([float(s[p]) for s in samples]) for p in law.param_names if all(p in s for s in samples)}
    if is_chinchilla(law):
        draws = {p: v[:, None] for p, v in arrays.items()}
        return chinchilla_compute_optimal(draws, flops[None, :], flops_per_param_token=k)[2]
    law, m = _frontier_model(law, arrays, k, where, inputs)
    shape = (len(samples), flops.size)
    if m is None:
        draws = {p: v[:, None] for p, v in arrays.items()}
        return np.asarray(evaluate(law, draws, flops_per_param_token=k, where=where, flops=flops[None, :]), dtype=float)
    rows = {p: np.repeat(v, flops.size) for p, v in arrays.items()}  # row = (draw, budget)
    m = _Model(law, rows, m.inputs, k, where)
    x, ln_s, _ = _log_n_opt(m, np.tile(flops, len(samples)))
    return _at(m, x, ln_s, shape)[2]


# ------------------------------------------------- inference-aware plan (Sardana et al. 2023)
def _inference(m: _Model, loss: float, inference_tokens: float, k_inf: float) -> dict[str, float]:
    """Minimise k N D + k_inf N D_inf over the iso-loss curve L(N, D) = loss."""
    chin = _budget(m, loss)
    x_chin = math.log(chin["n_params"])
    # smallest N that can reach the loss at all (D -> infinity)
    if m.closed:
        x_min = math.log((m.A / (loss - m.E)) ** (1.0 / m.alpha))
    else:
        try:
            x_min = _solve_monotone(
                lambda x: float(m.loss(math.exp(x), 1e60)) - loss, x_chin, x_chin - 100.0, x_chin, increasing=False
            )
        except _NoSolution:
            x_min = x_chin - 100.0

    def total(y: np.ndarray) -> np.ndarray:
        n = np.exp(x_min + np.exp(y))
        d = _tokens_for_loss(m, n, loss)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(m.k * n * d + k_inf * n * inference_tokens)

    y_lo, y_hi = math.log(1e-12), math.log(x_chin + 1.0 - x_min)
    try:
        y = _argmin_1d(total, y_lo, y_hi)
    except _NoSolution as exc:  # pragma: no cover - total cost always has an interior minimum
        raise ScalefitInputError(
            f"could not find an inference-optimal plan for loss {loss:g} (search ended at n_params="
            f"{math.exp(x_min + math.exp(exc.x)):.3g})."
        ) from None
    n = math.exp(x_min + math.exp(y))
    d = float(_tokens_for_loss(m, np.array([n]), loss)[0])
    train, infer = m.k * n * d, k_inf * n * inference_tokens
    chin_total = chin["flops"] + k_inf * chin["n_params"] * inference_tokens
    return {
        "n_params": n,
        "n_tokens": d,
        "loss": loss,
        "tokens_per_param": d / n,
        "training_flops": train,
        "inference_flops": infer,
        "total_flops": train + infer,
        "chinchilla_n_params": chin["n_params"],
        "chinchilla_n_tokens": chin["n_tokens"],
        "chinchilla_flops": chin["flops"],
        "chinchilla_total_flops": chin_total,
        "saving_flops": chin_total - (train + infer),
        "saving_fraction": (chin_total - (train + infer)) / chin_total,
    }
