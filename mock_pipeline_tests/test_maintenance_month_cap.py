"""Maintenance tickets keep the catalog's month cap under a rising trend on short lookbacks (issue 12, session 13).

growth-phase's order_trend of 1.5 put 54% of a 75-day lookback's tickets in its last month (cap: half of a
history under six months); the model now tempers the trend on short windows (tempered_trend) so the busiest
month stays under the cap with a margin, while growth still rises over normal-ops wherever the window has room.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mock_pipeline.domains.maintenance import MAINTENANCE
from mock_pipeline.domains.maintenance.checks import max_month_share
from mock_pipeline.domains.maintenance.model import MaintenanceModel, tempered_trend
from mock_pipeline.engine.table import generate
from mock_pipeline.scenarios.model import build_scenario

DAY = 86_400
MARGIN = 0.025  # the busiest month stays this far under the check's cap


def tickets_created(profile: str, seed: int, lookback: int, as_of: str) -> tuple[MaintenanceModel, np.ndarray]:
    scenario = build_scenario(
        profile=profile, size="small", seed=seed, as_of=as_of, overrides={"maintenance.lookback_days": lookback}
    )
    model = MaintenanceModel(scenario)
    rows = pa.concat_tables(generate(MAINTENANCE.table("tickets"), model, 10**7))
    return model, rows["created_at"].cast(pa.timestamp("s")).cast(pa.int64()).to_numpy()


def busiest_month(at: np.ndarray) -> float:
    months = (at // DAY).astype("datetime64[D]").astype("datetime64[M]")
    return float(np.unique(months, return_counts=True)[1].max() / len(at))


@pytest.mark.parametrize("lookback", [70, 75, 80, 90, 120, 183, 365])
@pytest.mark.parametrize("as_of", ["2024-12-31", "2024-07-31"])  # month ends: the last month is a full one
@pytest.mark.parametrize("seed", [1, 42])
def test_no_month_dominates_a_rising_short_lookback(lookback: int, as_of: str, seed: int) -> None:
    for profile in ("normal-ops", "growth-phase"):
        _, at = tickets_created(profile, seed, lookback, as_of)
        assert busiest_month(at) <= max_month_share(lookback) - MARGIN, (profile, lookback)


@pytest.mark.parametrize("lookback", [90, 120, 180, 365])
def test_growth_still_rises_where_the_window_has_room(lookback: int) -> None:
    """The tempering leaves growth-phase's trend whole from 90 days on: its last 30 days hold clearly more
    tickets than its first 30, against normal-ops' flat volume."""
    rises = {}
    for profile in ("normal-ops", "growth-phase"):
        model, at = tickets_created(profile, 7, lookback, "2024-12-31")
        rises[profile] = (at >= model.end - 30 * DAY).sum() / (at < model.start + 30 * DAY).sum()
    assert rises["growth-phase"] >= 1.4 * rises["normal-ops"], rises


def test_tempered_trend_only_lowers_a_rise_where_it_must() -> None:
    assert tempered_trend(1.5, 180) == 1.5 and tempered_trend(1.5, 365) == 1.5  # a long window keeps it
    assert 0 < tempered_trend(1.5, 75) < 0.5  # 75 days: its last month would hold 54%
    assert tempered_trend(1.5, 62) == 0.0  # a month is half the window: flat at most
    assert tempered_trend(0.0, 62) == 0.0 and tempered_trend(-0.5, 62) == -0.5  # no rise: untouched
