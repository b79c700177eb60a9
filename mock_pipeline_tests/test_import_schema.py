"""import-schema (issue 16 part 2) against a real PostgreSQL: schemas this project did not write
(Django's contrib apps, Dagster's own instance storage) are imported, generated at two sizes and
loaded back with every original constraint recreated, so the database itself judges the data."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pyarrow as pa
import pytest
import yaml
from click.testing import CliRunner

from mock_pipeline.cli import main
from mock_pipeline.mock_dataset import ddl
from mock_pipeline.mock_dataset.compile import compile_domain
from mock_pipeline.mock_dataset.spec import DatasetSpec, Located, parse_spec
from mock_pipeline.resources import ScenarioResource
from mock_pipeline_tests.servers import postgres_server, unavailable

pytestmark = pytest.mark.integration

DJANGO_SETTINGS = """\
import os
from urllib.parse import urlsplit

_url = urlsplit(os.environ["SOURCE_URL"])
SECRET_KEY = "test-only"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.admin", "django.contrib.sessions"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": _url.path.lstrip("/"),
                         "USER": _url.username, "HOST": _url.hostname, "PORT": _url.port}}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def database(server: str, name: str) -> str:
    conn = psycopg2.connect(server)
    conn.autocommit = True  # CREATE DATABASE refuses a transaction block
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
    finally:
        conn.close()
    return server.rsplit("/", 1)[0] + "/" + name


