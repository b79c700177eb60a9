"""The `mock-pipeline` command: seeds 000, 001, 003 and 004's own interfaces as thin fronts over the assets.

Every flag maps onto the documented run config (`--print-config` shows it); `generate` runs the
same assets on the same Dagster instance as `dagster asset materialize`, so the files are the
same bytes and the run shows in the UI. Nothing here generates data by itself.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import yaml

from mock_pipeline.cli_standalone import CliError, import_schema, serve
from mock_pipeline.resources import DATA_DIR_ENV
from mock_pipeline.scenarios.model import ScenarioError, build_scenario, builtin_profiles, resolve_profile, size_presets
from mock_pipeline.toggle import MOCK_DATA_ENABLED_ENV, disabled_reason

DOMAIN_NAMES = ("commerce", "erp", "maintenance", "scrum")
EXPORT_FORMATS = ("csv", "ndjson", "json", "xml", "parquet")
DEFINITIONS_MODULE = "mock_pipeline.definitions"
CONFIRM_TOKEN = "DELETE_ALL_MOCK_DATA"
UPLOAD_URL_ENV = "MOCK_PIPELINE_UPLOAD_API_URL"
UPLOAD_KEY_ENV = "MOCK_PIPELINE_UPLOAD_API_KEY"
# Which flag set which scenario field: a ScenarioError names the field, the user wrote the flag.
SCENARIO_FLAGS = {
    "profile": "--scenario",
    "size": "--preset",
    "seed": "--seed",
    "as_of": "--to",
    "start_date": "--from",
    "volume_multiplier": "--multiplier",
    "run_tag": "--run-tag",
    "locale": "--locale",
}
# Size flags of seeds 000 and 003, as scenario `overrides` knobs.
KNOB_FLAGS = {
    "users": "maintenance.users",
    "items": "maintenance.items",
    "tickets": "maintenance.tickets",
    "parts_per_item": "maintenance.parts_per_item",
    "categories": "maintenance.categories",
    "lookback_days": "maintenance.lookback_days",
    "batch_size": "maintenance.batch_size",
    "tenants": "commerce.tenants",
    "products_per_tenant": "commerce.products_per_tenant",
    "orders_per_tenant": "commerce.orders_per_tenant",
    "customers_per_tenant": "commerce.customers_per_tenant",
}
PROGRESS = re.compile(r"^[\w.]+: [\d,]+ rows \(")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Realistic, reproducible mock data: generate it, validate a scenario, serve it over HTTP."""
    warnings.filterwarnings("ignore", category=Warning, module=r"dagster\..*")


