"""Peak resident memory of each step of `--select '*commerce/exported_files'`, run in one process.

    python benchmarks/memory_steps.py --preset medium DATA_FOLDER
    PYTHONPATH=/work/before python benchmarks/memory_steps.py --preset medium DATA_FOLDER   # an older tree
    python benchmarks/memory_steps.py --overrides '{"commerce.orders_per_tenant": 200000}' DATA_FOLDER

Run it at two sizes with a chunk size well below both (--chunk-size 10000): a step whose peak grows
with the tables then holds memory by table size, not chunk size.

Each table is generated (or derived), then its rules are checked, in the domain's order, as the
in-process executor runs them; then the CSV files export. For every step it prints the seconds, the
process's resident memory before it and the peak sampled while it ran (MB), so the step that holds
memory stands out. Only the API both trees share is used.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import materialize_table, model_for
from mock_pipeline.publish.files import ExportOptions, export_domain
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.validation import run_rules

SAMPLE_SECONDS = 0.02


class Peak:
    """The largest resident set sampled while a `with` block runs, and the most bytes Arrow's memory
    pool held (live buffers: the resident set also keeps what the allocators have not returned)."""

    def __init__(self) -> None:
        self.process = psutil.Process()

    def __enter__(self) -> Peak:
        self.before = self.peak = self.process.memory_info().rss
        self.arrow = pa.total_allocated_bytes()
        self.start = time.perf_counter()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.arrow = max(self.arrow, pa.total_allocated_bytes())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.seconds = time.perf_counter() - self.start
        self.peak = max(self.peak, self.process.memory_info().rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="a new folder for the data")
    parser.add_argument("--preset", default="small", choices=["small", "medium"])
    parser.add_argument(
        "--overrides", type=json.loads, default={}, help='size knobs, e.g. {"commerce.orders_per_tenant": 200000}'
    )
    parser.add_argument("--chunk-size", type=int, default=100_000, help="rows per generated chunk (bytes unchanged)")
    args = parser.parse_args()
    scenario = ScenarioResource(
        profile="normal-ops",
        size=args.preset,
        seed=42,
        as_of="2024-12-31",
        overrides=args.overrides,
        chunk_size=args.chunk_size,
    ).resolve()
    dataset = DataDirResource(root=str(args.data)).dataset(scenario, COMMERCE.name)
    params = COMMERCE.rule_params(model_for(COMMERCE, scenario))
    print(f"mock_pipeline from {Path(sys.modules['mock_pipeline'].__file__).parent}")
    print(f"{'step':34s}{'seconds':>9s}{'before MB':>11s}{'peak MB':>9s}{'arrow MB':>10s}")
    worst = ("", 0.0)

    def report(label: str, peak: Peak) -> None:
        nonlocal worst
        print(
            f"{label:34s}{peak.seconds:>9.2f}{peak.before / 1e6:>11.0f}{peak.peak / 1e6:>9.0f}{peak.arrow / 1e6:>10.0f}",
            flush=True,
        )
        worst = max(worst, (label, peak.peak / 1e6), key=lambda w: w[1])

    for spec in COMMERCE.tables:
        with Peak() as peak:
            materialize_table(COMMERCE, spec, scenario, dataset)
        report(f"generate {spec.name}", peak)
        rules = [r for r in COMMERCE.rules if r.table == spec.name]
        with Peak() as peak:
            failed = [o.rule.name for o in run_rules(dataset, rules, params) if not o.passed]
        report(f"check {spec.name} ({len(rules)} rules)", peak)
        if failed:
            print(f"  failed: {', '.join(failed)}")
    with Peak() as peak:
        export_domain(dataset, args.data / "export", COMMERCE.tables, ExportOptions(), {}, [])
    report("export (CSV files)", peak)
    print(f"highest peak: {worst[1]:,.0f} MB at {worst[0]}")


if __name__ == "__main__":
    main()
