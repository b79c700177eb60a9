"""The per-domain `vector_index` asset: embed the text tables and sync them into one collection."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
from pydantic import Field

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.publish.vectors.embedders import Embedder
from mock_pipeline.publish.vectors.errors import VectorSyncError
from mock_pipeline.publish.vectors.records import TableRecords, collection_name, table_records, text_tables
from mock_pipeline.publish.vectors.resources import EmbedderResource, VectorStoreResource
from mock_pipeline.publish.vectors.stores.base import SyncResult, VectorStore
from mock_pipeline.resources import DataDirResource, ScenarioResource


class VectorSyncConfig(dg.Config):
    """How a domain's text entities are synced into the vector store."""

    batch_rows: int = Field(default=4096, description="Rows read, embedded and sent per batch.")
    prune: bool = Field(default=True, description="Delete the collection's records the dataset no longer has.")


def sync_domain(
    domain: Domain,
    dataset: Path,
    dataset_id: str,
    embedder: Embedder,
    store: VectorStore,
    batch_rows: int = 4096,
    prune: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[SyncResult, list[TableRecords], str]:
    """Embed every text table of `domain` and sync it into one collection; all checks come first."""
    if batch_rows <= 0:
        raise VectorSyncError(f"batch_rows {batch_rows} is not allowed: a positive number of rows")
    specs = text_tables(domain.tables)
    missing = [s.name for s in specs if not any((dataset / s.name).glob("*.parquet"))]
    if missing:
        raise VectorSyncError(
            f"tables {', '.join(missing)} of {domain.name} are not materialised in {dataset}: "
            f"materialise group {domain.name} first"
        )
    collection = collection_name(domain.name, embedder)
    store.check(collection, embedder.dimension)
    tallies = [TableRecords(s.name) for s in specs]

    def all_records() -> Iterator[pa.Table]:
        for spec, tally in zip(specs, tallies, strict=True):
            yield from table_records(
                domain.name, spec, dataset, embedder, dataset_id, batch_rows, tally, store.text_in_metadata
            )
            log(f"{spec.name}: embedded {tally.records:,} of {tally.rows:,} rows")

    result = store.sync(collection, embedder.dimension, all_records(), prune=prune)
    return result, tallies, collection


def vector_index_asset(domain: Domain, store_kind: str = "lancedb") -> dg.AssetsDefinition | None:
    """The domain's vector sync, or None when the domain has no text tables."""
    specs = text_tables(domain.tables)
    if not specs:
        return None

    @dg.asset(
        name="vector_index",
        key_prefix=[domain.name],
        group_name=domain.name,
        # Every table, not only the text ones: the sync runs only once all of the domain's blocking checks pass.
        deps=[domain.key(t.name) for t in domain.tables],
        kinds={"python", store_kind},
        owners=OWNERS,
        tags={"domain": domain.name},
        description=(
            f"Embeds {', '.join(s.name for s in specs)} of {domain.name} and upserts them into the vector "
            "store with ids <domain>:<table>:<key> (seed 002's Pinecone sync)."
        ),
    )
    def _vector_index(
        context: dg.AssetExecutionContext,
        config: VectorSyncConfig,
        scenario: ScenarioResource,
        data_dir: DataDirResource,
        embedder: EmbedderResource,
        vector_store: VectorStoreResource,
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()
        started = time.perf_counter()
        store: VectorStore | None = None
        try:
            model = embedder.get()
            store = vector_store.open(data_dir.path)
            with data_dir.reading(resolved, domain.name) as dataset:
                result, tallies, collection = sync_domain(
                    domain,
                    dataset,
                    resolved.dataset_id,
                    model,
                    store,
                    config.batch_rows,
                    config.prune,
                    context.log.info,
                )
        except Exception as exc:  # one clear line, never a secret (driver messages may echo a URL)
            message = f"vector sync of {domain.name} failed: {type(exc).__name__}: {exc}"
            if store is not None:
                message = store.redact(message)
            raise dg.Failure(description=message, allow_retries=not isinstance(exc, VectorSyncError)) from None
        seconds = time.perf_counter() - started
        counts = {t.table: t.records for t in tallies}
        context.log.info(
            f"synced {result.written:,} vectors ({model.name}, {model.dimension} dims) of "
            f"{', '.join(f'{k} {v:,}' for k, v in counts.items())} to {store.uri} collection {collection} "
            f"in {seconds:.1f} s; {result.deleted:,} stale deleted"
        )
        metadata: dict[str, Any] = {
            "dagster/row_count": result.written,
            "dagster/uri": store.uri,
            "store": store.kind,
            "collection": collection,
            "embedder": model.name,
            "dimension": model.dimension,
            "tables": dg.MetadataValue.json(counts),
            "rows_without_text": sum(t.rows - t.records for t in tallies),
            "deleted_stale": result.deleted,
            "seconds": round(seconds, 3),
            "vectors_per_second": round(result.written / seconds) if seconds > 0 else 0,
            "dataset_id": resolved.dataset_id,
        }
        if result.inserted is not None:
            metadata["inserted"] = result.inserted
            metadata["updated"] = result.updated
        if result.total is not None:
            metadata["collection_total"] = result.total
        return dg.MaterializeResult(metadata=metadata)

    return _vector_index