# --- the run config every other command is a front to ---------------------------------------------
def scenario_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--scenario",
            "--profile",
            "profile",
            help="Built-in profile (the SynergyFlow CLI's --scenario), default normal-ops.",
        ),
        click.option(
            "--preset",
            "--size",
            "size",
            help="Size preset: small, medium, large (the shop generator's), default small.",
        ),
        click.option("--seed", type=click.IntRange(min=0), help="Random seed, default 42."),
        click.option("--from", "start_date", help="First day of the window (ISO date), default a year before --to."),
        click.option("--to", "as_of", help="Last day of the window (ISO date), default 2024-12-31."),
        click.option("--multiplier", type=float, help="Volume multiplier (the SynergyFlow CLI's), default 1."),
        click.option(
            "--run-tag", help="Namespace of generated maintenance names (the maintenance command's), default mock."
        ),
        click.option("--locale", help="Faker locale; default per domain."),
        click.option(
            "--chunk-size-rows",
            "chunk_size",
            type=click.IntRange(min=1),
            help="Rows per generation chunk (memory only).",
        ),
        *(
            click.option(
                f"--{name.replace('_', '-')}", name, type=click.IntRange(min=1), help=f"Scenario override {knob}."
            )
            for name, knob in KNOB_FLAGS.items()
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def export_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--format", "export_format", type=click.Choice(EXPORT_FORMATS), help="Files export format, default csv."
        ),
        click.option("--gzip", "--compress", "compress", is_flag=True, default=None, help="Gzip the exported files."),
        click.option(
            "--max-records-per-file",
            "--chunk-size",
            "max_records_per_file",
            type=click.IntRange(min=1),
            help="Records per exported file (the shop generator's --chunk-size), default 10000.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def scenario_config(values: Mapping[str, Any]) -> dict[str, Any]:
    """The `scenario` resource config the flags set (unset flags keep the documented defaults)."""
    config = {k: values[k] for k in (*SCENARIO_FLAGS, "chunk_size") if values.get(k) is not None}
    if "multiplier" in values and values["multiplier"] is not None:
        config["volume_multiplier"] = values["multiplier"]
    overrides = {knob: values[name] for name, knob in KNOB_FLAGS.items() if values.get(name) is not None}
    if overrides:
        config["overrides"] = overrides
    return config


def run_config(values: Mapping[str, Any], domains: list[str]) -> dict[str, Any]:
    config: dict[str, Any] = {"resources": {"scenario": {"config": scenario_config(values)}}}
    export = {
        k: v
        for k, v in {
            "format": values.get("export_format"),
            "compress": values.get("compress"),
            "max_records_per_file": values.get("max_records_per_file"),
        }.items()
        if v is not None
    }
    if export:
        config["ops"] = {f"{d}__exported_files": {"config": dict(export)} for d in domains}
    return config


def flag_of(field: str) -> str:
    if field.startswith("overrides."):
        knob = field.removeprefix("overrides.")
        return next((f"--{n.replace('_', '-')}" for n, k in KNOB_FLAGS.items() if k == knob), field)
    return SCENARIO_FLAGS.get(field, field)


def scenario_refusal(exc: ScenarioError) -> CliError:
    """Every problem of a scenario error, one line each, naming the flag the user wrote."""
    lines = [f"{flag_of(p.field.removeprefix('scenario.'))}: {p.message}" for p in dict.fromkeys(exc.problems)]
    if len(lines) == 1:
        return CliError(lines[0])
    return CliError(f"{len(lines)} problems, nothing was written:\n" + "\n".join(lines))


def check_config(config: Mapping[str, Any]) -> Any:
    """The resolved scenario, or every problem naming its flag (as `dagster asset materialize` would refuse)."""
    try:
        return build_scenario(**config["resources"]["scenario"]["config"])
    except ScenarioError as exc:
        raise scenario_refusal(exc) from None


def check_domains(scenario: Any, names: list[str]) -> None:
    """A domain may refuse a scenario it cannot honour (its limits): said here, before the run starts."""
    from mock_pipeline.api.catalog import domains

    for name in names:
        try:
            domains()[name].model(scenario)
        except ScenarioError as exc:
            raise scenario_refusal(exc) from None


def selection(domain: str, upload: bool, dry_run: bool) -> str:
    """The asset selection of `generate`: the domain's group, without the HTTP upload unless --upload,
    without the database load under --dry-run."""
    parts = ["*" if domain == "all" else f"group:{domain}"]
    prefix = "*" if domain == "all" else domain
    if not upload:
        parts.append(f'not key:"{prefix}/http_upload"')
    if dry_run:
        parts.append(f'not key:"{prefix}/database_tables"')
    return " and ".join(parts)


def materialize_command(select: str, config_file: str = "run.yaml") -> str:
    return shlex.join(
        ["dagster", "asset", "materialize", "-m", DEFINITIONS_MODULE, "--select", select, "-c", config_file]
    )


# --- scenarios and validate -------------------------------------------------------------------------
@main.command()
def scenarios() -> None:
    """The built-in profiles (the SynergyFlow generator's) and size presets (the shop generator's)."""
    click.echo("profiles (--scenario):")
    for name in builtin_profiles():
        p = resolve_profile(name)
        click.echo(
            f"  {name:<18} anomaly rate {p.anomaly_rate:>4.0%}  order volume x{p.order_volume:g}  {p.description}"
        )
    click.echo("presets (--preset):")
    for name, knobs in size_presets().items():
        c = knobs["commerce"]
        click.echo(
            f"  {name:<8} commerce {c['tenants']} x ({c['products_per_tenant']:,} products, "
            f"{c['orders_per_tenant']:,} orders, {c['customers_per_tenant']:,} customers); "
            f"erp volume {knobs['erp']['volume']}; maintenance {knobs['maintenance']['tickets']:,} tickets; "
            f"scrum {knobs['scrum']['projects']} projects / {knobs['scrum']['issues']:,} issues"
        )


def _domains(domain: str) -> list[str]:
    return list(DOMAIN_NAMES) if domain == "all" else [domain]


@main.command()
@click.argument("domain", type=click.Choice([*DOMAIN_NAMES, "all"]), default="all", metavar="DOMAIN")
@scenario_options
@export_options
def validate(domain: str, **values: Any) -> None:
    """Resolve the config and print what would be generated: rows and bytes per table. Writes nothing.

    DOMAIN: commerce, erp, maintenance, scrum or all (default).
    """
    from mock_pipeline.api.catalog import domains as all_domains
    from mock_pipeline.api.render import render
    from mock_pipeline.api.rows import GeneratedRows
    from mock_pipeline.publish.files import ExportError, ExportOptions

    config = run_config(values, _domains(domain))
    scenario = check_config(config)
    fmt = values.get("export_format") or "csv"
    try:
        ExportOptions(fmt, bool(values.get("compress")), values.get("max_records_per_file") or 10_000).validate()
    except ExportError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"dataset {scenario.dataset_id}: profile {scenario.profile.name}, preset {scenario.size}, "
               f"seed {scenario.seed}, {scenario.window.start} to {scenario.window.end}")  # fmt: skip
    sample_format = fmt if fmt in ("csv", "json", "ndjson", "xml") else "csv"
    grand_rows = grand_bytes = 0
    for name in _domains(domain):
        d = all_domains()[name]
        check_domains(scenario, [name])
        model = d.model(scenario)
        lock = threading.Lock()
        click.echo(f"{name}:")
        for spec in d.tables:
            if spec.build is None:
                click.echo(f"  {spec.name:<24} {spec.slots(model):>12,} rows at most (derived from the tables above)")
                continue
            rows = GeneratedRows(spec, model, lock)
            total = rows.total()
            sample = rows.page(0, 1000)
            # Bytes as the files export would write them (uncompressed), from the first rows' average.
            per_row = len(render(sample, sample_format, spec.name, spec.key)) / max(sample.num_rows, 1)
            size = round(per_row * total)
            grand_rows, grand_bytes = grand_rows + total, grand_bytes + size
            click.echo(f"  {spec.name:<24} {total:>12,} rows  ~{_bytes(size):>9} {sample_format}")
    click.echo(f"total: {grand_rows:,} generated rows, ~{_bytes(grand_bytes)} of {sample_format} before compression")


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GiB"