def import_yaml(url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["import-schema", url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def spec_of(text: str) -> DatasetSpec:
    located = Located(text, "defs.yaml", root=("attributes",))
    attributes = yaml.safe_load(text)["attributes"]
    return parse_spec({k: v for k, v in attributes.items() if k != "publish"}, located)


def generate(spec: DatasetSpec, multiplier: float) -> dict[str, pa.Table]:
    domain = compile_domain(spec, Located(None, spec.name))
    model = domain.model(ScenarioResource(volume_multiplier=multiplier).resolve())
    return {t.name: t.build(model, 0, t.slots(model)) for t in domain.tables}


def constraints(url: str, schema: str) -> set[tuple[str, str, str, bool]]:
    """(table, constraint, definition, validated) of the schema, unique indexes included."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('search_path', %s, true)", (schema,))
        cur.execute(
            """SELECT r.relname, c.conname, pg_get_constraintdef(c.oid), c.convalidated
               FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
               WHERE n.nspname = %s AND c.contype IN ('p', 'u', 'f', 'c')""",
            (schema,),
        )
        # PostgreSQL reprints a recreated CHECK's IN list with its casts moved: compared without casts and brackets.
        found = {(t, n, _plain(d) if d.startswith("CHECK") else d, v) for t, n, d, v in cur.fetchall()}
        cur.execute(
            "SELECT tablename, indexname, regexp_replace(indexdef, ' ON [^ .]+\\.', ' ON '), true FROM pg_indexes"
            " WHERE schemaname = %s AND indexdef LIKE 'CREATE UNIQUE%%' AND indexname NOT IN"
            " (SELECT conname FROM pg_constraint)",
            (schema,),
        )
        return found | set(cur.fetchall())


def _plain(definition: str) -> str:
    return re.sub(r"[()\s]|::(character varying|text|integer|numeric|bigint|smallint)(\[\])?", "", definition)


def counts(url: str, schema: str, tables: list[str]) -> dict[str, int]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        out = {}
        for t in tables:
            cur.execute(f'SELECT count(*) FROM "{schema}"."{t}"')
            out[t] = cur.fetchone()[0]
        return out


def round_trip(url: str, text: str) -> dict[float, dict[str, int]]:
    """Generate at two sizes, load each into mock_data with the source's constraints; rows per size."""
    spec = spec_of(text)
    loaded: dict[float, dict[str, int]] = {}
    for multiplier in (1.0, 2.5):
        result = ddl.load(url, spec, generate(spec, multiplier), "mock_data")
        loaded[multiplier] = counts(url, "mock_data", list(result.rows))
        assert loaded[multiplier] == result.rows
    return loaded


@pytest.fixture(scope="module")
def django_source(server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if importlib.util.find_spec("django") is None:
        unavailable("django not installed: it is in the dev extra (pip install -e '.[dev]')")
    url = database(server, "django_app")
    folder = tmp_path_factory.mktemp("django")
    (folder / "test_settings.py").write_text(DJANGO_SETTINGS)
    env = {**os.environ, "SOURCE_URL": url, "PYTHONPATH": str(folder), "DJANGO_SETTINGS_MODULE": "test_settings"}
    admin = shutil.which("django-admin") or str(Path(sys.executable).with_name("django-admin"))
    done = subprocess.run([admin, "migrate", "--skip-checks"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return url


def test_django_schema_imports_generates_at_two_sizes_and_loads_with_every_constraint(django_source: str) -> None:
    url = django_source
    text = import_yaml(url, "--name", "django_app")
    source = constraints(url, "public")
    assert len(source) >= 25  # Django's PKs, FKs, UNIQUEs and its CHECK
    loaded = round_trip(url, text)
    # The database judged the rows: every constraint of the original is there, validated, and nothing was refused.
    assert constraints(url, "mock_data") == source
    tables = [t for t in loaded[1.0] if t != "django_migrations"]
    assert set(tables) >= {"auth_user", "auth_group", "auth_permission", "auth_user_groups", "django_admin_log",
                           "django_content_type", "django_session", "auth_group_permissions"}  # fmt: skip
    assert all(loaded[1.0][t] >= 1000 for t in tables), loaded[1.0]
    assert all(loaded[2.5][t] == round(loaded[1.0][t] * 2.5) for t in tables), loaded


def test_django_yaml_says_what_was_inferred(django_source: str) -> None:
    text = import_yaml(django_source)
    assert "postgres@" not in text  # the URL's user (and any password) stays out of the file
    users = yaml.safe_load(text)["attributes"]["tables"]["auth_user"]
    assert users["columns"]["email"]["faker"] == {"kind": "email", "from": "first_name"}
    assert users["columns"]["username"]["sequence"]["prefix"] == "username_"  # UNIQUE: numbered
    links = yaml.safe_load(text)["attributes"]["tables"]["auth_user_groups"]["columns"]
    assert links["user_id"]["reference"] == {"table": "auth_user", "unique_with": "group_id"}
    log = yaml.safe_load(text)["attributes"]["tables"]["django_admin_log"]["columns"]
    assert log["action_flag"]["number"]["min"] == 0  # CHECK (action_flag >= 0)
    assert log["content_type_id"]["nulls"] > 0  # nullable foreign key
    lines = text.splitlines()
    email_comment = lines[lines.index("        email: " + yaml.safe_dump(users["columns"]["email"], default_flow_style=True, sort_keys=False).strip()) - 1]  # fmt: skip
    assert "character varying(254) NOT NULL" in email_comment and "e-mail" in email_comment


def test_a_violation_is_refused_in_one_line_and_nothing_is_loaded(django_source: str) -> None:
    url = django_source
    spec = spec_of(import_yaml(url))
    data = generate(spec, 1.0)
    users = data["auth_user"]
    names = users.column("username").to_pylist()
    names[1] = names[0]  # a duplicate UNIQUE username
    data["auth_user"] = users.set_column(users.schema.get_field_index("username"), "username", pa.array(names))
    with pytest.raises(ddl.DdlLoadError) as refused:
        ddl.load(url, spec, data, "fresh_schema")
    assert "auth_user_username_key" in str(refused.value) and "\n" not in str(refused.value)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'fresh_schema'")
        assert cur.fetchone()[0] == 0  # one transaction: not even the schema remains
    with pytest.raises(ddl.DdlLoadError, match="schema: 'public' is not allowed"):
        ddl.load(url, spec, generate(spec, 1.0), "public")


@pytest.fixture(scope="module")
def dagster_source(server: str) -> str:
    """The schema dagster-postgres creates for an instance's run, event and schedule storage."""
    from dagster import DagsterInstance

    url = database(server, "dagster_instance")
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    home = tempfile.mkdtemp(prefix="dagster_home_")
    storage = {"username": "postgres", "password": "", "hostname": "127.0.0.1", "port": port,
               "db_name": "dagster_instance", "scheme": "postgresql+psycopg2"}  # fmt: skip
    Path(home, "dagster.yaml").write_text(yaml.safe_dump({"storage": {"postgres": {"postgres_db": storage}}}))
    try:
        with DagsterInstance.from_config(home) as instance:
            assert instance.get_runs_count() == 0
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return url


def test_dagster_instance_schema_imports_and_loads_with_every_constraint(dagster_source: str) -> None:
    url = dagster_source
    text = import_yaml(url)
    source = constraints(url, "public")
    loaded = round_trip(url, text)
    assert constraints(url, "mock_data") == source
    assert {"runs", "run_tags", "event_logs", "snapshots", "kvs", "asset_keys"} <= set(loaded[1.0])
    assert all(n >= 1000 for n in loaded[1.0].values()), loaded[1.0]
    tables: Any = yaml.safe_load(text)["attributes"]["tables"]
    # run_tags.run_id -> runs.run_id is a foreign key to a unique string, not to the key.
    assert tables["run_tags"]["columns"]["run_id"]["reference"] == {"table": "runs", "column": "run_id"}


def test_what_cannot_be_generated_is_refused_one_line_per_column(server: str) -> None:
    url = database(server, "odd_app")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE a (id int PRIMARY KEY, seen inet NOT NULL, span interval)")
        cur.execute("CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a(id))")
    result = CliRunner().invoke(main, ["import-schema", url])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line]
    assert all(line.startswith("Error: ") for line in lines), lines
    assert any(line.startswith("Error: a.seen: type inet cannot be generated") for line in lines)
    assert any(line.startswith("Error: a.span: type interval cannot be generated") for line in lines)
    assert len(lines) == 2  # b is fine
    assert "type: mock_pipeline.MockDataset" not in result.output  # nothing written
    bad = CliRunner().invoke(main, ["import-schema", url, "--tables", "nope"])
    assert bad.exit_code == 2 and "--tables 'nope': no such table" in bad.output


def test_the_component_publishes_an_imported_schema_under_its_own_ddl(
    django_source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`publish: [database_ddl]`: the tables, their blocking checks, then the load into the named schema."""
    import dagster as dg

    from mock_pipeline.mock_dataset.compile import dataset_definitions
    from mock_pipeline.publish.database import PostgresDatabase
    from mock_pipeline.resources import DataDirResource

    spec = spec_of(import_yaml(django_source, "--name", "django_app"))
    domain = compile_domain(spec, Located(None, spec.name))
    defs = dataset_definitions(domain, ["database_ddl"], spec)
    monkeypatch.setenv("TEST_SOURCE_URL", django_source)
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],  # type: ignore[list-item]
        resources={
            "scenario": ScenarioResource(),
            "data_dir": DataDirResource(root=str(tmp_path)),
            "database": PostgresDatabase(url=dg.EnvVar("TEST_SOURCE_URL")),
        },
        run_config={"ops": {"django_app__source_schema_tables": {"config": {"target_schema": "app_copy"}}}},
        raise_on_error=False,
    )
    assert result.success
    failed = [e.asset_check_evaluation_data.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert not failed
    [load] = [m for m in result.get_asset_materialization_events() if m.asset_key.path[-1] == "source_schema_tables"]
    metadata = load.materialization.metadata
    assert metadata["schema"].value == "app_copy"
    assert counts(django_source, "app_copy", ["auth_user"])["auth_user"] == 1000
    assert constraints(django_source, "app_copy") == constraints(django_source, "public")


def test_cycles_and_self_references_load_with_their_constraints(server: str) -> None:
    """A cycle of foreign keys (a back-reference drawn from the parent's row count, its constraint added
    after the rows) and a table referencing itself: imported, generated and loaded, the database agreeing."""
    url = database(server, "cyclic_app")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TYPE mood AS ENUM ('calm', 'busy')")
        cur.execute(
            "CREATE TABLE departments (id int PRIMARY KEY, head_id int, name varchar(40) NOT NULL UNIQUE,"
            " budget numeric(10, 2) CHECK (budget >= 0), country char(2) NOT NULL, created_at timestamptz NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE employees (id bigint PRIMARY KEY, department_id int NOT NULL REFERENCES departments(id),"
            " manager_id bigint REFERENCES employees(id), email text NOT NULL UNIQUE, mood mood NOT NULL,"
            " tags text[] NOT NULL, profile jsonb, level smallint CHECK (level BETWEEN 1 AND 7),"
            " kind varchar(8) DEFAULT 'staff' CHECK (kind IN ('staff', 'contract')), hired_at timestamptz NOT NULL)"
        )
        # An estimated row count: departments analysed with 1,500 rows.
        cur.execute(
            "INSERT INTO departments (id, name, country, created_at) SELECT i, 'd' || i, 'NL', now()"
            " FROM generate_series(1, 1500) AS i"
        )
        cur.execute("ALTER TABLE departments ADD FOREIGN KEY (head_id) REFERENCES employees(id)")
        cur.execute("COMMENT ON COLUMN employees.level IS 'Seniority, 1 to 7'")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("ANALYZE departments")
    text = import_yaml(url)
    tables: Any = yaml.safe_load(text)["attributes"]["tables"]
    head = tables["departments"]["columns"]["head_id"]
    assert head["reference"] == {"table": "employees", "back": True} and head["nulls"] > 0
    employees = tables["employees"]["columns"]
    assert employees["manager_id"]["reference"] == {"table": "employees"}
    assert employees["department_id"]["type"] == "int" and "back" not in employees["department_id"]["reference"]
    assert employees["mood"]["choice"]["values"] == ["calm", "busy"]
    assert employees["level"]["number"]["min"] == 1 and employees["level"]["number"]["max"] == 7
    assert employees["level"]["description"] == "Seniority, 1 to 7"
    assert employees["kind"]["choice"]["values"] == ["staff", "contract"]
    # hired_at, the first `*_at`: the row's creation, after its department's.
    assert employees["hired_at"]["timestamp"]["after"] == ["departments.created_at"]
    assert tables["employees"]["created"] == "hired_at"
    assert "character varying(8), default 'staff'::character varying: CHECK ... IN" in text
    assert tables["departments"]["rows"] == 1500 and "rows: the catalogue's estimate (1,500)" in text
    assert tables["departments"]["columns"]["budget"]["type"] == "money"
    assert tables["departments"]["columns"]["country"]["choice"]["values"][0] == "US"
    assert "named country: an ISO 3166 country code" in text
    loaded = round_trip(url, text)
    assert constraints(url, "mock_data") == constraints(url, "public")
    assert loaded[1.0] == {"departments": 1500, "employees": 1000}


def test_imported_yaml_is_a_component_dg_accepts(django_source: str, tmp_path: Path) -> None:
    """`mock-pipeline import-schema ... > <project>/defs/django_app/defs.yaml`, then `dg check defs` and `dg list defs`."""
    from mock_pipeline_tests.test_mock_dataset import DG, dg_project

    if DG is None:
        unavailable("dagster-dg-cli is not installed (pip install -e '.[dev]')")
    project = dg_project(tmp_path)
    # database_ddl loads through the code location's `database` resource, as mock_pipeline's own has.
    definitions = project / "shop_project" / "definitions.py"
    definitions.write_text(
        "from mock_pipeline.publish.database import database_resource\n"
        + definitions.read_text().replace(
            '"data_dir": DataDirResource()', '"data_dir": DataDirResource(), "database": database_resource()'
        )
    )
    folder = project / "shop_project" / "defs" / "django_app"
    folder.mkdir()
    (folder / "defs.yaml").write_text(import_yaml(django_source, "--name", "django_app"))
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "MOCK_PIPELINE_DATA_DIR": str(tmp_path / "data")}
    checked = subprocess.run([DG, "check", "defs"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = subprocess.run(
        [DG, "list", "defs", "--json"], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert listed.returncode == 0, listed.stderr
    for asset in ("django_app/auth_user", "django_app/auth_user_groups", "django_app/source_schema_tables"):
        assert asset in listed.stdout
