"""Shared by the vector tests: a small checked commerce dataset and the vector index asset over it.
Fixtures stay in the test modules (thin wrappers over the functions here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import domain_definitions
from mock_pipeline.engine.table import PART_FILE
from mock_pipeline.publish.vectors import (
    EmbedderResource,
    HashingEmbedder,
    LanceDBVectorStoreResource,
    collection_name,
    text_tables,
    vector_index_asset,
)
from mock_pipeline.resources import DataDirResource, ScenarioResource

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


def base_resources(root: Path) -> dict[str, Any]:
    return {
        "scenario": ScenarioResource(overrides=OVERRIDES),
        "data_dir": DataDirResource(root=str(root)),
        "embedder": EmbedderResource(),
    }


def materialise_commerce(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data folder holding a checked commerce dataset (tables and their blocking checks run once)."""
    root = tmp_path_factory.mktemp("vectors") / "data"
    resources = {**base_resources(root), "vector_store": LanceDBVectorStoreResource()}
    dg.materialize([*TABLE_ASSETS, *TABLE_CHECKS], resources=resources)
    return root


def dataset_folder(root: Path) -> Path:
    scenario = ScenarioResource(overrides=OVERRIDES).resolve()
    return DataDirResource(root=str(root)).dataset(scenario, "commerce")


def sync(
    root: Path, store: dg.ConfigurableResource, instance: dg.DagsterInstance | None = None, **kw: Any
) -> dg.ExecuteInJobResult:
    """Materialise only the vector index over the already materialised tables."""
    return dg.materialize(
        [*TABLE_ASSETS, VECTOR_INDEX],
        selection=[VECTOR_INDEX.key],
        resources={**base_resources(root), "vector_store": store},
        instance=instance,
        **kw,
    )


def sync_metadata(result: dg.ExecuteInJobResult) -> dict[str, Any]:
    [mat] = result.asset_materializations_for_node(VECTOR_INDEX.node_def.name)
    return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}


def expected_records(root: Path) -> dict[str, list[str]]:
    """Ids the sync must produce, computed straight from the Parquet files: rows with any text."""
    expected = {}
    for spec in text_tables(COMMERCE.tables):
        t = pq.read_table(dataset_folder(root) / spec.name / PART_FILE).to_pandas()
        texts = t[list(spec.text_columns)].fillna("").astype(str).agg(" ".join, axis=1).str.strip()
        expected[spec.name] = [f"commerce:{spec.name}:{k}" for k in t.loc[texts != "", spec.key]]
    return expected


def unique_text_record(root: Path, table: str) -> tuple[str, str]:
    """(id, document text) of a record whose text no other record of the table has."""
    spec = COMMERCE.table(table)
    t = pq.read_table(dataset_folder(root) / table / PART_FILE).to_pandas()
    t["doc"] = t[list(spec.text_columns)].astype(str).agg("\n".join, axis=1)
    unique = t[~t["doc"].duplicated(keep=False)]
    row = unique.iloc[len(unique) // 2]
    return f"commerce:{table}:{row[spec.key]}", row["doc"]


def stored_run_text(instance: dg.DagsterInstance, result: dg.ExecuteInJobResult) -> str:
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
