"""Shared fixtures and the two test tiers.

- `pytest` runs the unit tier (pyproject's addopts deselect `integration`); `pytest -m integration`
  runs the tests that start real servers or real processes. A test that asks for a server fixture,
  or is marked `slow` (subprocess and multiprocess-executor runs, repeated whole-domain runs), is
  marked `integration` here, so it can never land in the unit tier by forgetting the mark.
- Under CI=true nothing may skip: a skipped test is reported as a failure with its reason.
- Each domain is materialised once per session (per xdist worker) on the small preset and shared
  read-only by the tests that only read it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mock_pipeline_tests.servers import moto_s3_server, postgres_server

if TYPE_CHECKING:
    import dagster as dg

    from mock_pipeline.domains.factory import Domain

SMALL = {"profile": "normal-ops", "size": "small", "seed": 42, "as_of": "2024-12-31"}

# Fixtures that start a real server: a test using one belongs to the integration tier.
SERVER_FIXTURES = frozenset({"postgres_url", "s3_endpoint"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        uses_server = SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if uses_server or item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.integration)


def pytest_report_header(config: pytest.Config) -> str:
    tier = config.getoption("markexpr") or "all tests"
    return f"mock_pipeline tier: -m '{tier}' (unit: `pytest`, real servers: `pytest -m integration`)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    # CI must run every test: a skip there (a missing package, a missing privilege) is a failure.
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run every test: {reason}"


def _materialised(domain: Domain, tmp_path_factory: pytest.TempPathFactory) -> tuple[dg.ExecuteInProcessResult, Path]:
    from mock_pipeline_tests.helpers import materialize_domain

    data = tmp_path_factory.mktemp(f"{domain.name}_small") / "data"
    return materialize_domain(domain, data, SMALL), data


@pytest.fixture(scope="session")
def commerce_small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The commerce domain, small preset, materialised, checked and exported once per session.

    Read-only: tests that change data copy it first. Same for the three below.
    """
    from mock_pipeline.domains.commerce import COMMERCE

    return _materialised(COMMERCE, tmp_path_factory)


@pytest.fixture(scope="session")
def erp_small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    from mock_pipeline.domains.erp import ERP

    return _materialised(ERP, tmp_path_factory)


@pytest.fixture(scope="session")
def maintenance_small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    from mock_pipeline.domains.maintenance import MAINTENANCE

    return _materialised(MAINTENANCE, tmp_path_factory)


@pytest.fixture(scope="session")
def scrum_small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    from mock_pipeline.domains.scrum import SCRUM

    return _materialised(SCRUM, tmp_path_factory)


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
