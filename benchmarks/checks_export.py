"""`benchmark.py --checks`: the blocking checks and the files export of commerce, each against its floor.

On the commerce tables of a preset (generated once, outside every timing) it times, in one run:
  checks  every table's rules one query per rule (as before issue 18) against the same rules with the
          one-pass rules of a table answered by one scan (the project's way); the outcomes must agree;
  export  the project's CSV files export (`export_domain`) against pyarrow's CSV writer writing each
          table's same columns, timestamps already ISO text, to one file (no project code around it),
          and the same writer hashing its bytes with SHA-256 as it writes (the manifest needs it).
Each step's peak resident memory above the process's resident memory before it is sampled too.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import psutil
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import domain_definitions, model_for
from mock_pipeline.engine.table import read_batches
from mock_pipeline.publish.files import BATCH_ROWS, ExportOptions, csv_ready, export_domain
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.validation import Outcome, run_rules

DOMAIN = COMMERCE
SAMPLE_SECONDS = 0.05


@contextmanager
def peak_rss(into: list[float]) -> Iterator[None]:
    """Appends the largest resident set (MB) sampled while the block runs, above the one before it."""
    process = psutil.Process()
    base = process.memory_info().rss
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        done.set()
        sampler.join()
        into.append((max(peak[0], process.memory_info().rss) - base) / 1e6)


def timed(step: Callable[[], Any]) -> tuple[float, float, Any]:
    """(seconds, peak MB above the start, result)."""
    memory: list[float] = []
    with peak_rss(memory):
        start = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - start
    return seconds, memory[0], result


def generate_tables(data: Path, scenario: ScenarioResource) -> None:
    assets, _ = domain_definitions(DOMAIN)
    dg.materialize(assets, resources={"scenario": scenario, "data_dir": DataDirResource(root=str(data))})


def all_checks(dataset: Path, params: dict[str, Any], combine: bool) -> list[Outcome]:
    """Every table's rules, table by table, as the factory's checks run them."""
    outcomes: list[Outcome] = []
    for spec in DOMAIN.tables:
        outcomes += run_rules(dataset, [r for r in DOMAIN.rules if r.table == spec.name], params, combine=combine)
    return outcomes


class HashingSink(io.RawIOBase):
    """A file that also computes the SHA-256 of what is written (what the export's manifest needs)."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("wb")
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self.file.write(data)

    def close(self) -> None:
        self.file.close()
        super().close()


def csv_floor(dataset: Path, out: Path, sha256: bool = False) -> None:
    """pyarrow's CSV writer: each table's exported columns, read in the export's batches, one file per
    table; with `sha256`, each file hashed as it is written, as the manifest requires."""
    out.mkdir(parents=True)
    for spec in DOMAIN.tables:
        columns = [c for c in spec.columns if c not in spec.export_exclude]
        batches = read_batches(dataset / spec.name, columns=columns, batch_rows=BATCH_ROWS)
        first = next(batches, None)
        if first is None:
            continue
        first = csv_ready(first)
        path = out / f"{spec.name}.csv"
        with HashingSink(path) if sha256 else path.open("wb") as sink, pa_csv.CSVWriter(sink, first.schema) as writer:
            writer.write_batch(first)
            for batch in batches:
                writer.write_batch(csv_ready(batch))


def run_checks_export(work: Path, scenario: ScenarioResource, repeat: int = 1) -> None:
    data = work / "data"
    resolved = scenario.resolve()
    generate_tables(data, scenario)
    dataset = DataDirResource(root=str(data)).dataset(resolved, DOMAIN.name)
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in dataset.rglob("*.parquet"))
    params = dict(DOMAIN.rule_params(model_for(DOMAIN, resolved)))
    print(f"commerce {resolved.size}: {rows:,} rows in {len(DOMAIN.tables)} tables, {len(DOMAIN.rules)} rules")
    print(f"\n{'round':6s}{'step':34s}{'seconds':>9s}{'peak MB':>9s}{'rows/s':>13s}{'floor/ours':>11s}")
    for round_ in range(1, repeat + 1):
        t_alone, m_alone, alone = timed(lambda: all_checks(dataset, params, combine=False))
        t_scan, m_scan, scanned = timed(lambda: all_checks(dataset, params, combine=True))
        # Rules that run as written both times may differ in approximate metadata (approx_quantile on threads).
        differ = [
            a.rule.name for a, b in zip(alone, scanned, strict=True) if (a.passed, a.metadata) != (b.passed, b.metadata)
        ]
        verdicts = [(o.passed, o.metadata["violations"]) for o in alone] == [
            (o.passed, o.metadata["violations"]) for o in scanned
        ]
        export = work / f"export_{round_}"
        t_export, m_export, result = timed(
            lambda: export_domain(dataset, export, DOMAIN.tables, ExportOptions(), {}, [])  # noqa: B023
        )
        t_floor, m_floor, _ = timed(lambda: csv_floor(dataset, work / f"floor_{round_}"))  # noqa: B023
        t_hashed, m_hashed, _ = timed(lambda: csv_floor(dataset, work / f"hashed_{round_}", sha256=True))  # noqa: B023
        for label, t, m, ratio in (
            ("checks, one query per rule", t_alone, m_alone, None),
            ("checks, one scan per table", t_scan, m_scan, t_alone / t_scan),
            ("export (CSV files)", t_export, m_export, t_floor / t_export),
            ("floor: pyarrow CSV writer", t_floor, m_floor, None),
            ("floor + SHA-256 as written", t_hashed, m_hashed, None),
        ):
            shown = f"{ratio:>11.2f}" if ratio is not None else f"{'':>11s}"
            print(f"{round_:<6d}{label:34s}{t:>9.2f}{m:>9.0f}{rows / t:>13,.0f}{shown}")
        failed = sum(not o.passed for o in scanned)
        print(f"       verdicts and violations identical: {verdicts}; metadata differs for: {differ or 'none'};"
              f" rules failed: {failed} of {len(scanned)};"
              f" export {result.bytes / 1e6:,.0f} MB ({result.bytes / t_export / 1e6:,.0f} MB/s)")  # fmt: skip
    print("\nchecks column 'floor/ours': one-query-per-rule seconds / one-scan seconds (the speed-up);")
    print("export: floor seconds / export seconds (1.00 = the writer's speed; the target is at least 1/1.3 = 0.77);")
    print("the manifest needs every file's SHA-256: the hashed floor shows what hashing alone adds to the writer")
