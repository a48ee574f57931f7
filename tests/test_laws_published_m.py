"""Alabdulmohsin, Neyshabur and Zhai's (2022) laws M1-M4 against the numbers their paper prints.

"Revisiting Neural Scaling Laws in Language and Vision" (NeurIPS 2022, arXiv 2209.06640), Table 2, NMT rows: the
extrapolation RMSE of each law fitted to a learning curve of up to 256M sentence pairs and evaluated at 512M, eq. (4):
RMSE = sqrt(E (log eps_hat - log eps)^2), here over the one held-out point, so |log eps_hat - log eps|.  The table's
text was read from the NeurIPS 2022 submission (the anonymous manuscript; the camera-ready and arXiv versions could
not be opened from this machine), and the curves are the public ones behind it.

What reproduces (benchmarks/RESULTS.md, "Issue 14: M1-M4 against published values (session 22)"):

- M1: all five printed values, with scalefit's own fit (least squares on log loss, as their m1.py).
- M2: three of the four printed values whose row is not a copy, by scalefit's M2 law at *their* estimate, which
  minimises squares of log(eps - eps_inf) - log(beta x^c), not of the log loss; scalefit's fit of the loss does not.
- M3: one printed value (6 Enc, 6 Dec), by scalefit's M3 law at the parameters their code reaches; scalefit's own fit
  lowers the very objective their M3 minimises on all five curves, so its extrapolations differ.
- M4: none; their public code (run here) does not give the printed M4 values either.  The M4 law is checked against
  their code's predictions at their code's parameters.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar

import scalefit
from scalefit.laws import evaluate

# google-research/google-research@9853680c781781bd8d3de20aa61c7373ce059913,
# revisiting_neural_scaling_laws/data/benchmark.lang.csv, Domain "NMT", Task "log_perplexity" (Bansal et al. 2022,
# their Figure 1 architectures): (Seen Examples = sentence pairs, Loss = log-perplexity).  The last point of each
# curve (512M) is the one with Training = 0, the point Table 2 extrapolates to.
NMT_CURVES = {
    "6 Enc, 6 Dec": [
        (5e5, 0.9311752923076924), (1e6, 0.7439282076923077), (2e6, 0.6362391538461539), (4e6, 0.5567884999999999),
        (8e6, 0.4820073461538462), (16e6, 0.40960946153846156), (32e6, 0.3737405153846154),
        (64e6, 0.3531731307692308), (128e6, 0.34907098076923077), (256e6, 0.3402780576923077),
        (512e6, 0.3401562576923077)],
    "28 Enc, 6 Dec": [
        (1e6, 0.759195326923077), (2e6, 0.6557881538461537), (4e6, 0.5905543076923077), (8e6, 0.5085194230769231),
        (16e6, 0.43818853846153843), (32e6, 0.38691630769230767), (64e6, 0.35276568846153844),
        (128e6, 0.32963344615384615), (256e6, 0.31268725), (512e6, 0.30665264615384613)],
    "6 Enc, 28 Dec": [
        (5e5, 0.9903227692307692), (1e6, 0.8178963653846154), (2e6, 0.6847281153846153), (4e6, 0.596147423076923),
        (8e6, 0.5069471923076923), (16e6, 0.42430973076923073), (32e6, 0.37750491538461534),
        (64e6, 0.3420281192307692), (128e6, 0.31908395384615384), (256e6, 0.3003186461538462),
        (512e6, 0.2968776230769231)],
    "Dec-only": [
        (5e5, 0.8737086153846153), (1e6, 0.7362287307692307), (2e6, 0.6165888076923077), (4e6, 0.5085202692307692),
        (8e6, 0.4542861923076923), (16e6, 0.40974884615384616), (32e6, 0.3964682692307692),
        (64e6, 0.3865734615384615), (128e6, 0.3861453846153846), (256e6, 0.38069770769230765),
        (512e6, 0.3823245269230769)],
    "TEnc-LSTM": [
        (1e6, 0.7960001153846155), (2e6, 0.6451591538461537), (4e6, 0.555179576923077), (8e6, 0.5057018846153847),
        (16e6, 0.44988049999999996), (32e6, 0.40848719230769226), (64e6, 0.39109538461538457),
        (128e6, 0.38673849999999993), (256e6, 0.37468914615384613), (512e6, 0.3724219692307692)],
}
# Alabdulmohsin et al. (2022), Table 2, NMT rows "6 Enc, 6 Dec Layers", "28 Enc, 6 Dec Layers", "6 Enc, 28 Dec
# Layers", "Decoder-only /LM", "Transformer Enc /LSTM Dec": extrapolation RMSE of (M1, M2, M3, M4), as printed.
# The Decoder-only row's M2-M4 entries repeat the 6 Enc, 6 Dec row's digit for digit (3.9e-2, 8.9e-2, 1.0e-2) while
# its M1 differs; their code gives 0.0103, 0.0328, 0.0084 for that curve, so those three entries are taken as a
# copying slip and not used.
TABLE_2_NMT = {
    "6 Enc, 6 Dec": (2.6e-1, 3.9e-2, 8.9e-2, 1.0e-2),
    "28 Enc, 6 Dec": (1.7e-1, 5.6e-2, 3.3e-2, 1.3e-2),
    "6 Enc, 28 Dec": (2.3e-1, 5.3e-2, 1.6e-2, 3.0e-2),
    "Dec-only": (2.5e-1, None, None, None),
    "TEnc-LSTM": (1.9e-1, 1.3e-2, 6.2e-2, 1.2e-2),
}
# Their README: every NMT model has about 300M parameters; the learning-curve laws ignore n_params, which read_runs
# needs beside n_tokens.
NMT_PARAMS = 3e8
# Their base.py ERR_MARGIN: eps_inf is projected into [0, min loss - 1e-3].
ERR_MARGIN = 1e-3


def _curve(name):
    data = np.array(NMT_CURVES[name])
    return data[:-1, 0], data[:-1, 1], data[-1, 0], data[-1, 1]


def _runs(x, y):
    return scalefit.read_runs(pd.DataFrame(dict(n_params=NMT_PARAMS, n_tokens=x, loss=y)))


def _error(predicted, truth):
    """Their eq. (4) over one held-out point."""
    return float(abs(np.log(predicted) - np.log(truth)))


def _as_printed(value):
    """Two significant digits, as Table 2 prints them (2.6 x 10^-1)."""
    return float(f"{value:.1e}")


def _log_sse(law, params, x, y):
    """Sum of squared log residuals of the loss: scalefit's objective with loss='mse', space='log' (times 2)."""
    return float(np.sum((np.log(evaluate(law, params, n_tokens=x)) - np.log(y)) ** 2))


