"""Rules that are one aggregate pass over their table are answered by one scan per table, and each
still reports on its own, exactly as it does when it runs alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mock_pipeline.definitions import DOMAINS
from mock_pipeline.domains.factory import Domain, model_for
from mock_pipeline.engine.table import PART_FILE, TableSpec
from mock_pipeline.scenarios.model import build_scenario
from mock_pipeline.validation import Rule, _scan_batches, connect, dense_key, in_window, row_rule, run_rules, unique_key
from mock_pipeline_tests.conftest import SMALL


def _by_rule(dataset: Path, rules: list[Rule], params: dict[str, Any], combine: bool) -> dict[tuple[str, str], Any]:
    return {(o.rule.table, o.rule.name): (o.passed, o.metadata) for o in run_rules(dataset, rules, params, combine)}


@pytest.mark.parametrize("fixture", ["commerce_small", "erp_small", "maintenance_small", "scrum_small"])
def test_every_domains_rules_report_the_same_combined_or_alone(fixture: str, request: pytest.FixtureRequest) -> None:
    _, data = request.getfixturevalue(fixture)
    name = fixture.removesuffix("_small")
    domain: Domain = next(d for d in DOMAINS if d.name == name)
    dataset = next(data.glob(f"datasets/*/{name}"))
    params = dict(domain.rule_params(model_for(domain, build_scenario(**SMALL))))
    rules = list(domain.rules)
    alone = _by_rule(dataset, rules, params, combine=False)
    combined = _by_rule(dataset, rules, params, combine=True)
    con = connect(dataset)
    try:
        shared = {(r.table, r.name) for b in _scan_batches(con, rules, {id(r): r.sql.format(**params) for r in rules}).values()
                  for r, _ in b if len(b) > 1}  # fmt: skip
    finally:
        con.close()
    assert len(shared) >= 10
    # The rules answered by a shared scan report exactly what they report alone; the others run as written
    # both times (approx_quantile's metadata may vary between runs on threads), so their verdicts must agree.
    assert {k: v for k, v in combined.items() if k in shared} == {k: v for k, v in alone.items() if k in shared}
    assert {k: (p, m["violations"]) for k, (p, m) in combined.items()} == {
        k: (p, m["violations"]) for k, (p, m) in alone.items()
    }
    assert all(passed for passed, _ in combined.values()), [k for k, (p, _) in combined.items() if not p]


def _write(root: Path, name: str, table: pa.Table) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / name / PART_FILE)


def _toy_rules() -> list[Rule]:
    spec = TableSpec("toy", "items", "item_id", pa.schema([("item_id", pa.int64())]), "", lambda m: 0, None)
    return [
        unique_key("items", "item_id"),
        unique_key("items", "code", scope="shop_id"),
        dense_key(spec),
        row_rule("items", "price_positive", "price > 0.", "price <= 0"),
        in_window("items", "sold_at"),
        # Not one pass over the table: a join, so it runs as written.
        Rule(
            "items",
            "shop_exists",
            "shops exist.",
            "SELECT count(*) AS violations FROM items i LEFT JOIN shops s USING (shop_id) WHERE s.shop_id IS NULL",
        ),
    ]


def _toy(tmp_path: Path, **changes: list[Any]) -> Path:
    columns: dict[str, list[Any]] = {
        "item_id": [1, 2, 3, 4, 5],
        "shop_id": [1, 1, 2, 2, 2],
        "code": ["a", "b", "a", "b", "c"],
        "price": [1.0, 2.0, 3.0, 4.0, 5.0],
        "sold_at": [pa.scalar(1_700_000_000 + i, pa.timestamp("s")).as_py() for i in range(5)],
    }
    columns.update(changes)
    _write(tmp_path, "items", pa.table(columns))
    _write(tmp_path, "shops", pa.table({"shop_id": [1, 2]}))
    return tmp_path


PARAMS = {"start": "TIMESTAMP '2023-11-14'", "end": "TIMESTAMP '2023-11-15'"}


def test_one_pass_rules_are_one_query_and_the_join_runs_alone(tmp_path: Path) -> None:
    rules = _toy_rules()
    con = connect(_toy(tmp_path))
    try:
        batches = _scan_batches(con, rules, {id(r): r.sql.format(**PARAMS) for r in rules})
    finally:
        con.close()
    assert {t: [r.name for r, _ in b] for t, b in batches.items()} == {
        "items": ["item_id_unique", "code_unique_per_shop_id", "keys_dense", "price_positive", "timestamps_in_window"]
    }


@pytest.mark.parametrize(
    ("changes", "failing", "violations"),
    [
        ({}, set(), 0),
        ({"price": [1.0, -2.0, 3.0, 0.0, 5.0]}, {"price_positive"}, 2),
        ({"code": ["a", "a", "a", "b", "c"]}, {"code_unique_per_shop_id"}, 1),
        ({"item_id": [1, 2, 3, 4, 7]}, {"keys_dense"}, 1),
        ({"item_id": [1, 2, 3, 4, 4]}, {"keys_dense", "item_id_unique"}, 1),
        ({"shop_id": [1, 1, 2, 2, 3]}, {"shop_exists"}, 1),
        ({"sold_at": [pa.scalar(0, pa.timestamp("s")).as_py()] * 5}, {"timestamps_in_window"}, 5),
    ],
)
def test_each_rule_of_a_shared_scan_fails_on_its_own(
    tmp_path: Path, changes: dict[str, list[Any]], failing: set[str], violations: int
) -> None:
    dataset = _toy(tmp_path, **changes)
    outcomes = {o.rule.name: o for o in run_rules(dataset, _toy_rules(), PARAMS)}
    assert {name for name, o in outcomes.items() if not o.passed} == failing
    for name in failing:
        assert outcomes[name].metadata["violations"] == violations
    assert outcomes["price_positive"].metadata["rows"] == 5
    assert {k: (o.passed, o.metadata) for k, o in outcomes.items()} == {
        o.rule.name: (o.passed, o.metadata) for o in run_rules(dataset, _toy_rules(), PARAMS, combine=False)
    }


def test_a_shared_scan_that_fails_runs_its_rules_one_by_one(tmp_path: Path) -> None:
    """A scalar subquery naming a table that is not there breaks the combined query: the other rules
    of the scan still answer, and the broken one reports its own error."""
    broken = Rule("items", "against_missing", "reads a missing table.",
                  "SELECT count(*) - (SELECT count(*) FROM missing_table) AS violations FROM items")  # fmt: skip
    rules = [*_toy_rules(), broken]
    outcomes = {o.rule.name: o for o in run_rules(_toy(tmp_path), rules, PARAMS)}
    assert not outcomes["against_missing"].passed
    assert "missing_table" in outcomes["against_missing"].metadata["error"]
    assert all(o.passed for name, o in outcomes.items() if name != "against_missing")


def _positional_rules() -> list[Rule]:
    spec = TableSpec("toy", "items", "item_id", pa.schema([("item_id", pa.int64())]), "", lambda m: 0, None)
    return [unique_key("items", "item_id", positional=True), dense_key(spec)]


@pytest.mark.parametrize(
    ("parts", "passed", "proved"),
    [
        ([[1, 2, 3], [4, 5]], [True, True], True),  # keys are their positions across the parts: proved in one pass
        ([[3, 1, 2], [4, 5]], [True, True], False),  # unique and dense, out of file order: their own queries pass them
        ([[4, 5], [1, 2, 3]], [True, True], False),  # parts in the other name order
        ([[1, 2, 2], [4, 5]], [False, False], False),  # a duplicate (and a gap)
        ([[1, 2, 3], [4, None]], [False, False], False),  # a null key
        ([[1, 2, 3], [5, 6]], [True, False], False),  # a gap between the parts: unique, not dense
    ],
)
def test_positional_proof_passes_only_keys_numbered_in_file_order(
    tmp_path: Path, parts: list[list[int | None]], passed: list[bool], proved: bool
) -> None:
    (tmp_path / "items").mkdir()
    for i, keys in enumerate(parts):
        pq.write_table(pa.table({"item_id": pa.array(keys, pa.int64())}), tmp_path / "items" / f"part-{i:05d}.parquet")
    outcomes = list(run_rules(tmp_path, _positional_rules(), PARAMS))
    assert [o.passed for o in outcomes] == passed
    assert [("proved_by" in o.metadata) for o in outcomes] == [proved, proved]
    # Without the proof the verdicts are the same: the proof only ever saves work.
    plain = [Rule(r.table, r.name, r.description, r.sql) for r in _positional_rules()]
    assert [o.passed for o in run_rules(tmp_path, plain, PARAMS)] == passed
