"""Schedules and sensors: the nightly staging refresh, scenario files, republish, and the toggle."""

import copy
import datetime as dt
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from mock_pipeline.definitions import defs
from mock_pipeline.jobs import ALL_ASSETS_JOB, builtin_run_config, publish_job_name
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.sensors import TAG_SCENARIO_FILE, scenario_files_sensor
from mock_pipeline.toggle import disabled_reason

nightly_staging_refresh = defs.resolve_schedule_def("nightly_staging_refresh")

TENANTS = dg.AssetKey(["commerce", "tenants"])
NIGHT = dt.datetime(2025, 3, 10, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def scenario_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    folder = tmp_path / "watched"
    folder.mkdir()
    monkeypatch.setenv("MOCK_PIPELINE_SCENARIO_DIR", str(folder))
    return folder


@pytest.mark.parametrize(
    ("value", "disabled"),
    [(None, False), ("true", False), ("1", False), ("False", True), ("0", True), ("off", True), ("maybe", True)],
)
def test_toggle(monkeypatch: pytest.MonkeyPatch, value: str | None, disabled: bool) -> None:
    if value is None:
        monkeypatch.delenv("MOCK_DATA_ENABLED", raising=False)
    else:
        monkeypatch.setenv("MOCK_DATA_ENABLED", value)
    reason = disabled_reason()
    assert (reason is not None) == disabled
    if value == "maybe":
        assert "allowed: true, false" in reason


def test_automation_is_off_by_default() -> None:
    assert nightly_staging_refresh.default_status == dg.DefaultScheduleStatus.STOPPED
    for sensor in defs.sensors:
        assert sensor.default_status == dg.DefaultSensorStatus.STOPPED, sensor.name


# --- nightly staging refresh --------------------------------------------------------------------


def test_nightly_refresh_builds_yesterdays_staging_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCK_DATA_ENABLED", raising=False)
    monkeypatch.setenv("MOCK_PIPELINE_STAGING_PROFILE", "payment-crisis")
    monkeypatch.setenv("MOCK_PIPELINE_STAGING_SIZE", "medium")
    monkeypatch.setenv("MOCK_PIPELINE_STAGING_SEED", "7")
    request = nightly_staging_refresh(dg.build_schedule_context(scheduled_execution_time=NIGHT))
    assert isinstance(request, dg.RunRequest)
    scenario = request.run_config["resources"]["scenario"]["config"]
    assert scenario == {"profile": "payment-crisis", "size": "medium", "seed": 7, "as_of": "2025-03-09"}
    assert request.run_key == "staging-2025-03-10"
    # Staging is replaced every night, the maintenance run tag included (seed 000's guard would refuse it).
    assert request.run_config["ops"]["maintenance__database_tables"]["config"] == {"replace_existing_namespace": True}
    dg.validate_run_config(defs.resolve_job_def(ALL_ASSETS_JOB), request.run_config)


def test_nightly_refresh_with_bad_staging_config_skips_with_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_PIPELINE_STAGING_SIZE", "huge")
    result = nightly_staging_refresh(dg.build_schedule_context(scheduled_execution_time=NIGHT))
    assert isinstance(result, dg.SkipReason)
    assert "scenario.size" in result.skip_message and "small, medium, large" in result.skip_message


def test_nightly_refresh_skips_when_mock_data_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_DATA_ENABLED", "false")
    result = nightly_staging_refresh(dg.build_schedule_context(scheduled_execution_time=NIGHT))
    assert isinstance(result, dg.SkipReason)
    assert "MOCK_DATA_ENABLED=false" in result.skip_message


# --- scenario files -----------------------------------------------------------------------------


def evaluate(cursor: str | None = None) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(definitions=defs, cursor=cursor, instance=dg.DagsterInstance.ephemeral())
    return scenario_files_sensor(context)


def test_scenario_file_starts_one_run_and_bad_files_none(scenario_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCK_DATA_ENABLED", raising=False)
    good = copy.deepcopy(builtin_run_config("peak-season"))  # cached: it is also the profile job's default
    good["resources"]["scenario"]["config"]["seed"] = 11
    (scenario_dir / "peak.yaml").write_text(yaml.safe_dump(good))
    (scenario_dir / "typo.yaml").write_text("resources:\n  scenario:\n    config:\n      profile: peak-seasn\n")
    (scenario_dir / "unknown_key.yaml").write_text("resources:\n  scenario:\n    config:\n      colour: red\n")
    (scenario_dir / "custom_typo.yaml").write_text(
        "resources:\n  scenario:\n    config:\n      custom_profile: mien\n      custom_profiles: {mine: {}}\n"
    )
    (scenario_dir / "list.json").write_text("[1, 2]")
    (scenario_dir / "notes.txt").write_text("not a scenario")
    (scenario_dir / ".half-written.yaml").write_text("resources: {")

    first = evaluate()
    assert isinstance(first, dg.SensorResult)
    (request,) = first.run_requests
    assert request.run_config == good
    assert request.run_key.startswith("peak.yaml@")
    assert request.tags[TAG_SCENARIO_FILE] == str(scenario_dir / "peak.yaml")

    # Unchanged files start nothing; the bad ones are still reported with their reasons.
    second = evaluate(first.cursor)
    assert isinstance(second, dg.SensorResult)
    assert not second.run_requests
    reason = second.skip_reason.skip_message
    # A built-in profile is a Dagster Enum (refused as the launchpad would); a custom one is checked by name.
    assert "typo.yaml: invalid run config:" in reason and "config:profile not in enum type" in reason
    assert "got peak-seasn" in reason
    assert "custom_typo.yaml: scenario.custom_profile: unknown custom profile 'mien'; allowed: mine" in reason
    assert "unknown_key.yaml: invalid run config:" in reason and "colour" in reason
    assert "list.json: must be a run config mapping" in reason
    assert "notes.txt" not in reason and "half-written" not in reason

    # A changed file is a new run with a new run key.
    good["resources"]["scenario"]["config"]["seed"] = 12
    (scenario_dir / "peak.yaml").write_text(yaml.safe_dump(good))
    third = evaluate(second.cursor)
    (changed,) = third.run_requests
    assert changed.run_key != request.run_key and changed.run_key.startswith("peak.yaml@")

    # The file's content really is the run config: the requested run generates that scenario.
    result = defs.resolve_job_def(ALL_ASSETS_JOB).execute_in_process(
        run_config=changed.run_config, instance=dg.DagsterInstance.ephemeral(), asset_selection=[TENANTS]
    )
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == TENANTS]
    assert event.materialization.metadata["dataset_id"].value.startswith("peak-season_small_seed12_")


def test_scenario_sensor_skips_when_folder_missing_or_disabled(
    scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (scenario_dir / "small.yaml").write_text(yaml.safe_dump(builtin_run_config("small")))
    monkeypatch.setenv("MOCK_DATA_ENABLED", "false")
    disabled = evaluate()
    assert isinstance(disabled, dg.SkipReason) and "MOCK_DATA_ENABLED=false" in disabled.skip_message
    monkeypatch.setenv("MOCK_DATA_ENABLED", "true")
    monkeypatch.setenv("MOCK_PIPELINE_SCENARIO_DIR", str(scenario_dir / "missing"))
    missing = evaluate()
    assert isinstance(missing, dg.SkipReason) and "does not exist" in missing.skip_message


def test_scenario_folder_defaults_to_the_data_folder(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCK_PIPELINE_SCENARIO_DIR", raising=False)
    monkeypatch.delenv("MOCK_DATA_ENABLED", raising=False)
    (data_dir / "scenarios").mkdir(parents=True)
    (data_dir / "scenarios" / "small.yaml").write_text(yaml.safe_dump(builtin_run_config("small")))
    result = evaluate()
    assert [r.run_key.split("@")[0] for r in result.run_requests] == ["small.yaml"]


# --- republish when checks were fixed -----------------------------------------------------------


def test_republish_after_failing_checks_are_fixed(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCK_DATA_ENABLED", raising=False)
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_implicit_global_asset_job_def()
    run_config = {"resources": {"scenario": {"config": {"profile": "normal-ops", "seed": 5}}}}
    sensor = next(s for s in defs.sensors if s.name == "republish_when_checks_fixed")

    def evaluate_after(result: dg.ExecuteInProcessResult):
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_event=result.get_run_success_event(),
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
        )
        return sensor(context)

    # 1. Tenants generated and checked: all pass, nothing was broken, nothing to republish.
    first = job.execute_in_process(run_config=run_config, instance=instance, asset_selection=[TENANTS])
    assert first.success
    assert isinstance(evaluate_after(first), dg.SkipReason)

    # 2. Someone breaks the data (duplicate tenants); the blocking checks fail.
    (path,) = (data_dir / "datasets").glob("*/commerce/tenants/*.parquet")
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table]), path)
    tenant_checks = [c for c in defs.asset_checks if any(k.asset_key == TENANTS for k in c.check_keys)]
    tenants_asset = next(a for a in defs.assets if TENANTS in getattr(a, "keys", ()))
    checks_only = dg.materialize(
        [tenants_asset, *tenant_checks],
        resources={"scenario": ScenarioResource(), "data_dir": DataDirResource()},
        run_config=run_config,
        instance=instance,
        selection=dg.AssetSelection.checks_for_assets(TENANTS),
        raise_on_error=False,
    )
    failed = [e for e in checks_only.get_asset_check_evaluations() if not e.passed]
    assert any(e.check_name == "tenant_id_unique" for e in failed)

    # 3. Regenerating the table fixes them; that run did not publish, so the sensor asks for it.
    fixed = job.execute_in_process(run_config=run_config, instance=instance, asset_selection=[TENANTS])
    assert fixed.success
    requests = evaluate_after(fixed)
    assert isinstance(requests, list)
    (request,) = requests
    assert request.job_name == publish_job_name("commerce")
    assert request.run_config == run_config
    assert request.run_key == f"{fixed.run_id}:commerce"
    dg.validate_run_config(defs.resolve_job_def(publish_job_name("commerce")), request.run_config)

    # Disabled mock data: the same evaluation skips with the reason.
    monkeypatch.setenv("MOCK_DATA_ENABLED", "no")
    assert isinstance(evaluate_after(fixed), dg.SkipReason)


