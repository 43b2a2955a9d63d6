"""Shared fixtures: one small generated universe and one clean dbt build per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dbt_project import generate_inputs, input_vars, run_dbt


@pytest.fixture(scope="session")
def small_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_inputs(tmp_path_factory.mktemp("small") / "data")


@pytest.fixture(scope="session")
def clean_build(small_inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse of a full `dbt build` (profile smoke) of the small universe; read-only use."""
    work = tmp_path_factory.mktemp("clean_build")
    db = work / "warehouse.duckdb"
    run = run_dbt(["build"], db, input_vars(small_inputs), work)
    assert run.returncode == 0, run.output[-5000:]
    return db


@pytest.fixture
def warehouse_copy(clean_build: Path, tmp_path: Path) -> Path:
    """A private copy of the clean warehouse that a test may damage."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(clean_build, copy)
    return copy
