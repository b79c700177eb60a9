"""A new user's first hour, end to end: README from a fresh copy of the project, in README's order.

Every shell block of README runs as written, one after another, in one simulated terminal (a
fresh environment: no virtualenv, no DAGSTER_HOME; each block starts from the variables the
previous ones exported, as in a shell). The quick start installs the project into its own
virtualenv (`pip install -e '.[dev]'`: minutes, and a package index). The blocks that need a
server of one's own, the large preset or the test suite itself are not run; `NOT_RUN` says why
(test_readme.py checks them for syntax and paths).

At README's `dagster dev` block, that command starts in the project folder with the terminal's
environment; Chromium then checks that the assets made by the CLI show as materialised, launches
`profile_peak_season` from the launchpad and waits for success, reads the daily-activity plots,
and checks that the launchpad refuses `size: huge` and `profile: bogus` before any run starts, while a
custom profile (`custom_profile`) launches and succeeds. Nothing may fail: no README block, no run.

Screenshots land in artifacts/first_hour/ (gitignored). With MOCK_PIPELINE_UPDATE_DOCS=1 the graph
and chart screenshots also replace docs/asset-graph.png and docs/daily-activity-chart.png.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mock_pipeline.jobs import domain_job_name, profile_job_name
from mock_pipeline_tests.dagster_dev import DagsterDev, chromium_page, dagster_dev, dismiss_community_dialog
from mock_pipeline_tests.test_readme import REPO, ShellBlock, shell_blocks

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = REPO / "artifacts" / "first_hour"
DOCS = REPO / "docs"
DOMAINS = ("commerce", "erp", "maintenance", "scrum")
PROFILE = "peak-season"
SETUP_TIMEOUT = 1800  # a fresh virtualenv from the package index, then the commerce domain
BLOCK_TIMEOUT = 900
RUN_TIMEOUT = 1800  # the whole profile job, every domain, on a shared 2-core machine

# (text in the block, why it is not run here). Each must match a README block.
NOT_RUN = (
    ("pytest  ", "the test suite itself, of which this test is part"),
    ("pytest\n", "the test suite itself, of which this test is part"),
    ("DAGSTER_PG_HOST=db.internal", "needs a PostgreSQL server of one's own (test_instance_postgres.py covers it)"),
    ("run_configs/large.yaml", "the large preset: many minutes of both cores (test_partitions.py runs it small)"),
    ("MOCK_PIPELINE_STORE_URI=s3://my-bucket", "needs an S3 bucket of one's own (test_object_store.py uses moto)"),
)
DAGSTER_DEV = "dagster dev"
LOCATIONS_QUERY = "{ repositoriesOrError { ... on RepositoryConnection { nodes { location { name } } } } }"

CHECKS_QUERY = """{ assetNodes { assetKey { path } groupName
  assetMaterializations(limit: 1) { runId }
  assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { runId status } } } } } }"""
RUNS_QUERY = """query ($filter: RunsFilter) { runsOrError(filter: $filter) {
  ... on Runs { results { runId jobName status } } } }"""
PLOTTED_QUERY = """query ($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset {
  assetMaterializations { runId metadataEntries { label __typename
    ... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue } ... on PathMetadataEntry { path } } } } } }"""


@dataclass
class Terminal:
    """A user's shell across README's blocks: the exported variables carry from block to block."""

    project: Path
    env: dict[str, str]
    logs: Path
    sessions: list[int] = field(default_factory=list)  # process groups: what a block left running

    def run(self, block: ShellBlock, timeout: float) -> int:
        state = self.logs / "env.sh"
        script = self.logs / f"block{block.index:02d}.sh"
        # As typed into a terminal: stop at the first failing command; then keep what it exported. `set -e`
        # ignores a failure inside an `a && b` list, so the block's own status is kept and returned.
        script.write_text(f"set -eo pipefail\n{block.text}\nstatus=$?\nexport -p > {shlex.quote(str(state))}\n"
                          "exit $status\n")  # fmt: skip
        with (self.logs / f"block{block.index:02d}.log").open("w") as log:
            proc = subprocess.Popen(["bash", str(script)], cwd=self.project, env=self.env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            self.sessions.append(proc.pid)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code = proc.wait()
                log.write(f"\n(stopped by the test after {timeout:.0f} s)\n")
        if code == 0:
            self.env = exported(state)
        return code

    def log(self, block: ShellBlock) -> str:
        return (self.logs / f"block{block.index:02d}.log").read_text(errors="replace")

    def stop_what_was_left_running(self) -> None:
        """README's `moto_server ... &` keeps running after its block, as in a terminal: stop it now."""
        for group in self.sessions:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGTERM)


