"""HTTP upload: the local outbox default, and a real HTTP API of the tests' own on loopback.

The test API (http.server in a thread) checks the API key header, records what it receives,
deduplicates by Idempotency-Key (replaying its first answer), answers some requests' first attempt
with 503, 429 or a dropped connection, and refuses one tenant's price history so that "accepted"
is the server's word, not the client's count.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.engine.table import TableSpec
from mock_pipeline.publish.files import ndjson_lines
from mock_pipeline.publish.http import (
    ApiHttpUploadResource,
    HttpUploadResource,
    OutboxHttpUploadResource,
    OutboxSink,
    http_upload_asset,
    http_upload_from_env,
    json_safe,
    record_batches,
    upload_records,
)
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline_tests.helpers import materialization_metadata, materialize_domain
from mock_pipeline_tests.servers import free_port

API_KEY = "mock-api-key-5b1e0c9a77"
TINY = {"commerce.products_per_tenant": 40, "commerce.orders_per_tenant": 120, "commerce.customers_per_tenant": 20}
BATCH = 50

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def scenario() -> ScenarioResource:
    return ScenarioResource(overrides=TINY)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, scenario: ScenarioResource) -> Path:
    """A data folder holding commerce's tables, checked and exported; returns the data root."""
    root = tmp_path_factory.mktemp("http") / "data"
    assert materialize_domain(COMMERCE, root, scenario).success
    return root


def parquet(root: Path, scenario: ScenarioResource, table: str) -> pa.Table:
    return pq.read_table(DataDirResource(root=str(root)).dataset(scenario.resolve(), "commerce") / table)


