"""A design search on a Dask cluster gives the same result as n_jobs=1 (issue 15)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalefit

distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed (pip install scalefit[dask])")

HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}  # Hoffmann et al. (2022) Eq. 10


def test_design_on_a_local_dask_cluster_matches_n_jobs_1():
    import joblib

    options = dict(prior=HOFFMANN, budgets=[1e18, 3e18], n_runs=6, n_sims=4, seed=3)
    serial = scalefit.design(1e22, 2e19, n_jobs=1, **options)
    with distributed.LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with joblib.parallel_config(backend="dask"), distributed.get_task_stream(client) as stream:
            on_dask = scalefit.design(1e22, 2e19, n_jobs=-1, **options)
        assert len(stream.data) > 0  # the fits ran on the cluster
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(on_dask.errors, serial.errors)
    pd.testing.assert_frame_equal(on_dask.runs, serial.runs)
    pd.testing.assert_frame_equal(on_dask.candidates, serial.candidates)
