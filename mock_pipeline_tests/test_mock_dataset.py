"""MockDataset (issue 16): a user's YAML spec becomes tables, blocking checks and the files export."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml

from mock_pipeline.domains.factory import Domain
from mock_pipeline.engine.random import Stream
from mock_pipeline.mock_dataset import SpecError, example_yaml, register_generator
from mock_pipeline.mock_dataset.compile import compile_domain, dataset_definitions
from mock_pipeline.mock_dataset.generate import DatasetModel
from mock_pipeline.mock_dataset.spec import Located, parse_spec, table_order
from mock_pipeline.publish.database import DuckDBDatabase
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.scenarios.model import ScenarioError
from mock_pipeline_tests.helpers import (
    check_outcomes,
    corrupt_with_sql,
    materialize_domain,
    read_table,
    rule_outcome,
    tree_digest,
)

TABLES = ("customers", "products", "orders", "order_items", "reviews")


@register_generator("sku")
def _sku(stream: Stream, rows: np.ndarray, prefix: str = "SKU") -> pa.Array:
    """A user's own generator, columnar: prefix, a counter-based letter and the row number."""
    letters = pa.array(list("ABCDEFGH")).take(pa.array(stream.integers(rows, 0, 8)))
    return pc.binary_join_element_wise(prefix + "-", letters, pa.array(rows).cast(pa.string()), "")


def spec_text(name: str = "my_shop") -> str:
    """The scaffolded five-table example plus a custom-generator column."""
    return example_yaml(name).replace(
        "        category: {type: string,",
        "        sku: {type: string, custom: {generator: sku, prefix: PRD}}\n        category: {type: string,",
    )


def compile_text(text: str) -> Domain:
    located = Located(text, "defs.yaml", root=("attributes",))
    return compile_domain(parse_spec(yaml.safe_load(text)["attributes"], located), located)


def dataset_dir(data: Path, name: str = "my_shop") -> Path:
    [folder] = (data / "datasets").glob(f"*/{name}")
    return folder


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Domain, Path, dict[tuple[str, str], bool]]:
    domain = compile_text(spec_text())
    data = tmp_path_factory.mktemp("shop")
    result = materialize_domain(domain, data, raise_on_error=False)
    assert result.success
    return domain, dataset_dir(data), check_outcomes(result)


def test_five_tables_materialise_with_every_check_passing(shop: tuple[Domain, Path, dict]) -> None:
    domain, dataset, outcomes = shop
    assert [t.name for t in domain.tables] == list(TABLES)
    failed = [k for k, passed in outcomes.items() if not passed]
    assert not failed
    # The derived checks are there, on every table: keys, foreign keys, not null, causal order, window.
    for table in TABLES:
        names = {check for (asset, check) in outcomes if asset == f"my_shop/{table}"}
        assert {"keys_dense", "required_not_null", "timestamps_in_window"} <= names
    assert ("my_shop/order_items", "product_id_references_products") in outcomes
    assert ("my_shop/reviews", "created_after_parents") in outcomes
    assert ("my_shop/customers", "email_unique") in outcomes
    assert ("my_shop/products", "price_in_range") in outcomes
    assert ("my_shop/orders", "status_allowed") in outcomes
    assert ("my_shop/order_items", "total_is_quantity_times_price") in outcomes
    # What the generators promise, read back from the Parquet.
    customers = read_table(dataset, "customers")
    assert customers.num_rows == 200
    assert all(e.endswith("@example.com") for e in customers["email"].to_pylist())
    items = read_table(dataset, "order_items")
    for q, price, total in zip(*(items[c].to_pylist() for c in ("quantity", "unit_price", "total")), strict=True):
        assert total == q * price  # exact decimals
    orders = read_table(dataset, "orders")
    # Children per parent: every order's customer exists, and some customers have several orders.
    counts = np.bincount(orders["customer_id"].to_numpy())
    assert counts.max() >= 3 and orders.num_rows > 200
    prices = read_table(dataset, "products")["price"].to_pylist()
    assert all(str(p).endswith(".99") for p in prices)
    assert all(s.startswith("PRD-") for s in read_table(dataset, "products")["sku"].to_pylist())
    reviews = read_table(dataset, "reviews")
    share = reviews["body"].null_count / reviews.num_rows
    assert 0.2 < share < 0.4  # nulls: 0.3
    # Popularity skew: the most ordered product is far above the mean.
    per_product = np.bincount(items["product_id"].to_numpy())
    assert per_product.max() > 3 * per_product[1:].mean()


