"""Shared fixtures.

Real public data live in ``../shared/data/`` (see its README).  Tests that need
them skip with a reason when the folder is absent (a user's fresh clone); CI
always has it.
"""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# Property tests: 500 examples per strategy in CI (CI=true), fewer locally so a run stays quick.
# CI draws the same 500 examples every run (derandomize), so a green CI is reproducible; local runs explore at random
settings.register_profile("ci", max_examples=500, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCALEFIT_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_file(*parts: str) -> Path:
    """Path to a file in ../shared/data, or skip the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (it lives in ../shared/data, outside a fresh clone)")
    return path


@pytest.fixture
def chinchilla_csv() -> Path:
    """Besiroglu et al. (2024) replication CSV, epoch-research/analyzing-chinchilla@9225883."""
    return shared_file("chinchilla_epoch", "svg_extracted_data.csv")


@pytest.fixture
def porian_dir() -> Path:
    """Porian et al. (2024) tables, formll/resolving-scaling-law-discrepancies@0dc60d9."""
    return shared_file("porian2024")


@pytest.fixture
def li_csv() -> Path:
    """Li, Kudugunta and Zettlemoyer (2025) curves, hadasah/scaling_laws@1f3708c."""
    return shared_file("li2025_misfitting", "scaling_results.csv")
