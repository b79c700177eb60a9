"""Every bad input is refused cleanly, early, with one line naming the field: a table of them.

Each row is a bad value of one run config field or environment variable. The run is the scrum
domain's first table and its files export (the export's options are run config too), launched
with Dagster as a user would. For each row the test asserts: refused (by Dagster's config types at
launch, or by the run's first step), the field named as the user wrote it, one line per problem
with no traceback text, and nothing under the data folder changed.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from mock_pipeline.domains.factory import domain_definitions
from mock_pipeline.domains.scrum import SCRUM
from mock_pipeline.publish.assets import exported_files_asset
from mock_pipeline.resources import DataDirResource, ScenarioResource

EXPORT_OP = "scrum__exported_files"
FIRST_TABLE = SCRUM.tables[0].name
# Environment variables a test may set; each case starts without them.
ENV_NAMES = (
    "MOCK_PIPELINE_VECTOR_STORE", "MOCK_PIPELINE_EMBEDDER", "MOCK_PIPELINE_PGVECTOR_URL", "PINECONE_API_KEY",
    "PINECONE_INDEX_NAME", "MOCK_PIPELINE_S3_BUCKET", "MOCK_PIPELINE_S3_ENDPOINT_URL", "MOCK_PIPELINE_S3_ACL",
    "MOCK_PIPELINE_S3_PREFIX", "AWS_REGION", "MOCK_PIPELINE_UPLOAD_API_URL", "MOCK_PIPELINE_DATABASE_URL",
    "MOCK_PIPELINE_STORE_URI", "MOCK_DATA_ENABLED",
)  # fmt: skip


def scenario(**config: Any) -> dict[str, Any]:
    return {"resources": {"scenario": {"config": config}}}


def export(**config: Any) -> dict[str, Any]:
    return {"ops": {EXPORT_OP: {"config": config}}}


def custom(**fields: Any) -> dict[str, Any]:
    return scenario(custom_profile="mine", custom_profiles={"mine": {"extends": "normal-ops", **fields}})


# (case id, run config, environment, the field the refusal must name)
CASES: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
    # -- the issue's cases
    ("as_of-9999", scenario(as_of="9999-12-31"), {}, "scenario.as_of"),
    ("as_of-0001", scenario(as_of="0001-01-01"), {}, "scenario.as_of"),
    ("volume-nan", scenario(volume_multiplier=math.nan), {}, "scenario.volume_multiplier"),
    ("volume-inf", scenario(volume_multiplier=math.inf), {}, "scenario.volume_multiplier"),
    ("volume-1e9", scenario(volume_multiplier=1e9), {}, "scenario.volume_multiplier"),
    ("customers-1e12", scenario(overrides={"commerce.customers_per_tenant": 10**12}), {},
     "scenario.overrides.commerce.customers_per_tenant"),
    ("format-xlsx", export(format="xlsx"), {}, "format"),
    ("vector-store-bogus", {}, {"MOCK_PIPELINE_VECTOR_STORE": "bogus"}, "MOCK_PIPELINE_VECTOR_STORE"),
    ("seed-abc", scenario(seed="abc"), {}, "seed"),
    ("size-huge", scenario(size="huge"), {}, "size"),
    ("seed-negative", scenario(seed=-1), {}, "scenario.seed"),
    ("run_tag-cjk", scenario(run_tag="标签"), {}, "scenario.run_tag"),
    # -- scenario fields: types (Dagster at launch) and ranges (the run's first step)
    ("size-number", scenario(size=3), {}, "size"),
    ("seed-float", scenario(seed=1.5), {}, "seed"),
    ("seed-2**64", scenario(seed=2**64), {}, "scenario.seed"),
    ("profile-unknown", scenario(profile="holiday"), {}, "config:profile not in enum type"),
    ("profile-empty", scenario(profile=""), {}, "config:profile not in enum type"),
    ("profile-number", scenario(profile=7), {}, "profile"),
    ("profile-underscore", scenario(profile="peak_season"), {}, "config:profile not in enum type"),
    ("profile-custom-name", scenario(profile="mine", custom_profiles={"mine": {}}), {},
     "config:profile not in enum type"),
    ("custom-profile-unknown", scenario(custom_profile="holiday"), {}, "scenario.custom_profile"),
    ("custom-profile-builtin", scenario(custom_profile="peak-season"), {}, "scenario.custom_profile"),
    ("custom-profile-and-profile", scenario(profile="peak-season", custom_profile="mine", custom_profiles={"mine": {}}),
     {}, "scenario.custom_profile"),
    ("custom-profile-number", scenario(custom_profile=7), {}, "custom_profile"),
    ("as_of-words", scenario(as_of="yesterday"), {}, "scenario.as_of"),
    ("as_of-feb-30", scenario(as_of="2024-02-30"), {}, "scenario.as_of"),
    ("as_of-empty", scenario(as_of=""), {}, "scenario.as_of"),
    ("as_of-1899", scenario(as_of="1899-12-31"), {}, "scenario.as_of"),
    ("start-after-end", scenario(start_date="2025-01-01", as_of="2024-12-31"), {}, "scenario.start_date"),
    ("start-1900", scenario(start_date="1900-01-01"), {}, "scenario.start_date"),
    ("start-words", scenario(start_date="not-a-date"), {}, "scenario.start_date"),
    ("volume-minus-inf", scenario(volume_multiplier=-math.inf), {}, "scenario.volume_multiplier"),
    ("volume-zero", scenario(volume_multiplier=0.0), {}, "scenario.volume_multiplier"),
    ("volume-negative", scenario(volume_multiplier=-1.0), {}, "scenario.volume_multiplier"),
    ("volume-text", scenario(volume_multiplier="lots"), {}, "volume_multiplier"),
    ("volume-5e5-size-guard", scenario(volume_multiplier=5e5), {}, "scenario.volume_multiplier"),
    ("locale-unknown", scenario(locale="xx_YY"), {}, "scenario.locale"),
    ("locale-empty", scenario(locale=""), {}, "scenario.locale"),
    ("chunk-zero", scenario(chunk_size=0), {}, "scenario.chunk_size"),
    ("chunk-negative", scenario(chunk_size=-5), {}, "scenario.chunk_size"),
    ("chunk-1e9", scenario(chunk_size=10**9), {}, "scenario.chunk_size"),
    ("run_tag-punctuation", scenario(run_tag="!!!"), {}, "scenario.run_tag"),
    ("run_tag-empty", scenario(run_tag=""), {}, "scenario.run_tag"),
    ("run_tag-too-long", scenario(run_tag="a" * 40), {}, "scenario.run_tag"),
    ("run_tag-emoji", scenario(run_tag="🚀 launch"), {}, "scenario.run_tag"),
    ("run_tag-arabic", scenario(run_tag="وسم"), {}, "scenario.run_tag"),
    ("override-zero", scenario(overrides={"commerce.orders_per_tenant": 0}), {},
     "scenario.overrides.commerce.orders_per_tenant"),
    ("override-negative", scenario(overrides={"commerce.tenants": -3}), {}, "scenario.overrides.commerce.tenants"),
    ("override-unknown", scenario(overrides={"commerce.orderz": 5}), {}, "scenario.overrides.commerce.orderz"),
    ("override-lookback", scenario(overrides={"maintenance.lookback_days": 100_000}), {},
     "scenario.overrides.maintenance.lookback_days"),
    ("override-erp-volume", scenario(overrides={"erp.volume": 10**13}), {}, "scenario.overrides.erp.volume"),
    ("override-text", scenario(overrides={"commerce.tenants": "many"}), {}, "overrides"),
    ("max_total_rows-small", scenario(max_total_rows=1000), {}, "scenario.size"),
    ("max_total_rows-zero", scenario(max_total_rows=0), {}, "scenario.max_total_rows"),
    ("unknown-key", scenario(colour="red"), {}, "colour"),
    # -- custom profiles
    ("custom-cycle", scenario(custom_profile="a", custom_profiles={"a": {"extends": "b"}, "b": {"extends": "a"}}), {},
     "scenario.custom_profiles"),
    ("custom-extends-unknown", scenario(custom_profile="a", custom_profiles={"a": {"extends": "nope"}}), {},
     "scenario.custom_profiles"),
    ("custom-builtin-name", scenario(custom_profiles={"normal-ops": {"anomaly_rate": 0.1}}), {},
     "scenario.custom_profiles.normal-ops"),
    ("custom-anomaly-rate", custom(anomaly_rate=1.5), {}, "scenario.custom_profiles.mine.anomaly_rate"),
    ("custom-order-volume-nan", custom(order_volume=math.nan), {}, "scenario.custom_profiles.mine.order_volume"),
    ("custom-company-volume", custom(company_volume=-1.0), {}, "scenario.custom_profiles.mine.company_volume"),
    ("custom-payment-delay", custom(payment_delay_days=0.0), {}, "scenario.custom_profiles.mine.payment_delay_days"),
    ("custom-trend", custom(order_trend=-2.0), {}, "scenario.custom_profiles.mine.order_trend"),
    ("custom-mix-label", custom(anomaly_mix={"bogus": 1.0}), {}, "scenario.custom_profiles.mine.anomaly_mix"),
    ("custom-mix-negative", custom(anomaly_mix={"payment_delay": -1.0}), {},
     "scenario.custom_profiles.mine.anomaly_mix"),
    ("custom-rate-inf", custom(entity_rates={"orders_per_day": math.inf}), {},
     "scenario.custom_profiles.mine.entity_rates.orders_per_day"),
    ("custom-unknown-field", custom(colour="red"), {}, "colour"),
    # -- the files export's options (ops config)
    ("export-compress-text", export(compress="gzip"), {}, "compress"),
    ("export-records-zero", export(max_records_per_file=0), {}, f"ops.{EXPORT_OP}.config.max_records_per_file"),
    ("export-records-negative", export(max_records_per_file=-1), {}, f"ops.{EXPORT_OP}.config.max_records_per_file"),
    ("export-records-huge", export(max_records_per_file=10**12), {}, f"ops.{EXPORT_OP}.config.max_records_per_file"),
    # -- environment variables
    ("embedder-unknown", {}, {"MOCK_PIPELINE_EMBEDDER": "word2vec"}, "MOCK_PIPELINE_EMBEDDER"),
    ("pgvector-without-url", {}, {"MOCK_PIPELINE_VECTOR_STORE": "pgvector"}, "MOCK_PIPELINE_PGVECTOR_URL"),
    ("pgvector-bad-url", {}, {"MOCK_PIPELINE_VECTOR_STORE": "pgvector", "MOCK_PIPELINE_PGVECTOR_URL": "localhost"},
     "MOCK_PIPELINE_PGVECTOR_URL"),
    ("pinecone-without-key", {}, {"MOCK_PIPELINE_VECTOR_STORE": "pinecone", "PINECONE_INDEX_NAME": "x"},
     "PINECONE_API_KEY"),
    ("s3-endpoint-not-url", {}, {"MOCK_PIPELINE_S3_ENDPOINT_URL": "not a url"}, "MOCK_PIPELINE_S3_ENDPOINT_URL"),
    ("s3-endpoint-bad-port", {}, {"MOCK_PIPELINE_S3_ENDPOINT_URL": "http://127.0.0.1:99999"},
     "MOCK_PIPELINE_S3_ENDPOINT_URL"),
    ("s3-bucket-name", {}, {"MOCK_PIPELINE_S3_BUCKET": "Bad_Bucket"}, "MOCK_PIPELINE_S3_BUCKET"),
    ("s3-acl", {}, {"MOCK_PIPELINE_S3_ACL": "everyone"}, "MOCK_PIPELINE_S3_ACL"),
    ("s3-prefix-placeholder", {}, {"MOCK_PIPELINE_S3_PREFIX": "data/{nope}"}, "MOCK_PIPELINE_S3_PREFIX"),
    ("aws-region", {}, {"AWS_REGION": "US EAST"}, "AWS_REGION"),
    ("api-url-ftp", {}, {"MOCK_PIPELINE_UPLOAD_API_URL": "ftp://example.com"}, "MOCK_PIPELINE_UPLOAD_API_URL"),
    ("database-url-mysql", {}, {"MOCK_PIPELINE_DATABASE_URL": "mysql://u:p@h/db"}, "MOCK_PIPELINE_DATABASE_URL"),
    ("store-uri-gs", {}, {"MOCK_PIPELINE_STORE_URI": "gs://bucket"}, "MOCK_PIPELINE_STORE_URI"),
    ("mock-data-enabled-maybe", {}, {"MOCK_DATA_ENABLED": "maybe"}, "MOCK_DATA_ENABLED"),
]  # fmt: skip


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under `folder` (or the path itself) with its size and modification time."""
    if not folder.exists():
        return {}
    if not folder.is_dir():
        return {".": (folder.stat().st_size, folder.stat().st_mtime_ns)}
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def existing_data(data_dir: Path) -> Path:
    """A data folder that already holds something, so "nothing changed" is a real comparison."""
    (data_dir / "datasets" / "earlier").mkdir(parents=True)
    (data_dir / "datasets" / "earlier" / "kept.txt").write_text("from an earlier run\n")
    return data_dir


