"""Schedules: a nightly refresh of the staging dataset, off by default as Dagster's convention is.

Which dataset is "staging" is configuration, read from the environment when the schedule is
evaluated: MOCK_PIPELINE_STAGING_PROFILE (default normal-ops), MOCK_PIPELINE_STAGING_SIZE
(default small) and MOCK_PIPELINE_STAGING_SEED (default 42). Each night's run ends its window on
the day before the scheduled time, so staging always holds the year up to yesterday.

The schedule is built over the domains (`build_schedules(DOMAINS)`): which database loads replace a
run's namespace in place is each domain's own `Domain.namespace` hook, not a name written here.
"""

import datetime as dt
import os
from collections.abc import Sequence

import dagster as dg

from mock_pipeline.domains.factory import Domain
from mock_pipeline.jobs import ALL_ASSETS_JOB, CONSOLE_AT_INFO
from mock_pipeline.scenarios.model import ScenarioError, build_scenario
from mock_pipeline.toggle import disabled_reason

STAGING_PROFILE_ENV = "MOCK_PIPELINE_STAGING_PROFILE"
STAGING_SIZE_ENV = "MOCK_PIPELINE_STAGING_SIZE"
STAGING_SEED_ENV = "MOCK_PIPELINE_STAGING_SEED"
NIGHTLY_CRON = "0 3 * * *"
TAG_TRIGGER = "mock_pipeline/trigger"


def staging_scenario_config(as_of: dt.date) -> dict[str, object]:
    """The staging scenario for a night, validated; raises ScenarioError naming the bad setting."""
    seed_text = os.environ.get(STAGING_SEED_ENV, "42")
    try:
        seed = int(seed_text)
    except ValueError:
        raise ScenarioError("seed", f"{STAGING_SEED_ENV}={seed_text!r} is not an integer") from None
    config: dict[str, object] = {
        "profile": os.environ.get(STAGING_PROFILE_ENV, "normal-ops"),
        "size": os.environ.get(STAGING_SIZE_ENV, "small"),
        "seed": seed,
        "as_of": as_of.isoformat(),
    }
    build_scenario(**config)  # type: ignore[arg-type]
    return config


def namespace_replacing_config(domains: Sequence[Domain]) -> dict[str, object]:
    """Run config letting each run-scoped domain's database load replace its namespace in place.

    Staging is refreshed in place: last night's run tag is replaced on purpose (the collision guard
    of a run-scoped domain, such as maintenance, would refuse the same tag from the second night on).
    """
    return {
        f"{domain.name}__database_tables": {"config": {"replace_existing_namespace": True}}
        for domain in domains
        if domain.namespace is not None
    }


def nightly_staging_refresh_schedule(domains: Sequence[Domain]) -> dg.ScheduleDefinition:
    ops = namespace_replacing_config(domains)

    @dg.schedule(
        name="nightly_staging_refresh",
        cron_schedule=NIGHTLY_CRON,
        execution_timezone="UTC",
        job_name=ALL_ASSETS_JOB,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=(
            "Every night at 03:00 UTC, regenerate and publish the staging dataset up to yesterday "
            f"(profile, size and seed from ${STAGING_PROFILE_ENV}, ${STAGING_SIZE_ENV}, ${STAGING_SEED_ENV})."
        ),
    )
    def nightly_staging_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        reason = disabled_reason()
        if reason is not None:
            return dg.SkipReason(reason)
        night = context.scheduled_execution_time.date()
        try:
            scenario = staging_scenario_config(night - dt.timedelta(days=1))
        except ScenarioError as exc:
            return dg.SkipReason(f"staging scenario is misconfigured: {exc}")
        return dg.RunRequest(
            run_key=f"staging-{night.isoformat()}",
            run_config={
                "resources": {"scenario": {"config": scenario}},
                **({"ops": ops} if ops else {}),
                "loggers": CONSOLE_AT_INFO,
            },
            tags={TAG_TRIGGER: "nightly_staging_refresh", "mock_pipeline/profile": str(scenario["profile"])},
        )

    return nightly_staging_refresh


def build_schedules(domains: Sequence[Domain]) -> list[dg.ScheduleDefinition]:
    return [nightly_staging_refresh_schedule(domains)]
