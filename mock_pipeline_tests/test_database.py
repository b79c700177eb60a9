"""Database load: the embedded DuckDB file and a real PostgreSQL server (started by the tests).

Datasets are produced by the real pipeline (commerce small preset; maintenance with small
overrides under two run tags), then loaded; expected values come from the Parquet files read
with pyarrow, never from the loader.
"""

from __future__ import annotations

import decimal
import functools
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.maintenance import MAINTENANCE, run_tag_namespace
from mock_pipeline.engine.columns import TIMESTAMP, schema
from mock_pipeline.engine.table import PART_FILE, TableSpec
from mock_pipeline.publish import database as db
from mock_pipeline.resources import ScenarioResource
from mock_pipeline_tests.database_support import (
    BACKENDS,
    KEYED_BACKENDS,
    Backend,
    Dataset,
    clear_guard_environment,
    commerce_dataset,
    duckdb_backend,
    fresh_pg_database,
    load,
    maintenance_datasets,
    make_backend,
    materialize_domain,
    parquet_rows,
    snapshot,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_guard_environment(monkeypatch)


@pytest.fixture(scope="module")
def commerce(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return commerce_dataset(tmp_path_factory)


@pytest.fixture(scope="module")
def maintenance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Dataset]:
    return maintenance_datasets(tmp_path_factory)


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    with fresh_pg_database(postgres_url) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return make_backend(request, tmp_path)


@pytest.fixture(params=KEYED_BACKENDS)
def keyed_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Every backend, and DuckDB with its foreign keys declared."""
    return make_backend(request, tmp_path)


# --- the load ---------------------------------------------------------------------------------


def test_load_puts_every_row_of_every_table_in_mock_data(backend: Backend, commerce: Dataset) -> None:
    result = load(backend, commerce.path)

    expected = {f"commerce_{t.name}": parquet_rows(commerce.path, t.name) for t in COMMERCE.tables}
    assert backend.tables() == expected
    assert result.rows == sum(expected.values()) > 50_000
    assert set(result.tables) == {f"mock_data.{n}" for n in expected}
    # Values, not only counts: money sums and null counts match the Parquet exactly.
    orders = pq.read_table(commerce.path / "orders")
    money = [f.name for f in orders.schema if pa.types.is_decimal(f.type)]
    for column in money:
        got = backend.query(f"SELECT sum({column}), count(*) - count({column}) FROM mock_data.commerce_orders")[0]
        assert decimal.Decimal(str(got[0])) == pc.sum(orders[column]).as_py()
        assert got[1] == orders[column].null_count
    first, last = backend.query("SELECT min(created_at), max(created_at) FROM mock_data.commerce_orders")[0]
    assert (first, last) == (pc.min(orders["created_at"]).as_py(), pc.max(orders["created_at"]).as_py())


def test_database_declares_and_enforces_keys(keyed_backend: Backend, commerce: Dataset) -> None:
    backend = keyed_backend
    load(backend, commerce.path)

    constraints = dict(
        backend.query(
            "SELECT constraint_type, count(*) FROM information_schema.table_constraints "
            "WHERE table_schema = 'mock_data' AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') GROUP BY 1"
        )
    )
    assert constraints["PRIMARY KEY"] == len(COMMERCE.tables)
    declared = sum(len(t.foreign_keys) for t in COMMERCE.tables) if backend.declares_foreign_keys else None
    assert constraints.get("FOREIGN KEY") == declared

    before = backend.tables()
    with pytest.raises((psycopg2.IntegrityError, duckdb.ConstraintException)):
        backend.execute("INSERT INTO mock_data.commerce_tenants SELECT * FROM mock_data.commerce_tenants LIMIT 1")
    orphan = (
        "CREATE TEMP TABLE orphan AS SELECT * FROM mock_data.commerce_payments LIMIT 1",
        "UPDATE orphan SET payment_id = -1, order_id = -1",
        "INSERT INTO mock_data.commerce_payments SELECT * FROM orphan",
    )
    if backend.declares_foreign_keys:
        with pytest.raises((psycopg2.IntegrityError, duckdb.ConstraintException)):
            backend.execute(*orphan)
        assert backend.tables() == before
    else:  # proved when loaded; what a user writes later is not checked
        backend.execute(*orphan)
        assert backend.tables()["commerce_payments"] == before["commerce_payments"] + 1


def corrupt(dataset: Path, out: Path, table: str, change: Callable[[pa.Table], pa.Table]) -> Path:
    """A copy of the dataset with one table rewritten."""
    shutil.copytree(dataset, out)
    path = out / table / PART_FILE
    pq.write_table(change(pq.read_table(path)), path)
    return out


def dangling_product(t: pa.Table) -> pa.Table:
    """The last row points at a product that does not exist: a foreign-key violation."""
    i = t.schema.get_field_index("product_id")
    ids = t["product_id"].to_pylist()
    ids[-1] = 10**12
    return t.set_column(i, "product_id", pa.array(ids, pa.int64()))


def broken_json(t: pa.Table) -> pa.Table:
    """The last row's JSON column is not JSON: the database rejects it while the rows stream in."""
    i = t.schema.get_field_index("meta")
    values = t["meta"].to_pylist()
    values[-1] = "{not json"
    return t.set_column(i, t.schema.field(i), pa.array(values, pa.string()))


FAILURES = {"foreign_key": ("product_analytics", dangling_product), "bad_json": ("stock_events", broken_json)}


@pytest.mark.parametrize("failure", FAILURES)
def test_failure_half_way_leaves_zero_rows(
    keyed_backend: Backend, commerce: Dataset, tmp_path: Path, failure: str
) -> None:
    backend = keyed_backend
    table, change = FAILURES[failure]
    bad = corrupt(commerce.path, tmp_path / "bad", table, change)

    with pytest.raises(db.LoadError, match="rolled back, nothing was written") as err:
        load(backend, bad)

    assert "commerce" in str(err.value)
    assert snapshot(backend) == {}  # not one table, so not one row, in any table


def test_failed_reload_keeps_the_previous_load_whole(backend: Backend, commerce: Dataset, tmp_path: Path) -> None:
    load(backend, commerce.path)
    before = backend.tables()
    bad = corrupt(commerce.path, tmp_path / "bad", "product_analytics", dangling_product)

    with pytest.raises(db.LoadError):
        load(backend, bad)

    assert backend.tables() == before


def test_reload_replaces_the_domain_tables(backend: Backend, commerce: Dataset) -> None:
    load(backend, commerce.path)
    load(backend, commerce.path)
    assert backend.tables()["commerce_orders"] == parquet_rows(commerce.path, "orders")


# --- namespaces (seed 000) --------------------------------------------------------------------


def load_maintenance(backend: Backend, dataset: Dataset) -> db.LoadResult:
    """A maintenance load as the asset does it: the run tag's namespace probed, the dataset id recorded."""
    scenario = ScenarioResource(**dataset.scenario).resolve()
    assert MAINTENANCE.namespace is not None
    probes = MAINTENANCE.namespace(scenario)
    return load(backend, dataset.path, MAINTENANCE, namespace=probes, dataset_id=scenario.dataset_id)


def test_another_dataset_claiming_a_loaded_run_tag_is_refused(
    backend: Backend, maintenance: dict[str, Dataset]
) -> None:
    alpha = maintenance["alpha"]
    load_maintenance(backend, alpha)
    before = backend.tables()
    prefix = run_tag_namespace("alpha").category_prefix
    assert backend.query(f"SELECT count(*) FROM mock_data.maintenance_categories WHERE name LIKE '{prefix}%'")[0][0]
    # The same dataset again replaces its own namespace: not a collision.
    load_maintenance(backend, alpha)
    assert backend.tables() == before

    with pytest.raises(db.LoadRefused, match=r"namespace 'alpha:.*' already exists") as err:
        load_maintenance(backend, maintenance["alpha-seed7"])  # another dataset, same run tag

    assert "run_tag" in str(err.value) and db.CLEANUP_COMMAND in str(err.value)
    assert backend.tables() == before
    # Another run tag is another namespace: it loads.
    beta = maintenance["beta"]
    load_maintenance(backend, beta)
    assert backend.tables()["maintenance_items"] == parquet_rows(beta.path, "items")


def test_namespace_hook_is_generic(tmp_path: Path, commerce: Dataset) -> None:
    """Any domain can declare a namespace; commerce's tenants stand in for a run's names."""
    backend = duckdb_backend(tmp_path / "x.duckdb")
    name = pq.read_table(commerce.path / "tenants", columns=["name"])["name"][0].as_py()
    probes = [db.NamespaceProbe("tenants", "name", name[:3])]
    load(backend, commerce.path, namespace=probes, dataset_id="first")
    load(backend, commerce.path, namespace=probes, dataset_id="first")  # its own namespace: replaced
    with pytest.raises(db.LoadRefused, match=r"commerce_tenants\.name start with it"):
        load(backend, commerce.path, namespace=probes, dataset_id="second")


# --- the safety guard (seed 001) --------------------------------------------------------------

REFUSALS = {
    "node_env_production": ({"NODE_ENV": "production"}, {}, "NODE_ENV=production"),
    "pipeline_env_production": ({"MOCK_PIPELINE_ENV": "Production"}, {}, "MOCK_PIPELINE_ENV=Production"),
    "disabled_false": ({"MOCK_DATA_ENABLED": "false"}, {}, "MOCK_DATA_ENABLED=false: mock data is disabled"),
    "disabled_zero": ({"MOCK_DATA_ENABLED": "0"}, {}, "MOCK_DATA_ENABLED=0"),
    "enabled_unreadable": ({"MOCK_DATA_ENABLED": "maybe"}, {}, "'maybe' is not a boolean; allowed: true, false"),
    "other_schema": ({}, {"schema": "public"}, "'public' refused; mock data goes to 'mock_data'"),
    "system_schema": ({}, {"schema": "pg_catalog", "allow_other_schema": True}, "system schema"),
    "bad_identifier": ({}, {"schema": "x; DROP TABLE y", "allow_other_schema": True}, "not a plain identifier"),
    "record_limit": ({}, {"max_rows_per_table": 1000}, r"orders \(10,000 rows\).*above the limit of 1,000"),
    "bad_limit": ({}, {"max_rows_per_table": 0}, "must be a positive integer"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_safety_guard_refuses_before_writing(backend: Backend, commerce: Dataset, case: str) -> None:
    env, options, message = REFUSALS[case]
    with pytest.raises(db.LoadRefused, match=message):
        load(backend, commerce.path, options=db.LoadOptions(**options), env=env)
    if backend.name == "duckdb":
        assert not Path(backend.target.description).exists()  # not even the file
        return
    assert not backend.schema_exists()
    assert not backend.schema_exists("public") or "commerce_orders" not in backend.tables("public")


def test_enabled_and_development_environments_load(backend: Backend, commerce: Dataset) -> None:
    env = {"NODE_ENV": "development", "MOCK_PIPELINE_ENV": "test", "MOCK_DATA_ENABLED": "true"}
    assert load(backend, commerce.path, env=env).rows > 0


def test_other_schema_only_when_explicitly_allowed(backend: Backend, commerce: Dataset) -> None:
    load(backend, commerce.path, options=db.LoadOptions(schema="qa_mock", allow_other_schema=True))
    assert backend.tables("qa_mock")["commerce_orders"] == parquet_rows(commerce.path, "orders")
    assert not backend.schema_exists()


def test_guard_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, commerce: Dataset
) -> None:
    monkeypatch.setenv("NODE_ENV", "production")
    backend = duckdb_backend(tmp_path / "x.duckdb")
    with pytest.raises(db.LoadRefused, match="NODE_ENV=production"):
        db.load_domain(backend.target, "commerce", COMMERCE.tables, commerce.path)


def test_missing_tables_are_refused(backend: Backend, tmp_path: Path) -> None:
    with pytest.raises(db.LoadRefused, match="tables not materialised yet"):
        load(backend, tmp_path / "nothing")


# --- cleanup (seed 001's confirmation token) --------------------------------------------------


@pytest.mark.parametrize("token", ["", "delete_all_mock_data", "yes", "DELETE_ALL_MOCK_DATA "])
def test_cleanup_without_the_token_deletes_nothing(backend: Backend, commerce: Dataset, token: str) -> None:
    load(backend, commerce.path)
    before = backend.tables()
    with pytest.raises(db.LoadRefused, match="confirm must be exactly 'DELETE_ALL_MOCK_DATA'"):
        db.cleanup(backend.target, [("commerce", COMMERCE.tables)], token, env={})
    assert backend.tables() == before


def test_cleanup_with_the_token_removes_all_mock_data(backend: Backend, commerce: Dataset) -> None:
    load(backend, commerce.path)
    result = db.cleanup(
        backend.target, [("commerce", COMMERCE.tables), ("maintenance", MAINTENANCE.tables)], db.CONFIRM_TOKEN, env={}
    )
    assert sum(result.dropped.values()) == sum(parquet_rows(commerce.path, t.name) for t in COMMERCE.tables)
    assert result.schema_dropped
    assert not backend.schema_exists()


def test_cleanup_leaves_tables_that_are_not_mock_data(backend: Backend, commerce: Dataset) -> None:
    load(backend, commerce.path)
    backend.execute("CREATE TABLE mock_data.someone_elses (id integer)")
    result = db.cleanup(backend.target, [("commerce", COMMERCE.tables)], db.CONFIRM_TOKEN, env={})
    assert not result.schema_dropped
    assert backend.tables() == {"someone_elses": 0}


def test_cleanup_is_refused_in_production(backend: Backend, commerce: Dataset) -> None:
    load(backend, commerce.path)
    with pytest.raises(db.LoadRefused, match="NODE_ENV=production"):
        db.cleanup(backend.target, [("commerce", COMMERCE.tables)], db.CONFIRM_TOKEN, env={"NODE_ENV": "production"})
    assert backend.tables()


# --- exact round trip of every column type ----------------------------------------------------


def tree_spec() -> TableSpec:
    fields = schema(
        ("node_id", pa.int64()),
        ("parent_id", pa.int64()),
        ("label", pa.string()),
        ("doc", "json"),
        ("amount", pa.decimal128(14, 2)),
        ("ratio", pa.float64()),
        ("flag", pa.bool_()),
        ("happened_at", TIMESTAMP),
    )
    return TableSpec(
        "toy", "nodes", "node_id", fields, "a tree", lambda m: 0, None, foreign_keys=(("parent_id", "nodes"),)
    )


def test_values_round_trip_exactly(keyed_backend: Backend, tmp_path: Path) -> None:
    """Empty strings stay empty (not NULL), quotes/newlines/unicode survive, and a tree whose
    children come before their parents loads (DuckDB checks declared self-references row by row)."""
    backend = keyed_backend
    spec = tree_spec()
    rows = [
        {"node_id": 3, "parent_id": 2, "label": "", "doc": '{"a": [1, 2]}', "amount": decimal.Decimal("-0.05"),
         "ratio": 0.1, "flag": True, "happened_at": 1_700_000_000_123},
        {"node_id": 2, "parent_id": 1, "label": None, "doc": None, "amount": None, "ratio": None, "flag": None,
         "happened_at": None},
        {"node_id": 1, "parent_id": None, "label": 'say "hi",\nthen ü€', "doc": "{}",
         "amount": decimal.Decimal("123456789012.34"), "ratio": 1e20, "flag": False, "happened_at": 0},
    ]  # fmt: skip
    table = pa.Table.from_pylist(rows, spec.schema)
    (tmp_path / "toy" / "nodes").mkdir(parents=True)
    pq.write_table(table, tmp_path / "toy" / "nodes" / PART_FILE)

    db.load_domain(backend.target, "toy", (spec,), tmp_path / "toy", env={})

    got = backend.query(
        "SELECT node_id, parent_id, label, amount, ratio, flag, happened_at, doc IS NULL FROM mock_data.toy_nodes ORDER BY node_id"
    )
    expected = table.sort_by("node_id").to_pylist()
    for g, e in zip(got, expected, strict=True):
        assert g[:6] == (e["node_id"], e["parent_id"], e["label"], e["amount"], e["ratio"], e["flag"])
        assert (g[6] is None and e["happened_at"] is None) or g[6] == e["happened_at"]
        assert g[7] == (e["doc"] is None)
    if backend.declares_foreign_keys:
        with pytest.raises((psycopg2.IntegrityError, duckdb.ConstraintException)):
            backend.execute("UPDATE mock_data.toy_nodes SET parent_id = 99 WHERE node_id = 3")


def test_dangling_self_reference_is_rejected_by_the_database(keyed_backend: Backend, tmp_path: Path) -> None:
    backend = keyed_backend
    spec = tree_spec()
    rows = [{"node_id": 1, "parent_id": None}, {"node_id": 2, "parent_id": 1}, {"node_id": 3, "parent_id": 99}]
    (tmp_path / "toy" / "nodes").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, spec.schema), tmp_path / "toy" / "nodes" / PART_FILE)

    with pytest.raises(db.LoadError, match=r"(?i)foreign key") as err:
        db.load_domain(backend.target, "toy", (spec,), tmp_path / "toy", env={})

    assert "toy_nodes" in str(err.value)
    assert snapshot(backend) == {}