def test_same_bytes_for_two_chunk_sizes(tmp_path: Path) -> None:
    domain = compile_text(spec_text("chunked"))
    digests = []
    for chunk in (7, 100_000):
        data = tmp_path / f"chunk{chunk}"
        materialize_domain(domain, data, {"chunk_size": chunk}, selection=[domain.key(t) for t in TABLES])
        digests.append(tree_digest(dataset_dir(data, "chunked")))
    assert len(digests[0]) == len(TABLES)
    assert digests[0] == digests[1]


def test_scenario_scales_rows_and_seed_changes_values() -> None:
    text = spec_text("scaled")
    located = Located(text, "defs.yaml", root=("attributes",))
    spec = parse_spec(yaml.safe_load(text)["attributes"], located)
    order = table_order(spec, located)
    base = DatasetModel(spec, order, ScenarioResource().resolve())
    double = DatasetModel(spec, order, ScenarioResource(volume_multiplier=2.0).resolve())
    assert (base.rows["customers"], double.rows["customers"]) == (200, 400)
    assert double.rows["orders"] > 1.6 * base.rows["orders"]
    other = DatasetModel(spec, order, ScenarioResource(seed=7).resolve())
    a, b = base.build("customers", 0, 50), other.build("customers", 0, 50)
    assert a["name"] != b["name"]
    assert base.build("customers", 0, 50)["name"] == a["name"]


def _bad(text: str, old: str, new: str) -> tuple[str, int]:
    """The spec with `old` replaced by `new`, and the 1-based line of the change."""
    assert old in text
    changed = text.replace(old, new, 1)
    line = changed[: changed.index(new)].count("\n") + 1
    return changed, line


BAD_SPECS = [
    # (what, old, new, table, column, words in the message)
    (
        "unknown generator",
        "title: {type: string, text:",
        "title: {type: string, lorem:",
        "products",
        "title",
        "unknown field 'lorem'",
    ),
    (
        "unknown custom generator",
        "name: {type: string, faker: {kind: person_name}}",
        "name: {type: string, custom: {generator: nope}}",
        "customers",
        "name",
        "unknown generator 'nope'",
    ),
    (
        "reference to a missing table",
        "reference: {table: products, skew: 1.1}",
        "reference: {table: prodcts, skew: 1.1}",
        "order_items",
        "product_id",
        "'prodcts', which is not declared",
    ),
    (
        "wrong type",
        "quantity: {type: int, number:",
        "quantity: {type: string, number:",
        "order_items",
        "quantity",
        "does not fit generator 'number'",
    ),
    (
        "expression over a missing column",
        'expression: "quantity * unit_price"',
        'expression: "quantity * unit_cost"',
        "order_items",
        "total",
        "'unit_cost', not a column",
    ),
]


@pytest.mark.parametrize(("what", "old", "new", "table", "column", "words"), BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
def test_bad_spec_gives_one_line(what: str, old: str, new: str, table: str, column: str, words: str) -> None:
    text, line = _bad(spec_text(), old, new)
    with pytest.raises(SpecError) as caught:
        compile_text(text)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"defs.yaml:{line}: table '{table}', column '{column}': ")
    assert words in message


def test_a_cycle_gives_one_line() -> None:
    # products now references reviews, which descend from products through order_items.
    text, _ = _bad(
        spec_text(),
        "        price: {type: money,",
        "        review_id: {type: int, reference: {table: reviews}}\n        price: {type: money,",
    )
    with pytest.raises(SpecError) as caught:
        compile_text(text)
    message = str(caught.value)
    assert "\n" not in message
    found = re.match(r"defs\.yaml:(\d+): table '(\w+)', column '(\w+)': references form a cycle: ([\w >-]+)$", message)
    assert found is not None, message
    line, table, column, cycle = int(found[1]), found[2], found[3], found[4]
    assert set(cycle.split(" -> ")) == {"products", "order_items", "reviews"}
    # The line named is that column's reference, inside that table.
    lines = text.splitlines()
    assert lines[line - 1].strip().startswith(f"{column}: {{type: int, reference:")
    assert max(i for i, ln in enumerate(lines[:line]) if ln == f"    {table}:") == max(
        i for i, ln in enumerate(lines[:line]) if re.fullmatch(r"    \w+:", ln)
    )