# --- generate ---------------------------------------------------------------------------------------
@main.command()
@click.argument("domain", type=click.Choice([*DOMAIN_NAMES, "all"]), metavar="DOMAIN")
@scenario_options
@export_options
@click.option("--upload", is_flag=True, help="Also send every table to an HTTP API (the shop generator's bulk upload).")
@click.option("--api-url", help="Base URL of that API (sets MOCK_PIPELINE_UPLOAD_API_URL for the run).")
@click.option("--api-key-env", help="Name of the environment variable that holds the API key (never the key itself).")
@click.option("--dry-run/--no-dry-run", default=False, help="Everything but the database load (the SynergyFlow CLI's).")
@click.option(
    "--print-config", is_flag=True, help="Print the run config and the equivalent dagster command; run nothing."
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Default $MOCK_PIPELINE_DATA_DIR or ./data."
)
def generate(
    domain: str,
    upload: bool,
    api_url: str | None,
    api_key_env: str | None,
    dry_run: bool,
    print_config: bool,
    data_dir: Path | None,
    **values: Any,
) -> None:
    """Generate a domain (or all), check it and publish it: the same assets as the Dagster UI.

    DOMAIN: commerce, erp, maintenance, scrum or all.
    """
    from mock_pipeline.publish.files import ExportError, ExportOptions

    domains = _domains(domain)
    config = run_config(values, domains)
    check_domains(check_config(config), domains)
    try:
        ExportOptions(
            values.get("export_format") or "csv",
            bool(values.get("compress")),
            values.get("max_records_per_file") or 10_000,
        ).validate()
    except ExportError as exc:
        raise CliError(str(exc)) from None
    if (api_url or api_key_env) and not upload:
        raise CliError("--api-url/--api-key-env: only with --upload")
    env: dict[str, str] = {}
    if upload and api_url:
        if not re.match(r"^https?://[^\s/]+", api_url):
            raise CliError(f"--api-url: {api_url!r} is not a URL; allowed: http://host[:port][/path] or https://...")
        env[UPLOAD_URL_ENV] = api_url
    if api_key_env:
        if api_key_env not in os.environ:
            raise CliError(f"--api-key-env: the variable {api_key_env} is not set; allowed: the name of a set variable")
        env[UPLOAD_KEY_ENV] = os.environ[api_key_env]
    select = selection(domain, upload, dry_run)
    if data_dir is not None:
        env[DATA_DIR_ENV] = str(data_dir.absolute())
    if print_config:
        names = [n for n in env if n != UPLOAD_KEY_ENV]
        settings = " ".join(f"{n}={shlex.quote(env[n])}" for n in names)
        if api_key_env:
            settings += f' {UPLOAD_KEY_ENV}="${api_key_env}"'
        click.echo(f"# {(settings + ' ') if settings else ''}{materialize_command(select)}")
        click.echo(yaml.safe_dump(config, sort_keys=False), nl=False)
        return
    os.environ.update(env)  # read when the definitions load, as the dagster command would
    sys.exit(_run(select, config))