# ------------------------------------------------------------------------------------------------- M1
def test_m1_fit_reproduces_table_2_nmt():
    # their m1.py is m2.py with err_inf = 0: one linear regression of log y on (1, log x), i.e. least squares on the
    # log loss, which is scalefit's loss="mse", space="log"
    for name, printed in TABLE_2_NMT.items():
        x, y, x_held, y_held = _curve(name)
        fit = scalefit.fit(_runs(x, y), "m1", loss="mse", space="log")
        c, log_beta = np.polyfit(np.log(x), np.log(y), 1)
        assert fit.params["c"] == pytest.approx(c, rel=1e-8) and fit.params["beta"] == pytest.approx(np.exp(log_beta), rel=1e-8)
        assert _as_printed(_error(fit.predict(n_params=NMT_PARAMS, n_tokens=x_held), y_held)) == printed[0], name
    # the objective matters: the default Huber (delta 1e-3) fit of the first curve extrapolates with 0.32, not 0.26
    x, y, x_held, y_held = _curve("6 Enc, 6 Dec")
    huber = scalefit.fit(_runs(x, y), "m1")
    assert _as_printed(_error(huber.predict(n_params=NMT_PARAMS, n_tokens=x_held), y_held)) == 3.2e-1


# ------------------------------------------------------------------------------------------------- M2
def _their_m2_estimate(x, y):
    """The estimate their m2.py reaches: the interior minimum of sum (log(y - eps_inf) - log beta - c log x)^2.

    Their estimator alternates a linear regression of log(y - eps_inf) on (1, log x) with descent steps on eps_inf,
    started at min(y) - 1e-3 and projected into [0, min(y) - 1e-3] (base.py, m2.py).  Profiled over eps_inf this
    objective has one interior local minimum on every NMT curve, which is where their descent stops; on three curves
    its value at eps_inf -> 0 (the M1 limit) is lower still, but the descent never gets there.
    """
    log_x = np.log(x)

    def profile(eps_inf):
        c, log_beta = np.polyfit(log_x, np.log(y - eps_inf), 1)
        return float(np.sum((np.log(y - eps_inf) - log_beta - c * log_x) ** 2))

    grid = np.linspace(0.0, y.min() - ERR_MARGIN, 2001)
    values = np.array([profile(e) for e in grid])
    interior = np.flatnonzero((values[1:-1] < values[:-2]) & (values[1:-1] < values[2:])) + 1
    assert interior.size == 1
    best = minimize_scalar(profile, bounds=(grid[interior[0] - 1], grid[interior[0] + 1]), method="bounded",
                           options=dict(xatol=1e-12))
    c, log_beta = np.polyfit(log_x, np.log(y - best.x), 1)
    return {"eps_inf": float(best.x), "beta": float(np.exp(log_beta)), "c": float(c)}


