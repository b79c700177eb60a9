"""`benchmark.py --publish`: each embedded publishing destination against its floor, on commerce data.

The floor of a destination is a library writing the same data with no project code around it:
  database  DuckDB's own `CREATE TABLE ... AS SELECT * FROM read_parquet(...)` of the same Parquet files;
  outbox    the files export's NDJSON rendering of the same batches (same batch size), one file per batch;
  vectors   the same text columns joined and hashed in one vectorised pass per table, then LanceDB's
            own bulk write (`create_table` with all the rows);
  s3        a plain copy of the export's files (and, printed beside it, a hard link of each).
The ratio printed is floor seconds / ours seconds: ours as a fraction of the floor's speed (1.00 = as fast).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import lancedb  # imported here so that neither LanceDB timing pays for its import
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import domain_definitions
from mock_pipeline.engine.table import read_batches, rebatch
from mock_pipeline.publish.assets import exported_files_asset
from mock_pipeline.publish.database.duckdb import DuckDBTarget
from mock_pipeline.publish.database.load import load_domain
from mock_pipeline.publish.database.target import quote
from mock_pipeline.publish.files import ndjson_lines
from mock_pipeline.publish.http import OutboxHttpUploadResource, json_safe, upload_records
from mock_pipeline.publish.s3 import LocalObjectStore, upload_export
from mock_pipeline.publish.vectors.asset import sync_domain
from mock_pipeline.publish.vectors.embedders import make_embedder
from mock_pipeline.publish.vectors.records import join_texts, text_tables
from mock_pipeline.publish.vectors.stores.lancedb import LanceDBStore
from mock_pipeline.resources import DataDirResource, ScenarioResource

DOMAIN = COMMERCE
BATCH_SIZE = OutboxHttpUploadResource().batch_size  # the outbox default's records per request


def tree_bytes(root: Path) -> int:
    """Bytes under `root`, each file (inode) counted once, as `du -sb` counts hard links."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for p in root.rglob("*"):
        st = p.lstat()
        if p.is_file() and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def generate(data: Path, scenario: ScenarioResource) -> dg.ExecuteInProcessResult:
    """Commerce's tables, checks and CSV export in process (outside every timing)."""
    assets, checks = domain_definitions(DOMAIN)
    return dg.materialize(
        [*assets, exported_files_asset(DOMAIN), *checks],
        resources={"scenario": scenario, "data_dir": DataDirResource(root=str(data))},
    )


def timed(step: Callable[[], Any]) -> float:
    os.sync()  # earlier writes' writeback must not land in this timing
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


# --- floors --------------------------------------------------------------------------------------
def database_floor(dataset: Path, path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        for spec in DOMAIN.tables:
            files = str(dataset / spec.name / "*.parquet").replace("'", "''")
            columns = ", ".join(quote(c) for c in spec.columns)
            con.execute(f"CREATE TABLE {quote(spec.name)} AS SELECT {columns} FROM read_parquet('{files}')")
    finally:
        con.close()


def table_batches(table_dir: Path, columns: list[str], batch_size: int) -> Iterator[pa.Table]:
    """The table's rows as tables of exactly `batch_size` rows (the last may be shorter)."""
    return rebatch((pa.Table.from_batches([b]) for b in read_batches(table_dir, columns=columns)), batch_size)


def outbox_floor(dataset: Path, folder: Path) -> None:
    for spec in DOMAIN.tables:
        columns = [c for c in spec.columns if c not in spec.export_exclude]
        (folder / spec.name).mkdir(parents=True)
        for index, batch in enumerate(table_batches(dataset / spec.name, columns, BATCH_SIZE)):
            body = b""
            if batch.num_rows:
                lines = ndjson_lines(json_safe(batch).combine_chunks().to_batches()[0])
                body = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines), "")
                body = body[0].as_buffer().to_pybytes()
            (folder / spec.name / f"{index:06d}.ndjson").write_bytes(body)


def vectors_floor(dataset: Path, path: Path) -> None:
    embedder = make_embedder("hashing")
    db = lancedb.connect(str(path))
    for spec in text_tables(DOMAIN.tables):
        table = pq.read_table(dataset / spec.name, columns=[spec.key, *spec.text_columns])
        text = join_texts([table.column(c).combine_chunks() for c in spec.text_columns])
        vectors = embedder.embed(text)
        flat = pa.array(vectors.reshape(-1).astype(np.float16), pa.float16())  # stored as the store stores them
        rows = pa.table(
            {
                "id": table.column(spec.key).cast(pa.string()),
                "text": text,
                "vector": pa.FixedSizeListArray.from_arrays(flat, embedder.dimension),
            }
        )
        db.create_table(spec.name, rows)