def exported(state: Path) -> dict[str, str]:
    """The variables a `bash` left exported (`export -p` output), read back by bash itself."""
    dump = subprocess.run(["bash", "-c", f". {shlex.quote(str(state))}; env -0"], env={}, capture_output=True,
                          check=True)  # fmt: skip
    pairs = (item.split("=", 1) for item in dump.stdout.decode().split("\0") if "=" in item)
    return {k: v for k, v in pairs if k not in {"PWD", "OLDPWD", "SHLVL", "_"}}


def fresh_terminal_env() -> dict[str, str]:
    """This process's environment without a virtualenv or a Dagster instance: a new user's shell."""
    ours = {os.environ.get("VIRTUAL_ENV", ""), sys.prefix if sys.prefix != sys.base_prefix else ""} - {""}
    venv_bins = {str(Path(v) / "bin") for v in ours}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "DAGSTER_HOME", "PYTHONPATH", "PYTEST_CURRENT_TEST"}
        and not k.startswith("MOCK_PIPELINE_")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p not in venv_bins)
    return env


def copy_project(target: Path) -> Path:
    """The project as a fresh clone of this work tree has it: git's tracked and new files, none it ignores."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout  # fmt: skip
    for name in listed.decode().split("\0"):
        if name and (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


def not_run_reason(block: ShellBlock) -> str | None:
    return next((reason for text, reason in NOT_RUN if text in block.text), None)


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        yield page


def test_readme_from_a_fresh_copy_then_the_ui(tmp_path: Path, page: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # a shared 2-core machine renders slowly
    blocks = shell_blocks()
    assert all(any(text in b.text for b in blocks) for text, _ in NOT_RUN), "NOT_RUN names a block README lost"
    (dev_block,) = [b for b in blocks if b.commands and b.commands[0] == DAGSTER_DEV.split()]
    project = copy_project(tmp_path / "mock_pipeline")
    (tmp_path / "logs").mkdir()
    terminal = Terminal(project, fresh_terminal_env(), tmp_path / "logs")
    try:
        follow_the_readme(terminal, blocks, dev_block, page)
    finally:
        terminal.stop_what_was_left_running()


def follow_the_readme(terminal: Terminal, blocks: list[ShellBlock], dev_block: ShellBlock, page: Any) -> None:
    project = terminal.project
    failed: list[str] = []

    # 1. README's blocks up to `dagster dev`, in order, as written.
    for block in blocks[: dev_block.index]:
        if not_run_reason(block):
            continue
        code = terminal.run(block, SETUP_TIMEOUT if block.index == 0 else BLOCK_TIMEOUT)
        if code != 0:
            failed.append(f"README line {block.line} exited {code}:\n{terminal.log(block)[-3000:]}")
            if block.index == 0:
                pytest.fail(failed[0])  # no virtualenv: nothing after it can run
    # A domain that failed leaves nothing for the UI to show: report the README blocks first.
    assert not failed, "\n\n".join(failed)
    quick_start = terminal.log(blocks[0])

    # The quick start's shared instance and where its run said the data went.
    home = project / "dagster_home"
    assert terminal.env.get("DAGSTER_HOME") == str(home), "README's commands share DAGSTER_HOME under the project"
    assert Path(terminal.env["VIRTUAL_ENV"]) == project / ".venv"
    info = [line for line in quick_start.splitlines() if " - dagster - " in line]
    assert info and not [line for line in info if " - DEBUG - " in line], "the run configs log at INFO"
    exports = project / "data" / "exports"
    (export,) = exports.glob("*/commerce")
    closing = "\n".join(info[-12:])
    assert f"export folder: {export}" in closing and f"manifest: {export / 'manifest.json'}" in closing, closing
    assert re.search(r"s3_upload: \S+ \(\d[\d,]* rows\)", closing), closing
    for domain in DOMAINS:
        assert list(exports.glob(f"*/{domain}/manifest.json")), f"README's commands exported {domain}"

    # 2. README's `dagster dev`, in the project folder, with the terminal's environment.
    command = dev_block.commands[0]  # (the test adds a free loopback port: 3000 may be taken here)
    with dagster_dev(project, command=command, base_env=terminal.env) as server:
        # The code location as `dagster dev` names it (pyproject.toml's [tool.dagster]).
        (location,) = {n["location"]["name"] for n in server.graphql(LOCATIONS_QUERY)["repositoriesOrError"]["nodes"]}
        runs_before = check_the_cli_runs_show_in_the_ui(server, page, location)
        run_id = launch_profile_from_the_launchpad(server, page, location)
        check_plots_and_chart(server, page, run_id, location)
        check_launchpad_refuses(server, page, location, "size", "huge")
        check_launchpad_refuses(server, page, location, "profile", "bogus")
        launch_custom_profile_from_the_launchpad(server, page, location)
        runs = server.graphql(RUNS_QUERY, {"filter": {}})["runsOrError"]["results"]
        assert len(runs) == runs_before + 2, "only the profile run and the custom profile's were launched from the UI"
        failed += [f"run {r['runId']} of {r['jobName']}: {r['status']}" for r in runs if r["status"] != "SUCCESS"]

    # 3. README's blocks after `dagster dev`.
    for block in blocks[dev_block.index + 1 :]:
        if not_run_reason(block):
            continue
        code = terminal.run(block, BLOCK_TIMEOUT)
        if code != 0:
            failed.append(f"README line {block.line} exited {code}:\n{terminal.log(block)[-3000:]}")
    assert not failed, "\n\n".join(failed)


def check_the_cli_runs_show_in_the_ui(server: DagsterDev, page: Any, location: str) -> int:
    """Every asset of the four domains was materialised by README's CLI commands, and the UI says so."""
    from playwright.sync_api import expect

    runs = server.graphql(RUNS_QUERY, {"filter": {}})["runsOrError"]["results"]
    assert runs, "the CLI's runs are in the instance dagster dev reads"
    nodes = server.graphql(CHECKS_QUERY)["assetNodes"]
    never = [n["assetKey"]["path"] for n in nodes if n["groupName"] in DOMAINS and not n["assetMaterializations"]]
    assert not never, f"never materialised after README's commands: {never}"
    page.goto(server.url + "/asset-groups")
    dismiss_community_dialog(page)
    page.set_viewport_size({"width": 1600, "height": 3000})  # the whole list at once, nothing scrolled away
    for domain in DOMAINS:
        in_group = [n for n in nodes if n["groupName"] == domain]
        page.goto(f"{server.url}/locations/{location}/asset-groups/{domain}")
        page.get_by_role("tab", name="List").click()
        expect(page.get_by_text(f"{domain} / exported_files", exact=True).first).to_be_visible()
        expect(page.get_by_text("Materialized", exact=True)).to_have_count(len(in_group))
        expect(page.get_by_text("Never materialized")).to_have_count(0)
        page.screenshot(path=ARTIFACTS / f"01-{domain}-after-cli.png")
    page.set_viewport_size({"width": 1600, "height": 1000})
    return len(runs)


