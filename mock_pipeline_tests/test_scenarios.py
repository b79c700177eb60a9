"""Scenario profiles and size presets as run config: contract keys, custom profiles, bad config."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from mock_pipeline.definitions import defs
from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import domain_definitions
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.scenarios.model import ScenarioError, build_scenario, builtin_profiles, size_presets

RUN_CONFIGS = Path(__file__).resolve().parents[1] / "mock_pipeline" / "scenarios" / "run_configs"
PROFILES = ("normal-ops", "peak-season", "anomaly-heavy", "warehouse-outage", "growth-phase", "payment-crisis")


def test_six_builtin_profiles_with_seed_001_anomaly_rates() -> None:
    rates = {name: build_scenario(profile=name).profile.anomaly_rate for name in builtin_profiles()}
    assert rates == {
        "normal-ops": 0.05,
        "peak-season": 0.15,
        "anomaly-heavy": 0.40,
        "warehouse-outage": 0.60,
        "growth-phase": 0.08,
        "payment-crisis": 0.25,
    }
    assert build_scenario(profile="peak-season").profile.order_volume == 3.0
    assert build_scenario(profile="growth-phase").profile.company_volume == 2.0
    assert build_scenario(profile="payment-crisis").profile.overdue_share == 0.30


def test_size_presets_are_seed_003s() -> None:
    presets = size_presets()
    got = {name: tuple(presets[name]["commerce"][k] for k in ("tenants", "products_per_tenant", "orders_per_tenant",
                                                               "customers_per_tenant")) for name in presets}  # fmt: skip
    assert got == {
        "small": (2, 1_000, 5_000, 100),
        "medium": (5, 50_000, 100_000, 1_000),
        "large": (10, 500_000, 2_000_000, 10_000),
    }


@pytest.mark.parametrize("path", sorted(RUN_CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_run_configs_are_valid_for_the_asset_job(path: Path) -> None:
    config = yaml.safe_load(path.read_text())
    job = defs.resolve_implicit_global_asset_job_def()
    assert dg.validate_run_config(job, config)
    build_scenario(**config["resources"]["scenario"]["config"])


def test_every_builtin_profile_has_a_run_config() -> None:
    assert {p.stem for p in RUN_CONFIGS.glob("*.yaml")} >= set(PROFILES) | {"small", "medium", "large"}


def test_minimal_contract_config_works() -> None:
    resource = ScenarioResource(profile="normal-ops", size="small", seed=42, as_of="2024-12-31")
    scenario = resource.resolve()
    assert scenario.window.start.isoformat() == "2024-01-01"
    assert scenario.window.end.isoformat() == "2024-12-31"
    assert set(ScenarioResource.model_fields) >= {
        "profile", "size", "seed", "as_of", "volume_multiplier", "locale", "chunk_size", "overrides",
    }  # fmt: skip


def test_custom_profile_extends_and_overrides() -> None:
    custom = {"my-scenario": {"extends": "peak-season", "anomaly_rate": 0.15, "entity_rates": {"orders_per_day": 100}}}
    scenario = build_scenario(custom_profile="my-scenario", custom_profiles=custom)
    assert scenario.profile.order_volume == 3.0  # inherited from peak-season
    assert scenario.profile.entity_rates["orders_per_day"] == 100
    assert scenario.profile.entity_rates["companies"] == 100  # inherited from normal-ops
    chained = {**custom, "deeper": {"extends": "my-scenario", "order_volume": 1.5}}
    assert build_scenario(custom_profile="deeper", custom_profiles=chained).profile.anomaly_rate == 0.15


def test_custom_profile_is_selected_by_custom_profile_with_the_same_dataset_id() -> None:
    custom = {"mine": {"extends": "peak-season", "anomaly_rate": 0.2}}
    selected = ScenarioResource(custom_profile="mine", custom_profiles=custom).resolve()
    assert selected.profile.name == "mine" and selected.profile.anomaly_rate == 0.2
    assert selected.profile.order_volume == 3.0  # from peak-season
    # The dataset id and the manifest's config depend on the profile used, not on the field that chose it.
    by_name = build_scenario(profile="mine", custom_profiles=custom)
    assert selected.dataset_id == by_name.dataset_id and selected.config == by_name.config
    assert selected.dataset_id != build_scenario(profile="peak-season").dataset_id
    # What the API's hints and `launch_config` give back is a run config Dagster accepts, for the same dataset.
    launch = selected.launch_config
    assert launch["custom_profile"] == "mine" and "profile" not in launch
    job = defs.resolve_implicit_global_asset_job_def()
    assert dg.validate_run_config(job, {"resources": {"scenario": {"config": launch}}})
    assert build_scenario(**launch).dataset_id == selected.dataset_id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"custom_profile": "nope"}, "scenario.custom_profile: unknown custom profile 'nope'; allowed: a name defined"),
        (
            {"custom_profile": "nope", "custom_profiles": {"mine": {}, "other": {}}},
            "scenario.custom_profile: unknown custom profile 'nope'; allowed: mine, other",
        ),
        (
            {"custom_profile": "peak-season"},
            "scenario.custom_profile: 'peak-season' is a built-in profile; set scenario.profile: peak-season instead",
        ),
        (
            {"custom_profile": "mine", "profile": "peak-season", "custom_profiles": {"mine": {}}},
            "scenario.custom_profile: 'mine' is set together with scenario.profile 'peak-season'; allowed: one of them",
        ),
    ],
)
def test_bad_custom_profile_choice_gives_one_line(kwargs: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        build_scenario(**kwargs)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_builtin_profile_type_lists_exactly_the_builtin_profiles() -> None:
    from typing import get_args

    from mock_pipeline.resources import BuiltinProfile

    assert list(get_args(BuiltinProfile)) == list(builtin_profiles()) == list(PROFILES)


def test_chunk_size_does_not_change_the_dataset_identity() -> None:
    assert build_scenario(chunk_size=1000).dataset_id == build_scenario(chunk_size=7919).dataset_id
    assert build_scenario(seed=1).dataset_id != build_scenario(seed=2).dataset_id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "holiday"}, "scenario.profile: unknown profile 'holiday'; allowed: anomaly-heavy, growth-phase"),
        ({"size": "huge"}, "scenario.size: unknown size preset 'huge'; allowed: small, medium, large"),
        (
            {"overrides": {"commerce.orders_per_tenant": 0}},
            "scenario.overrides.commerce.orders_per_tenant: got 0; allowed: an integer from 1 to",
        ),
        ({"overrides": {"commerce.tenants": -3}}, "scenario.overrides.commerce.tenants: got -3; allowed: an integer"),
        ({"overrides": {"commerce.orderz": 5}}, "scenario.overrides.commerce.orderz: unknown size knob; allowed: "),
        (
            {"start_date": "2025-01-01", "as_of": "2024-12-31"},
            "scenario.start_date: 2025-01-01 is after as_of 2024-12-31",
        ),
        ({"as_of": "yesterday"}, "scenario.as_of: 'yesterday' is not a date"),
        ({"chunk_size": 0}, "scenario.chunk_size: got 0; allowed: a number of rows from 1 to 10,000,000"),
        ({"volume_multiplier": 0}, "scenario.volume_multiplier: got 0; allowed: a finite number above 0"),
        ({"locale": "xx_YY"}, "scenario.locale: unknown locale 'xx_YY'"),
        (
            {"custom_profile": "a", "custom_profiles": {"a": {"extends": "b"}, "b": {"extends": "a"}}},
            "scenario.custom_profiles: cycle in extends: a -> b -> a",
        ),
        (
            {"custom_profile": "a", "custom_profiles": {"a": {"extends": "nope"}}},
            "scenario.custom_profiles: profile 'a' extends unknown 'nope'",
        ),
        (
            {"custom_profile": "a", "custom_profiles": {"a": {"anomaly_rate": 1.5}}},
            "scenario.custom_profiles.a.anomaly_rate: got 1.5; allowed: a number from 0 up to 1",
        ),
    ],
)
def test_bad_config_gives_one_clear_line(kwargs: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        build_scenario(**kwargs)
    text = str(raised.value)
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(("field", "value"), [("size", "huge"), ("profile", "bogus"), ("profile", "peak_season")])
def test_closed_choices_are_refused_by_dagster_at_launch(data_dir: Path, field: str, value: str) -> None:
    """size and profile are Dagster Enums: the launchpad underlines them, and no run starts."""
    assets, _ = domain_definitions(COMMERCE)
    with pytest.raises(dg.DagsterInvalidConfigError) as raised:
        dg.materialize(
            assets,
            resources={"scenario": ScenarioResource(), "data_dir": DataDirResource()},
            run_config={"resources": {"scenario": {"config": {field: value}}}},
            selection=[COMMERCE.key("tenants")],
        )
    assert f"config:{field} not in enum type" in str(raised.value) and value in str(raised.value)
    assert not data_dir.exists()


def test_every_problem_is_reported_at_once_before_anything_is_written(data_dir: Path) -> None:
    assets, _ = domain_definitions(COMMERCE)
    bad = {"custom_profile": "holiday", "seed": -1, "chunk_size": 0, "as_of": "2024-13-01"}
    result = dg.materialize(
        assets,
        resources={"scenario": ScenarioResource(), "data_dir": DataDirResource()},
        run_config={"resources": {"scenario": {"config": bad}}},
        selection=[COMMERCE.key("tenants")],
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    lines = failure.step_failure_data.user_failure_data.description.splitlines()
    assert lines[0] == "4 problems in the run config, nothing was written:"
    assert sorted(line.split(":")[0] for line in lines[1:]) == [
        "scenario.as_of", "scenario.chunk_size", "scenario.custom_profile", "scenario.seed",
    ]  # fmt: skip
    assert not data_dir.exists()


def test_commerce_limits_are_scenario_errors() -> None:
    from mock_pipeline.domains.commerce.model import CommerceModel

    with pytest.raises(ScenarioError, match=r"scenario\.overrides\.commerce\.products_per_tenant: 1,000,000; allowed"):
        CommerceModel(build_scenario(overrides={"commerce.products_per_tenant": 1_000_000}))
    with pytest.raises(ScenarioError, match="allowed: at most 99,999,999"):
        CommerceModel(build_scenario(overrides={"commerce.orders_per_tenant": 60_000_000}))


def test_toggle_off_stops_generation_before_anything_is_written(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCK_DATA_ENABLED", "false")
    assets, _ = domain_definitions(COMMERCE)
    result = dg.materialize(
        assets,
        resources={"scenario": ScenarioResource(), "data_dir": DataDirResource()},
        selection=[COMMERCE.key("tenants")],
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "MOCK_DATA_ENABLED=false: mock data is disabled" in failure.step_failure_data.error.message
    assert not data_dir.exists()


def test_closed_choices_match_what_the_code_accepts() -> None:
    from typing import get_args

    from mock_pipeline.publish.assets import FilesExportConfig
    from mock_pipeline.publish.files import FORMATS
    from mock_pipeline.resources import SizePreset

    assert list(get_args(SizePreset)) == list(size_presets())
    assert get_args(FilesExportConfig.model_fields["format"].annotation) == FORMATS


@pytest.mark.parametrize(
    ("kwargs", "blamed"),
    [
        ({"volume_multiplier": 5e5}, "scenario.volume_multiplier: 500000 makes about "),
        ({"overrides": {"commerce.customers_per_tenant": 10**12}}, "scenario.overrides.commerce.customers_per_tenant: "),
        # Of two overrides, the one that makes the scenario large is named.
        (
            {"overrides": {"scrum.issues": 2000, "commerce.orders_per_tenant": 10**11}},
            "scenario.overrides.commerce.orders_per_tenant: 100,000,000,000 makes about ",
        ),
        ({"start_date": "1990-01-01", "size": "large", "volume_multiplier": 1.0, "max_total_rows": 200_000_000},
         "scenario.start_date: '1990-01-01' makes about "),
        ({"max_total_rows": 1000}, "scenario.size: 'small' makes about "),
    ],
)  # fmt: skip
def test_size_guard_names_the_field_that_made_the_scenario_large(kwargs: dict, blamed: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        build_scenario(**kwargs)
    text = str(raised.value)
    assert text.startswith(blamed), text
    assert "allowed: at most " in text and "scenario.max_total_rows" in text


def test_default_ceiling_allows_every_builtin_profile_at_the_large_preset() -> None:
    for profile in builtin_profiles():
        build_scenario(profile=profile, size="large")  # the size guard does not refuse them


@pytest.mark.parametrize("profile", ["normal-ops", "peak-season"])
def test_size_estimate_is_close_to_the_rows_a_run_makes(tmp_path: Path, profile: str) -> None:
    """The guard's estimate against the rows the small preset really makes, domain by domain: at
    normal-ops, and at peak-season, whose order volume (3x) scales commerce and erp orders,
    maintenance tickets and scrum issues."""
    import pyarrow.parquet as pq

    from mock_pipeline.domains.erp import ERP
    from mock_pipeline.domains.factory import materialize_table
    from mock_pipeline.domains.maintenance import MAINTENANCE
    from mock_pipeline.domains.scrum import SCRUM
    from mock_pipeline.scenarios.size import scenario_rows

    scenario = build_scenario(profile=profile)
    estimate = scenario_rows(scenario)
    for domain in (COMMERCE, ERP, MAINTENANCE, SCRUM):
        dataset = tmp_path / domain.name
        for spec in domain.tables:  # parents first, as the asset graph runs them
            materialize_table(domain, spec, scenario, dataset)
        rows = sum(pq.read_metadata(f).num_rows for f in dataset.glob("*/*.parquet"))
        assert 0.7 * rows <= estimate[domain.name] <= 1.3 * rows, (domain.name, rows, estimate[domain.name])


def test_size_guard_counts_the_embedded_publishing_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk with room for the medium commerce dataset and its export, but not for the DuckDB file,
    outbox and LanceDB folder beside them, is refused only for a run that publishes there."""
    from mock_pipeline.scenarios import size

    scenario = build_scenario(size="medium")
    rows = size.scenario_rows(scenario)["commerce"]
    monkeypatch.setattr(size, "free_bytes", lambda folder: (tmp_path, rows * (size.BYTES_PER_ROW + 50)))
    assert size.room_problem("data_dir.root", tmp_path, scenario, domains=["commerce"]) is None
    published = {"commerce": ["database_tables", "http_upload", "vector_index"]}
    problem = size.room_problem("data_dir.root", tmp_path, scenario, domains=["commerce"], published=published)
    assert problem is not None and "for the embedded publishing defaults" in problem.message, problem
    assert (
        size.room_problem("data_dir.root", tmp_path, scenario, domains=["commerce"], published={"erp": ["http_upload"]})
        is None
    )


