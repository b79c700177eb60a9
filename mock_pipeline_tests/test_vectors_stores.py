"""Vector sync into the external stores: pgvector on a real PostgreSQL server, Pinecone's official SDK
against a local stand-in for the index host, both driven through the Dagster asset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import numpy as np
import pyarrow as pa
import pytest

from mock_pipeline.publish.vectors import (
    HashingEmbedder,
    PgVectorStoreResource,
    PineconeStore,
    PineconeVectorStoreResource,
    VectorSyncError,
    record_schema,
    vector_store_from_env,
)
from mock_pipeline_tests.servers import free_port
from mock_pipeline_tests.servers_pgvector import pgvector_server
from mock_pipeline_tests.vectors_support import (
    COLLECTION,
    expected_records,
    materialise_commerce,
    stored_run_text,
    sync,
    sync_metadata,
    unique_text_record,
)


@pytest.fixture(scope="module")
def commerce_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialise_commerce(tmp_path_factory)


# --- PostgreSQL + pgvector (a real server) -------------------------------------------------------


def _pgvector_from_env(monkeypatch: pytest.MonkeyPatch, url: str) -> dg.ConfigurableResource:
    """The store as definitions.py builds it from the environment (the URL as dg.EnvVar)."""
    monkeypatch.setenv("MOCK_PIPELINE_PGVECTOR_URL", url)
    resource = vector_store_from_env({"MOCK_PIPELINE_VECTOR_STORE": "pgvector"})
    assert isinstance(resource, PgVectorStoreResource)
    return resource


PG_PASSWORD = "pg-Secret-7f3a91"


@pytest.fixture(scope="module")
def pgvector_url() -> Iterator[str]:
    """URL of a role with a password on a real PostgreSQL 16 + pgvector (pgserver's binaries)."""
    import psycopg2

    with pgvector_server() as admin_url:
        conn = psycopg2.connect(admin_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"CREATE ROLE syncer LOGIN SUPERUSER PASSWORD '{PG_PASSWORD}'")
        conn.close()
        yield admin_url.replace("postgres@", f"syncer:{PG_PASSWORD}@")


@pytest.mark.integration
def test_pgvector_sync_upserts_indexes_and_answers_distance_queries(
    commerce_root: Path, pgvector_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg2

    instance = dg.DagsterInstance.ephemeral()
    pg_store = _pgvector_from_env(monkeypatch, pgvector_url)
    result = sync(commerce_root, pg_store, instance=instance)
    meta = sync_metadata(result)
    expected = expected_records(commerce_root)
    total = sum(map(len, expected.values()))
    port = urlsplit(pgvector_url).port
    assert meta["dagster/uri"] == f"postgresql://syncer@127.0.0.1:{port}/postgres?schema=mock_vectors"
    assert (meta["inserted"], meta["collection_total"], meta["tables"]) == (
        total,
        total,
        {t: len(i) for t, i in expected.items()},
    )

    table = f"mock_vectors.{COLLECTION}"
    record_id, text = unique_text_record(commerce_root, "reviews")
    query = "[" + ",".join(map(str, HashingEmbedder().embed([text])[0])) + "]"
    with psycopg2.connect(pgvector_url) as conn, conn.cursor() as cur:
        cur.execute(
            f'SELECT table_name, count(*) FROM (SELECT "table" AS table_name FROM {table}) t GROUP BY 1 ORDER BY 1'
        )
        assert dict(cur.fetchall()) == {t: len(i) for t, i in expected.items()}
        cur.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'mock_vectors'")
        assert any("hnsw" in d and "vector_cosine_ops" in d for (d,) in cur.fetchall())
        cur.execute(f"SELECT vector_dims(embedding) FROM {table} LIMIT 1")
        assert cur.fetchone() == (512,)
        cur.execute(f"SELECT id FROM {table} ORDER BY embedding <=> %s::vector LIMIT 1", (query,))
        assert cur.fetchone() == (record_id,)
        cur.execute(
            f"SELECT id, embedding <-> %s::vector FROM {table} ORDER BY embedding <-> %s::vector LIMIT 1",
            (query, query),
        )
        best, distance = cur.fetchone()
        assert best == record_id and distance < 1e-5
        cur.execute(f"SELECT metadata->>'text', metadata->>'table' FROM {table} WHERE id = %s", (record_id,))
        assert cur.fetchone() == (text, "reviews")

    # Re-running upserts: no duplicates, unchanged records untouched, a changed record rewritten.
    again = sync_metadata(sync(commerce_root, pg_store, instance=instance))
    assert (again["inserted"], again["updated"], again["collection_total"]) == (0, 0, total)
    with psycopg2.connect(pgvector_url) as conn, conn.cursor() as cur:
        cur.execute(f"UPDATE {table} SET text = 'edited by hand' WHERE id = %s", (record_id,))
    healed = sync_metadata(sync(commerce_root, pg_store, instance=instance))
    assert (healed["inserted"], healed["updated"], healed["collection_total"]) == (0, 1, total)
    with psycopg2.connect(pgvector_url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT text FROM {table} WHERE id = %s", (record_id,))
        assert cur.fetchone() == (text,)

    # The password never reaches logs, events, metadata or the stored run.
    stored = stored_run_text(instance, result)
    assert "syncer@127.0.0.1" in stored and PG_PASSWORD not in stored


@pytest.mark.integration
def test_pgvector_failure_half_way_leaves_the_table_as_it_was(commerce_root: Path, pgvector_url: str) -> None:
    from mock_pipeline.publish.vectors import PgVectorStore

    store = PgVectorStore(pgvector_url, schema="half_way")
    first = store.sync("docs", 8, [_tiny_batch(["a", "b"], 8)])
    assert (first.inserted, first.total) == (2, 2)

    def batches() -> Iterator[pa.Table]:
        yield _tiny_batch(["c", "d"], 8)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        store.sync("docs", 8, batches())
    assert store.count("docs") == 2
    assert [m.id for m in store.query("docs", np.eye(8, dtype=np.float32)[1], k=1)] == ["b"]


@pytest.mark.integration
def test_pgvector_unreachable_server_fails_without_showing_the_password(
    commerce_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql://syncer:{PG_PASSWORD}@127.0.0.1:{free_port()}/postgres"
    instance = dg.DagsterInstance.ephemeral()
    result = sync(commerce_root, _pgvector_from_env(monkeypatch, url), instance=instance, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "vector sync of commerce failed" in failure.step_failure_data.error.message
    assert PG_PASSWORD not in stored_run_text(instance, result)


def _tiny_batch(ids: list[str], dim: int) -> pa.Table:
    vectors = np.eye(dim, dtype=np.float32)[: len(ids)]
    n = len(ids)
    return pa.Table.from_arrays(
        [
            pa.array(ids), pa.array(["t"] * n), pa.array(["docs"] * n), pa.array(ids), pa.nulls(n, pa.int64()),
            pa.array(["ds"] * n), pa.array(ids), pa.array(["{}"] * n),
            pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), dim),
        ],
        schema=record_schema(dim),
    )  # fmt: skip


# --- Pinecone: the official SDK against a local stand-in for the index host ----------------------

PINECONE_KEY = "pcsk_Secret_4d2c9e"


class PineconeStandIn(ThreadingHTTPServer):
    """NOT the live Pinecone service: a loopback HTTP server speaking the data-plane endpoints the
    adapter uses (upsert, query, list, delete, describe_index_stats), keeping vectors in memory and
    recording every request. `fail_next_upserts` answers 503 to exercise the SDK's retries."""

    def __init__(self, dimension: int) -> None:
        super().__init__(("127.0.0.1", 0), _PineconeHandler)
        self.dimension = dimension
        self.namespaces: dict[str, dict[str, tuple[list[float], dict[str, Any]]]] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.fail_next_upserts = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _PineconeHandler(BaseHTTPRequestHandler):
    server: PineconeStandIn

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._handle("GET", None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self._handle("POST", json.loads(self.rfile.read(length) or b"{}"))

    def _handle(self, method: str, body: Any) -> None:
        s = self.server
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        with s.lock:
            s.requests.append((method, url.path, dict(self.headers), body if body is not None else params))
            if self.headers.get("Api-Key") != PINECONE_KEY:
                return self._reply(401, {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}})
            if url.path == "/vectors/upsert":
                if s.fail_next_upserts:
                    s.fail_next_upserts -= 1
                    return self._reply(503, {"error": {"code": "UNAVAILABLE", "message": "try again"}})
                ns = s.namespaces.setdefault(body.get("namespace", ""), {})
                for v in body["vectors"]:
                    assert len(v["values"]) == s.dimension
                    ns[v["id"]] = (v["values"], v.get("metadata") or {})
                return self._reply(200, {"upsertedCount": len(body["vectors"])})
            if url.path == "/query":
                ns = s.namespaces.get(body.get("namespace", ""), {})
                q = np.asarray(body["vector"])
                scored = sorted(
                    ((float(np.dot(q, v) / (np.linalg.norm(q) * np.linalg.norm(v))), i, m) for i, (v, m) in ns.items()),
                    key=lambda t: -t[0],
                )[: body["topK"]]
                return self._reply(200, {"matches": [{"id": i, "score": sc, "metadata": m} for sc, i, m in scored]})
            if url.path == "/vectors/list":
                ids = sorted(s.namespaces.get(params.get("namespace", ""), {}))
                start, limit = int(params.get("paginationToken", 0)), int(params.get("limit", 100))
                page = {
                    "vectors": [{"id": i} for i in ids[start : start + limit]],
                    "namespace": params.get("namespace", ""),
                }
                if start + limit < len(ids):
                    page["pagination"] = {"next": str(start + limit)}
                return self._reply(200, page)
            if url.path == "/vectors/delete":
                ns = s.namespaces.get(body.get("namespace", ""), {})
                for i in body["ids"]:
                    ns.pop(i, None)
                return self._reply(200, {})
            if url.path == "/describe_index_stats":
                return self._reply(
                    200,
                    {
                        "namespaces": {k: {"vectorCount": len(v)} for k, v in s.namespaces.items()},
                        "dimension": s.dimension,
                        "totalVectorCount": sum(len(v) for v in s.namespaces.values()),
                    },
                )
            return self._reply(404, {"error": {"code": "NOT_FOUND", "message": url.path}})


@pytest.fixture
def pinecone_stand_in() -> Iterator[PineconeStandIn]:
    server = PineconeStandIn(dimension=512)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _pinecone(server: PineconeStandIn, monkeypatch: pytest.MonkeyPatch) -> dg.ConfigurableResource:
    """The store as definitions.py builds it from the environment (secrets as dg.EnvVar)."""
    monkeypatch.setenv("PINECONE_API_KEY", PINECONE_KEY)
    monkeypatch.setenv("PINECONE_INDEX_NAME", "mock-index")
    monkeypatch.setenv("PINECONE_INDEX_HOST", server.url)
    resource = vector_store_from_env({**os.environ, "MOCK_PIPELINE_VECTOR_STORE": "pinecone"})
    assert isinstance(resource, PineconeVectorStoreResource)
    return resource


def test_pinecone_adapter_requests_against_local_stand_in_not_live_service(
    commerce_root: Path, pinecone_stand_in: PineconeStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pinecone through its official SDK, WITHOUT the live service: the SDK talks HTTP to
    `PineconeStandIn` on loopback, standing in for the index host."""
    server = pinecone_stand_in
    server.fail_next_upserts = 1  # the first upsert answers 503: the SDK must retry it
    instance = dg.DagsterInstance.ephemeral()
    result = sync(commerce_root, _pinecone(server, monkeypatch), instance=instance)
    meta = sync_metadata(result)
    expected = expected_records(commerce_root)
    all_ids = sorted(i for ids in expected.values() for i in ids)

    assert meta["dagster/uri"] == f"pinecone://mock-index ({server.url})"
    assert meta["dagster/row_count"] == len(all_ids) and meta["tables"] == {t: len(i) for t, i in expected.items()}
    assert sorted(server.namespaces[COLLECTION]) == all_ids

    upserts = [r for r in server.requests if r[1] == "/vectors/upsert"]
    assert len(upserts) == -(-len(all_ids) // 100) + 1, "one request per 100 vectors, plus the retried one"
    assert upserts[0][3] == upserts[1][3], "the refused request was sent again as it was"
    assert server.requests[0][1] == "/describe_index_stats", "the index's dimension is checked before any write"
    assert all(r[2]["Api-Key"] == PINECONE_KEY for r in server.requests)
    sent = {v["id"]: v for r in upserts for v in r[3]["vectors"]}
    some_review = next(i for i in all_ids if ":reviews:" in i)
    metadata = sent[some_review]["metadata"]
    assert metadata["table"] == "reviews" and metadata["key"] == some_review.rsplit(":", 1)[1]
    assert isinstance(metadata["rating"], int) and isinstance(metadata["tenant_id"], int)
    assert all(value is not None for v in sent.values() for value in v["metadata"].values())

    # Re-running upserts the same ids; a vector the dataset no longer has is listed and deleted.
    server.namespaces[COLLECTION]["commerce:products:999999999"] = ([1.0] * 512, {})
    again = sync_metadata(sync(commerce_root, _pinecone(server, monkeypatch), instance=instance))
    assert again["deleted_stale"] == 1 and sorted(server.namespaces[COLLECTION]) == all_ids

    record_id, text = unique_text_record(commerce_root, "products")
    store = PineconeStore(PINECONE_KEY, "mock-index", server.url)
    [best, *_] = store.query(COLLECTION, HashingEmbedder().embed([text])[0], k=3)
    assert best.id == record_id and best.metadata["text"] == text
    assert store.count(COLLECTION) == len(all_ids)

    # The API key went out in the header and nowhere else.
    assert PINECONE_KEY not in stored_run_text(instance, result)
    assert not any(PINECONE_KEY in p.read_text(errors="ignore") for p in commerce_root.rglob("*") if p.is_file())


def test_pinecone_adapter_refuses_an_index_of_another_dimension_before_writing(
    commerce_root: Path, pinecone_stand_in: PineconeStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stand-in index host, not the live service."""
    pinecone_stand_in.dimension = 1536
    result = sync(commerce_root, _pinecone(pinecone_stand_in, monkeypatch), raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "has dimension 1536, the embedder makes 512" in failure.step_failure_data.error.message
    assert not [r for r in pinecone_stand_in.requests if r[1] == "/vectors/upsert"]


def test_pinecone_without_its_optional_sdk_is_one_clear_line_before_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pinecone", None)  # what an install without the `pinecone` extra sees
    store = PineconeStore(PINECONE_KEY, "mock-index")
    with pytest.raises(VectorSyncError) as refused:
        store.check("commerce_hashing512", 512)
    assert str(refused.value).startswith(
        "vector store 'pinecone' needs the optional extra: pip install -e '.[pinecone]'"
    )
    assert PINECONE_KEY not in str(refused.value)


@pytest.mark.slow
def test_definitions_load_without_the_pinecone_sdk() -> None:
    """The SDK is imported only when the Pinecone store is used: the default install never needs it."""
    code = (
        "import sys; sys.modules['pinecone'] = None; "  # any `import pinecone` now raises ImportError
        "import mock_pipeline.definitions, mock_pipeline.publish.vectors; print('loaded')"
    )
    env = {**os.environ, "MOCK_PIPELINE_VECTOR_STORE": "lancedb"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("loaded")