def launch_profile_from_the_launchpad(server: DagsterDev, page: Any, location: str) -> str:
    from playwright.sync_api import expect

    job = profile_job_name(PROFILE)
    page.goto(f"{server.url}/locations/{location}/jobs/{job}/playground")
    expect(page.get_by_text(f"profile: {PROFILE}").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "02-launchpad.png")
    page.get_by_role("button", name="Launch Run").click()
    # The UI may open the run in a new tab; the run itself is found through the GraphQL API.
    (launched,) = wait_for_runs(server, job, 1)
    run = server.wait_for_run(launched["runId"], timeout=RUN_TIMEOUT)
    page.goto(f"{server.url}/runs/{run['runId']}")
    page.screenshot(path=ARTIFACTS / "03-run.png")
    assert run["status"] == "SUCCESS", server.tail()
    assert {"key": "mock_pipeline/profile", "value": PROFILE} in run["tags"]
    # Every asset check ran in that run and passed (GraphQL), and the UI shows them passed.
    checks = [
        (node["assetKey"]["path"], check)
        for node in server.graphql(CHECKS_QUERY)["assetNodes"]
        for check in node["assetChecksOrError"].get("checks", [])
    ]
    assert checks, "the profile job must run the asset checks"
    for path, check in checks:
        execution = check["executionForLatestMaterialization"]
        assert execution is not None and execution["runId"] == run["runId"], (path, check["name"])
        assert execution["status"] == "SUCCEEDED", (path, check["name"], execution)
    page.goto(server.url + "/assets/commerce/orders?view=checks")
    expect(page.get_by_text("Passed").first).to_be_visible()
    expect(page.get_by_text("Failed", exact=True)).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "04-orders-checks.png")
    return run["runId"]