def test_embedded_publishing_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_pipeline.preflight import embedded_publishing
    from mock_pipeline.publish.database.resources import DATABASE_URL_ENV
    from mock_pipeline.publish.http import API_URL_ENV
    from mock_pipeline.publish.vectors.resources import VECTOR_STORE_ENV

    for name in (DATABASE_URL_ENV, API_URL_ENV, VECTOR_STORE_ENV):
        monkeypatch.delenv(name, raising=False)
    assert embedded_publishing() == {"database_tables", "http_upload", "vector_index"}
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql://u@localhost/db")
    monkeypatch.setenv(VECTOR_STORE_ENV, "pgvector")
    assert embedded_publishing() == {"http_upload"}


@pytest.mark.parametrize(
    ("raw", "tag"),
    [("Über Tag ü", "uber-tag-u"), ("Straße Øst", "strasse-ost"), ("Ça va", "ca-va"), ("QA run #7", "qa-run-7")],
)
def test_run_tag_transliterates_latin_letters(raw: str, tag: str) -> None:
    assert build_scenario(run_tag=raw).run_tag == tag


@pytest.mark.parametrize("raw", ["标签", "Tag 标签", "🚀", "ünïcödé ✓"])
def test_run_tag_refuses_characters_without_an_ascii_spelling(raw: str) -> None:
    with pytest.raises(ScenarioError, match=r"^scenario\.run_tag: .* has characters with no ASCII spelling"):
        build_scenario(run_tag=raw)


def test_max_total_rows_is_part_of_what_a_resource_checks() -> None:
    assert ScenarioResource().resolve().size == "small"
    with pytest.raises(dg.Failure, match=r"^scenario\.size: 'small' makes about [\d,]+ rows"):
        ScenarioResource(max_total_rows=1000).resolve()
    assert ScenarioResource(max_total_rows=10**6).resolve().dataset_id == ScenarioResource().resolve().dataset_id
