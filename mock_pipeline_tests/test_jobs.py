"""Jobs: one per built-in profile (configured, so the launchpad offers it), per domain, for all."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from mock_pipeline.definitions import DOMAINS, defs
from mock_pipeline.jobs import (
    ALL_ASSETS_JOB,
    builtin_run_config,
    domain_job_name,
    profile_job_name,
    publish_job_name,
)
from mock_pipeline.preflight import checked_in_process_executor
from mock_pipeline.scenarios.model import builtin_profiles

RUN_CONFIGS = Path(__file__).parents[1] / "mock_pipeline" / "scenarios" / "run_configs"


def asset_keys(job_name: str) -> set[dg.AssetKey]:
    return set(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)


def test_one_job_per_profile_per_domain_and_one_for_everything() -> None:
    names = {job.name for job in defs.jobs}
    expected = {ALL_ASSETS_JOB}
    expected |= {profile_job_name(p) for p in builtin_profiles()}
    expected |= {domain_job_name(d.name) for d in DOMAINS} | {publish_job_name(d.name) for d in DOMAINS}
    assert expected <= names
    # Seed 001's six profiles, by name.
    assert {
        "profile_normal_ops",
        "profile_peak_season",
        "profile_anomaly_heavy",
        "profile_warehouse_outage",
        "profile_growth_phase",
        "profile_payment_crisis",
    } <= names


@pytest.mark.parametrize("profile", sorted(builtin_profiles()))
def test_profile_job_carries_its_profile_as_default_run_config(profile: str) -> None:
    job = defs.resolve_job_def(profile_job_name(profile))
    config = job.run_config
    assert config is not None, "without a default config the launchpad would not offer the profile"
    assert config["resources"]["scenario"]["config"]["profile"] == profile
    dg.validate_run_config(job, config)


def test_every_job_runs_in_process() -> None:
    for job in defs.jobs:
        if job.name == "mock_data_cleanup":
            continue  # another module's job; its executor is its own choice
        # dg.in_process_executor behind the run gate (mock_pipeline.preflight)
        assert defs.resolve_job_def(job.name).executor_def is checked_in_process_executor, job.name


def test_selections_cover_domains_and_publishing() -> None:
    every_asset = set(defs.resolve_implicit_global_asset_job_def().asset_layer.selected_asset_keys)
    assert asset_keys(ALL_ASSETS_JOB) == every_asset
    for profile in builtin_profiles():
        assert asset_keys(profile_job_name(profile)) == every_asset
    for domain in DOMAINS:
        tables = {domain.key(t.name) for t in domain.tables}
        in_domain = asset_keys(domain_job_name(domain.name))
        assert tables <= in_domain
        assert domain.key("exported_files") in in_domain
        assert all(k.path[0] == domain.name for k in in_domain), "a domain job must not generate other domains"
        publishing = asset_keys(publish_job_name(domain.name))
        assert domain.key("exported_files") in publishing
        assert not publishing & tables, "re-publishing must not regenerate tables"


@pytest.mark.parametrize("path", sorted(RUN_CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_run_config_is_valid_for_the_all_assets_job(path: Path) -> None:
    dg.validate_run_config(defs.resolve_job_def(ALL_ASSETS_JOB), builtin_run_config(path.stem))


def test_profile_job_without_config_generates_that_profile(data_dir: Path) -> None:
    """The launchpad's default is the profile: launching with no edits yields a peak-season dataset."""
    job = defs.resolve_job_def("profile_peak_season")
    tenants = dg.AssetKey(["commerce", "tenants"])
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), asset_selection=[tenants])
    assert result.success
    (materialization,) = [
        m.materialization for m in result.get_asset_materialization_events() if m.asset_key == tenants
    ]
    assert materialization.metadata["profile"].value == "peak-season"
    dataset = (data_dir / "datasets").iterdir().__next__()
    assert dataset.name.startswith("peak-season_small_seed42_")
    assert (
        pq.read_table(dataset / "commerce" / "tenants").num_rows == materialization.metadata["dagster/row_count"].value
    )


def test_every_default_run_config_logs_at_info() -> None:
    """Runs print progress and results, not every step event: the launchpad's defaults and the nightly run."""
    nightly_staging_refresh = defs.resolve_schedule_def("nightly_staging_refresh")
    names = [job.name for job in defs.jobs if job.name != "mock_data_cleanup"]
    configs = {name: defs.resolve_job_def(name).run_config for name in names}
    request = nightly_staging_refresh(dg.build_schedule_context(scheduled_execution_time=dt.datetime(2025, 3, 10, 3)))
    assert isinstance(request, dg.RunRequest)
    configs["nightly_staging_refresh"] = request.run_config
    for name, config in configs.items():
        assert config["loggers"]["console"]["config"]["log_level"] == "INFO", name
    dg.validate_run_config(defs.resolve_job_def(ALL_ASSETS_JOB), request.run_config)
