"""The `mock-pipeline` command line: each seed's documented command against the equivalent
`dagster asset materialize` run, byte for byte; bad flag values; --dry-run; status and cleanup."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from mock_pipeline.cli import main
from mock_pipeline_tests.helpers import tree_digest
from mock_pipeline_tests.servers import free_port

CLI = [sys.executable, "-m", "mock_pipeline.cli"]
UPLOAD_KEY = "cli-test-upload-key"


def environment(data: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCK_PIPELINE_", "DAGSTER_HOME"))}
    if data is not None:
        env["MOCK_PIPELINE_DATA_DIR"] = str(data)
    return {**env, **extra}


class Receiver:
    """A real HTTP API on loopback that keeps every POST body (seed 003's --upload target)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, str]] = []  # (path, sha256 of the body, X-API-Key)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append((self.path, hashlib.sha256(body).hexdigest(), self.headers.get("X-API-Key", "")))
                answer = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def outputs(data: Path) -> dict[str, str]:
    """Every exported file and every table's Parquet, by path."""
    return {**tree_digest(data / "exports"), **{f"datasets/{k}": v for k, v in tree_digest(data / "datasets").items()}}


def cli_then_dagster(tmp_path: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[Path, Path]:
    """Run `mock-pipeline generate ARGS` into one data folder, then the command and YAML that
    `--print-config` prints into another; both must succeed."""
    extra = env or {}
    first, second = tmp_path / "cli", tmp_path / "dagster"
    run = subprocess.run([*CLI, "generate", *args], env=environment(first, **extra), cwd=tmp_path,
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "succeeded" in run.stdout
    printed = subprocess.run(
        [*CLI, "generate", *args, "--print-config"], env=environment(**extra), capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    comment, yaml_text = printed.stdout.split("\n", 1)
    (tmp_path / "run.yaml").write_text(yaml_text)
    words = shlex.split(comment.removeprefix("# "))
    start = words.index("dagster")
    settings = dict(w.split("=", 1) for w in words[:start])
    command = words[start:]
    assert command[:3] == ["dagster", "asset", "materialize"]
    # "$SHOP_KEY": the key is named, never printed; the shell would expand it from the same environment.
    settings = {k: extra[v[1:]] if v.startswith("$") else v for k, v in settings.items()}
    dagster = [str(Path(sys.executable).parent / "dagster"), *command[1:]]
    equivalent = subprocess.run(dagster, env=environment(second, **extra, **settings), cwd=tmp_path,
                                capture_output=True, text=True)  # fmt: skip
    assert equivalent.returncode == 0, equivalent.stderr[-3000:]
    return first, second


@pytest.mark.integration
@pytest.mark.slow
def test_seed_000_command_equals_the_dagster_run(tmp_path: Path) -> None:
    # generate_mock_data --users 10 --tickets 5000 --run-tag demo --seed 7
    first, second = cli_then_dagster(
        tmp_path, ["maintenance", "--users", "10", "--tickets", "5000", "--run-tag", "demo", "--seed", "7"]
    )
    made = outputs(first)
    assert made == outputs(second)
    manifest = json.loads(next((first / "exports").rglob("manifest.json")).read_text())
    assert manifest["tables"]["tickets"] == 5000 and manifest["run_config"]["run_tag"] == "demo"


@pytest.mark.integration
@pytest.mark.slow
def test_seed_001_command_equals_the_dagster_run(tmp_path: Path) -> None:
    # mock-data-cli generate --scenario normal-ops --from 2024-01-01 --to 2024-03-31 --seed 12345 --multiplier 2
    args = ["erp", "--scenario", "normal-ops", "--from", "2024-01-01", "--to", "2024-03-31", "--seed", "12345"]
    first, second = cli_then_dagster(tmp_path, [*args, "--multiplier", "2"])
    assert outputs(first) == outputs(second)
    config = json.loads(next((first / "exports").rglob("manifest.json")).read_text())["run_config"]
    assert (config["start_date"], config["as_of"], config["volume_multiplier"]) == ("2024-01-01", "2024-03-31", 2.0)


@pytest.mark.integration
@pytest.mark.slow
def test_seed_003_command_equals_the_dagster_run(tmp_path: Path) -> None:
    # gen_dataset.py --preset medium --format ndjson --gzip --upload --api-url ... (small here: 2 cores)
    with Receiver() as api:
        args = ["commerce", "--preset", "small", "--format", "ndjson", "--gzip", "--upload", "--api-url", api.url]
        first, second = cli_then_dagster(tmp_path, [*args, "--api-key-env", "SHOP_KEY"], {"SHOP_KEY": UPLOAD_KEY})
    made = outputs(first)
    assert made == outputs(second)
    assert any(path.endswith(".ndjson.gz") for path in made)
    half = len(api.posts) // 2
    assert half > 0 and api.posts[:half] == api.posts[half:]  # the same requests, in the same order
    assert {key for _, _, key in api.posts} == {UPLOAD_KEY}
    assert api.posts[half - 1][0] == "/api/v1/commerce/manifest"


BAD_FLAGS = [
    (["generate", "erp", "--scenario", "calm"], "--scenario"),
    (["generate", "erp", "--preset", "huge"], "--preset"),
    (["generate", "erp", "--seed", "-1"], "--seed"),
    (["generate", "erp", "--seed", "x"], "--seed"),
    (["generate", "erp", "--from", "2024-02-30"], "--from"),
    (["generate", "erp", "--to", "yesterday"], "--to"),
    (["generate", "erp", "--from", "2024-06-01", "--to", "2024-01-01"], "--from"),
    (["generate", "erp", "--multiplier", "0"], "--multiplier"),
    (["generate", "erp", "--multiplier", "two"], "--multiplier"),
    (["generate", "maintenance", "--run-tag", "!!!"], "--run-tag"),
    (["generate", "maintenance", "--users", "0"], "--users"),
    (["generate", "maintenance", "--items", "-5"], "--items"),
    (["generate", "maintenance", "--tickets", "0"], "--tickets"),
    (["generate", "maintenance", "--parts-per-item", "0"], "--parts-per-item"),
    (["generate", "maintenance", "--categories", "0"], "--categories"),
    (["generate", "maintenance", "--lookback-days", "0"], "--lookback-days"),
    (["generate", "maintenance", "--batch-size", "0"], "--batch-size"),
    (["generate", "commerce", "--tenants", "0"], "--tenants"),
    (["generate", "commerce", "--format", "yaml"], "--format"),
    (["generate", "commerce", "--max-records-per-file", "0"], "--max-records-per-file"),
    (["generate", "commerce", "--chunk-size", "0"], "--chunk-size"),
    (["generate", "commerce", "--upload", "--api-url", "not a url"], "--api-url"),
    (["generate", "commerce", "--api-url", "http://127.0.0.1:9"], "--api-url"),
    (["generate", "commerce", "--upload", "--api-key-env", "NO_SUCH_VARIABLE_HERE"], "--api-key-env"),
    (["generate", "shop"], "DOMAIN"),
    (["validate", "--preset", "huge"], "--preset"),
    (["cleanup", "--confirm", "yes"], "--confirm"),
    (["toggle"], "--enable"),
]


@pytest.mark.parametrize(("args", "flag"), BAD_FLAGS, ids=[" ".join(a) for a, _ in BAD_FLAGS])
def test_bad_flag_values_get_one_line_naming_the_flag(tmp_path: Path, args: list[str], flag: str) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(main, [*args, *(["--data-dir", str(data)] if args[0] == "generate" else [])],
                                env={"MOCK_PIPELINE_DATA_DIR": str(data), "DAGSTER_HOME": ""})  # fmt: skip
    assert result.exit_code == 2, result.output
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and flag in error[0], result.output
    assert not data.exists()  # refused before anything was written


@pytest.mark.parametrize("command", ["generate", "validate"])
def test_every_bad_scenario_flag_is_reported_one_line_each(tmp_path: Path, command: str) -> None:
    data = tmp_path / "data"
    args = [command, "erp", "--scenario", "calm", "--to", "2024-13-01", "--multiplier", "-1", "--run-tag", "!!!"]
    result = CliRunner().invoke(main, [*args, *(["--data-dir", str(data)] if command == "generate" else [])],
                                env={"MOCK_PIPELINE_DATA_DIR": str(data), "DAGSTER_HOME": ""})  # fmt: skip
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "Error: 4 problems, nothing was written:", result.output
    assert sorted(line.split(":")[0] for line in lines[1:]) == ["--multiplier", "--run-tag", "--scenario", "--to"]
    assert "'calm'" in result.output and "'2024-13-01'" in result.output and "'!!!'" in result.output
    assert "Traceback" not in result.output and "scenario." not in result.output
    assert not data.exists()


@pytest.mark.integration
def test_dry_run_writes_nothing_to_the_database_and_status_shows_the_runs(tmp_path: Path, postgres_url: str) -> None:
    import psycopg2

    home = tmp_path / "home"
    home.mkdir()
    env = environment(tmp_path / "data", DAGSTER_HOME=str(home), MOCK_PIPELINE_DATABASE_URL=postgres_url)

    def mock_tables() -> list[str]:
        with psycopg2.connect(postgres_url) as con, con.cursor() as cur:
            cur.execute("select table_name from information_schema.tables where table_schema = 'mock_data'")
            return sorted(r[0] for r in cur.fetchall())

    before = mock_tables()
    dry = subprocess.run(
        [*CLI, "generate", "scrum", "--seed", "5", "--dry-run"], env=env, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    assert "scrum/database_tables" not in dry.stdout and "scrum/exported_files" in dry.stdout
    assert mock_tables() == before
    assert any((tmp_path / "data" / "exports").rglob("issues*"))

    wet = subprocess.run([*CLI, "generate", "scrum", "--seed", "5"], env=env, capture_output=True, text=True)
    assert wet.returncode == 0, wet.stdout[-3000:] + wet.stderr[-3000:]
    assert "scrum_issues" in mock_tables()  # the same command without --dry-run does load

    listed = subprocess.run([*CLI, "status"], env=env, capture_output=True, text=True)
    run_ids = [line.split()[1] for line in (dry.stdout + wet.stdout).splitlines() if line.startswith("run ")]
    assert listed.returncode == 0 and all(r in listed.stdout for r in run_ids) and len(run_ids) == 2
    one = subprocess.run([*CLI, "status", run_ids[1]], env=env, capture_output=True, text=True)
    assert one.returncode == 0 and "SUCCESS" in one.stdout and "scrum__database_tables" in one.stdout

    refused = subprocess.run([*CLI, "cleanup", "--confirm", "delete"], env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "scrum_issues" in mock_tables()
    cleaned = subprocess.run([*CLI, "cleanup", "--confirm", "DELETE_ALL_MOCK_DATA", "--seed", "5"], env=env,
                             capture_output=True, text=True)  # fmt: skip
    assert cleaned.returncode == 0, cleaned.stderr[-2000:]
    assert not [t for t in mock_tables() if t.startswith("scrum_")]


@pytest.mark.slow
def test_failed_step_gives_a_non_zero_exit(tmp_path: Path) -> None:
    """With generation switched off every table step fails: the command says so and exits 1."""
    env = environment(tmp_path / "data", MOCK_DATA_ENABLED="false")
    run = subprocess.run([*CLI, "generate", "scrum"], env=env, capture_output=True, text=True)
    assert run.returncode == 1
    assert "FAILED" in run.stderr and "MOCK_DATA_ENABLED" in run.stdout + run.stderr


def test_scenarios_lists_every_profile_and_preset() -> None:
    from mock_pipeline.scenarios.model import builtin_profiles, size_presets

    result = CliRunner().invoke(main, ["scenarios"])
    assert result.exit_code == 0
    assert all(name in result.output for name in [*builtin_profiles(), *size_presets()])


def test_validate_counts_the_rows_the_export_writes(tmp_path: Path) -> None:
    """validate's row counts are those of the files export of the same config."""
    from mock_pipeline.domains.maintenance import MAINTENANCE
    from mock_pipeline_tests.helpers import materialize_domain

    result = CliRunner().invoke(main, ["validate", "maintenance", "--tickets", "700", "--seed", "3"])
    assert result.exit_code == 0, result.output
    counted = {
        line.split()[0]: int(line.split()[1].replace(",", ""))
        for line in result.output.splitlines()
        if line.startswith("  ") and " rows " in line
    }
    run = materialize_domain(MAINTENANCE, tmp_path / "data", {"seed": 3, "overrides": {"maintenance.tickets": 700}})
    assert run.success
    manifest = json.loads(next((tmp_path / "data" / "exports").rglob("manifest.json")).read_text())
    assert counted == manifest["tables"]


@pytest.fixture
def dagster_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    yield home


@pytest.mark.integration
def test_toggle_starts_and_stops_every_schedule_and_sensor(dagster_home: Path) -> None:
    import dagster as dg

    from mock_pipeline.definitions import defs

    env = environment(DAGSTER_HOME=str(dagster_home))
    names = {s.name for s in defs.schedules or []} | {s.name for s in defs.sensors or []}

    def states() -> dict[str, str]:
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            return {s.name: s.status.value for s in instance.all_instigator_state()}

    on = subprocess.run([*CLI, "toggle", "--enable"], env=env, capture_output=True, text=True)
    assert on.returncode == 0, on.stderr[-2000:]
    assert "MOCK_DATA_ENABLED" in on.stdout
    assert {n: states().get(n) for n in names} == dict.fromkeys(names, "RUNNING")
    off = subprocess.run([*CLI, "toggle", "--disable"], env={**env, "MOCK_DATA_ENABLED": "false"},
                         capture_output=True, text=True)  # fmt: skip
    assert off.returncode == 0, off.stderr[-2000:]
    assert "MOCK_DATA_ENABLED=false" in off.stdout
    assert {n: states().get(n) for n in names} == dict.fromkeys(names, "STOPPED")
