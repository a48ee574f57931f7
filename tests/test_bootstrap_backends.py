"""The bootstrap and group fits on other joblib backends give what n_jobs=1 gives (scalefit/fitting/bootstrap.py).

Dask runs on a LocalCluster bound to 127.0.0.1; joblib's multiprocessing backend, like Ray's, cannot
return results as a generator, so it exercises the list fallback wherever Ray is absent.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit.datasets import synthetic_path


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scalefit.fit("synthetic:isoflop")


def _same(a, b):
    pd.testing.assert_frame_equal(a.samples, b.samples, check_exact=True)
    np.testing.assert_array_equal(a.objective, b.objective)
    np.testing.assert_array_equal(a.converged, b.converged)


def test_bootstrap_on_a_local_dask_cluster_matches_n_jobs_1(fitted):
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed (pip install scalefit[dask])")
    import joblib

    serial = fitted.bootstrap(600, seed=5, n_jobs=1, progress=False, chunk_size=300)  # 2 chunks, so work is split
    with distributed.LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with joblib.parallel_config(backend="dask"), distributed.get_task_stream(client) as stream:
            on_dask = fitted.bootstrap(600, seed=5, n_jobs=-1, progress=False, chunk_size=300)
            runs = scalefit.read_runs(synthetic_path("isoflop"))
            groups = runs.table.assign(half=np.arange(len(runs.table)) % 2)
            grouped_dask = scalefit.isoflop(groups, group_by="half", n_jobs=2)
        assert len(stream.data) > 0  # the resamples ran on the cluster
    _same(on_dask, serial)
    grouped_serial = scalefit.isoflop(groups, group_by="half", n_jobs=1)
    pd.testing.assert_frame_equal(grouped_dask.to_frame(), grouped_serial.to_frame(), check_exact=True)


def test_backend_without_generators_falls_back_to_a_list(fitted):
    import joblib

    serial = fitted.bootstrap(600, seed=2, n_jobs=1, progress=False, chunk_size=300)
    with joblib.parallel_config(backend="multiprocessing"):
        pooled = fitted.bootstrap(600, seed=2, n_jobs=2, progress=False, chunk_size=300)
    _same(pooled, serial)


def test_bootstrap_on_ray_matches_n_jobs_1(fitted):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install ray; the test extra has it, but it "
                                             "has no wheel for every platform); the multiprocessing test covers the "
                                             "same fallback")
    import joblib
    from ray.util.joblib import register_ray

    register_ray()
    serial = fitted.bootstrap(600, seed=4, n_jobs=1, progress=False, chunk_size=300)
    # address="local": always a fresh local instance on 127.0.0.1, never a cluster some `ray start` left running
    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1")
    try:
        with joblib.parallel_config(backend="ray"):
            on_ray = fitted.bootstrap(600, seed=4, n_jobs=2, progress=False, chunk_size=300)
    finally:
        ray.shutdown()
    _same(on_ray, serial)