def test_a_child_created_before_its_parent_is_refused_at_load() -> None:
    text, line = _bad(
        spec_text(),
        "created_at: {type: timestamp, timestamp: {after: customers.created_at, lag_hours:",
        "created_at: {type: timestamp, timestamp: {lag_hours:",
    )
    with pytest.raises(SpecError) as caught:
        compile_text(text)
    assert str(caught.value).startswith(f"defs.yaml:{line}: table 'orders', column 'created_at': ")
    assert "after: customers.created_at" in str(caught.value)


CORRUPTIONS = [
    # (table, rule, SQL producing the corrupted table from the views)
    ("order_items", "total_is_quantity_times_price", "SELECT * REPLACE (total + 1 AS total) FROM order_items"),
    (
        "orders",
        "created_after_parents",
        "SELECT * REPLACE (created_at - INTERVAL 400 DAY AS created_at) FROM orders",
    ),
    (
        "reviews",
        "order_item_id_references_order_items",
        "SELECT * REPLACE (order_item_id + 100000 AS order_item_id) FROM reviews",
    ),
    ("orders", "status_allowed", "SELECT * REPLACE ('lost' AS status) FROM orders"),
    ("customers", "email_unique", "SELECT * REPLACE ('same@example.com' AS email) FROM customers"),
    ("products", "price_in_range", "SELECT * REPLACE (price * 100 AS price) FROM products"),
    ("customers", "required_not_null", "SELECT * REPLACE (NULL AS city) FROM customers"),
]


@pytest.mark.parametrize(("table", "rule_name", "select"), CORRUPTIONS, ids=[c[1] for c in CORRUPTIONS])
def test_corrupted_parquet_fails_its_check(
    shop: tuple[Domain, Path, dict], tmp_path: Path, table: str, rule_name: str, select: str
) -> None:
    domain, dataset, _ = shop
    [rule] = [r for r in domain.rules if r.table == table and r.name == rule_name]
    params = domain.rule_params(DatasetModel_for(domain))
    assert rule_outcome(dataset, rule, params)["passed"]
    broken = corrupt_with_sql(dataset, tmp_path, table, select)
    outcome = rule_outcome(broken, rule, params)
    assert not outcome["passed"] and outcome["violations"] > 0


def DatasetModel_for(domain: Domain) -> Any:
    return domain.model(ScenarioResource().resolve())


DG = shutil.which("dg")


def dg_project(tmp_path: Path) -> Path:
    """A fresh dg project using mock_pipeline's components, with the scenario and data_dir resources."""
    project = tmp_path / "shop_project"
    (project / "shop_project" / "defs").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "shop_project"\nversion = "0.1.0"\n\n[tool.dg]\ndirectory_type = "project"\n\n'
        '[tool.dg.project]\nroot_module = "shop_project"\nregistry_modules = ["mock_pipeline"]\n'
    )
    (project / "shop_project" / "__init__.py").write_text("")
    (project / "shop_project" / "defs" / "__init__.py").write_text("")
    (project / "shop_project" / "definitions.py").write_text(
        "from pathlib import Path\n\nimport dagster as dg\n\n"
        "from mock_pipeline.resources import DataDirResource, ScenarioResource\n\n\n"
        "@dg.definitions\ndef defs() -> dg.Definitions:\n"
        "    components = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)\n"
        '    resources = dg.Definitions(resources={"scenario": ScenarioResource(), "data_dir": DataDirResource()})\n'
        "    return dg.Definitions.merge(components, resources)\n"
    )
    return project


