"""Real servers on loopback for integration tests: PostgreSQL, moto's S3 API and Redis.

Each is started by the tests themselves (as .ci/run would on a fresh machine) and stopped at the
end of the session. A missing binary fails the test in CI and skips it, with the reason, elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("MOCK_PIPELINE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def unavailable(reason: str) -> None:
    """Fail in CI, where everything must be installed; skip with the reason elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"integration prerequisite missing in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args: str) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@contextmanager
def postgres_server(bin_dir: Path = PG_BIN) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; yields a connection URL."""
    if not (bin_dir / "initdb").exists():
        unavailable(f"PostgreSQL server binaries not found in {bin_dir} (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="mock_pipeline_pg_"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(_as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"),
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-o", options, "-l", str(root / "log"), "start"),
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway Redis (no persistence) on a free loopback port; yields `redis://127.0.0.1:PORT`."""
    executable = shutil.which("redis-server")
    if executable is None:
        unavailable("redis-server not installed (apt-get install redis-server)")
    root = Path(tempfile.mkdtemp(prefix="mock_pipeline_redis_"))
    port = free_port()
    command = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen([*command, "--dir", str(root), "--logfile", str(root / "log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:  # ready when it answers PING (RESP inline command)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                log = root / "log"
                raise RuntimeError(f"redis-server did not start: {log.read_text()[-2000:] if log.exists() else ''}")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """moto's S3 HTTP API on a free loopback port; yields its endpoint URL."""
    executable = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if not Path(executable).exists():
        unavailable("moto_server not installed (pip install 'moto[server]')")
    port = free_port()
    proc = subprocess.Popen([executable, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)
