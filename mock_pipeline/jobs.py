"""Jobs: one per built-in profile, one per domain, one for everything, one per domain's publishing.

Every job is an asset job built over `definitions.DOMAINS`, so a new domain (and every asset keyed
under it or grouped with it, publishing included) joins without edits here.

Executor: in-process, explicitly, on every job. The steps are short columnar numpy/DuckDB work
whose cost is bounded by the chunk size; the multiprocess executor spends seconds per step
starting a Python process and re-importing Dagster, which on a 2-core machine is slower than the
work itself. Scale-out is by partitions on a cluster executor, not by processes per step here.
"""

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, TypeAlias

import dagster as dg
import yaml

from mock_pipeline.domains.factory import Domain
from mock_pipeline.preflight import checked_in_process_executor
from mock_pipeline.scenarios.model import builtin_profiles

ALL_ASSETS_JOB = "all_assets"
EXECUTOR = checked_in_process_executor  # dg.in_process_executor, with the run config checked once first
TAG_PROFILE = "mock_pipeline/profile"
TAG_DOMAIN = "mock_pipeline/domain"
# Runs log progress and results to the console, not every step event (the shipped run configs say the same).
CONSOLE_AT_INFO: dict[str, Any] = {"console": {"config": {"log_level": "INFO"}}}
# What dg.define_asset_job returns; Dagster does not export that class's name.
AssetJob: TypeAlias = Any


def profile_job_name(profile: str) -> str:
    return "profile_" + profile.replace("-", "_")


def domain_job_name(domain: str) -> str:
    return f"domain_{domain}"


def publish_job_name(domain: str) -> str:
    return f"publish_{domain}"


@cache
def builtin_run_config(name: str) -> dict[str, Any]:
    """A shipped run config (scenarios/run_configs/<name>.yaml): the launchpad's starting point."""
    text = resources.files("mock_pipeline.scenarios").joinpath("run_configs", f"{name}.yaml").read_text()
    return yaml.safe_load(text)


def profile_run_config(profile: str) -> dict[str, Any]:
    try:
        return builtin_run_config(profile)
    except FileNotFoundError:  # a profile added to profiles.yaml without its YAML file
        return {"resources": {"scenario": {"config": {"profile": profile, "size": "small"}}}}


def table_keys(domain: Domain) -> list[dg.AssetKey]:
    return [domain.key(t.name) for t in domain.tables]


def domain_selection(domain: Domain) -> dg.AssetSelection:
    """A domain's tables and everything published or reported from them (keyed or grouped under it)."""
    return dg.AssetSelection.key_prefixes(domain.name) | dg.AssetSelection.groups(domain.name)


def publish_selection(domain: Domain) -> dg.AssetSelection:
    """What a domain publishes: its assets that are not tables (files, S3, database, vectors, HTTP, reports)."""
    return domain_selection(domain) - dg.AssetSelection.assets(*table_keys(domain))


def _job(
    name: str, selection: dg.AssetSelection, description: str, config: Mapping[str, Any] | None, tags: dict[str, str]
) -> AssetJob:
    return dg.define_asset_job(
        name=name,
        selection=selection,
        description=description,
        config=dict(config) if config is not None else None,
        tags=tags,
        executor_def=EXECUTOR,
    )


@cache  # one set of job objects per domain tuple: sensors target the same objects Definitions holds
def build_jobs(domains: tuple[Domain, ...]) -> tuple[AssetJob, ...]:
    everything = dg.AssetSelection.all()
    default_config = builtin_run_config("small")
    jobs = [
        _job(
            ALL_ASSETS_JOB,
            everything,
            "Every domain's tables, checks and publishing for one scenario (edit the config in the launchpad).",
            default_config,
            {},
        )
    ]
    for profile, spec in builtin_profiles().items():
        jobs.append(
            _job(
                profile_job_name(profile),
                everything,
                f"Built-in profile {profile!r}, small preset: {spec.get('description', '')}".strip(),
                profile_run_config(profile),
                {TAG_PROFILE: profile},
            )
        )
    for domain in domains:
        jobs.append(
            _job(
                domain_job_name(domain.name),
                domain_selection(domain),
                f"The {domain.name} domain: its tables, their checks and its publishing.",
                default_config,
                {TAG_DOMAIN: domain.name},
            )
        )
        jobs.append(
            _job(
                publish_job_name(domain.name),
                publish_selection(domain),
                f"Re-publish {domain.name} from tables already generated for the scenario (no regeneration).",
                default_config,
                {TAG_DOMAIN: domain.name},
            )
        )
    return tuple(jobs)


def job_named(domains: tuple[Domain, ...], name: str) -> AssetJob:
    return next(job for job in build_jobs(domains) if job.name == name)
