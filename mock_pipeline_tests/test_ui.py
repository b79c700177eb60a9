"""The real Dagster UI in a real browser (Debian chromium driven by Playwright) on `dagster dev`:
open the asset graph, launch a built-in profile's job from its launchpad, wait for success
through the GraphQL API, see the asset checks passed and the daily-activity chart render.

Screenshots land in artifacts/ui/ (gitignored). With MOCK_PIPELINE_UPDATE_DOCS=1 the asset graph
and chart screenshots also replace docs/asset-graph.png and docs/daily-activity-chart.png (README's).
"""

import os
import re
import shutil
import time
from collections.abc import Iterator

import pytest

from mock_pipeline.jobs import profile_job_name
from mock_pipeline_tests.dagster_dev import REPO, DagsterDev, chromium_page, dagster_dev, dismiss_community_dialog

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = REPO / "artifacts" / "ui"
DOCS = REPO / "docs"
LOCATION = "mock_pipeline.definitions"
PROFILE = "peak-season"
RUN_TIMEOUT = 1200  # the whole profile job, every domain, on a shared 2-core machine

CHECKS_QUERY = """{ assetNodes { assetKey { path }
  assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { runId status } } } } } }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    with dagster_dev(tmp_path_factory.mktemp("ui")) as running:
        yield running


@pytest.fixture(scope="module")
def page(server: DagsterDev) -> Iterator[object]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        yield page


def wait_for_launched_run(server: DagsterDev, job: str, timeout: float) -> str:
    query = """query ($job: String!) { runsOrError(filter: {pipelineName: $job}) {
                 ... on Runs { results { runId } } } }"""
    deadline = time.monotonic() + timeout
    while True:
        runs = server.graphql(query, {"job": job})["runsOrError"]["results"]
        if runs:
            assert len(runs) == 1, f"one click, one run: {runs}"
            return runs[0]["runId"]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {job} run {timeout:.0f} s after Launch Run was clicked\n{server.tail()}")
        time.sleep(1)


def test_launch_profile_job_from_the_ui(server: DagsterDev, page) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # a shared 2-core machine renders slowly
    # The asset graph, with one group per domain.
    page.goto(server.url + "/asset-groups")
    dismiss_community_dialog(page)
    for group in ("commerce", "erp", "maintenance", "scrum"):
        expect(page.get_by_text(group, exact=True).first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "01-asset-graph.png")

    # The profile's launchpad offers the profile's config as it is; launch it unchanged.
    job = profile_job_name(PROFILE)
    page.goto(f"{server.url}/locations/{LOCATION}/jobs/{job}/playground")
    expect(page.get_by_text(f"profile: {PROFILE}").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "02-launchpad.png")
    page.get_by_role("button", name="Launch Run").click()
    # The UI may open the run in a new tab; the run itself is found through the GraphQL API.
    run_id = wait_for_launched_run(server, job, timeout=120)
    page.goto(f"{server.url}/runs/{run_id}")

    # Success, read through the GraphQL API.
    run = server.wait_for_run(run_id, timeout=RUN_TIMEOUT)
    page.screenshot(path=ARTIFACTS / "03-run.png")
    assert run["status"] == "SUCCESS", server.tail()
    assert run["jobName"] == job
    assert {"key": "mock_pipeline/profile", "value": PROFILE} in run["tags"]

    # Every asset check ran in that run and passed (GraphQL) ...
    checks = [
        (node["assetKey"]["path"], check)
        for node in server.graphql(CHECKS_QUERY)["assetNodes"]
        for check in node["assetChecksOrError"].get("checks", [])
    ]
    assert checks, "the profile job must run the asset checks"
    for path, check in checks:
        execution = check["executionForLatestMaterialization"]
        assert execution is not None and execution["runId"] == run_id, (path, check["name"])
        assert execution["status"] == "SUCCEEDED", (path, check["name"], execution)

    # ... and the UI shows them passed on an asset's checks tab.
    page.goto(server.url + "/assets/commerce/orders?view=checks")
    expect(page.get_by_text("Passed").first).to_be_visible()
    expect(page.get_by_text("Failed", exact=True)).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "04-orders-checks.png")

    # The chart a person would rather look at than read renders as an image.
    # The UI folds markdown over 1,000 characters behind "[Show Markdown]", which opens a dialog.
    page.goto(server.url + "/assets/commerce/daily_activity")
    page.get_by_role("row", name=re.compile(r"^chart ")).get_by_text("[Show Markdown]").click()
    chart = page.get_by_role("dialog").locator("img[src^='data:image/png;base64,']")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth") > 300
    page.screenshot(path=ARTIFACTS / "05-daily-activity-chart.png")
    page.keyboard.press("Escape")

    # The commerce graph after the run: every node materialised, checks green.
    page.set_viewport_size({"width": 1600, "height": 1100})
    page.goto(f"{server.url}/locations/{LOCATION}/asset-groups/commerce")
    expect(page.get_by_text("orders", exact=True).first).to_be_visible()
    page.wait_for_timeout(3000)  # let the graph finish laying out before the picture
    page.screenshot(path=ARTIFACTS / "06-commerce-graph.png")
    if os.environ.get("MOCK_PIPELINE_UPDATE_DOCS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(ARTIFACTS / "06-commerce-graph.png", DOCS / "asset-graph.png")
        shutil.copy(ARTIFACTS / "05-daily-activity-chart.png", DOCS / "daily-activity-chart.png")
