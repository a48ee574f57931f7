"""Built-in laws against their published equations and test vectors."""
from __future__ import annotations

import numpy as np
import pytest

from scalefit import ScalefitInputError
from scalefit.datasets import published_params
from scalefit.laws import PF_DAY, available_laws, chinchilla_compute_optimal, get_law, is_chinchilla

N = np.array([1e6, 1e8, 1e9, 1e11])
D = np.array([1e8, 1e10, 1e11, 1e13])


def test_kaplan_single_variable_laws_reproduce_equations():
    k = published_params("kaplan2020")  # Kaplan et al. (2020), eqs. 1.1-1.3, data/published_coefficients.csv
    # eq. 1.1: L(N) = (N_c / N)^alpha_N
    got = get_law("kaplan-n")({"N_c": k["N_c"], "alpha_N": k["alpha_N"]}, n_params=N)
    np.testing.assert_allclose(got, (8.8e13 / N) ** 0.076, rtol=1e-12)
    # eq. 1.2: L(D) = (D_c / D)^alpha_D
    got = get_law("kaplan-d")({"D_c": k["D_c"], "alpha_D": k["alpha_D"]}, n_tokens=D)
    np.testing.assert_allclose(got, (5.4e13 / D) ** 0.095, rtol=1e-12)
    # eq. 1.3: L(C_min) = (C_c / C_min)^alpha_C with C in PF-days; the law takes FLOPs
    C_flops = np.array([1e18, 1e21, 1e24])
    got = get_law("kaplan-c")({"C_c": k["C_c"] * PF_DAY, "alpha_C": k["alpha_C"]}, flops=C_flops)
    np.testing.assert_allclose(got, (3.1e8 / (C_flops / 8.64e19)) ** 0.050, rtol=1e-12)


def test_kaplan_default_values_are_the_published_ones():
    k = published_params("kaplan2020")
    assert get_law("kaplan-n").param("N_c").value == k["N_c"]
    assert get_law("kaplan-d").param("alpha_D").value == k["alpha_D"]
    assert get_law("kaplan-c").param("C_c").value == pytest.approx(k["C_c"] * PF_DAY)


def test_kaplan_irreducible_forms_add_E():
    p = {"E": 1.3, "N_c": 8.8e13, "alpha_N": 0.076}
    np.testing.assert_allclose(get_law("kaplan-n-e")(p, n_params=N), 1.3 + (8.8e13 / N) ** 0.076)
    assert set(get_law("kaplan-d-e").param_names) == {"E", "D_c", "alpha_D"}
    assert get_law("kaplan-c-e").inputs == ("flops",)


def test_kaplan_joint_law_limits():
    # Kaplan et al. (2020) eq. 1.5 reduces to eq. 1.1 as D -> inf and to eq. 1.2 as N -> inf.
    k = published_params("kaplan2020")
    p = {k2: k[k2] for k2 in ("N_c", "D_c", "alpha_N", "alpha_D")}
    law = get_law("kaplan-nd")
    np.testing.assert_allclose(law(p, n_params=N, n_tokens=1e30), (k["N_c"] / N) ** k["alpha_N"], rtol=1e-9)
    np.testing.assert_allclose(law(p, n_params=1e30, n_tokens=D), (k["D_c"] / D) ** k["alpha_D"], rtol=1e-6)
    # and at finite N, D it matches the formula
    expect = ((k["N_c"] / N) ** (k["alpha_N"] / k["alpha_D"]) + k["D_c"] / D) ** k["alpha_D"]
    np.testing.assert_allclose(law(p, n_params=N, n_tokens=D), expect, rtol=1e-12)


