"""What the ERP test modules share: the default small scenario, each profile's dataset generated once per
module without Dagster, and helpers to query a dataset and run one rule on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_pipeline.domains.erp import ERP
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.factory import materialize_table
from mock_pipeline.scenarios.model import build_scenario
from mock_pipeline.validation import Rule, connect
from mock_pipeline_tests.helpers import rule_outcome

SMALL = {"profile": "normal-ops", "size": "small", "seed": 42, "as_of": "2024-12-31"}
PROFILES = ("normal-ops", "peak-season", "anomaly-heavy", "warehouse-outage", "growth-phase", "payment-crisis")
RULES = {(r.table, r.name): r for r in ERP.rules}


def generate(root: Path, **config: Any) -> tuple[Path, ErpModel]:
    """Every ERP table of a scenario through the engine (no Dagster), into root."""
    scenario = build_scenario(**{**SMALL, **config})
    model = ErpModel(scenario)
    for spec in ERP.tables:
        materialize_table(ERP, spec, scenario, root)
    return root, model


def profile_datasets(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, ErpModel]]:
    """Each profile's dataset on the same seed, generated on first use (a test module's fixture holds one)."""
    cache: dict[str, tuple[Path, ErpModel]] = {}

    def get(profile: str) -> tuple[Path, ErpModel]:
        if profile not in cache:
            cache[profile] = generate(tmp_path_factory.mktemp(profile), profile=profile)
        return cache[profile]

    return get


def query(dataset: Path, sql: str) -> tuple:
    con = connect(dataset)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def outcome(dataset: Path, rule: Rule, model: ErpModel) -> dict[str, Any]:
    return rule_outcome(dataset, rule, ERP.rule_params(model))
