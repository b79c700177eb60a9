"""Sensors: scenario files dropped into a folder start runs; fixed checks re-run publishing.

Both are off by default (Dagster's convention) and skip, with the reason, while MOCK_DATA_ENABLED
is false.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from mock_pipeline.domains.factory import Domain
from mock_pipeline.jobs import ALL_ASSETS_JOB, TAG_DOMAIN, job_named, publish_job_name, table_keys
from mock_pipeline.preflight import run_problems
from mock_pipeline.resources import DataDirResource
from mock_pipeline.toggle import disabled_reason

SCENARIO_DIR_ENV = "MOCK_PIPELINE_SCENARIO_DIR"
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
TAG_SCENARIO_FILE = "mock_pipeline/scenario_file"
TAG_FIXED_BY_RUN = "mock_pipeline/checks_fixed_by_run"


def scenario_dir() -> Path:
    """The watched folder: $MOCK_PIPELINE_SCENARIO_DIR, default <data folder>/scenarios."""
    configured = os.environ.get(SCENARIO_DIR_ENV)
    return Path(configured).absolute() if configured else DataDirResource().path / "scenarios"


def _config_errors(error: dg.DagsterInvalidConfigError) -> str:
    return "; ".join(e.message.replace("\n", " ").strip() for e in error.errors) or str(error)


def check_scenario_file(text: str, job: dg.JobDefinition) -> tuple[dict[str, Any] | None, str | None]:
    """(run config, None) for a good file, (None, reason) for a bad one. Nothing runs either way.

    A file passes when it is a YAML/JSON mapping that Dagster accepts as the job's run config and
    that a run would not refuse when it starts: the same `preflight.run_problems` (scenario, size
    guard, export options, environment, domain limits, the data folder's room).
    """
    try:
        run_config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, f"not valid YAML: {str(exc).splitlines()[0]}"
    if not isinstance(run_config, dict):
        return None, "must be a run config mapping such as {resources: {scenario: {config: {profile: peak-season}}}}"
    try:
        dg.validate_run_config(job, run_config)
    except dg.DagsterInvalidConfigError as exc:
        return None, f"invalid run config: {_config_errors(exc)}"
    problems = run_problems(run_config)
    if problems:
        return None, "; ".join(str(p) for p in problems)
    return run_config, None


def _judge(path: Path, job: dg.JobDefinition) -> tuple[str, dict[str, Any] | None, str | None]:
    """(content digest, run config, problem) of one file, judged on its own: whatever goes wrong
    with it (unreadable, undecodable, a check that fails unexpectedly) is its problem, not the tick's."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return "unreadable", None, f"cannot be read: {exc.strerror or exc}"
    digest = hashlib.sha256(data).hexdigest()[:16]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return digest, None, f"is not UTF-8 text (byte {exc.start}); allowed: a UTF-8 YAML or JSON run config"
    try:
        run_config, problem = check_scenario_file(text, job)
    except Exception as exc:  # one bad file must never stop the others
        first_line = next(iter(str(exc).splitlines()), "")
        return digest, None, f"could not be checked ({type(exc).__name__}: {first_line})"
    return digest, run_config, problem


@dg.sensor(
    name="scenario_files",
    job_name=ALL_ASSETS_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        f"One run of {ALL_ASSETS_JOB} per new or changed scenario file (*.yaml, *.yml, *.json) in "
        f"${SCENARIO_DIR_ENV} (default <data folder>/scenarios); the file is the run config. "
        "A bad file is reported with its reason and starts nothing."
    ),
)
def scenario_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    reason = disabled_reason()
    if reason is not None:
        return dg.SkipReason(reason)
    folder = scenario_dir()
    if folder.exists() and not folder.is_dir():
        return dg.SkipReason(f"{SCENARIO_DIR_ENV}: {folder} is a file; allowed: a folder of scenario files")
    if not folder.is_dir():
        return dg.SkipReason(f"watched folder {folder} does not exist yet; create it and drop scenario files there")
    job = context.repository_def.get_job(ALL_ASSETS_JOB)
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, str] = {}
    requests: list[dg.RunRequest] = []
    problems: list[str] = []
    for path in sorted(folder.iterdir()):
        # Editors and copies write hidden or temporary files first; only finished files count.
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in SCENARIO_SUFFIXES:
            continue
        name = path.relative_to(folder).as_posix()
        digest, run_config, problem = _judge(path, job)
        current[name] = digest
        if problem is not None or run_config is None:
            problems.append(f"{name}: {problem}")
            if seen.get(name) != digest:
                context.log.error(f"scenario file {name} starts no run: {problem}")
            continue
        if seen.get(name) == digest:
            continue
        # The run key makes the same content never run twice, even if the cursor is reset.
        requests.append(
            dg.RunRequest(
                run_key=f"{name}@{digest}",
                run_config=run_config,
                tags={TAG_SCENARIO_FILE: str(path)},
            )
        )
    cursor = json.dumps(current, sort_keys=True)
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=cursor)
    summary = "no new or changed scenario files in " + str(folder)
    if problems:
        summary += "; bad files (fix them to start a run): " + " | ".join(problems)
    return dg.SensorResult(skip_reason=summary, cursor=cursor)


