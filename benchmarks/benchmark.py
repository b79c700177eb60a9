"""Benchmark: columnar generation + export of commerce orders against the naive way and the I/O floor.

    python benchmarks/benchmark.py                      # 1,000,000 orders, 20,000 naive rows
    python benchmarks/benchmark.py --orders 2000000 --naive-rows 50000
    python benchmarks/benchmark.py --preset large       # also the whole commerce domain, end to end
    python benchmarks/benchmark.py --repeat 5           # five rounds, then the medians
    python benchmarks/benchmark.py --publish --preset medium   # each publishing destination against its floor
    python benchmarks/benchmark.py --checks --preset medium    # checks one scan per table vs per rule; export vs writer

In one round it times
  ours   the engine generating seed 003's orders schema and writing it as CSV (the export's path),
  naive  a per-row Faker loop producing the same schema with csv.DictWriter, as seed 003 does,
  floor  pyarrow writing an already-built orders table of the same size as CSV (the I/O floor),
and prints rows/s, MB/s, peak memory and the ratios ours/naive and floor/ours. With --preset it
then materialises and exports the whole commerce domain through `dagster asset materialize` and
reports wall time, rows, rows/s and the child process's peak memory.

With --publish it instead generates the commerce domain at the preset (default small; --overrides for
other sizes) and times each embedded publishing destination against its floor (benchmarks/publishing.py).
With --checks it times the commerce checks (one query per rule, then one scan per table) and the CSV
files export against pyarrow's CSV writer on the same tables (benchmarks/checks_export.py).
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
from faker import Faker

from mock_pipeline.domains.commerce.model import CommerceModel
from mock_pipeline.domains.commerce.tables import orders
from mock_pipeline.domains.factory import GENERATION_THREADS
from mock_pipeline.engine.table import ordered_map
from mock_pipeline.publish.files import csv_ready
from mock_pipeline.scenarios.model import build_scenario

CHUNK = 100_000


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def settle() -> None:
    """Flush earlier writes (this run's or another's) so their writeback does not slow the next timing."""
    os.sync()


def orders_model(n: int) -> CommerceModel:
    """One tenant with n orders: the same data for ours and the floor (their files must be equal)."""
    overrides = {
        "commerce.tenants": 1,
        "commerce.orders_per_tenant": n,
        "commerce.products_per_tenant": 50_000,
        "commerce.customers_per_tenant": 10_000,
    }
    return CommerceModel(build_scenario(overrides=overrides))


def ours(n: int, out: Path) -> tuple[float, int]:
    """Engine: orders chunk by chunk, each generated and made CSV-ready (the export's rendering) on
    the factory's generation threads, then CSV-encoded and written in order by this thread."""
    model = orders_model(n)

    def rendered(bounds: tuple[int, int]) -> pa.RecordBatch:
        return csv_ready(orders(model, *bounds).combine_chunks().to_batches()[0])

    # Set-up outside the timing, as for the naive loop: Faker pools and Arrow's first kernel calls.
    schema = rendered((0, 1000)).schema
    settle()
    start = time.perf_counter()
    with out.open("wb") as sink, pa_csv.CSVWriter(sink, schema) as writer:
        for batch in ordered_map(rendered, [(lo, min(lo + CHUNK, n)) for lo in range(0, n, CHUNK)], GENERATION_THREADS):
            writer.write_batch(batch)
    return time.perf_counter() - start, out.stat().st_size


def naive(n: int, out: Path) -> tuple[float, int]:
    """A per-row Faker loop, the way seed 003's gen_dataset.py generates orders: every field of every
    row from a Faker call, each order's items drawn first (its total is the sum of their line
    totals, as in seed 003's example), rows as dicts written with csv.DictWriter. Like `ours`, it
    writes the orders file only."""
    fake = Faker("en_US")
    Faker.seed(42)
    customers = [(fake.uuid4(), fake.name(), fake.email()) for _ in range(1000)]
    products = [(fake.uuid4(), fake.pyfloat(min_value=5, max_value=500, right_digits=2)) for _ in range(1000)]
    settle()
    start = time.perf_counter()
    with out.open("w", newline="") as f:
        writer = None
        for _ in range(n):
            order_id = fake.uuid4()
            items = []
            for _ in range(fake.random_int(1, 5)):
                product_id, price = fake.random_element(products)
                quantity = fake.random_int(1, 3)
                items.append(
                    {"order_item_id": fake.uuid4(), "order_id": order_id, "product_id": product_id,
                     "quantity": quantity, "unit_price": price, "line_total": round(price * quantity, 2)}
                )  # fmt: skip
            customer_id, name, email = fake.random_element(customers)
            subtotal = round(sum(item["line_total"] for item in items), 2)
            tax = round(subtotal * 0.08, 2)
            order_date = fake.date_time_between(start_date="-1y", end_date="now").isoformat()
            row = {
                "order_id": order_id,
                "tenant_id": "t1",
                "external_order_id": fake.bothify("EXT########"),
                "customer_id": customer_id,
                "customer_name_snapshot": name,
                "customer_email_snapshot": email,
                "subtotal": subtotal,
                "tax": tax,
                "total_amount": round(subtotal + tax, 2),
                "currency": "USD",
                "order_status": fake.random_element(["pending", "processing", "shipped", "delivered", "cancelled"]),
                "order_date": order_date,
                "raw_payload": json.dumps(
                    {
                        "source": fake.random_element(["web", "mobile_app", "api"]),
                        "campaign": fake.word(),
                        "discount_code": fake.random_element([None, "SAVE10", "SAVE20"]),
                    }
                ),
                "created_at": order_date,
            }
            if writer is None:
                writer = csv.DictWriter(f, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
    return time.perf_counter() - start, out.stat().st_size


def floor(n: int, out: Path) -> tuple[float, int]:
    """pyarrow's CSV writer on an orders table that is already built (text columns ready)."""
    model = orders_model(n)
    batches = [
        csv_ready(orders(model, lo, min(lo + CHUNK, n)).combine_chunks().to_batches()[0]) for lo in range(0, n, CHUNK)
    ]
    table = pa.Table.from_batches(batches)
    settle()
    start = time.perf_counter()
    with out.open("wb") as sink:
        pa_csv.write_csv(table, sink)
    return time.perf_counter() - start, out.stat().st_size


def end_to_end(preset: str, workdir: Path) -> dict[str, float]:
    """Generate, check and export every commerce table at a preset through the Dagster CLI (the
    publishing assets after the export are not part of this figure)."""
    data = workdir / "data"
    config = Path(__file__).resolve().parents[1] / "mock_pipeline" / "scenarios" / "run_configs" / f"{preset}.yaml"
    env = {**os.environ, "MOCK_PIPELINE_DATA_DIR": str(data)}
    dagster = Path(sys.executable).with_name("dagster")
    settle()
    start = time.perf_counter()
    subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "mock_pipeline.definitions", "--select", "*commerce/exported_files",
         "-c", str(config)],
        cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - start
    manifest = json.loads(next(data.glob("exports/*/commerce/manifest.json")).read_text())
    rows = sum(manifest["tables"].values())
    size = sum(f["bytes"] for f in manifest["files"])
    return {"seconds": wall, "rows": rows, "bytes": size, "peak_mb": peak_rss_mb(resource.RUSAGE_CHILDREN)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders for the engine and the I/O floor")
    parser.add_argument("--naive-rows", type=int, default=20_000, help="rows for the per-row Faker loop")
    parser.add_argument(
        "--preset", choices=["small", "medium", "large"], help="also run the commerce domain end to end"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of the three timings (this machine's speed drifts: compare per round)",
    )
    parser.add_argument(
        "--publish", action="store_true", help="time each publishing destination against its floor instead"
    )
    parser.add_argument(
        "--overrides", type=json.loads, default={}, help='with --publish: size knobs, e.g. {"commerce.tenants": 1}'
    )
    parser.add_argument("--keep", type=Path, help="with --publish: work in this (new) folder and keep it")
    parser.add_argument(
        "--checks", action="store_true", help="time the checks and the files export against their floors instead"
    )
    parser.add_argument(
        "--declared", action="store_true", help="a MockDataset table with orders' columns against the built-in orders"
    )
    args = parser.parse_args()
    if args.declared:
        from declared_orders import run_declared  # benchmarks/declared_orders.py, beside this script

        model = orders_model(args.orders)
        run_declared(args.orders, max(args.repeat, 1), lambda lo, hi: orders(model, lo, hi))
        return
    if args.checks:
        from checks_export import run_checks_export  # benchmarks/checks_export.py, beside this script

        from mock_pipeline.resources import ScenarioResource

        with tempfile.TemporaryDirectory(prefix="mock_pipeline_bench_") as tmp:
            run_checks_export(
                Path(tmp), ScenarioResource(size=args.preset or "small", overrides=args.overrides), max(args.repeat, 1)
            )
        return
    if args.publish:
        from publishing import run_publish  # benchmarks/publishing.py, beside this script

        from mock_pipeline.resources import ScenarioResource

        scenario = ScenarioResource(size=args.preset or "small", overrides=args.overrides)
        if args.keep:
            args.keep.mkdir(parents=True)
            run_publish(args.keep, scenario)
        else:
            with tempfile.TemporaryDirectory(prefix="mock_pipeline_bench_") as tmp:
                run_publish(Path(tmp), scenario)
        return
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")

    with tempfile.TemporaryDirectory(prefix="mock_pipeline_bench_") as tmp:
        work = Path(tmp)
        print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}  pyarrow: {pa.__version__}")
        ratios: list[tuple[float, float, float]] = []
        for round_ in range(1, args.repeat + 1):
            t_ours, b_ours = ours(args.orders, work / "ours.csv")
            peak = peak_rss_mb()  # a running maximum: only round 1 comes before the floor holds a whole table
            t_naive, b_naive = naive(args.naive_rows, work / "naive.csv")
            t_floor, b_floor = floor(args.orders, work / "floor.csv")
            r_ours, r_naive, r_floor = args.orders / t_ours, args.naive_rows / t_naive, args.orders / t_floor
            ratios.append((r_ours, r_ours / r_naive, r_floor / r_ours))
            print(f"\nround {round_} of {args.repeat}")
            print(f"{'':28s}{'rows':>12s}{'seconds':>10s}{'rows/s':>14s}{'MB/s':>9s}")
            for label, n, t, b in (
                ("ours (generate + CSV)", args.orders, t_ours, b_ours),
                ("naive (Faker loop + csv)", args.naive_rows, t_naive, b_naive),
                ("floor (pyarrow CSV write)", args.orders, t_floor, b_floor),
            ):
                print(f"{label:28s}{n:>12,d}{t:>10.2f}{n / t:>14,.0f}{b / t / 1e6:>9.1f}")
            if round_ == 1:
                print(f"peak memory of this process while generating: {peak:,.0f} MB")
            same = filecmp.cmp(work / "ours.csv", work / "floor.csv", shallow=False)
            print(f"ours wrote the very file the floor wrote: {same}")
            print(f"ratio ours / naive: {r_ours / r_naive:,.0f}x   ratio floor / ours: {r_floor / r_ours:.2f}x")
            # What a ratio target over the naive loop asks for, against what writing the CSV alone allows.
            print(
                f"300x the naive loop would be {300 * r_naive:,.0f} rows/s; the I/O floor alone is "
                f"{r_floor:,.0f} rows/s ({r_floor / r_naive:,.0f}x the naive loop)"
            )
        if args.repeat > 1:
            rates, over_naive, floor_over = zip(*ratios, strict=True)
            print(
                f"\nmedians of {args.repeat} rounds: ours {statistics.median(rates):,.0f} rows/s, "
                f"ours / naive {statistics.median(over_naive):,.0f}x, floor / ours {statistics.median(floor_over):.2f}x"
            )
        if args.preset:
            result = end_to_end(args.preset, work)
            print(
                f"commerce {args.preset} end to end (generate, check, export CSV): {result['seconds']:,.1f} s, "
                f"{result['rows']:,.0f} rows, {result['rows'] / result['seconds']:,.0f} rows/s, "
                f"{result['bytes'] / 1e6:,.0f} MB exported, peak memory {result['peak_mb']:,.0f} MB"
            )


if __name__ == "__main__":
    main()