def wait_for_runs(server: DagsterDev, job: str, count: int, timeout: float = 120) -> list[dict[str, Any]]:
    import time

    deadline = time.monotonic() + timeout
    while True:
        runs = server.graphql(RUNS_QUERY, {"filter": {"pipelineName": job}})["runsOrError"]["results"]
        if len(runs) >= count:
            assert len(runs) == count, f"one click, one run: {runs}"
            return runs
        if time.monotonic() > deadline:
            raise AssertionError(f"no {job} run {timeout:.0f} s after Launch Run was clicked\n{server.tail()}")
        time.sleep(1)


def check_plots_and_chart(server: DagsterDev, page: Any, run_id: str, location: str) -> None:
    """The daily-activity numbers of both runs (CLI, then profile) are what Dagster plots; the PNG stays."""
    from playwright.sync_api import expect

    key = {"path": ["commerce", "daily_activity"]}
    events = server.graphql(PLOTTED_QUERY, {"key": key})["assetOrError"]["assetMaterializations"]
    assert len(events) == 2 and events[0]["runId"] == run_id, "the CLI's materialisation and the profile's"
    for event in events:
        numbers = {e["label"]: e.get("intValue", e.get("floatValue")) for e in event["metadataEntries"]}
        assert numbers["rows"] > 0 and numbers["rows_per_second"] > 0 and 0 < numbers["anomaly_share"] < 1
        (png,) = [e["path"] for e in event["metadataEntries"] if e["label"] == "chart_png"]
        assert Path(png).read_bytes().startswith(b"\x89PNG")
    profile, normal = ({e["label"]: e.get("floatValue") for e in ev["metadataEntries"]} for ev in events)
    assert profile["anomaly_share"] > normal["anomaly_share"], "peak-season labels more anomalies than normal-ops"
    page.goto(server.url + "/assets/commerce/daily_activity")
    page.get_by_role("button", name="Plots").click()
    for label in ("rows", "anomaly_share", "rows_per_second"):
        expect(page.get_by_text(label, exact=True).first).to_be_visible()
    page.get_by_text("anomaly_share", exact=True).first.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "05-daily-activity-plots.png")
    # The rows-per-day chart, folded by the UI behind "[Show Markdown]".
    page.get_by_role("button", name="Table").click()
    page.get_by_role("row", name=re.compile(r"^chart ")).get_by_text("[Show Markdown]").click()
    chart = page.get_by_role("dialog").locator("img[src^='data:image/png;base64,']")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth") > 300
    page.screenshot(path=ARTIFACTS / "06-daily-activity-chart.png")
    page.keyboard.press("Escape")
    if os.environ.get("MOCK_PIPELINE_UPDATE_DOCS") == "1":
        page.set_viewport_size({"width": 1600, "height": 1100})
        page.goto(f"{server.url}/locations/{location}/asset-groups/commerce")
        expect(page.get_by_text("orders", exact=True).first).to_be_visible()
        page.wait_for_timeout(3000)  # let the graph finish laying out before the picture
        page.screenshot(path=DOCS / "asset-graph.png")
        shutil.copy(ARTIFACTS / "06-daily-activity-chart.png", DOCS / "daily-activity-chart.png")
        page.set_viewport_size({"width": 1600, "height": 1000})


