"""Benchmark of seed 004's data API (issue 14): rows/s for one large page per format, and the latency
of a page deep inside a table, generated on demand against read from the table's Parquet.

Two `mock-pipeline serve` processes on loopback, read with httpx: one over a data folder where the
table was materialised (by the asset's own table writer), one over an empty folder (on demand).

    .venv/bin/python benchmarks/api.py                       # commerce/order_items, medium preset
    .venv/bin/python benchmarks/api.py --size large          # the issue's case (minutes, GBs)
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from mock_pipeline.api.catalog import domains
from mock_pipeline.domains.factory import materialize_table
from mock_pipeline.resources import DataDirResource
from mock_pipeline.scenarios.model import build_scenario

FORMATS = ("csv", "json", "ndjson", "xml")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(data: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_pipeline.cli", "serve", "--port", str(port), "--data-dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def timed(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--domain", default="commerce")
    parser.add_argument("--table", default="order_items")
    parser.add_argument("--limit", type=int, default=10_000, help="rows per page (the API's maximum)")
    parser.add_argument("--repeat", type=int, default=5, help="timings per measurement; the median is printed")
    args = parser.parse_args()

    scenario = build_scenario(size=args.size)
    domain = domains()[args.domain]
    spec = domain.table(args.table)
    query = f"size={args.size}&limit={args.limit}"
    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
        data, empty = Path(tmp) / "data", Path(tmp) / "empty"
        empty.mkdir()
        start = time.perf_counter()
        rows, _, _ = materialize_table(
            domain, spec, scenario, DataDirResource(root=str(data)).dataset(scenario, domain.name)
        )
        print(
            f"{args.domain}/{args.table}, {args.size} preset: {rows:,} rows materialised in {time.perf_counter() - start:,.1f} s"
        )
        path = f"/api/v1/{args.domain}/{args.table}"
        with server(data) as parquet, server(empty) as on_demand, httpx.Client(timeout=3600) as client:
            first, response = timed(client, f"{on_demand}{path}?{query}&format=csv")
            total = int(response.headers["x-total-count"])
            print(f"on demand, first request (builds the row index, X-Total-Count {total:,}): {first:,.2f} s")
            deep = max(0, int(total * 0.8) // args.limit * args.limit)
            print(f"\nlatency of one {args.limit:,}-row csv page: first request, then median of {args.repeat} repeats")
            print("  (repeats reuse the decoded row group or built block, as a client paging through does)")
            for label, offset in (("page 1", 0), (f"page {deep // args.limit + 1:,} (offset {deep:,})", deep)):
                for source, base in (("Parquet", parquet), ("on demand", on_demand)):
                    url = f"{base}{path}?{query}&format=csv&offset={offset}"
                    times = [timed(client, url)[0] for _ in range(args.repeat + 1)]
                    print(
                        f"  {label:<28} {source:<10} first {times[0] * 1000:8,.1f} ms   "
                        f"repeated {statistics.median(times[1:]) * 1000:8,.1f} ms"
                    )
            print(
                f"\nrows/s for one {args.limit:,}-row page at offset {deep:,}, rendered and sent (median of {args.repeat}):"
            )
            for fmt in FORMATS:
                for source, base in (("Parquet", parquet), ("on demand", on_demand)):
                    url = f"{base}{path}?{query}&format={fmt}&offset={deep}"
                    samples = [timed(client, url) for _ in range(args.repeat)]
                    seconds = statistics.median(t for t, _ in samples)
                    size = len(samples[0][1].content)
                    print(
                        f"  {fmt:<7} {source:<10} {args.limit / seconds:>12,.0f} rows/s  "
                        f"{size / seconds / 2**20:8,.1f} MiB/s  ({size / 2**20:,.1f} MiB a page)"
                    )


if __name__ == "__main__":
    main()