def _domain_of(key: dg.AssetKey, domains: tuple[Domain, ...]) -> Domain | None:
    for domain in domains:
        if key in table_keys(domain):
            return domain
    return None


def _check_fixed(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, run_id: str) -> bool:
    """True when this check's evaluation before `run_id` failed."""
    history = instance.event_log_storage.get_asset_check_execution_history(check_key, limit=10)
    for record in history:  # newest first
        if record.run_id == run_id:
            continue
        return record.status.value == "FAILED"
    return False


def republish_sensor(domains: tuple[Domain, ...]) -> dg.RunStatusSensorDefinition:
    """A run-status sensor: when a successful run made a domain's failing checks pass without
    publishing, publish that domain with the same scenario (blocking checks held it back before).

    Not an AutomationCondition: declarative automation launches runs without run config, so it
    could not republish the fixing run's scenario (docs/automation.md says why in full).
    """

    @dg.run_status_sensor(
        name="republish_when_checks_fixed",
        run_status=dg.DagsterRunStatus.SUCCESS,
        request_jobs=[job_named(domains, publish_job_name(d.name)) for d in domains],
        default_status=dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=30,
        description=(
            "After a successful run in which a domain's previously failing checks pass and its "
            "publishing did not run, run publish_<domain> with the same scenario."
        ),
    )
    def republish_when_checks_fixed(context: dg.RunStatusSensorContext) -> list[dg.RunRequest] | dg.SkipReason:
        reason = disabled_reason()
        if reason is not None:
            return dg.SkipReason(reason)
        run = context.dagster_run
        events = context.instance.all_logs(
            run.run_id, of_type={dg.DagsterEventType.ASSET_CHECK_EVALUATION, dg.DagsterEventType.ASSET_MATERIALIZATION}
        )
        materialized: set[dg.AssetKey] = set()
        evaluations: dict[str, list[tuple[dg.AssetCheckKey, bool]]] = {}
        for entry in events:
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                materialized.add(event.asset_key)
                continue
            evaluation = event.event_specific_data
            domain = _domain_of(evaluation.asset_key, domains)
            if domain is not None:
                key = dg.AssetCheckKey(evaluation.asset_key, evaluation.check_name)
                evaluations.setdefault(domain.name, []).append((key, evaluation.passed))
        requests = []
        resources = (run.run_config or {}).get("resources", {})
        for domain in domains:
            results = evaluations.get(domain.name, [])
            if not results or not all(passed for _, passed in results):
                continue
            tables = set(table_keys(domain))
            if any(k.path[0] == domain.name and k not in tables for k in materialized):
                continue  # this run published (or reported) the domain itself
            if not any(_check_fixed(context.instance, key, run.run_id) for key, _ in results):
                continue
            context.log.info(f"{domain.name}: checks fixed by run {run.run_id}; publishing again")
            requests.append(
                dg.RunRequest(
                    run_key=f"{run.run_id}:{domain.name}",
                    job_name=publish_job_name(domain.name),
                    run_config={"resources": resources} if resources else {},
                    tags={TAG_FIXED_BY_RUN: run.run_id, TAG_DOMAIN: domain.name},
                )
            )
        if not requests:
            return dg.SkipReason(f"run {run.run_id} fixed no failing checks that held back publishing")
        return requests

    return republish_when_checks_fixed


def build_sensors(domains: tuple[Domain, ...]) -> list[dg.SensorDefinition]:
    return [scenario_files_sensor, republish_sensor(domains)]