def launch(run_config: dict[str, Any]) -> str:
    """Launch the scrum domain's first table and files export; the refusal's text (or '' if it ran)."""
    assets, _ = domain_definitions(SCRUM)
    try:
        result = dg.materialize(
            [*assets, exported_files_asset(SCRUM)],
            resources={"scenario": ScenarioResource(), "data_dir": DataDirResource()},
            run_config=run_config,
            selection=[SCRUM.key(FIRST_TABLE), dg.AssetKey(["scrum", "exported_files"])],
            raise_on_error=False,
        )
    except dg.DagsterInvalidConfigError as exc:  # refused at launch by Dagster's config types
        return "\n".join(e.message for e in exc.errors)
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    if result.success or not failures:
        return ""
    data = failures[0].step_failure_data
    assert data.user_failure_data is not None, f"not a clean refusal: {data.error.message}"
    return data.user_failure_data.description


def assert_clean_refusal(text: str, field: str) -> None:
    assert text, "the bad input was accepted"
    assert field in text, text
    assert "Traceback" not in text and 'File "' not in text, text
    for line in text.splitlines():
        assert len(line) < 1000, line


@pytest.mark.parametrize(("run_config", "env", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_the_field_named(
    run_config: dict[str, Any], env: dict[str, str], field: str, existing_data: Path, clean_env: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    before = snapshot(existing_data)
    assert_clean_refusal(launch(run_config), field)
    assert snapshot(existing_data) == before


def test_the_table_has_at_least_sixty_bad_inputs() -> None:
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("under", [False, True], ids=["is-a-file", "under-a-file"])
def test_data_folder_that_is_a_file_is_refused(under: bool, tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder\n")
    clean_env.setenv("MOCK_PIPELINE_DATA_DIR", str(blocker / "inside" if under else blocker))
    before = snapshot(blocker)
    assert_clean_refusal(launch({}), "MOCK_PIPELINE_DATA_DIR")
    assert snapshot(blocker) == before


def test_data_dir_root_that_is_a_file_is_named_as_configured(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assets, _ = domain_definitions(SCRUM)
    result = dg.materialize(
        assets,
        resources={"scenario": ScenarioResource(), "data_dir": DataDirResource(root=str(blocker))},
        selection=[SCRUM.key(FIRST_TABLE)],
        raise_on_error=False,
    )
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert_clean_refusal(failure.step_failure_data.user_failure_data.description, "data_dir.root")
    assert blocker.read_text() == "x"


def test_unicode_run_tag_is_transliterated_not_truncated() -> None:
    resource = ScenarioResource(run_tag="Über Tag ü")
    assert resource.resolve().run_tag == "uber-tag-u"
    assert ScenarioResource(run_tag="Straße Øst").resolve().run_tag == "strasse-ost"


def test_four_bad_values_are_reported_together(existing_data: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MOCK_PIPELINE_EMBEDDER", "word2vec")
    before = snapshot(existing_data)
    text = launch(
        {**scenario(seed=-1, custom_profile="holiday", volume_multiplier=math.nan), **export(max_records_per_file=0)}
    )
    lines = text.splitlines()
    assert lines[0] == "5 problems in the run config, nothing was written:"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "scenario.seed", "scenario.volume_multiplier", "scenario.custom_profile",
        f"ops.{EXPORT_OP}.config.max_records_per_file", "MOCK_PIPELINE_EMBEDDER",
    ]  # fmt: skip
    assert snapshot(existing_data) == before


def test_a_bad_environment_does_not_break_loading_the_definitions(clean_env: pytest.MonkeyPatch) -> None:
    from mock_pipeline.publish.vectors import vector_store_from_env

    resource = vector_store_from_env({"MOCK_PIPELINE_VECTOR_STORE": "bogus"})
    assert resource is not None  # loaded; the run's first step refuses with the line (the table above)


# --- a full disk and a read-only disk: a small tmpfs, the real component ------------------------


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / f"tmpfs-{uuid.uuid4().hex[:8]}"
    mount_point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8); CI runs as root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_is_refused_with_both_figures(small_tmpfs: Path, clean_env: pytest.MonkeyPatch) -> None:
    data = small_tmpfs / "data"
    data.mkdir()
    (data / "kept.txt").write_text("already here\n")
    filler = os.open(small_tmpfs / "filler", os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk to the last block
        while os.write(filler, b"\0" * 65536):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(filler)
    clean_env.setenv("MOCK_PIPELINE_DATA_DIR", str(data))
    before = snapshot(data)
    text = launch({})
    assert_clean_refusal(text, "MOCK_PIPELINE_DATA_DIR")
    assert "needs about" in text and "free on" in text, text
    assert snapshot(data) == before


def test_scenario_larger_than_the_disk_is_refused(small_tmpfs: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MOCK_PIPELINE_DATA_DIR", str(small_tmpfs / "data"))
    text = launch(scenario(overrides={"scrum.issues": 100_000}))  # about 39 MB of scrum, on a 2 MB disk
    assert_clean_refusal(text, "MOCK_PIPELINE_DATA_DIR")
    assert "needs about" in text and "MB free on" in text, text
    assert not (small_tmpfs / "data").exists()


def test_read_only_data_folder_is_refused(small_tmpfs: Path, clean_env: pytest.MonkeyPatch) -> None:
    (small_tmpfs / "data").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    clean_env.setenv("MOCK_PIPELINE_DATA_DIR", str(small_tmpfs / "data"))
    text = launch({})
    assert_clean_refusal(text, "MOCK_PIPELINE_DATA_DIR")
    assert "is not writable" in text, text
    assert snapshot(small_tmpfs / "data") == {}


# --- what a user of the CLI sees ------------------------------------------------------------------


@pytest.mark.integration
def test_cli_reports_every_problem_once_before_any_step(tmp_path: Path) -> None:
    """`dagster asset materialize` with four bad values and a bad variable: one ERROR line (the run's
    failure), all five problems under it, no step started, nothing written. (`profile` is an enum that
    Dagster itself refuses before the run; `custom_profile` is checked by the project.)"""
    config = tmp_path / "bad.yaml"
    config.write_text(
        "resources:\n  scenario:\n    config: {seed: -1, custom_profile: holiday, chunk_size: 0, as_of: '2024-13-01'}\n"
        "loggers:\n  console:\n    config: {log_level: INFO}\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES and k != "DAGSTER_HOME"}
    env |= {"MOCK_PIPELINE_DATA_DIR": str(tmp_path / "data"), "MOCK_PIPELINE_VECTOR_STORE": "bogus"}
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "mock_pipeline.definitions", "--select", "group:scrum",
         "-c", str(config)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    errors = [line for line in output.splitlines() if " - ERROR - " in line]
    assert len(errors) == 1 and "RUN_FAILURE" in errors[0], output
    assert "5 problems in the run config, nothing was written:" in output
    for field in ("scenario.seed", "scenario.chunk_size", "scenario.as_of", "scenario.custom_profile"):
        assert f"\n{field}: " in output, output
    assert "\nMOCK_PIPELINE_VECTOR_STORE: 'bogus' is unknown; allowed: lancedb, pgvector, pinecone" in output
    assert "STEP_START" not in output and "STEP_FAILURE" not in output
    assert not (tmp_path / "data").exists()


def test_disk_filling_up_while_writing_is_one_line(small_tmpfs: Path, clean_env: pytest.MonkeyPatch) -> None:
    """The guard's estimate is approximate: a disk that fills up anyway fails with one line, no OSError."""
    from mock_pipeline.storage import data_dir_from_env

    clean_env.setenv("MOCK_PIPELINE_DATA_DIR", str(small_tmpfs / "data"))
    from mock_pipeline.scenarios.model import build_scenario

    data_dir = data_dir_from_env()  # what the definitions use
    writer = data_dir.table_writer(build_scenario(size="small"), "scrum", "issues", ["part-00000.parquet"])
    with pytest.raises(dg.Failure) as raised, writer as dataset:
        (dataset / "issues").mkdir(parents=True)
        (dataset / "issues" / "part-00000.parquet").write_bytes(b"\0" * (4 * 1024 * 1024))  # twice the disk
    text = raised.value.description
    assert text.startswith(f"MOCK_PIPELINE_DATA_DIR: {small_tmpfs / 'data'} is full (No space left on device)"), text
    assert "\n" not in text


def test_room_is_needed_only_for_the_domains_a_run_makes(small_tmpfs: Path) -> None:
    from mock_pipeline.scenarios.model import build_scenario

    medium = build_scenario(size="medium")  # about 930 MB in all; its scrum part about 370 KB
    data_dir = DataDirResource(root=str(small_tmpfs / "data"))
    assert data_dir.room_problem(medium, ["scrum"]) is None
    problem = data_dir.room_problem(medium)
    assert problem is not None and problem.field == "data_dir.root"
    assert data_dir.room_problem(medium, ["commerce"]) is not None


def test_every_job_runs_behind_the_gate() -> None:
    from mock_pipeline.definitions import defs
    from mock_pipeline.preflight import checked_in_process_executor

    jobs = [defs.resolve_job_def(job.name) for job in defs.jobs]
    assert jobs and all(job.executor_def is checked_in_process_executor for job in jobs), [
        job.name for job in jobs if job.executor_def is not checked_in_process_executor
    ]


# --- the launchpad ----------------------------------------------------------------------------------

LAUNCHPAD_VALIDATION = """
query ($selector: PipelineSelector!, $config: RunConfigData!) {
  isPipelineConfigValid(pipeline: $selector, runConfigData: $config, mode: "default") {
    __typename
    ... on RunConfigValidationInvalid { errors { message reason } }
  }
}
"""


@pytest.mark.integration
def test_the_launchpad_underlines_closed_choices(tmp_path: Path) -> None:
    """The query the launchpad sends as you type: a wrong size or export format is invalid config."""
    from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql, infer_job_selector

    import mock_pipeline.definitions

    with (
        dg.instance_for_test(temp_dir=str(tmp_path)) as instance,
        define_out_of_process_context(mock_pipeline.definitions.__file__, "defs", instance) as context,
    ):
        selector = infer_job_selector(context, "all_assets")

        def errors(run_config: dict[str, Any]) -> list[str]:
            result = execute_dagster_graphql(
                context, LAUNCHPAD_VALIDATION, {"selector": selector, "config": run_config}
            )
            answer = result.data["isPipelineConfigValid"]
            return [e["message"] for e in answer.get("errors", [])]

        assert errors(scenario(size="small")) == []
        (size,) = errors(scenario(size="huge"))
        assert "size" in size and "huge" in size
        (fmt,) = errors({"ops": {"commerce__exported_files": {"config": {"format": "xlsx"}}}})
        assert "format" in fmt and "xlsx" in fmt


def test_the_gate_reads_env_sources_as_the_run_will(clean_env: pytest.MonkeyPatch, data_dir: Path) -> None:
    """`seed: {env: NAME}` is valid Dagster run config: the gate checks the value the run would get."""
    from mock_pipeline.preflight import run_problems

    config = scenario(seed={"env": "MOCK_TEST_SEED"})
    clean_env.setenv("MOCK_TEST_SEED", "7")
    assert run_problems(config) == []
    clean_env.setenv("MOCK_TEST_SEED", "-3")
    assert [str(p).split(";")[0] for p in run_problems(config)] == ["scenario.seed: got -3"]
    clean_env.delenv("MOCK_TEST_SEED")
    assert [str(p) for p in run_problems(config)] == ["scenario.seed: environment variable MOCK_TEST_SEED is not set"]
