"""Shared fixtures: an isolated data folder per test, and real servers per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_pipeline_tests.servers import moto_s3_server, postgres_server

SMALL = {"profile": "normal-ops", "size": "small", "seed": 42, "as_of": "2024-12-31"}


@pytest.fixture(scope="session")
def commerce_small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The commerce domain, small preset, materialised, checked and exported once per session.

    Read-only: tests that change data copy it first.
    """
    from mock_pipeline.domains.commerce import COMMERCE
    from mock_pipeline_tests.helpers import materialize_domain

    data = tmp_path_factory.mktemp("commerce_small") / "data"
    return materialize_domain(COMMERCE, data, SMALL), data


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$MOCK_PIPELINE_DATA_DIR pointed at a fresh folder."""
    path = tmp_path / "data"
    monkeypatch.setenv("MOCK_PIPELINE_DATA_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_s3_server() as endpoint:
        yield endpoint
