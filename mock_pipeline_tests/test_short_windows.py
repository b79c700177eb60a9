"""Any window the scenario accepts gives data that passes every rule: short windows of 1, 3 and 10 days.

A window is set by start_date..as_of for every domain, and by maintenance.lookback_days for the
maintenance lookback; both are shortened here. Rules that need a long history (the weekly rhythm)
state their own minimum in their SQL; the others must hold on the data itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mock_pipeline.definitions import DOMAINS
from mock_pipeline.domains.factory import Domain, materialize_table, model_for
from mock_pipeline.scenarios.model import Scenario, build_scenario
from mock_pipeline.validation import connect, run_rules
from mock_pipeline_tests.helpers import corrupt_with_sql, rule_outcome

AS_OF = dt.date(2024, 12, 31)  # a Tuesday: a 1-day window holds no weekend day
SHORT_WINDOW_DAYS = (1, 3, 10)
# Commerce, erp and scrum follow as their short windows pass (see the report).
SHORT_WINDOW_DOMAINS = ("maintenance", "commerce", "erp")


def short_window_scenario(days: int, profile: str = "normal-ops", erp_volume: int = 1) -> Scenario:
    """The small preset over the `days` days ending on AS_OF, for every domain."""
    start = AS_OF - dt.timedelta(days=days - 1)
    return build_scenario(
        profile=profile,
        size="small",
        as_of=AS_OF.isoformat(),
        start_date=start.isoformat(),
        overrides={"maintenance.lookback_days": days, "erp.volume": erp_volume},
    )


def failed_rules(domain: Domain, scenario: Scenario, root: Path) -> list[tuple[str, str, dict]]:
    """(table, rule, metadata) of every rule of the domain that fails on the scenario's data."""
    dataset = root / scenario.dataset_id / domain.name
    for spec in domain.tables:
        materialize_table(domain, spec, scenario, dataset)
    params = domain.rule_params(model_for(domain, scenario))
    return [
        (o.rule.table, o.rule.name, o.metadata) for o in run_rules(dataset, list(domain.rules), params) if not o.passed
    ]


def test_the_short_windows_are_what_they_say() -> None:
    """The scenarios below really are 1, 3 and 10 days long, in every domain's view of the window."""
    for days in SHORT_WINDOW_DAYS:
        scenario = short_window_scenario(days)
        assert scenario.window.days == days
        assert scenario.knobs["maintenance"]["lookback_days"] == days


@pytest.mark.parametrize("profile", ["normal-ops", "anomaly-heavy"])
@pytest.mark.parametrize("days", SHORT_WINDOW_DAYS)
@pytest.mark.parametrize("name", SHORT_WINDOW_DOMAINS)
def test_a_short_window_passes_every_rule(name: str, days: int, profile: str, tmp_path: Path) -> None:
    domain = next(d for d in DOMAINS if d.name == name)
    assert failed_rules(domain, short_window_scenario(days, profile), tmp_path) == []


@pytest.mark.integration
@pytest.mark.parametrize("profile", ["peak-season", "warehouse-outage", "growth-phase", "payment-crisis"])
@pytest.mark.parametrize("days", [*SHORT_WINDOW_DAYS, 30, 60])
@pytest.mark.parametrize("name", SHORT_WINDOW_DOMAINS)
def test_a_short_window_passes_every_rule_under_every_profile(
    name: str, days: int, profile: str, tmp_path: Path
) -> None:
    domain = next(d for d in DOMAINS if d.name == name)
    assert failed_rules(domain, short_window_scenario(days, profile), tmp_path) == []


