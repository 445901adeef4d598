"""Pytest plugin (loaded from the root pyproject): infrastructure fixtures for every test suite."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rapport_shared.testing.infra import TestInfra, create_slice, destroy_slice, find_repo_root


@pytest.fixture(scope="session")
def repo_root(pytestconfig: pytest.Config) -> Path:
    return find_repo_root(Path(str(pytestconfig.rootpath)))


@pytest.fixture(scope="session")
def infra(repo_root: Path) -> Iterator[TestInfra]:
    """A fresh database (every service's schema and role) and prefixed topics on real Kafka/Postgres."""
    slice_ = create_slice(repo_root)
    yield slice_
    destroy_slice(slice_)
