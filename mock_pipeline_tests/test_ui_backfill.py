"""A backfill of the whole commerce group launched from the real Dagster UI (docs/scaling.md).

`dagster dev -m mock_pipeline.definitions_partitioned` with 3 shards; headless Debian chromium
driven by Playwright does what a user does: the commerce group's "Materialize all", "All"
partitions, the run config typed into the dialog's config editor, "Launch backfill". The daemon
runs the backfill. Then, from outside the UI (GraphQL and the data folder): the backfill
succeeded, every asset of the group and every shard of every part was materialised, every
check passed, and the tables and the Parquet export are byte-identical to the unpartitioned
in-process reference of test_partitions.

Screenshots land in the test's tmp folder; with MOCK_PIPELINE_UPDATE_DOCS=1 the finished
backfill's page also replaces docs/ui-backfill.png.
"""

import os
import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_pipeline.definitions_partitioned import PARTITIONED_TABLES
from mock_pipeline.definitions_partitioned import defs as partitioned_defs
from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.engine.shards import part_name, shard_keys
from mock_pipeline.partitions import parts_key
from mock_pipeline_tests.dagster_dev import REPO, DagsterDev, chromium_page, dagster_dev, dismiss_community_dialog
from mock_pipeline_tests.test_partitions import (
    commerce_definitions,
    dataset_of,
    export_of,
    file_digests,
    run,
    run_config,
    table_digests,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LOCATION = "mock_pipeline.definitions_partitioned"
SHARDS = 3
PARTITIONED = PARTITIONED_TABLES["commerce"]
# The whole group in one process per run: on a shared 2-core machine a fresh process per step
# would cost minutes. The CLI test covers the multiprocess executor with the same definitions.
UI_RUN_CONFIG = {**run_config("parquet"), "execution": {"config": {"in_process": {}}}}
BACKFILL_TIMEOUT = 900  # three runs, each waiting for a daemon tick, on a shared machine
UNFINISHED = {"REQUESTED", "CANCELING", "FAILING"}

BACKFILL_QUERY = """query ($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PythonError { message }
  ... on PartitionBackfill { id status partitionNames isAssetBackfill assetSelection { path }
    error { message }
    runs { runId status tags { key value } assetSelection { path } stepStats { stepKey status } }
    assetBackfillData { assetBackfillStatuses {
      ... on AssetPartitionsStatusCounts { assetKey { path } numPartitionsTargeted numPartitionsMaterialized
                                           numPartitionsFailed numPartitionsInProgress }
      ... on UnpartitionedAssetStatus { assetKey { path } materialized failed inProgress } } } } } }"""
GROUP_QUERY = """query ($location: String!) { assetNodes(group: {groupName: "commerce",
    repositoryName: "__repository__", repositoryLocationName: $location}) { assetKey { path }
  assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { runId status } } } } } }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    env = {"MOCK_PIPELINE_SHARDS": str(SHARDS), "MOCK_PIPELINE_EXECUTOR": "multiprocess"}
    with dagster_dev(tmp_path_factory.mktemp("ui_backfill"), extra_env=env, module=LOCATION) as running:
        yield running


@pytest.fixture(scope="module")
def page(server: DagsterDev) -> Iterator[Any]:
    with chromium_page() as page:
        yield page


def wait_for_backfill(server: DagsterDev, backfill_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        backfill = server.graphql(BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"]
        assert backfill["__typename"] == "PartitionBackfill", backfill
        if backfill["status"] not in UNFINISHED:
            return backfill
        if time.monotonic() > deadline:
            raise AssertionError(f"backfill {backfill_id} unfinished after {timeout:.0f} s\n{server.tail()}")
        time.sleep(3)


def test_backfill_of_the_commerce_group_from_the_ui(server: DagsterDev, page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # a shared 2-core machine renders slowly
    shots = tmp_path / "screenshots"
    shots.mkdir()
    group = {
        tuple(node["assetKey"]["path"]): node
        for node in server.graphql(GROUP_QUERY, {"location": LOCATION})["assetNodes"]
    }
    parts = {tuple(parts_key(COMMERCE, t).path) for t in PARTITIONED}
    assert parts < set(group), "the parts belong to the commerce group"

    # The reference bytes, made meanwhile in another thread (no browser event loop there): the
    # unpartitioned assets, in process.
    reference = tmp_path / "reference"
    pool = ThreadPoolExecutor(max_workers=1)
    made = pool.submit(run, commerce_definitions(reference, None), run_config("parquet"))
    pool.shutdown(wait=False)

    # The commerce group's graph: "Materialize all" opens the partition dialog for all its assets.
    page.goto(f"{server.url}/locations/{LOCATION}/asset-groups/commerce")
    dismiss_community_dialog(page)
    page.get_by_role("button", name="Materialize all").click()
    dialog = page.get_by_role("dialog").filter(has_text="Partition selection")
    expect(dialog.get_by_text(f"Launch runs to materialize {len(group)} assets")).to_be_visible()
    dialog.get_by_role("button", name="All", exact=True).click()
    expect(dialog.get_by_text(f"{SHARDS} partitions", exact=True)).to_be_visible()

    # The scenario and executor go in the dialog's config editor, as a user would type them.
    dialog.get_by_text("Config", exact=True).click()
    dialog.get_by_role("button", name="Add config").click()
    editor = page.get_by_role("dialog").filter(has_text="Config Editor")
    editor.locator(".CodeMirror").first.click()
    page.keyboard.insert_text(yaml.safe_dump(UI_RUN_CONFIG, sort_keys=False))
    expect(editor.get_by_text("No errors")).to_be_visible()
    page.screenshot(path=shots / "01-backfill-config.png")
    editor.get_by_role("button", name="Save config").click()
    expect(dialog.get_by_text("Config saved")).to_be_visible()
    page.screenshot(path=shots / "02-partition-dialog.png")

    dialog.get_by_role("button", name="Launch backfill").click()
    toast = page.get_by_text(re.compile(r"^Created backfill \w+$"))
    expect(toast).to_be_visible()
    backfill_id = toast.inner_text().split()[-1]
    # The toast's "View" opens the backfill's page while the daemon works on it.
    page.get_by_role("link", name="View", exact=True).click()
    page.wait_for_url(f"**/runs/b/{backfill_id}**")
    expect(page.get_by_text("commerce / parts / orders").first).to_be_visible()
    page.screenshot(path=shots / "03-backfill-launched.png")

    backfill = wait_for_backfill(server, backfill_id, BACKFILL_TIMEOUT)
    page.goto(f"{server.url}/runs/b/{backfill_id}")
    expect(page.get_by_text("100% completed").first).to_be_visible()
    page.screenshot(path=shots / "04-backfill-done.png")
    page.get_by_role("tab", name="Runs").click()
    expect(page.get_by_text("Success").first).to_be_visible()
    page.screenshot(path=shots / "05-backfill-runs.png")

    # The backfill: the whole group, all shards, succeeded; the daemon reported no error.
    assert backfill["status"] == "COMPLETED_SUCCESS", (backfill["error"], server.tail())
    assert backfill["isAssetBackfill"]
    assert sorted(backfill["partitionNames"]) == shard_keys(SHARDS)
    assert {tuple(k["path"]) for k in backfill["assetSelection"]} == set(group)
    statuses = {tuple(s["assetKey"]["path"]): s for s in backfill["assetBackfillData"]["assetBackfillStatuses"]}
    assert set(statuses) == set(group)
    for key, status in statuses.items():
        if key in parts:
            assert (status["numPartitionsTargeted"], status["numPartitionsMaterialized"]) == (SHARDS, SHARDS), status
            assert (status["numPartitionsFailed"], status["numPartitionsInProgress"]) == (0, 0), status
        else:
            assert (status["materialized"], status["failed"], status["inProgress"]) == (True, False, False), status
    runs = backfill["runs"]
    assert runs and all(r["status"] == "SUCCESS" for r in runs), runs
    # Single-run policy: all shards in ONE run over the range 00..02, one step per shard inside it.
    tags = [{t["key"]: t["value"] for t in r["tags"]} for r in runs]
    ranged = [
        r
        for r, t in zip(runs, tags, strict=True)
        if t.get("dagster/asset_partition_range_start") == shard_keys(SHARDS)[0]
        and t.get("dagster/asset_partition_range_end") == shard_keys(SHARDS)[-1]
    ]
    assert len(ranged) == 1, tags
    assert {tuple(k["path"]) for k in ranged[0]["assetSelection"]} == parts
    steps = {s["stepKey"]: s["status"] for s in ranged[0]["stepStats"]}
    for key in shard_keys(SHARDS):
        assert steps[f"commerce_parts.commerce_generate_shard[shard_{key}]"] == "SUCCESS", steps
    assert all(t.get("dagster/backfill") == backfill_id for t in tags)

    # Every check of the group ran in one of the backfill's runs, after the latest materialisation, and passed.
    run_ids = {r["runId"] for r in runs}
    nodes = server.graphql(GROUP_QUERY, {"location": LOCATION})["assetNodes"]
    checks = [(n["assetKey"]["path"], c) for n in nodes for c in n["assetChecksOrError"].get("checks", [])]
    expected_checks = {
        (tuple(k.asset_key.path), k.name)
        for k in partitioned_defs.resolve_asset_graph().asset_check_keys
        if tuple(k.asset_key.path) in group
    }
    assert {(tuple(path), check["name"]) for path, check in checks} == expected_checks
    for path, check in checks:
        execution = check["executionForLatestMaterialization"]
        assert execution is not None and execution["runId"] in run_ids, (path, check["name"])
        assert execution["status"] == "SUCCEEDED", (path, check["name"], execution)

    # The data: every part of every shard, and the same bytes as the unpartitioned reference.
    made.result()
    dataset = dataset_of(server.data_dir)
    for table in PARTITIONED:
        assert sorted(p.name for p in (dataset / table).iterdir()) == [part_name(k, SHARDS) for k in range(SHARDS)]
    assert table_digests(dataset) == table_digests(dataset_of(reference))
    assert file_digests(export_of(server.data_dir)) == file_digests(export_of(reference))

    if os.environ.get("MOCK_PIPELINE_UPDATE_DOCS") == "1":
        shutil.copy(shots / "04-backfill-done.png", REPO / "docs" / "ui-backfill.png")