def upload(
    root: Path, scenario: ScenarioResource, http_upload: HttpUploadResource, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [http_upload_asset(COMMERCE)],
        resources={"scenario": scenario, "data_dir": DataDirResource(root=str(root)), "http_upload": http_upload},
        instance=instance,
        raise_on_error=False,
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    return failure.step_failure_data.error.message


def api(url: str, **kwargs: Any) -> ApiHttpUploadResource:
    settings: dict[str, Any] = {"api_key": API_KEY, "batch_size": BATCH, "backoff_seconds": 0.01}
    return ApiHttpUploadResource(api_url=url, **{**settings, **kwargs})


# --- the test API -------------------------------------------------------------------------------------
class RecordingApi:
    """Records accepted batches; `faults` maps an Idempotency-Key to what its first attempts get."""

    def __init__(self, faults: dict[str, list[str]] | None = None, delay_seconds: float = 0.0) -> None:
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.delay_seconds = delay_seconds  # a slower server: concurrent clients would overlap
        self.arrivals: list[str] = []  # the Idempotency-Key of every request, in arrival order
        self.attempts: Counter[str] = Counter()
        self.answers: dict[str, dict[str, int]] = {}  # Idempotency-Key -> first answer
        self.records: dict[str, list[dict[str, Any]]] = defaultdict(list)  # table -> records kept
        self.order: list[str] = []  # request paths in the order they were first accepted
        self.keys_seen: set[str | None] = set()
        self.manifest: dict[str, Any] | None = None
        self.bodies: dict[str, bytes] = {}  # Idempotency-Key -> the raw body first accepted
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def answer(self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **(extra or {})}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers.get("Idempotency-Key", "")
                with outer.lock:
                    outer.arrivals.append(key)
                    outer.keys_seen.add(self.headers.get("X-API-Key"))
                    outer.attempts[key] += 1
                    fault = outer.faults[key].pop(0) if outer.faults.get(key) else None
                if self.headers.get("X-API-Key") != API_KEY:  # echoes the key, as careless servers do
                    return self.answer(401, {"error": f"unknown API key {self.headers.get('X-API-Key')}"})
                if fault == "503":
                    return self.answer(503, {"error": "busy"})
                if fault == "429":
                    return self.answer(429, {"error": "slow down"}, {"Retry-After": "0"})
                if fault == "500":
                    return self.answer(500, {"error": "broken"})
                with outer.lock:
                    if key not in outer.answers:
                        outer.answers[key] = outer.accept(self.path, json.loads(body))
                        outer.bodies[key] = body
                    response = outer.answers[key]
                time.sleep(outer.delay_seconds)
                if fault == "drop":  # accepted, but the answer is lost: the client must retry
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                return self.answer(200, response)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def accept(self, path: str, payload: dict[str, Any]) -> dict[str, int]:
        self.order.append(path)
        if path.endswith("/manifest"):
            self.manifest = payload
            return {"accepted": 1}
        table = payload["table"]
        assert path == f"/api/v1/commerce/{table}"
        # Business rule of this API: tenant 2 has no price history feature; those records are dropped.
        kept = [r for r in payload["records"] if not (table == "price_history" and r["tenant_id"] == 2)]
        self.records[table].extend(kept)
        return {"accepted": len(kept)}

    def __enter__(self) -> RecordingApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the embedded default ---------------------------------------------------------------------------
def outbox_files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def outbox_bodies(folder: Path) -> list[bytes]:
    """A table's request bodies in batch order, as the outbox stores them: each batch once, gzip-compressed."""
    files = sorted(folder.iterdir())
    assert files and all(p.name.endswith(".json.gz") for p in files)
    return [gzip.decompress(p.read_bytes()) for p in files]


def test_outbox_default_holds_exactly_what_would_be_posted(exported: Path, scenario: ScenarioResource) -> None:
    result = upload(exported, scenario, OutboxHttpUploadResource(batch_size=BATCH))
    assert result.success
    outbox = exported / "http_outbox" / scenario.resolve().dataset_id / "commerce"
    meta = materialization_metadata(result)
    assert meta["destination"] == "outbox" and meta["dagster/uri"] == outbox.as_uri()
    assert meta["manifest"] == (outbox / "manifest.json").as_uri()

    manifest = json.loads((outbox / "manifest.json").read_text())
    for spec in COMMERCE.tables:
        rows = parquet(exported, scenario, spec.name)
        bodies = [json.loads(b) for b in outbox_bodies(outbox / spec.name)]
        assert [b["batch"] for b in bodies] == list(range(len(bodies)))
        assert all(len(b["records"]) == BATCH for b in bodies[:-1])
        records = [r for b in bodies for r in b["records"]]
        assert len(records) == rows.num_rows == manifest["tables"][spec.name]["rows"]
        assert [r[spec.key] for r in records] == rows.column(spec.key).to_pylist()
        assert set(records[0]) == set(rows.column_names)
    assert meta["records_sent"] == sum(t["rows"] for t in manifest["tables"].values())
    assert meta["accepted_per_table"]["orders"]["sent"] == parquet(exported, scenario, "orders").num_rows

    before = outbox_files(outbox)
    assert upload(exported, scenario, OutboxHttpUploadResource(batch_size=BATCH)).success
    assert outbox_files(outbox) == before  # a rerun writes the same bytes, and no leftovers
    assert not [p for p in outbox.parent.iterdir() if p.name.startswith(".")]


def test_bodies_are_valid_json_and_leave_out_excluded_columns(tmp_path: Path) -> None:
    names = ["plain", 'quote " and \\ backslash', "new\nline\ttab", "ünïcödé ✓", None]
    table = pa.table({
        "user_id": pa.array(range(1, 6), pa.int64()),
        "name": pa.array(names, pa.string()),
        "password_hash": pa.array(["h"] * 5, pa.string()),
        "active": pa.array([True, False, True, None, False]),
        "score": pa.array([1.5, float("nan"), float("inf"), None, -0.25], pa.float64()),
    })  # fmt: skip
    (tmp_path / "ds" / "users").mkdir(parents=True)
    pq.write_table(table, tmp_path / "ds" / "users" / "part-00000.parquet")
    spec = TableSpec("d", "users", "user_id", table.schema, "users", lambda m: 5, None,
                     export_exclude=("password_hash",))  # fmt: skip
    report = upload_records(tmp_path / "ds", [spec], OutboxSink(tmp_path / "out", tmp_path / "out"), "d", "ds1", 2)
    assert report.tables["users"].batches == 3 and report.rows == 5
    records = [r for body in outbox_bodies(tmp_path / "out" / "users") for r in json.loads(body)["records"]]
    assert records == [
        {"user_id": i + 1, "name": n, "active": a, "score": x}
        for i, (n, a, x) in enumerate(
            zip(names, [True, False, True, None, False], [1.5, None, None, None, -0.25], strict=True)
        )
    ]
    assert b"password_hash" not in b"".join(outbox_bodies(tmp_path / "out" / "users"))


def test_outbox_write_failing_half_way_keeps_the_previous_outbox(
    exported: Path, scenario: ScenarioResource, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert upload(exported, scenario, OutboxHttpUploadResource(batch_size=BATCH)).success
    outbox = exported / "http_outbox" / scenario.resolve().dataset_id / "commerce"
    before = outbox_files(outbox)
    calls = Counter[str]()
    compress = gzip.compress

    def disk_full_on_the_fifth_batch(data: bytes, **kwargs: Any) -> bytes:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device (simulated)")
        return compress(data, **kwargs)

    monkeypatch.setattr(gzip, "compress", disk_full_on_the_fifth_batch)
    result = upload(exported, scenario, OutboxHttpUploadResource(batch_size=BATCH))
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "No space left on device (simulated)" in failure.step_failure_data.error.to_string()
    assert outbox_files(outbox) == before  # the previous complete outbox, untouched
    assert not [p for p in outbox.parent.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_outbox_holds_the_very_bytes_an_api_receives(exported: Path, scenario: ScenarioResource) -> None:
    dataset_id = scenario.resolve().dataset_id
    assert upload(exported, scenario, OutboxHttpUploadResource(batch_size=BATCH)).success
    with RecordingApi() as server:
        assert upload(exported, scenario, api(server.url)).success
    outbox = exported / "http_outbox" / dataset_id / "commerce"
    stored = {
        f"{dataset_id}/commerce/{spec.name}/{i:06d}": body
        for spec in COMMERCE.tables
        for i, body in enumerate(outbox_bodies(outbox / spec.name))
    }
    received = {k: v for k, v in server.bodies.items() if not k.endswith("/manifest")}
    assert stored == received and len(stored) > len(COMMERCE.tables)

    # Each body is the envelope and the files export's NDJSON rendering of its rows, joined by commas
    # (built here with Python strings, independently of request_body's Arrow buffers).
    orders = parquet(exported, scenario, "orders").slice(BATCH, BATCH)
    spec = COMMERCE.table("orders")
    columns = [c for c in spec.columns if c not in spec.export_exclude]
    lines = ndjson_lines(json_safe(orders.select(columns)).combine_chunks().to_batches()[0], suffix="").to_pylist()
    envelope = {"batch": 1, "dataset_id": dataset_id, "domain": "commerce", "first_row": BATCH, "table": "orders"}
    head = json.dumps(envelope, sort_keys=True, separators=(",", ":"))[:-1]
    assert stored[f"{dataset_id}/commerce/orders/000001"] == f'{head},"records":[{",".join(lines)}]}}'.encode()


def test_request_records_are_cut_across_parquet_batches(tmp_path: Path) -> None:
    """Rows are rendered a Parquet batch (131,072 rows) at a time and cut into requests of exactly
    batch_size: requests that straddle two Parquet batches hold the same JSON as rows rendered alone."""
    n, size = 300_001, 1_000
    table = pa.table({"id": pa.array(range(n), pa.int64()), "note": pa.array([f'r{i}\n"q"' for i in range(n)])})
    (tmp_path / "t").mkdir()
    pq.write_table(table, tmp_path / "t" / "part-00000.parquet")
    requests = list(record_batches(tmp_path / "t", ["id", "note"], size))
    assert [len(r) for r in requests] == [size] * (n // size) + [n % size]
    for index in (130, 131, 262, 300):  # 131 and 262 straddle the Parquet batches; 300 is the last
        rows = table.slice(index * size, size).combine_chunks().to_batches()[0]
        assert requests[index].to_pylist() == [json.dumps(r, separators=(",", ":")) for r in rows.to_pylist()]


# --- a real HTTP API ------------------------------------------------------------------------------------
def test_api_upload_with_transient_failures(
    exported: Path, scenario: ScenarioResource, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    dataset_id = scenario.resolve().dataset_id
    faults = {
        f"{dataset_id}/commerce/orders/000000": ["503", "503"],
        f"{dataset_id}/commerce/customers/000000": ["429"],
        f"{dataset_id}/commerce/products/000000": ["drop"],
    }
    instance = dg.DagsterInstance.ephemeral()
    with RecordingApi(faults) as server:
        result = upload(exported, scenario, api(server.url), instance)
    assert result.success, failure_message(result)

    # Every record arrived exactly once (the dropped answer's retry was deduplicated), in batches.
    for spec in COMMERCE.tables:
        rows = parquet(exported, scenario, spec.name)
        if spec.name == "price_history":
            rows = rows.filter(pc.not_equal(rows["tenant_id"], 2))
        assert sorted(r[spec.key] for r in server.records[spec.name]) == sorted(rows.column(spec.key).to_pylist())
    assert server.attempts[f"{dataset_id}/commerce/orders/000000"] == 3
    assert server.attempts[f"{dataset_id}/commerce/customers/000000"] == 2
    assert server.attempts[f"{dataset_id}/commerce/products/000000"] == 2
    assert server.keys_seen == {API_KEY}
    # Parents before children, the manifest last, with the counts the server accepted.
    first_seen = [p.rsplit("/", 1)[1] for p in dict.fromkeys(server.order)]
    assert first_seen == [t.name for t in COMMERCE.tables if server.records[t.name]] + ["manifest"]
    assert server.manifest is not None

    meta = materialization_metadata(result)
    price = parquet(exported, scenario, "price_history")
    assert meta["accepted_per_table"]["price_history"] == {
        "sent": price.num_rows,
        "accepted": price.num_rows - pc.sum(pc.equal(price["tenant_id"], 2)).as_py(),
        "batches": -(-price.num_rows // BATCH),
    }
    assert (
        server.manifest["tables"]["price_history"]["accepted"]
        == meta["accepted_per_table"]["price_history"]["accepted"]
    )
    assert meta["records_accepted"] == sum(len(v) for v in server.records.values())
    assert meta["retries"] == 4 and meta["destination"] == "api"
    assert meta["dagster/uri"] == server.url + "/commerce"

    # The key is in no log, event, metadata or file.
    entries = "\n".join(str(e) for e in instance.all_logs(result.run_id))
    captured = capsys.readouterr()
    for text in (entries, caplog.text, captured.out, captured.err, json.dumps(meta, default=str)):
        assert API_KEY not in text
    assert not [p for p in exported.rglob("*") if p.is_file() and API_KEY.encode() in p.read_bytes()]


def test_failure_half_way_sends_no_manifest_and_stops_after_bounded_attempts(
    exported: Path, scenario: ScenarioResource
) -> None:
    key = f"{scenario.resolve().dataset_id}/commerce/orders/000001"
    with RecordingApi({key: ["500"] * 10}) as server:
        result = upload(exported, scenario, api(server.url, max_attempts=3))
    assert not result.success
    assert server.attempts[key] == 3
    assert server.manifest is None and server.records["orders"]  # half sent, never marked complete
    assert "500" in failure_message(result) and "orders" in failure_message(result)


def test_wrong_key_fails_at_once_without_echoing_it(exported: Path, scenario: ScenarioResource) -> None:
    with RecordingApi() as server:
        result = upload(exported, scenario, api(server.url, api_key="not-the-key-3c8d"))
    assert not result.success
    assert sum(server.attempts.values()) == 1  # 401 is not transient: no retry
    message = failure_message(result)
    assert "401" in message and "check the API key" in message and "not-the-key-3c8d" not in message


def test_unreachable_api_gives_up_after_bounded_retries(exported: Path, scenario: ScenarioResource) -> None:
    result = upload(exported, scenario, api(f"http://127.0.0.1:{free_port()}/api", max_attempts=3))
    assert not result.success
    assert "failed after retries" in failure_message(result)


def test_bad_configuration_fails_before_sending(exported: Path, scenario: ScenarioResource) -> None:
    with RecordingApi() as server:
        with_password = server.url.replace("http://", "http://user:pw@")
        result = upload(exported, scenario, api(with_password))
        zero = upload(exported, scenario, OutboxHttpUploadResource(batch_size=0))
    assert not result.success and "must not carry user:password" in failure_message(result)
    assert "pw@" not in failure_message(result)
    assert not zero.success and "batch_size" in failure_message(zero)
    assert sum(server.attempts.values()) == 0


def test_configured_from_environment(
    exported: Path, scenario: ScenarioResource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MOCK_PIPELINE_UPLOAD_API_URL", raising=False)
    monkeypatch.delenv("MOCK_PIPELINE_UPLOAD_API_KEY", raising=False)
    assert isinstance(http_upload_from_env(), OutboxHttpUploadResource)
    with RecordingApi() as server:
        monkeypatch.setenv("MOCK_PIPELINE_UPLOAD_API_URL", server.url)
        monkeypatch.setenv("MOCK_PIPELINE_UPLOAD_API_KEY", API_KEY)
        resource = http_upload_from_env()
        assert isinstance(resource, ApiHttpUploadResource)
        result = upload(exported, scenario, resource)
        rerun = upload(exported, scenario, resource)
    assert result.success and rerun.success
    assert server.keys_seen == {API_KEY} and server.manifest is not None
    # A rerun sends the same Idempotency-Keys, so a server that honours them keeps every record once.
    orders = parquet(exported, scenario, "orders")
    assert sorted(r["order_id"] for r in server.records["orders"]) == sorted(orders["order_id"].to_pylist())
    assert materialization_metadata(rerun)["records_accepted"] == materialization_metadata(result)["records_accepted"]
    assert API_KEY not in json.dumps(materialization_metadata(result), default=str)


def test_one_upload_per_domain_after_its_export() -> None:
    from mock_pipeline.definitions import DOMAINS, defs

    graph = defs.resolve_asset_graph()
    for domain in DOMAINS:
        node = graph.get(dg.AssetKey([domain.name, "http_upload"]))
        assert node.parent_keys == {dg.AssetKey([domain.name, "exported_files"])}
    assert isinstance(defs.resources["http_upload"], HttpUploadResource)