# eps_inf of their m2.Estimator(fit_values).estimate_scaling_params(verbose=0) (the notebook's NMT cell), from
# google-research/google-research revisiting_neural_scaling_laws/methods/m2.py@1d4d2f1 with base.py@4c42994 (the same
# algorithm as in the first commit, 9853680), run on these curves here (numpy 2.4.6, scikit-learn 1.9.1)
THEIR_M2_EPS_INF = {"6 Enc, 6 Dec": 0.30815954096995885, "28 Enc, 6 Dec": 0.21961405779833704,
                    "6 Enc, 28 Dec": 0.2294206092037302, "Dec-only": 0.3754781456797251,
                    "TEnc-LSTM": 0.3548164413020953}


def test_m2_law_at_their_estimate_reproduces_table_2_nmt():
    for name, printed in TABLE_2_NMT.items():
        x, y, x_held, y_held = _curve(name)
        theirs = _their_m2_estimate(x, y)
        assert theirs["eps_inf"] == pytest.approx(THEIR_M2_EPS_INF[name], rel=1e-7), name
        error = _error(evaluate("m2", theirs, n_tokens=x_held), y_held)
        if name == "6 Enc, 6 Dec":
            # 0.03845: one unit below the printed 3.9e-2 in its last digit (their code gives the same 0.03845)
            assert error == pytest.approx(0.03845, abs=5e-5)
        elif printed[1] is not None:
            assert _as_printed(error) == printed[1], name
        # scalefit's fit of M2 minimises squares of the log *loss*: lower there than their estimate, and so not
        # their number (extrapolation errors 0.056, 0.064, 0.066, 0.038, 0.017 against 0.039, 0.056, 0.053, -, 0.013)
        ours = scalefit.fit(_runs(x, y), "m2", loss="mse", space="log")
        assert _log_sse("m2", ours.params, x, y) < _log_sse("m2", theirs, x, y), name


# ------------------------------------------------------------------------------------------------- M3
# (beta, c, gamma) and the prediction at 512M of their m3.Estimator(fit_values).estimate_scaling_params(verbose=0)
# (the notebook's NMT cell), google-research/google-research revisiting_neural_scaling_laws/methods/m3.py@1d4d2f1 with
# base.py@4c42994 (the same algorithm as in the first commit, 9853680), run on these curves here (numpy 2.4.6,
# scikit-learn 1.9.1).  Their form is beta (1/x + gamma)^c with c >= 0, and
# gamma is searched among the values that fit one point exactly, so the iteration stops short of the least-squares
# optimum of its own objective, sum (log y - log(beta (1/x + gamma)^c))^2.
THEIR_M3 = {
    "6 Enc, 6 Dec": ((13.73199873430447, 0.2105343792830348, 1.3443752753249099e-08), 0.3111141324646381),
    "28 Enc, 6 Dec": ((12.0561212669887, 0.20027676466874697, 7.276504588564796e-09), 0.29649727683588983),
    "6 Enc, 28 Dec": ((25.789574987640442, 0.24948951295360902, 1.3891141897246153e-08), 0.29200755412245893),
    "Dec-only": ((33.746661283350484, 0.27988329563162945, 9.734147725584373e-08), 0.3699876955072372),
    "TEnc-LSTM": ((8.337623802101458, 0.1757435890182055, 1.2575273339421006e-08), 0.34962486454228237),
}


