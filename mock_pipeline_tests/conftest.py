"""Shared fixtures: an isolated data folder per test, and real servers per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_pipeline_tests.servers import moto_s3_server, postgres_server


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