def type_run_config(page: Any, text: str) -> None:
    """Replace the launchpad's run config with `text`, as a user pasting it."""
    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def check_launchpad_refuses(server: DagsterDev, page: Any, location: str, name: str, value: str) -> None:
    """A closed choice (`size: huge`, `profile: bogus`) is refused in the launchpad itself: one message
    naming it, and no run starts."""
    from playwright.sync_api import expect

    job = profile_job_name(PROFILE)
    before = server.graphql(RUNS_QUERY, {"filter": {"pipelineName": job}})["runsOrError"]["results"]
    page.goto(f"{server.url}/locations/{location}/jobs/{job}/playground")
    expect(page.get_by_text(f"profile: {PROFILE}").first).to_be_visible()
    config = {"profile": PROFILE, "size": "small", name: value}
    type_run_config(
        page, "resources:\n  scenario:\n    config:\n" + "".join(f"      {k}: {v}\n" for k, v in config.items())
    )
    expect(page.get_by_text(re.compile(rf"{name} not in enum type .*got {value}"))).to_be_visible()
    launch = page.get_by_role("button", name="Launch Run")
    expect(launch).to_be_disabled()
    page.screenshot(path=ARTIFACTS / f"07-launchpad-refuses-{name}-{value}.png")
    launch.click(force=True)  # a click on the disabled button launches nothing
    page.wait_for_timeout(3000)
    after = server.graphql(RUNS_QUERY, {"filter": {"pipelineName": job}})["runsOrError"]["results"]
    assert after == before, f"no run may start with {name}: {value}"


def launch_custom_profile_from_the_launchpad(server: DagsterDev, page: Any, location: str) -> None:
    """A custom profile is still a run: `custom_profile` names an entry of `custom_profiles` (scrum's job, the
    quickest domain), the launchpad accepts it and the run succeeds with the custom profile's dataset."""
    from playwright.sync_api import expect

    job = domain_job_name("scrum")
    before = server.graphql(RUNS_QUERY, {"filter": {"pipelineName": job}})["runsOrError"]["results"]
    page.goto(f"{server.url}/locations/{location}/jobs/{job}/playground")
    expect(page.get_by_text("profile: normal-ops").first).to_be_visible()
    type_run_config(
        page,
        "resources:\n  scenario:\n    config:\n      custom_profile: my-scenario\n      custom_profiles:\n"
        "        my-scenario: {extends: peak-season, anomaly_rate: 0.2}\n",
    )
    launch = page.get_by_role("button", name="Launch Run")
    expect(launch).to_be_enabled()
    expect(page.get_by_text(re.compile(r"not in enum type"))).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "08-launchpad-custom-profile.png")
    launch.click()
    runs = wait_for_runs(server, job, len(before) + 1)
    launched = next(r for r in runs if r not in before)
    run = server.wait_for_run(launched["runId"], timeout=RUN_TIMEOUT)
    assert run["status"] == "SUCCESS", server.tail()
    manifests = list((server.data_dir / "exports").glob("my-scenario_small_seed42_*/scrum/manifest.json"))
    assert len(manifests) == 1, "the custom profile's own dataset was exported"
