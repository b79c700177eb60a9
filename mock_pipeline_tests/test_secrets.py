"""Secrets never leak: not whole, not in part (no 4-character piece of one), anywhere a user can look.

A careless server echoes the request's key in its error body. The unit part puts the key at every
offset around the excerpt's cut; the end-to-end part runs the real CLI with every kind of secret
configured (S3 keys against moto, a database password against PostgreSQL, the upload API key and
the Pinecone key against a local server that fails on purpose) and searches stdout, stderr, the
Dagster home (event log, compute logs, run records and metadata) and every file of the data folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import psycopg2
import pytest
import requests

from mock_pipeline.publish.http import ApiSink, Request, UploadError
from mock_pipeline.publish.scrubbing import EXCERPT_CHARS, MIN_FRAGMENT, excerpt, scrub

# Fixed, not random: a run's outputs are deterministic, so a chance 4-character match in generated
# data would show the same way every time instead of flaking. Mixed case and digits, no words.
API_KEY = "Qz7kXw2VbJ9mTq4L"
PINECONE_KEY = "Hx3RvN8jWq5ZtKc2"
S3_ACCESS_KEY = "AKZQ7W2XJV9MRT4B"
S3_SECRET_KEY = "Vb8Jq2Xz5WkR7mTn3HcQ9LpZ"
DB_PASSWORD = "Wn4Kx9QzJ2vBq7Rt"
SECRETS = (API_KEY, PINECONE_KEY, S3_ACCESS_KEY, S3_SECRET_KEY, DB_PASSWORD)


def fragments(secret: str) -> set[str]:
    return {secret[i : i + MIN_FRAGMENT] for i in range(len(secret) - MIN_FRAGMENT + 1)}


def leaks(text: str | bytes) -> list[str]:
    """Every 4-character piece of a configured secret found in `text`."""
    raw = text if isinstance(text, bytes) else text.encode()
    return sorted({f for s in SECRETS for f in fragments(s) if f.encode() in raw})


def context(content: bytes, fragment: str) -> str:
    at = content.find(fragment.encode())
    return repr(content[max(0, at - 40) : at + 40])


# --- a server that fails on purpose, echoing the key -------------------------------------------------
class EchoingServer(ThreadingHTTPServer):
    """Answers every request 400 with a body that quotes the request's key headers at `offset`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        self.daemon_threads = True
        self.offset = 190
        self.as_json = True
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _EchoHandler(BaseHTTPRequestHandler):
    server: EchoingServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _fail(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests += 1
        keys = " ".join(v for k, v in self.headers.items() if k.lower() in ("x-api-key", "api-key"))
        text = "x" * self.server.offset + f"rejected key {keys} for this request" + "y" * 40
        body = json.dumps({"error": text}).encode() if self.server.as_json else text.encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json" if self.server.as_json else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _fail


@pytest.fixture
def echoing_server() -> Iterator[EchoingServer]:
    server = EchoingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --- unit: scrubbing itself ------------------------------------------------------------------------------
def test_scrub_masks_the_secret_its_encodings_and_pieces_cut_off_at_either_end() -> None:
    assert scrub(f"key={API_KEY}!", [API_KEY]) == "key=***!"
    assert scrub(json.dumps({"k": "a/b+c d" * 2}), ["a/b+c da/b+c d"]) == '{"k": "***"}'
    assert scrub("quoted a%2Fb%2Bc%20d here", ["a/b+c d"]) == "quoted *** here"
    # Someone else cut the text through the key: what is left of it is masked too.
    assert scrub(f"echo {API_KEY[:9]}", [API_KEY]) == "echo ***"
    assert scrub(f"{API_KEY[-6:]} rest", [API_KEY]) == "*** rest"
    assert scrub("nothing here", [API_KEY, None, ""]) == "nothing here"


def test_excerpt_takes_the_servers_message_and_cuts_after_scrubbing() -> None:
    body = json.dumps({"error": "x" * (EXCERPT_CHARS - 5) + API_KEY, "trace": "long " * 500})
    text = excerpt(body, [API_KEY])
    assert len(text) <= EXCERPT_CHARS
    assert "trace" not in text and "long" not in text
    assert not leaks(text), text


@pytest.mark.integration
@pytest.mark.parametrize("as_json", [True, False], ids=["json-body", "text-body"])
def test_key_echoed_at_every_offset_around_the_cut_never_reaches_the_message(
    echoing_server: EchoingServer, as_json: bool
) -> None:
    echoing_server.as_json = as_json
    session = requests.Session()
    session.headers["X-API-Key"] = API_KEY
    sink = ApiSink(session, echoing_server.url, timeout=5, secret=API_KEY)
    prefix = len("rejected key ")
    # Around the excerpt's cut and around the old 200-character cut, the key straddling each.
    offsets = sorted({o - prefix for cut in (EXCERPT_CHARS, 200) for o in range(cut - len(API_KEY) - 2, cut + 3)})
    messages = []
    for offset in offsets:
        echoing_server.offset = offset
        with pytest.raises(UploadError) as failure:
            sink.post(Request("commerce/orders", "orders/000000.json", b"{}", f"k{offset}"))
        messages.append(str(failure.value))
    assert echoing_server.requests == len(offsets)
    assert all("answered 400" in m for m in messages)
    assert [m for m in messages if leaks(m)] == []


# --- end to end: the real CLI, every secret configured ----------------------------------------------------
TINY = {"commerce.products_per_tenant": 40, "commerce.orders_per_tenant": 120, "commerce.customers_per_tenant": 20}


@pytest.mark.integration
def test_no_piece_of_any_secret_reaches_output_logs_metadata_or_files(
    tmp_path: Path, echoing_server: EchoingServer, postgres_url: str, s3_endpoint: str
) -> None:
    echoing_server.offset = 168  # in the raw JSON body the key spans characters 192-208: across the old 200 cut
    database = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{database}"')
    admin.close()
    # The server trusts loopback, so the password is configured, sent, and must still never show.
    database_url = postgres_url.replace("postgres@", f"postgres:{DB_PASSWORD}@").rsplit("/", 1)[0] + f"/{database}"
    bucket = f"b{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY)  # fmt: skip
    s3.create_bucket(Bucket=bucket)

    home, data = tmp_path / "dagster_home", tmp_path / "data"
    home.mkdir()
    config = tmp_path / "run.yaml"
    config.write_text(json.dumps({"resources": {"scenario": {"config": {"overrides": TINY}}}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCK_PIPELINE_", "AWS_", "PINECONE_"))}
    env.update({
        "DAGSTER_HOME": str(home),
        "MOCK_PIPELINE_DATA_DIR": str(data),
        "MOCK_PIPELINE_DATABASE_URL": database_url,
        "MOCK_PIPELINE_S3_BUCKET": bucket,
        "MOCK_PIPELINE_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "MOCK_PIPELINE_UPLOAD_API_URL": echoing_server.url + "/api/v1",
        "MOCK_PIPELINE_UPLOAD_API_KEY": API_KEY,
        "MOCK_PIPELINE_VECTOR_STORE": "pinecone",
        "PINECONE_API_KEY": PINECONE_KEY,
        "PINECONE_INDEX_NAME": "mock-index",
        "PINECONE_INDEX_HOST": echoing_server.url,
    })  # fmt: skip
    run = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "mock_pipeline.definitions",
         "--select", "group:commerce", "-c", str(config)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip

    # The secrets were really used: the database and the bucket got the data, both servers were asked.
    with psycopg2.connect(database_url) as con, con.cursor() as cur:
        cur.execute("SELECT count(*) FROM mock_data.commerce_orders")
        assert cur.fetchone()[0] > 0
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] > 0
    assert "HTTP upload of commerce failed" in run.stderr and "answered 400" in run.stderr
    assert "vector sync of commerce failed" in run.stderr
    assert run.returncode != 0

    found = {"stdout": leaks(run.stdout), "stderr": leaks(run.stderr)}
    for root in (home, data):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            content = path.read_bytes()
            if hits := leaks(content):  # with some context, to tell a leak from a chance match
                found[str(path.relative_to(tmp_path))] = [context(content, h) for h in hits]
    assert {k: v for k, v in found.items() if v} == {}
    assert any(home.rglob("*.db")) and any(data.rglob("*.parquet")), "the searched folders hold the run's records"