def copy_floor(export: Path, folder: Path, link: bool) -> None:
    for source in sorted(p for p in export.rglob("*") if p.is_file()):
        target = folder / source.relative_to(export)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, target) if link else shutil.copyfile(source, target)


# --- the run -------------------------------------------------------------------------------------
def run_publish(work: Path, scenario: ScenarioResource) -> None:
    data = work / "data"
    floors = work / "floors"
    floors.mkdir()
    resolved = scenario.resolve()
    generate(data, scenario)
    dataset = DataDirResource(root=str(data)).dataset(resolved, DOMAIN.name)
    export = data / "exports" / resolved.dataset_id / DOMAIN.name
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in dataset.rglob("*.parquet"))
    text_rows = sum(
        pq.ParquetFile(f).metadata.num_rows
        for s in text_tables(DOMAIN.tables)
        for f in (dataset / s.name).glob("*.parquet")
    )
    print(f"commerce: {rows:,} rows in {len(DOMAIN.tables)} tables, {tree_bytes(export):,} bytes of export")

    outbox = OutboxHttpUploadResource()

    def ours_outbox() -> None:
        outbox.deliver(
            data,
            resolved.dataset_id,
            DOMAIN.name,
            lambda sink: upload_records(dataset, DOMAIN.tables, sink, DOMAIN.name, resolved.dataset_id, BATCH_SIZE),
        )

    steps: list[tuple[str, int, Callable[[], Any], Callable[[], Any]]] = [
        (
            "database_tables (DuckDB)",
            rows,
            lambda: load_domain(
                DuckDBTarget(data / "database" / "mock_data.duckdb"), DOMAIN.name, DOMAIN.tables, dataset,
                dataset_id=resolved.dataset_id,
            ),
            lambda: database_floor(dataset, floors / "floor.duckdb"),
        ),
        ("http_upload (outbox)", rows, ours_outbox, lambda: outbox_floor(dataset, floors / "outbox")),
        (
            "vector_index (LanceDB)",
            text_rows,
            lambda: sync_domain(
                DOMAIN, dataset, resolved.dataset_id, make_embedder("hashing"), LanceDBStore(data / "vectors" / "lancedb")
            ),
            lambda: vectors_floor(dataset, floors / "lancedb"),
        ),
        (
            "s3_upload (local)",
            rows,
            lambda: upload_export(export, LocalObjectStore(data / "s3" / "mock-data"), f"{resolved.dataset_id}/commerce/"),
            lambda: copy_floor(export, floors / "copy", link=False),
        ),
    ]  # fmt: skip
    print(
        f"\n{'step':26s}{'rows':>12s}{'ours s':>9s}{'floor s':>9s}{'ours rows/s':>14s}{'floor rows/s':>14s}{'ratio':>8s}"
    )
    results = []
    for label, n, ours, floor in steps:
        t_ours, t_floor = timed(ours), timed(floor)
        results.append((label, t_ours, t_floor))
        print(f"{label:26s}{n:>12,d}{t_ours:>9.3f}{t_floor:>9.3f}{n / t_ours:>14,.0f}{n / t_floor:>14,.0f}"
              f"{t_floor / t_ours:>8.2f}")  # fmt: skip
    t_link = timed(lambda: copy_floor(export, floors / "link", link=True))
    print(f"(a hard link of every export file instead of a copy: {t_link:.2f} s)")
    print("ratio = floor seconds / ours seconds (ours as a fraction of its floor's speed)")
    print(f"publishing total: ours {sum(r[1] for r in results):.2f} s, floors {sum(r[2] for r in results):.2f} s")

    folders = {
        "http_outbox": data / "http_outbox",
        "vectors": data / "vectors",
        "exports": data / "exports",
        "s3": data / "s3",
        "database": data / "database",
        "datasets": data / "datasets",
    }
    export_bytes = tree_bytes(data / "exports")
    print("\ndisk (each inode once, as du -sb):")
    for name, folder in folders.items():
        size = tree_bytes(folder) if folder.exists() else 0
        print(f"  {name:12s}{size:>16,d} bytes  {size / export_bytes:5.2f}x the CSV export")
    total = tree_bytes(data)
    print(f"  {'data folder':12s}{total:>16,d} bytes  {total / export_bytes:5.2f}x the CSV export")
