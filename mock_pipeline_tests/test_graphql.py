"""Seed 001's "generate" and "status" API, the Dagster way: a run submitted through
dagster-graphql's Python client with a scenario run config, and its status read back, against a
real `dagster dev`."""

from collections.abc import Iterator

import pytest
import yaml
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

from mock_pipeline.jobs import domain_job_name
from mock_pipeline_tests.dagster_dev import DagsterDev, dagster_dev

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# What a user would keep in a scenario file: a profile, a seed, a window and a few size knobs.
SCENARIO = """
resources:
  scenario:
    config:
      profile: growth-phase
      size: small
      seed: 2024
      as_of: "2024-06-30"
      overrides:
        commerce.orders_per_tenant: 400
        commerce.products_per_tenant: 60
        commerce.customers_per_tenant: 40
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    with dagster_dev(tmp_path_factory.mktemp("graphql")) as running:
        yield running


def test_generate_and_status_through_the_graphql_client(server: DagsterDev) -> None:
    client = DagsterGraphQLClient(server.host, port_number=server.port)
    run_id = client.submit_job_execution(
        domain_job_name("commerce"), run_config=yaml.safe_load(SCENARIO), tags={"requested_by": "test_graphql"}
    )
    assert client.get_run_status(run_id).value in {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "SUCCESS"}
    run = server.wait_for_run(run_id, timeout=600)
    assert run["status"] == "SUCCESS", server.tail()
    assert client.get_run_status(run_id).value == "SUCCESS"
    assert run["stats"]["stepsFailed"] == 0
    assert {"key": "requested_by", "value": "test_graphql"} in run["tags"]

    # The run generated that scenario: a growth-phase dataset with the overridden order count.
    (dataset,) = (server.data_dir / "datasets").glob("growth-phase_small_seed2024_*")
    orders = server.graphql(
        """{ assetNodes(assetKeys: [{path: ["commerce", "orders"]}]) {
             assetMaterializations(limit: 1) { runId metadataEntries {
               label ... on IntMetadataEntry { intValue } } } } }"""
    )["assetNodes"][0]["assetMaterializations"][0]
    assert orders["runId"] == run_id
    row_count = next(e["intValue"] for e in orders["metadataEntries"] if e["label"] == "dagster/row_count")
    assert row_count == 2 * 400  # two tenants in the small preset, 400 orders each as overridden
    assert (dataset / "commerce" / "orders").is_dir()
    assert any((server.data_dir / "exports").glob(f"{dataset.name}/commerce/manifest.json"))


def test_bad_scenario_is_refused_before_anything_runs(server: DagsterDev) -> None:
    client = DagsterGraphQLClient(server.host, port_number=server.port)
    bad = {"resources": {"scenario": {"config": {"profile": "growth-phase", "seed": "many"}}}}
    with pytest.raises(DagsterGraphQLClientError) as refused:
        client.submit_job_execution(domain_job_name("commerce"), run_config=bad)
    assert "RunConfigValidationInvalid" in str(refused.value) or "seed" in str(refused.value.body)