@pytest.mark.slow
@pytest.mark.skipif(DG is None, reason="dagster-dg-cli is not installed (pip install -e '.[dev]')")
def test_dg_scaffold_check_and_bad_line(tmp_path: Path) -> None:
    """`dg scaffold defs mock_pipeline.MockDataset my_shop` then `dg check defs` in a fresh dg project."""
    project = dg_project(tmp_path)
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "MOCK_PIPELINE_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "home").mkdir()

    def dg(*args: str) -> subprocess.CompletedProcess[str]:
        assert DG is not None
        return subprocess.run([DG, *args], cwd=project, env=env, capture_output=True, text=True, timeout=300)

    scaffolded = dg("scaffold", "defs", "mock_pipeline.MockDataset", "my_shop")
    assert scaffolded.returncode == 0, scaffolded.stderr
    defs_yaml = project / "shop_project" / "defs" / "my_shop" / "defs.yaml"
    assert yaml.safe_load(defs_yaml.read_text())["type"] == "mock_pipeline.MockDataset"
    checked = dg("check", "defs")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = dg("list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr
    for table in TABLES:
        assert f"my_shop/{table}" in listed.stdout
    # `dg launch` materialises the five tables and runs their blocking checks.
    launched = dg("launch", "--assets", "key:my_shop/*")
    assert launched.returncode == 0, launched.stdout[-2000:] + launched.stderr[-2000:]
    written = sorted(p.parent.name for p in (tmp_path / "data").glob("datasets/*/my_shop/*/*.parquet"))
    assert written == sorted(TABLES)
    text, line = _bad(defs_yaml.read_text(), "{table: products, skew: 1.1}", "{table: prodcts, skew: 1.1}")
    defs_yaml.write_text(text)
    broken = dg("check", "defs")
    assert broken.returncode != 0
    expected = f"{defs_yaml}:{line}: table 'order_items', column 'product_id': references table 'prodcts'"
    assert expected in broken.stdout + broken.stderr


LAUNCH = """mutation ($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } ... on InvalidSubsetError { message } } }"""


@pytest.mark.slow
def test_scaffolded_component_materialises_from_dagster_dev(tmp_path: Path) -> None:
    """The scaffolded five-table spec in a project served by `dagster dev`: a run launched through its
    GraphQL API (what the UI's Materialize button sends) writes every table with its checks."""
    from mock_pipeline_tests.dagster_dev import DAGSTER, dagster_dev

    project = dg_project(tmp_path)
    (project / "shop_project" / "defs" / "my_shop").mkdir()
    (project / "shop_project" / "defs" / "my_shop" / "defs.yaml").write_text(example_yaml("my_shop"))
    env = {**os.environ, "PYTHONPATH": str(project)}
    command = [DAGSTER, "dev", "-m", "shop_project.definitions"]
    with dagster_dev(project, command=command, base_env=env) as server:
        selector = {"repositoryLocationName": "shop_project.definitions", "repositoryName": "__repository__",
                    "jobName": "__ASSET_JOB", "assetSelection": [{"path": ["my_shop", t]} for t in TABLES]}  # fmt: skip
        launched = server.graphql(LAUNCH, {"params": {"selector": selector, "mode": "default", "runConfigData": {}}})
        assert launched["launchRun"]["__typename"] == "LaunchRunSuccess", launched
        run = server.wait_for_run(launched["launchRun"]["run"]["runId"], timeout=900)
        assert run["status"] == "SUCCESS", server.tail()
        written = sorted(p.parent.name for p in server.data_dir.glob("datasets/*/my_shop/*/*.parquet"))
        assert written == sorted(TABLES)


def test_readme_example_materialises_with_checks_passing(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("## Your own schema") :]
    text = section[section.index("```yaml\n") + len("```yaml\n") : section.index("```\n", section.index("```yaml"))]
    # Another name: factory.model_for caches one model per (domain name, dataset) per process.
    domain = compile_text(text.replace("name: my_shop", "name: readme_shop", 1))
    assert [t.name for t in domain.tables] == ["customers", "orders"]
    result = materialize_domain(domain, tmp_path, raise_on_error=False)
    outcomes = check_outcomes(result)
    assert result.success and outcomes and all(outcomes.values())
    assert ("readme_shop/orders", "total_positive") in outcomes


def test_unique_values_beyond_the_bounds_are_refused_for_the_scenario() -> None:
    text = spec_text().replace(
        "        city: {type: string, faker: {kind: city}}",
        "        city: {type: string, faker: {kind: city}}\n"
        "        badge: {type: int, unique: true, number: {min: 1000, max: 1299}}",
    )
    located = Located(text, "defs.yaml", root=("attributes",))
    spec = parse_spec(yaml.safe_load(text)["attributes"], located)
    order = table_order(spec, located)
    model = DatasetModel(spec, order, ScenarioResource().resolve())  # 200 customers, 300 badges: fine
    badges = model.build("customers", 0, 200)["badge"].to_numpy()
    assert len(set(badges)) == 200 and badges.min() >= 1000 and badges.max() <= 1299
    with pytest.raises(ScenarioError) as caught:
        DatasetModel(spec, order, ScenarioResource(volume_multiplier=2.0).resolve())
    assert str(caught.value).startswith("scenario.volume_multiplier: my_shop.customers.badge would need 400 unique")


def test_database_load_of_a_declared_dataset(tmp_path: Path) -> None:
    """publish: [files, database] adds the built-in database load; the embedded DuckDB gets every table."""
    domain = compile_text(spec_text("loaded"))
    definitions = dataset_definitions(domain, ["files", "database"])
    path = tmp_path / "mock_data.duckdb"
    result = dg.materialize(
        [*definitions.assets, *definitions.asset_checks],  # type: ignore[list-item]
        resources={
            "scenario": ScenarioResource(),
            "data_dir": DataDirResource(root=str(tmp_path / "data")),
            "database": DuckDBDatabase(path=str(path)),
        },
    )
    assert result.success
    dataset = dataset_dir(tmp_path / "data", "loaded")
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{path}' AS loaded_db (READ_ONLY)")
        for table in TABLES:
            [(rows,)] = con.execute(f"SELECT count(*) FROM loaded_db.mock_data.loaded_{table}").fetchall()
            assert rows == read_table(dataset, table).num_rows > 0
    finally:
        con.close()


@pytest.mark.parametrize(
    "expression",
    ['__import__("os").system("true")', "quantity.real", "open('x')", "[quantity][0]", "lambda: 1"],
)
def test_expressions_outside_arithmetic_are_refused(expression: str) -> None:
    text, line = _bad(spec_text(), 'expression: "quantity * unit_price"', f"expression: {expression!r}")
    with pytest.raises(SpecError) as caught:
        compile_text(text)
    message = str(caught.value)
    assert message.startswith(f"defs.yaml:{line}: table 'order_items', column 'total': ")
    assert "is not allowed" in message or "not a column" in message


def test_text_columns_naming_no_column_is_one_line() -> None:
    text, line = _bad(spec_text(), "    reviews:\n", "    reviews:\n      text_columns: [bdy]\n")
    with pytest.raises(SpecError) as caught:
        compile_text(text)
    assert str(caught.value).startswith(f"defs.yaml:{line}: table 'reviews': text_columns names 'bdy'")


def test_weekday_and_hour_profiles_shape_timestamps() -> None:
    office = [0.0] * 9 + [1.0] * 8 + [0.0] * 7  # 09:00 to 16:59 only
    text = spec_text().replace(
        "        created_at: {type: timestamp, timestamp: {}}\n    products:",
        f"        created_at: {{type: timestamp, timestamp: {{weekday: [1, 1, 1, 1, 1, 0, 0], hour: {office}}}}}\n"
        "    products:",
    )
    located = Located(text, "defs.yaml", root=("attributes",))
    spec = parse_spec(yaml.safe_load(text)["attributes"], located)
    model = DatasetModel(spec, table_order(spec, located), ScenarioResource().resolve())
    stamps = model.build("customers", 0, 200)["created_at"]
    hours = pc.hour(stamps).to_numpy()
    weekdays = pc.day_of_week(stamps).to_numpy()  # Monday = 0
    assert hours.min() >= 9 and hours.max() <= 16
    assert weekdays.max() <= 4
    assert len(set(hours)) == 8


@pytest.mark.parametrize("value", ['"five"', "2.5", "true"])
def test_choice_values_must_fit_the_column_type(value: str) -> None:
    text, line = _bad(spec_text(), "values: [1, 2, 3, 4, 5]", f"values: [1, 2, 3, 4, {value}]")
    with pytest.raises(SpecError) as caught:
        compile_text(text)
    assert str(caught.value).startswith(f"defs.yaml:{line}: table 'reviews', column 'stars': ")
    assert "is not of type int" in str(caught.value)


SHAPES = """
attributes:
  name: shapes
  tables:
    teams:
      rows: 40
      columns:
        team_id: {type: int, sequence: {}}
        code: {type: string, sequence: {prefix: T-, width: 4}}
        region: {type: int, number: {distribution: uniform, low: 1, high: 9.4, round: 0}}
        parent_id: {type: int, nulls: 0.2, reference: {table: teams}}
        lead_id: {type: int, nulls: 0.1, reference: {table: members, back: true}}
    members:
      rows: 900
      columns:
        member_id: {type: int, sequence: {}}
        team_id: {type: int, reference: {table: teams, unique_with: other_team_id}}
        other_team_id: {type: int, reference: {table: teams, unique_with: team_id}}
        team_code: {type: string, reference: {table: teams, column: code}}
        team_region: {type: int, reference: {table: teams, column: region, via: team_code}}
        score: {type: float, number: {distribution: uniform, low: 0, high: 10}}
        half: {type: float, expression: "round(score / 2, 1)"}
"""


def test_imported_shapes_self_reference_composite_reference_unique_pairs_and_functions() -> None:
    """What import-schema writes: a table referencing itself, a composite foreign key (via), a unique
    pair of references, a reference to a parent's non-key column and round() in an expression."""
    text = SHAPES
    domain = compile_text(text)
    model = domain.model(ScenarioResource().resolve())
    teams = domain.table("teams").build(model, 0, 40).to_pydict()
    members = domain.table("members").build(model, 0, 900).to_pydict()
    parents = [(k, p) for k, p in zip(teams["team_id"], teams["parent_id"], strict=True) if p is not None]
    assert parents and all(p <= k for k, p in parents)  # an earlier row (or itself): loadable in key order
    pairs = list(zip(members["team_id"], members["other_team_id"], strict=True))
    assert len(set(pairs)) == 900  # distinct pairs out of 40 x 40
    code_of = dict(zip(teams["code"], teams["team_id"], strict=True))
    region_of = dict(zip(teams["team_id"], teams["region"], strict=True))
    # The composite reference: team_region comes from the very team row team_code names.
    assert all(region_of[code_of[c]] == r for c, r in zip(members["team_code"], members["team_region"], strict=True))
    assert members["half"] == [round(s / 2, 1) for s in members["score"]]
    too_many = text.replace("rows: 900", "rows: 1601")
    with pytest.raises(ScenarioError, match="distinct \\(team_id, other_team_id\\) pairs, only 1,600 exist"):
        compile_text(too_many).model(ScenarioResource().resolve())
    # Every value a function of its row: two chunks give the rows one chunk gives.
    one = domain.table("members").build(model, 0, 900)
    two = pa.concat_tables(
        [domain.table("members").build(model, 0, 333), domain.table("members").build(model, 333, 900)]
    )
    assert one.equals(two)
    leads = [x for x in teams["lead_id"] if x is not None]
    assert leads and all(1 <= x <= 900 for x in leads)  # a back-reference: a key of members, drawn before them


SHAPES_CORRUPTIONS = [
    ("teams", "lead_id_references_members", "SELECT * REPLACE (lead_id + 900 AS lead_id) FROM teams"),
    ("members", "other_team_id_team_id_unique", "SELECT * REPLACE (1 AS team_id, 1 AS other_team_id) FROM members"),
    ("members", "team_code_references_teams", "SELECT * REPLACE ('T-9999' AS team_code) FROM members"),
    ("teams", "parent_id_references_teams", "SELECT * REPLACE (parent_id + 40 AS parent_id) FROM teams"),
]


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Domain, Path]:
    domain = compile_text(SHAPES)
    data = tmp_path_factory.mktemp("shapes")
    result = materialize_domain(domain, data, raise_on_error=False)
    assert result.success
    assert all(check_outcomes(result).values())
    return domain, dataset_dir(data, "shapes")


@pytest.mark.parametrize(("table", "rule_name", "select"), SHAPES_CORRUPTIONS, ids=[c[1] for c in SHAPES_CORRUPTIONS])
def test_imported_shapes_checks_fail_on_corrupted_data(
    shapes: tuple[Domain, Path], tmp_path: Path, table: str, rule_name: str, select: str
) -> None:
    domain, dataset = shapes
    [rule] = [r for r in domain.rules if r.table == table and r.name == rule_name]
    params = domain.rule_params(DatasetModel_for(domain))
    assert rule_outcome(dataset, rule, params)["passed"]
    outcome = rule_outcome(corrupt_with_sql(dataset, tmp_path, table, select), rule, params)
    assert not outcome["passed"] and outcome["violations"] > 0