@pytest.mark.parametrize("name", ["commerce", "erp"])
def test_anomaly_rate_still_has_a_floor_on_a_long_window(name: str, tmp_path: Path) -> None:
    """The lower bound counts only orders old enough for their anomaly to show, but still bites:
    orders of a year-long window stripped of their labels fail it, while the untouched data passes."""
    domain = next(d for d in DOMAINS if d.name == name)
    scenario = build_scenario(profile="anomaly-heavy", size="small")
    dataset = tmp_path / "data" / scenario.dataset_id / domain.name
    for spec in domain.tables:
        materialize_table(domain, spec, scenario, dataset)
    params = domain.rule_params(model_for(domain, scenario))
    [rule] = [r for r in domain.rules if r.table == "orders" and r.name == "anomaly_rate_matches_profile"]
    assert rule_outcome(dataset, rule, params)["passed"]
    stripped = corrupt_with_sql(dataset, tmp_path, "orders", "SELECT * REPLACE (NULL AS anomaly) FROM orders")
    outcome = rule_outcome(stripped, rule, params)
    assert not outcome["passed"]
    assert outcome["observed_rate"] == 0


def months_balanced_on(days: int, tmp_path: Path) -> tuple[bool, bool]:
    """months_balanced on a peak-season window of `days` days ending on 31 December: (passed on the data,
    passed once every order is moved to 15 December)."""
    domain = next(d for d in DOMAINS if d.name == "commerce")
    scenario = short_window_scenario(days, "peak-season")
    dataset = tmp_path / "data" / scenario.dataset_id / domain.name
    for spec in domain.tables:
        materialize_table(domain, spec, scenario, dataset)
    params = domain.rule_params(model_for(domain, scenario))
    [rule] = [r for r in domain.rules if r.table == "orders" and r.name == "months_balanced"]
    december = "SELECT * REPLACE (TIMESTAMPTZ '2024-12-15 12:00:00+00' AS order_date) FROM orders"
    corrupted = corrupt_with_sql(dataset, tmp_path, "orders", december)
    return rule_outcome(dataset, rule, params)["passed"], rule_outcome(corrupted, rule, params)["passed"]


def test_commerce_months_balanced_on_a_window_of_two_months(tmp_path: Path) -> None:
    """December covers 31 of a 60-day window's days: it may hold that share of the orders (even in peak
    season), but not every order."""
    assert months_balanced_on(60, tmp_path) == (True, False)


def test_commerce_months_balanced_on_a_window_of_45_days(tmp_path: Path) -> None:
    """December covers 31 of 45 days (over 2/3): 1.5x that share is the whole window, so the data passes
    and the rule has nothing left to check (its description says so)."""
    assert months_balanced_on(45, tmp_path) == (True, True)


@pytest.mark.parametrize("days", [30, 60])
def test_erp_payment_timing_on_a_window_of_one_or_two_months(days: int, tmp_path: Path) -> None:
    """Only invoices already due count, so a short window's payments still show the profile's mean delay
    (not only the quick payers), and there are enough of them for the rule to check (twice the small
    preset's volume: its month holds about 270 invoices due, under the 300 the rule needs)."""
    domain = next(d for d in DOMAINS if d.name == "erp")
    scenario = short_window_scenario(days, "peak-season", erp_volume=2)
    dataset = tmp_path / scenario.dataset_id / domain.name
    for spec in domain.tables:
        materialize_table(domain, spec, scenario, dataset)
    params = domain.rule_params(model_for(domain, scenario))
    [rule] = [r for r in domain.rules if r.table == "payments" and r.name == "timing_follows_profile"]
    outcome = rule_outcome(dataset, rule, params)
    assert outcome["passed"]
    due = (
        connect(dataset)
        .execute(
            "SELECT count(*) FROM payments WHERE status = 'paid' AND settlement = 'single' AND payment_terms_days > 0"
            f" AND date_trunc('day', invoice_date) + to_days(CAST(payment_terms_days AS INTEGER) + 1) <= {params['end']}"
        )
        .fetchone()[0]
    )
    assert due >= 300  # the rule really compared means, it did not skip
    assert abs(outcome["mean_delay_days"] - outcome["expected_days"]) <= 0.15 * outcome["expected_days"]
