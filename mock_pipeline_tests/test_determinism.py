"""Same run config, same bytes: across chunk sizes, executors and asset subsets. Different seeds differ."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.engine.table import PART_FILE
from mock_pipeline_tests.conftest import SMALL
from mock_pipeline_tests.helpers import materialize_domain, tree_digest

pytestmark = pytest.mark.slow  # whole-domain runs, repeated, one on the multiprocess executor
ROOT = Path(__file__).resolve().parents[1]


def _export_dir(data: Path) -> Path:
    return next(data.glob("exports/*/commerce"))


def _dataset_dir(data: Path) -> Path:
    return next(data.glob("datasets/*/commerce"))


def test_chunk_size_never_changes_the_bytes(commerce_small: tuple, tmp_path: Path) -> None:
    _, reference = commerce_small  # chunk_size 100,000: every table in one chunk
    for chunk in (1000, 7919):
        data = tmp_path / f"chunk{chunk}"
        assert materialize_domain(COMMERCE, data, {**SMALL, "chunk_size": chunk}).success
        assert tree_digest(_export_dir(data)) == tree_digest(_export_dir(reference))
        assert tree_digest(_dataset_dir(data)) == tree_digest(_dataset_dir(reference))


def test_one_asset_alone_gives_the_same_bytes_as_all(commerce_small: tuple, tmp_path: Path) -> None:
    _, reference = commerce_small
    data = tmp_path / "alone"
    for table in ("order_items", "customers"):  # children first: nothing is read from parents
        only = dg.AssetSelection.assets(COMMERCE.key(table)).without_checks()
        assert materialize_domain(COMMERCE, data, SMALL, selection=only).success
        assert (_dataset_dir(data) / table / PART_FILE).read_bytes() == (
            _dataset_dir(reference) / table / PART_FILE
        ).read_bytes()


def test_different_seeds_give_different_data(commerce_small: tuple, tmp_path: Path) -> None:
    _, reference = commerce_small
    data = tmp_path / "seed7"
    only = dg.AssetSelection.assets(COMMERCE.key("orders")).without_checks()
    assert materialize_domain(COMMERCE, data, {**SMALL, "seed": 7}, selection=only).success
    ours = (_dataset_dir(data) / "orders" / PART_FILE).read_bytes()
    assert ours != (_dataset_dir(reference) / "orders" / PART_FILE).read_bytes()


def test_multiprocess_executor_gives_the_same_bytes(commerce_small: tuple, tmp_path: Path) -> None:
    """The real CLI with Dagster's multiprocess executor, one process per step."""
    _, reference = commerce_small
    data = tmp_path / "multiprocess"
    config = tmp_path / "run.yaml"
    config.write_text(
        "resources:\n  scenario:\n    config: {profile: normal-ops, size: small, seed: 42, as_of: '2024-12-31',"
        " chunk_size: 3000}\nexecution:\n  config: {max_concurrent: 2}\n"
    )
    env = {**os.environ, "MOCK_PIPELINE_DATA_DIR": str(data), "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    dagster = Path(sys.executable).with_name("dagster")
    completed = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "mock_pipeline_tests.multiprocess_definitions",
         "--select", "commerce/customers,commerce/orders,commerce/order_items", "-c", str(config)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "multiprocess" in completed.stderr or "subprocess" in completed.stderr.lower()
    for table in ("customers", "orders", "order_items"):
        assert (_dataset_dir(data) / table / PART_FILE).read_bytes() == (
            _dataset_dir(reference) / table / PART_FILE
        ).read_bytes(), table


@pytest.mark.parametrize("profile", ["peak-season", "anomaly-heavy"])
def test_same_config_twice_same_bytes(profile: str, tmp_path: Path) -> None:
    scenario = {**SMALL, "profile": profile, "overrides": {"commerce.orders_per_tenant": 1000}}
    digests = []
    for attempt in ("a", "b"):
        data = tmp_path / attempt
        assert materialize_domain(COMMERCE, data, scenario).success
        digests.append(tree_digest(_export_dir(data)))
    assert digests[0] == digests[1]
