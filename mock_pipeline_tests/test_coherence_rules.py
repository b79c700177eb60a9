"""The rules every table obeys by its declaration (dense keys, causal order, natural timestamps),
and the dense key numbering of slotted tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mock_pipeline.definitions import DOMAINS
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.dense import DenseKeys
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.table import TableSpec
from mock_pipeline.validation import coherence_rules, run_rules

DAY = 86_400
START = 1_704_067_200  # 2024-01-01


def _present(lo: int, hi: int) -> np.ndarray:
    return Stream(7, "test", "present").bernoulli(np.arange(lo, hi), 0.37)


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 16])
def test_dense_keys_number_present_slots_in_order_whatever_the_block(block: int) -> None:
    slots = 1_000
    present = _present(0, slots)
    dense = DenseKeys(_present, slots, block=block)
    where = np.flatnonzero(present)
    assert dense.total == len(where)
    assert dense.keys(where).tolist() == list(range(1, len(where) + 1))
    # A chunk starting anywhere numbers its rows from offset + 1, as a whole-table pass would.
    for lo in (0, 1, 333, 999, 1_000):
        assert dense.offset(lo) == int(present[:lo].sum())
    # Any subset of slots, in any order, gets the same keys.
    shuffled = where[::-1][::3]
    assert dense.keys(shuffled).tolist() == [int(present[: s + 1].sum()) for s in shuffled]


def _write(root: Path, name: str, table: pa.Table) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / name / "part-00000.parquet")


SCHEMA_PARENT = col.schema(("parent_id", pa.int64()), ("created_at", col.TIMESTAMP))
SCHEMA_CHILD = col.schema(
    ("child_id", pa.int64()), ("parent_id", pa.int64()), ("created_at", col.TIMESTAMP), ("closed_at", col.TIMESTAMP)
)
TABLES = (
    TableSpec("toy", "parents", "parent_id", SCHEMA_PARENT, "", lambda m: 0, None, created="created_at"),
    TableSpec(
        "toy",
        "children",
        "child_id",
        SCHEMA_CHILD,
        "",
        lambda m: 0,
        None,
        parents=("parents",),
        foreign_keys=(("parent_id", "parents"),),
        created="created_at",
    ),
)


def _clean(n: int = 400) -> dict[str, dict[str, np.ndarray]]:
    idx = np.arange(n)
    parent_created = START + Stream(1, "p").integers(idx, 0, 30 * DAY)
    parent = Stream(1, "c", "parent").integers(idx, 0, n)
    child_created = parent_created[parent] + Stream(1, "c", "lag").integers(idx, 1, 5 * DAY)
    closed = child_created + Stream(1, "c", "close").integers(idx, 60, 9 * DAY)
    return {
        "parents": {"parent_id": idx + 1, "created_at": parent_created},
        "children": {"child_id": idx + 1, "parent_id": parent + 1, "created_at": child_created, "closed_at": closed},
    }


def _failures(tmp_path: Path, data: dict[str, dict[str, np.ndarray]]) -> set[tuple[str, str]]:
    for spec in TABLES:
        cols = data[spec.name]
        arrays = {k: col.timestamps(v) if k.endswith("_at") else v for k, v in cols.items()}
        _write(tmp_path, spec.name, col.table(arrays, spec.schema))
    return {(o.rule.table, o.rule.name) for o in run_rules(tmp_path, coherence_rules(TABLES), {}) if not o.passed}


def test_coherence_rules_pass_on_coherent_data(tmp_path: Path) -> None:
    assert _failures(tmp_path, _clean()) == set()


def test_a_gap_in_keys_fails_keys_dense(tmp_path: Path) -> None:
    data = _clean()
    data["children"]["child_id"][-1] += 1
    assert _failures(tmp_path, data) == {("children", "keys_dense")}


def test_a_child_older_than_its_parent_fails_causal_order(tmp_path: Path) -> None:
    data = _clean()
    parent = data["children"]["parent_id"][5] - 1
    data["children"]["created_at"][5] = data["parents"]["created_at"][parent] - 1
    assert _failures(tmp_path, data) == {("children", "created_after_parents")}


def test_children_at_their_parents_time_of_day_fail_causal_order(tmp_path: Path) -> None:
    data = _clean()
    c = data["children"]
    parent_time = data["parents"]["created_at"][c["parent_id"] - 1]
    c["created_at"] = parent_time + DAY * (1 + np.arange(len(parent_time)) % 4)
    c["closed_at"] = c["created_at"] + 3_601 + np.arange(len(parent_time)) * 37
    assert _failures(tmp_path, data) == {("children", "created_after_parents")}


def test_one_time_of_day_fails_timestamps_natural(tmp_path: Path) -> None:
    data = _clean()
    data["parents"]["created_at"] = data["parents"]["created_at"] // DAY * DAY + 9 * 3600
    assert ("parents", "timestamps_natural") in _failures(tmp_path, data)


def test_a_column_copied_whole_days_later_fails_timestamps_natural(tmp_path: Path) -> None:
    data = _clean()
    c = data["children"]
    c["closed_at"] = c["created_at"] + 14 * DAY
    assert _failures(tmp_path, data) == {("children", "timestamps_natural")}


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_every_table_with_timestamps_declares_when_it_was_created(domain) -> None:
    """Causal order is derived from `created`: a table with timestamps that declares none would escape it."""
    missing = [
        t.name for t in domain.tables if t.created is None and any(pa.types.is_timestamp(f.type) for f in t.schema)
    ]
    assert missing == []


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_every_column_is_described_for_the_ui(domain) -> None:
    missing = [
        f"{t.name}.{c}" for t in domain.tables for c in t.schema.names if not t.column_descriptions.get(c, "").strip()
    ]
    assert missing == []