def test_m3_law_at_their_parameters_reproduces_table_2_and_our_fit_lowers_their_objective():
    for name, ((beta, c, gamma), their_prediction) in THEIR_M3.items():
        x, y, x_held, y_held = _curve(name)
        theirs = {"beta": beta, "c": c, "gamma": gamma}
        predicted = float(evaluate("m3", theirs, n_tokens=x_held))
        assert predicted == pytest.approx(their_prediction, rel=1e-12), name
        printed = TABLE_2_NMT[name][2]
        if name == "6 Enc, 6 Dec":
            assert _as_printed(_error(predicted, y_held)) == printed  # 0.0893 -> 8.9e-2
        elif printed is not None:
            # 0.0337, 0.0165, 0.0632 from their own parameters against the printed 3.3e-2, 1.6e-2, 6.2e-2: one unit
            # in the last printed digit, not reproduced
            assert abs(_error(predicted, y_held) - printed) <= 1.5e-3 and _as_printed(_error(predicted, y_held)) != printed
        # the same objective, minimised by scalefit: lower on every curve (6 Enc, 6 Dec: 0.0031 against their 0.0182)
        ours = scalefit.fit(_runs(x, y), "m3", loss="mse", space="log")
        assert _log_sse("m3", ours.params, x, y) < _log_sse("m3", theirs, x, y), name


# ------------------------------------------------------------------------------------------------- M4
# (eps_inf, eps_0, beta, c, alpha) and the prediction at 512M of their
# m4.Estimator(fit_values, err_0=1.0, update_err_0=True, up_bound=None).estimate_scaling_params(verbose=0) (the
# notebook's NMT cell), google-research/google-research revisiting_neural_scaling_laws/methods/m4.py@1d4d2f1 with
# base.py@4c42994 (the same algorithm as in the first commit, 9853680), run on these curves here (numpy 2.4.6,
# scikit-learn 1.9.1).  Their extrapolation errors, 0.0205, 0.0181, 0.0444, 0.0084,
# 0.0126, are not the printed 1.0e-2, 1.3e-2, 3.0e-2, (copied), 1.2e-2: no M4 value of Table 2 reproduces here.
THEIR_M4 = {
    "6 Enc, 6 Dec": ((0.32343875841237574, 0.9999310301660783, 3783.2792481297993, -0.6385903666581514,
                      0.13578298201755268), 0.33324887736469966),
    "28 Enc, 6 Dec": ((0.2791590661353855, 0.9999503810535866, 6654.097246397054, -0.6163346553307355,
                       0.7252353517741064), 0.3011453998737645),
    "6 Enc, 28 Dec": ((0.2402803907206246, 1.0013932926317306, 218.37944486553414, -0.4243074656151483,
                       0.02375349130083272), 0.2839726405153016),
    "Dec-only": ((0.3772008228177329, 0.9947210136116438, 88990.02031479223, -0.8731537401308334,
                  0.2833464510161827), 0.3791153268595982),
    "TEnc-LSTM": ((0.3548164413020939, 1.5490745502059098, 1067.5863956474764, -0.5644590304251698, 0.0),
                  0.36776963777790417),
}


def test_m4_law_at_their_parameters_gives_their_predictions():
    for name, ((eps_inf, eps_0, beta, c, alpha), their_prediction) in THEIR_M4.items():
        x_held = _curve(name)[2]
        ours = float(evaluate("m4", dict(eps_inf=eps_inf, eps_0=eps_0, beta=beta, c=c, alpha=alpha), n_tokens=x_held))
        # their predict_loss takes the best of 10,000 grid points on [eps_inf, eps_0] (exact when alpha = 0); ours
        # solves the equation, so they agree to one grid step
        step = (eps_0 - eps_inf) / 9999
        assert abs(ours - their_prediction) <= step, name
        residual = (ours - eps_inf) / (eps_0 - ours) ** alpha - beta * x_held**c
        assert abs(residual) <= 1e-12 * beta * x_held**c, name