def test_unsupported_column_type_is_refused() -> None:
    with pytest.raises(db.LoadRefused, match=r"column tags: Arrow type list<item: string> has no database type"):
        db.sql_type(pa.field("tags", pa.list_(pa.string())), "postgres")


@pytest.fixture(scope="module")
def every_domain(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A domain of the definitions at its small preset, generated on first use."""
    root = tmp_path_factory.mktemp("every_domain")

    @functools.cache
    def dataset(name: str) -> Path:
        from mock_pipeline.definitions import DOMAINS

        return materialize_domain(next(d for d in DOMAINS if d.name == name), root)

    return dataset


@pytest.mark.slow
@pytest.mark.parametrize("name", ["erp", "maintenance", "scrum"])
def test_every_domain_loads_with_its_keys(backend: Backend, every_domain: Callable[[str], Path], name: str) -> None:
    from mock_pipeline.definitions import DOMAINS

    domain = next(d for d in DOMAINS if d.name == name)
    dataset = every_domain(name)
    load(backend, dataset, domain)
    assert backend.tables() == {f"{name}_{t.name}": parquet_rows(dataset, t.name) for t in domain.tables}
    foreign_keys = backend.query(
        "SELECT count(*) FROM information_schema.table_constraints "
        "WHERE table_schema = 'mock_data' AND constraint_type = 'FOREIGN KEY'"
    )[0][0]
    assert foreign_keys == (sum(len(t.foreign_keys) for t in domain.tables) if backend.declares_foreign_keys else 0)


# --- a user's views on our tables (issue 13 §5) -----------------------------------------------


def write_nodes(folder: Path, labels: list[str]) -> Path:
    """The toy domain's one table as Parquet: a chain of nodes labelled `labels`."""
    rows = [{"node_id": i + 1, "parent_id": i or None, "label": label} for i, label in enumerate(labels)]
    (folder / "toy" / "nodes").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, tree_spec().schema), folder / "toy" / "nodes" / PART_FILE)
    return folder / "toy"