def test_each_scenario_file_is_judged_on_its_own(scenario_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's files: a bad file is reported in the tick and never stops the good file beside it,
    and the sensor refuses what a run would refuse (NaN, an unknown export format, a date out of range)."""
    monkeypatch.delenv("MOCK_DATA_ENABLED", raising=False)
    good = builtin_run_config("small")
    (scenario_dir / "b_good.yaml").write_text(yaml.safe_dump(good))
    scenario = "resources:\n  scenario:\n    config:\n"
    (scenario_dir / "a_far_future.yaml").write_text(scenario + "      as_of: 9999-12-31\n")  # a YAML date
    (scenario_dir / "c_nan.yaml").write_text(scenario + "      volume_multiplier: .nan\n")
    (scenario_dir / "d_xlsx.yaml").write_text("ops:\n  commerce__exported_files:\n    config: {format: xlsx}\n")
    (scenario_dir / "e_records.yaml").write_text(
        "ops:\n  scrum__exported_files:\n    config: {max_records_per_file: 0}\n"
    )
    (scenario_dir / "f_binary.yaml").write_bytes(b"\xff\xfe\x00resources")
    (scenario_dir / "g_huge.yaml").write_text(
        scenario + "      overrides: {commerce.customers_per_tenant: 1000000000000}\n"
    )

    result = evaluate()
    assert isinstance(result, dg.SensorResult)
    assert [r.run_key.split("@")[0] for r in result.run_requests] == ["b_good.yaml"]

    summary = evaluate(result.cursor).skip_reason.skip_message
    reasons = dict(
        part.split(": ", 1) for part in summary.split("bad files (fix them to start a run): ")[1].split(" | ")
    )
    assert sorted(reasons) == ["a_far_future.yaml", "c_nan.yaml", "d_xlsx.yaml", "e_records.yaml", "f_binary.yaml",
                               "g_huge.yaml"]  # fmt: skip
    assert "invalid run config:" in reasons["a_far_future.yaml"] and "config:as_of" in reasons["a_far_future.yaml"]
    assert reasons["c_nan.yaml"].startswith("scenario.volume_multiplier: got nan; allowed:")
    assert "config:format not in enum" in reasons["d_xlsx.yaml"] and "xlsx" in reasons["d_xlsx.yaml"]
    assert reasons["e_records.yaml"].startswith("ops.scrum__exported_files.config.max_records_per_file: got 0")
    assert reasons["f_binary.yaml"].startswith("is not UTF-8 text")
    assert reasons["g_huge.yaml"].startswith(
        "scenario.overrides.commerce.customers_per_tenant: 1,000,000,000,000 makes about"
    )


def test_scenario_folder_that_is_a_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCK_DATA_ENABLED", raising=False)
    (tmp_path / "watched").write_text("not a folder")
    monkeypatch.setenv("MOCK_PIPELINE_SCENARIO_DIR", str(tmp_path / "watched"))
    skipped = evaluate()
    assert isinstance(skipped, dg.SkipReason)
    assert skipped.skip_message.startswith("MOCK_PIPELINE_SCENARIO_DIR: ") and "is a file" in skipped.skip_message
