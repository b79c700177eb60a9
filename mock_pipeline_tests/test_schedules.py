"""The nightly staging refresh is built over the domains: which database loads it lets replace a run's
namespace comes from each domain's own `Domain.namespace` hook, never from a domain name in the schedule."""

from __future__ import annotations

import dataclasses
import datetime as dt

import dagster as dg
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import Domain, NamespaceProbe
from mock_pipeline.domains.maintenance import MAINTENANCE
from mock_pipeline.schedules import nightly_staging_refresh_schedule

NIGHT = dt.datetime(2025, 3, 10, 3, 0, tzinfo=dt.UTC)
REPLACE = {"config": {"replace_existing_namespace": True}}


def run_config(*domains: Domain) -> dict[str, object]:
    request = nightly_staging_refresh_schedule(domains)(dg.build_schedule_context(scheduled_execution_time=NIGHT))
    assert isinstance(request, dg.RunRequest)
    return request.run_config


@pytest.fixture(autouse=True)
def enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCK_DATA_ENABLED", raising=False)


def test_only_run_scoped_domains_get_their_namespace_replaced() -> None:
    assert COMMERCE.namespace is None and MAINTENANCE.namespace is not None
    assert run_config(COMMERCE, MAINTENANCE)["ops"] == {"maintenance__database_tables": REPLACE}
    assert "ops" not in run_config(COMMERCE)  # nothing to replace: no op config at all


def test_a_new_run_scoped_domain_joins_without_editing_the_schedule() -> None:
    shop = dataclasses.replace(COMMERCE, name="shop", namespace=lambda s: (NamespaceProbe("orders", "note", "x"),))
    assert run_config(COMMERCE, shop, MAINTENANCE)["ops"] == {
        "shop__database_tables": REPLACE,
        "maintenance__database_tables": REPLACE,
    }
