"""Tests of the experiment-design figures (scalefit.plots._design)."""
from __future__ import annotations

import numpy as np
import pytest

import scalefit
from scalefit import ScalefitInputError

pytest.importorskip("matplotlib")

HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}  # Hoffmann et al. (2022) Eq. 10


@pytest.fixture(scope="module")
def designs():
    common = dict(prior=HOFFMANN, n_runs=6, n_sims=4, n_jobs=1)
    return [scalefit.design(1e22, 2e19, budgets=[1e18, 3e18], **common),
            scalefit.design(1e22, 4e19, budgets=[2e18, 6e18], **common)]


def test_plot_design_draws_the_runs_and_isoflop_lines(designs):
    import matplotlib

    matplotlib.use("Agg")
    from scalefit.plots import plot_design

    disp = plot_design(designs[0])
    np.testing.assert_array_equal(disp.data_["n_params"], designs[0].runs["n_params"].to_numpy())
    np.testing.assert_array_equal(disp.data_["budgets"], [1e18, 3e18])
    assert len(disp.artists_["runs"].get_offsets()) == 6
    with pytest.raises(ScalefitInputError, match="expected a Design"):
        plot_design(HOFFMANN)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_plot_design_value_shows_the_reported_errors(designs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scalefit.plots import plot_design_value

    disp = plot_design_value(designs[::-1])
    np.testing.assert_array_equal(disp.data_["experiment_flops"], [2e19, 4e19])
    np.testing.assert_allclose(disp.data_["median"], [d.error("n_opt") for d in designs])
    with pytest.raises(ScalefitInputError, match="quantity"):
        plot_design_value(designs, quantity="x")
    plt.close("all")