def test_a_users_view_on_our_table_is_never_broken(backend: Backend, tmp_path: Path) -> None:
    """A view (in another schema, and a view on that view) built on a loaded table: a reload and a
    cleanup refuse with one line naming the views, write nothing, and the views keep reading."""
    spec = tree_spec()
    first, second = write_nodes(tmp_path / "first", ["a", "b"]), write_nodes(tmp_path / "second", ["x", "y", "z"])
    db.load_domain(backend.target, "toy", (spec,), first, env={})
    backend.execute(
        "CREATE SCHEMA reports",
        "CREATE VIEW reports.labels AS SELECT label FROM mock_data.toy_nodes WHERE label IS NOT NULL",
        "CREATE VIEW reports.label_count AS SELECT count(*) AS n FROM reports.labels",
    )
    views = "reports.label_count, reports.labels read(s) mock_data.toy_nodes"

    with pytest.raises(db.LoadRefused) as refused:
        db.load_domain(backend.target, "toy", (spec,), second, env={})
    message = str(refused.value)
    assert message.startswith(f"load of toy refused: {views} in {backend.target.description}")
    assert message.endswith(
        "drop the view, load, then re-create it (or load into another target_schema); nothing was written"
    )
    assert "\n" not in message
    assert backend.query("SELECT label FROM reports.labels ORDER BY 1") == [("a",), ("b",)]  # the old data, intact

    with pytest.raises(
        db.LoadRefused, match=rf"^cleanup refused: {re.escape(views)} .*drop the view first; nothing was deleted$"
    ):
        db.cleanup(backend.target, [("toy", (spec,))], db.CONFIRM_TOKEN, env={})
    assert backend.query("SELECT n FROM reports.label_count") == [(2,)]

    # Without the views both go through, and a view made again reads the new data.
    backend.execute("DROP VIEW reports.label_count", "DROP VIEW reports.labels")
    db.load_domain(backend.target, "toy", (spec,), second, env={})
    backend.execute("CREATE VIEW reports.labels AS SELECT label FROM mock_data.toy_nodes")
    assert backend.query("SELECT label FROM reports.labels ORDER BY 1") == [("x",), ("y",), ("z",)]
    backend.execute("DROP VIEW reports.labels")
    db.cleanup(backend.target, [("toy", (spec,))], db.CONFIRM_TOKEN, env={})
    assert snapshot(backend) == {}


def test_a_view_on_another_table_does_not_stop_a_load(backend: Backend, tmp_path: Path) -> None:
    spec = tree_spec()
    db.load_domain(backend.target, "toy", (spec,), write_nodes(tmp_path / "first", ["a"]), env={})
    backend.execute(
        "CREATE SCHEMA reports",
        "CREATE TABLE reports.toy_nodes (label text)",  # the same table name in another schema
        "CREATE VIEW reports.mine AS SELECT label FROM reports.toy_nodes",
    )
    db.load_domain(backend.target, "toy", (spec,), write_nodes(tmp_path / "second", ["x", "y"]), env={})
    assert backend.tables() == {"toy_nodes": 2}
    assert backend.query("SELECT count(*) FROM reports.mine") == [(0,)]