@contextmanager
def _instance() -> Iterator[Any]:
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        with dg.DagsterInstance.get() as instance:
            yield instance
    else:
        with dg.DagsterInstance.ephemeral() as instance:
            yield instance


def _run(select: str, config: dict[str, Any]) -> int:
    """Run the selection on the instance in this process, showing progress; 0 only if every step and check passed."""
    import dagster as dg

    from mock_pipeline.definitions import defs

    keys = dg.AssetSelection.from_string(select).resolve(defs.resolve_asset_graph())
    job = defs.resolve_implicit_global_asset_job_def()
    run_id = str(uuid.uuid4())
    # The progress display below replaces Dagster's console log (failures are shown there, in one line each).
    execution = {**config, "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    with _instance() as instance:
        done = threading.Event()
        follower = threading.Thread(target=_follow, args=(instance, run_id, done), daemon=True)
        follower.start()
        started = time.perf_counter()
        result = job.execute_in_process(
            run_config=execution,
            instance=instance,
            asset_selection=list(keys),
            run_id=run_id,
            raise_on_error=False,
            tags={"mock_pipeline/trigger": "cli"},
        )
        done.set()
        follower.join()
        failed_checks = [
            f"{e.asset_key.to_user_string()}:{e.check_name}"
            for e in result.get_asset_check_evaluations()
            if not e.passed
        ]
        elapsed = time.perf_counter() - started
        where = "on the instance at $DAGSTER_HOME" if os.environ.get("DAGSTER_HOME") else "on an ephemeral instance"
        if result.success and not failed_checks:
            click.echo(f"run {run_id} succeeded in {elapsed:,.1f} s ({len(keys)} assets, {where})")
            return 0
        failed_steps = [e.step_key for e in result.all_events if e.is_step_failure]
        click.echo(
            f"run {run_id} FAILED after {elapsed:,.1f} s ({where}): "
            + "; ".join(
                [*(f"step {s} failed" for s in failed_steps), *(f"check {c} failed" for c in failed_checks)]
                or ["see the run's events"]
            ),
            err=True,
        )
        return 1


def _follow(instance: Any, run_id: str, done: threading.Event) -> None:
    """Print the run's progress from its event log: the step in progress, rows and rows/s per table."""
    cursor: str | None = None
    while True:
        finished = done.is_set()
        connection = instance.get_records_for_run(run_id, cursor=cursor)
        cursor = connection.cursor
        for record in connection.records:
            line = _progress_line(record.event_log_entry)
            if line:
                click.echo(line)
        if finished and not connection.has_more:
            return
        if not connection.has_more:
            done.wait(0.3)


def _progress_line(entry: Any) -> str | None:
    event = entry.dagster_event
    if event is None:
        message = entry.user_message or ""
        return f"    {message}" if PROGRESS.match(message) else None
    kind = event.event_type_value
    if kind == "STEP_START":
        return f"  step {event.step_key} ..."
    if kind == "ASSET_MATERIALIZATION":
        meta = event.event_specific_data.materialization.metadata
        rows = meta.get("dagster/row_count")
        rate = meta.get("rows_per_second")
        text = f"  {event.asset_key.to_user_string()}: {rows.value:,} rows" if rows is not None else ""
        if rate is not None and text:
            text += f", {rate.value:,} rows/s"
        return text or f"  {event.asset_key.to_user_string()}: materialised"
    if kind == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
        data = event.event_specific_data
        return f"  check {data.asset_key.to_user_string()}:{data.check_name} FAILED"
    if kind == "STEP_FAILURE":
        error = event.event_specific_data.error
        message = (error.message if error else "").strip().splitlines()
        return f"  step {event.step_key} FAILED: {message[0] if message else ''}"
    return None


# --- status, cleanup, toggle --------------------------------------------------------------------------
@main.command()
@click.argument("run_id", required=False)
@click.option(
    "--limit", default=10, show_default=True, type=click.IntRange(1, 1000), help="Runs listed without RUN_ID."
)
def status(run_id: str | None, limit: int) -> None:
    """A run's status and steps (the SynergyFlow CLI's status), or the latest runs, from the instance at $DAGSTER_HOME."""
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        raise CliError("DAGSTER_HOME: not set; status reads the runs of that instance (an ephemeral one keeps none)")
    with dg.DagsterInstance.get() as instance:
        if run_id is None:
            runs = instance.get_runs(limit=limit)
            if not runs:
                click.echo("no runs on this instance")
            for run in runs:
                click.echo(f"{run.run_id}  {run.status.value:<10} {run.job_name}  {_when(instance, run.run_id)}")
            return
        run = instance.get_run_by_id(run_id)
        if run is None:
            raise CliError(f"RUN_ID: no run {run_id!r} on this instance; allowed: an id from `mock-pipeline status`")
        click.echo(f"run {run.run_id}: {run.status.value} ({run.job_name}) {_when(instance, run.run_id)}")
        for stats in instance.get_run_step_stats(run.run_id):
            seconds = (stats.end_time - stats.start_time) if stats.end_time and stats.start_time else None
            took = f" in {seconds:,.1f} s" if seconds is not None else ""
            click.echo(f"  {stats.step_key:<40} {stats.status.value if stats.status else 'UNKNOWN'}{took}")
        if run.status.value not in ("SUCCESS", "STARTED", "QUEUED", "NOT_STARTED", "STARTING"):
            sys.exit(1)


def _when(instance: Any, run_id: str) -> str:
    record = instance.get_run_record_by_id(run_id)
    start = record.start_time if record is not None else None
    return dt.datetime.fromtimestamp(start, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if start else ""


@main.command()
@click.option("--confirm", required=True, help=f"Must be exactly {CONFIRM_TOKEN}.")
@scenario_options
def cleanup(confirm: str, **values: Any) -> None:
    """Drop all mock data from the database (the SynergyFlow CLI's cleanup): the mock_data_cleanup job."""
    if confirm != CONFIRM_TOKEN:
        raise CliError(f"--confirm: must be exactly {CONFIRM_TOKEN}; nothing was deleted")
    config = run_config(values, [])
    check_config(config)
    config["ops"] = {"delete_all_mock_data": {"config": {"confirm": confirm}}}
    from mock_pipeline.definitions import defs

    job = defs.resolve_job_def("mock_data_cleanup")
    with _instance() as instance:
        result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
        for event in result.all_events:
            if event.event_type_value == "STEP_FAILURE":
                error = event.event_specific_data.error
                raise click.ClickException(error.message.strip().splitlines()[0] if error else "cleanup failed")
    click.echo(f"cleanup run {result.run_id} succeeded")


@main.command()
@click.option("--enable/--disable", "enable", required=True, help="Start or stop every schedule and sensor.")
def toggle(enable: bool) -> None:
    """Start or stop the schedules and sensors on the instance (the SynergyFlow CLI's toggle)."""
    import subprocess

    if not os.environ.get("DAGSTER_HOME"):
        raise CliError("DAGSTER_HOME: not set; schedules and sensors are switched on that instance")
    verb = "start" if enable else "stop"
    from mock_pipeline.definitions import defs

    for kind, names in (
        ("schedule", [s.name for s in defs.schedules or []]),
        ("sensor", [s.name for s in defs.sensors or []]),
    ):
        for name in names:
            done = subprocess.run(
                [sys.executable, "-m", "dagster", kind, verb, name, "-m", DEFINITIONS_MODULE],
                capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode != 0 and "already" not in (done.stdout + done.stderr).lower():
                lines = (done.stderr or done.stdout).strip().splitlines()
                raise click.ClickException(f"{kind} {name}: {lines[-1] if lines else 'failed'}")
            click.echo(f"{kind} {name}: {'started' if enable else 'stopped'}")
    reason = disabled_reason()
    if reason is None:
        click.echo(f"{MOCK_DATA_ENABLED_ENV}: not forcing anything here (unset or true): runs and loads are allowed")
    else:
        click.echo(f"{reason}; schedules and sensors skip, generation and database loads refuse while it is set")


# serve and import-schema need no run config: they live in cli_standalone.
main.add_command(serve)
main.add_command(import_schema)

if __name__ == "__main__":
    main()
