"""`dagster dev` on a free loopback port with a throwaway DAGSTER_HOME, for the UI and GraphQL tests.

Started in its own session and stopped with SIGINT (a `dagster dev` in the background ignores
SIGTERM; SIGINT shuts the webserver, daemon and code server down in a few seconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_pipeline_tests.servers import free_port, unavailable

REPO = Path(__file__).parents[1]
CHROMIUM = Path(os.environ.get("MOCK_PIPELINE_CHROMIUM", "/usr/bin/chromium"))
# Headless as root on a closed network: no sandbox, no GPU, no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]  # fmt: skip
DAGSTER = str(Path(sys.executable).with_name("dagster"))
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass(frozen=True)
class DagsterDev:
    host: str
    port: int
    data_dir: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url + "/graphql", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.load(response)
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def run(self, run_id: str) -> dict[str, Any]:
        """A run's status and step/materialisation counts: this project's "status" call."""
        data = self.graphql(
            """query ($id: ID!) { runOrError(runId: $id) { __typename ... on Run {
                 runId jobName status tags { key value }
                 stats { ... on RunStatsSnapshot { stepsSucceeded stepsFailed materializations } } } } }""",
            {"id": run_id},
        )
        return data["runOrError"]

    def wait_for_run(self, run_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run.get("status") in TERMINAL:
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} not finished after {timeout:.0f} s: {run}\n{self.tail()}")
            time.sleep(2)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


@contextmanager
def dagster_dev(
    root: Path,
    extra_env: dict[str, str] | None = None,
    startup_timeout: float = 180,
    module: str = "mock_pipeline.definitions",
    command: Sequence[str] | None = None,
    base_env: Mapping[str, str] | None = None,
) -> Iterator[DagsterDev]:
    """`dagster dev` with DAGSTER_HOME `root/dagster_home` and data folder `root/data`.

    By default this checkout's code (`-m module`, from the repository folder). With `command` (such
    as README's `dagster dev`) it runs in `root` itself, as a user would in their project folder,
    with `base_env` (their shell's environment) instead of this process's.
    """
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    data_dir = root / "data"
    port = free_port()
    log = root / "dagster_dev.log"
    env = {**(base_env if base_env is not None else os.environ), "DAGSTER_HOME": str(home),
           "MOCK_PIPELINE_DATA_DIR": str(data_dir), **(extra_env or {})}  # fmt: skip
    argv = (
        [*command, "-h", "127.0.0.1", "-p", str(port)]
        if command
        else [DAGSTER, "dev", "-m", module, "-h", "127.0.0.1", "-p", str(port)]
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=root if command else REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = DagsterDev("127.0.0.1", port, data_dir, log)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                # Up, and the code location loaded (the jobs are listed).
                data = server.graphql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }")
                if data["repositoriesOrError"].get("nodes"):
                    break
            except (OSError, AssertionError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dagster dev did not start:\n{server.tail()}")
            time.sleep(1)
        yield server
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A Playwright page in Debian's headless chromium (a missing browser: servers.unavailable)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def dismiss_community_dialog(page: Any) -> None:
    """A fresh browser profile gets a "Join the Dagster community" dialog that swallows clicks."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    skip = page.get_by_role("dialog").get_by_role("button", name="Skip")
    with contextlib.suppress(PlaywrightTimeout):  # not every profile is shown it: nothing to dismiss
        skip.click(timeout=15_000)