def test_muennighoff_test_vectors():
    # Muennighoff et al. (2023), README of huggingface/datablations: the two models of Figure 1 (right).
    m = published_params("muennighoff2023")
    params = {k: m[k] for k in ("E", "A", "B", "alpha", "beta", "R_D_star", "R_N_star")}
    law = get_law("data-constrained")
    assert float(law(params, n_params=6.34e9, n_tokens=242e9, unique_tokens=25e9)) == pytest.approx(2.2256440889984477, rel=1e-12)
    assert float(law(params, n_params=8.67e9, n_tokens=178e9, unique_tokens=25e9)) == pytest.approx(2.2269634075087867, rel=1e-12)


def test_data_constrained_without_repetition_is_chinchilla():
    m = published_params("muennighoff2023")
    params = {k: m[k] for k in ("E", "A", "B", "alpha", "beta", "R_D_star", "R_N_star")}
    # unique tokens >= tokens and N below the compute-optimal size for U_D: no repetition, no excess params
    got = get_law("data-constrained")(params, n_params=1e8, n_tokens=1e10, unique_tokens=1e10)
    plain = get_law("chinchilla")({k: params[k] for k in ("E", "A", "B", "alpha", "beta")}, n_params=1e8, n_tokens=1e10)
    assert float(got) == pytest.approx(float(plain), rel=1e-12)


def test_data_constrained_sees_only_the_unique_tokens_a_run_reaches():
    """A QA report: with U = 1e10 unique tokens, runs of 1e9 and 1e10 tokens had the same loss (the law used U, not
    U_D = min(U, D): Muennighoff et al. 2023, eq. 5, where a run of D < U tokens repeats nothing and sees D)."""
    m = published_params("muennighoff2023")
    params = {k: m[k] for k in ("E", "A", "B", "alpha", "beta", "R_D_star", "R_N_star")}
    law = get_law("data-constrained")
    short, full = (float(law(params, n_params=1e7, n_tokens=d, unique_tokens=1e10)) for d in (1e9, 1e10))
    assert short > full
    plain = get_law("chinchilla")({k: params[k] for k in ("E", "A", "B", "alpha", "beta")}, n_params=1e7, n_tokens=1e9)
    assert short == pytest.approx(float(plain), rel=1e-12)


def test_closed_form_optimum_against_hoffmann_table():
    # Chinchilla's budget C = 5.76e23 under Hoffmann et al.'s rounded Approach 3 coefficients gives
    # N* ~ 3.22e10 with ~92.7 tokens per parameter (values given in issue 6; cf. Besiroglu et al. 2024, §4).
    p = published_params("hoffmann2022_approach3")
    n, d, _ = chinchilla_compute_optimal(p, 5.76e23)
    assert float(n) == pytest.approx(3.22e10, rel=0.01)
    assert float(d / n) == pytest.approx(92.7, rel=0.01)
    assert 6 * n * d == pytest.approx(5.76e23)


def test_tied_chinchilla_and_registry():
    law = get_law("chinchilla-tied")
    assert law.param_names == ("E", "A", "B", "alpha")
    assert is_chinchilla(law) and is_chinchilla(get_law("hoffmann"))
    assert not is_chinchilla(get_law("kaplan-nd"))
    assert "data-constrained" in available_laws()
    p = dict(E=1.7, A=400.0, B=400.0, alpha=0.3)
    np.testing.assert_allclose(law(p, n_params=N, n_tokens=D), 1.7 + 400 / N**0.3 + 400 / D**0.3)


def test_law_call_errors():
    law = get_law("chinchilla")
    with pytest.raises(ScalefitInputError, match="missing parameter values"):
        law({"E": 1.0}, n_params=N, n_tokens=D)
    with pytest.raises(ScalefitInputError, match="needs inputs"):
        law(dict(E=1, A=1, B=1, alpha=1, beta=1), n_params=N)
    with pytest.raises(ScalefitInputError, match="unknown law"):
        get_law("gpt")
    with pytest.raises(ScalefitInputError, match="has no parameter"):
        law.param("gamma")


def test_with_params_changes_bounds():
    law = get_law("chinchilla").with_params(alpha={"max": 1.0})
    assert law.param("alpha").max == 1.0
    assert get_law("chinchilla").param("alpha").max == 5.0
