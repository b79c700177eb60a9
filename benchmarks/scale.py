"""Scale benchmark: partitioned generation through `dagster asset materialize`, many processes vs one.

    python benchmarks/scale.py                          # large preset, 8 shards, 2 processes vs 1
    python benchmarks/scale.py --preset medium          # a quicker run
    python benchmarks/scale.py --scope domain           # also assembled tables, analytics and checks

Runs the same command twice on a fresh data folder each time,

    dagster asset materialize -m mock_pipeline.definitions_partitioned --select <scope> \\
        --partition-range 00...<N-1> -c <run config>

once with the multiprocess executor (forkserver, `--processes` at a time) and once with the
in-process executor (one process), and reports wall time, rows, rows/s, the peak resident memory
of the largest process (sampled from /proc every 0.2 s, and the kernel's own peak of the
children, whichever is larger), the speed-up, and whether both runs wrote the same bytes.
Scope `parts` (default) is the partitioned generation itself: every shard of every big table.
Scope `domain` adds the small tables, the assembled tables, the analytics and every asset check.
Linux only (/proc, getrusage).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from mock_pipeline.definitions_partitioned import PARTITIONED_TABLES
from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.engine.shards import shard_keys

MODULE = "mock_pipeline.definitions_partitioned"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def selection(scope: str) -> str:
    keys = [f"commerce/parts/{t}" for t in PARTITIONED_TABLES["commerce"]]
    if scope == "domain":
        keys += [f"commerce/{t.name}" for t in COMMERCE.tables]
    return ",".join(keys)


def run_config(preset: str, processes: int) -> dict:
    if processes > 1:
        executor = {
            "multiprocess": {
                "max_concurrent": processes,
                # Steps fork from a server that imported the code once: ~1 s per step, not ~5 s.
                "start_method": {"forkserver": {"preload_modules": [MODULE]}},
            }
        }
    else:
        executor = {"in_process": {}}
    return {"resources": {"scenario": {"config": {"size": preset}}}, "execution": {"config": executor}}


_WRAPPER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
# Linux folds every reaped descendant's peak into RUSAGE_CHILDREN: the largest single process.
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def _tree(root: int) -> list[int]:
    """The pids of `root` and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += parents.get(pid, [])
    return pids


def _rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB / 1024.0
    except (OSError, IndexError, ValueError):
        return 0.0


class PeakSampler(threading.Thread):
    """The largest resident memory of any single process in a tree, and the most processes at once."""

    def __init__(self, root: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.peak_mb, self.most_processes = 0.0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            pids = _tree(self.root)
            self.most_processes = max(self.most_processes, len(pids))
            self.peak_mb = max([self.peak_mb, *(_rss_mb(p) for p in pids)])
            self.done.wait(self.every)


def dataset_rows(data: Path, tables: list[str]) -> tuple[int, dict[str, str]]:
    """Rows of the written tables (from Parquet footers) and the sha256 of every Parquet file."""
    (dataset,) = (data / "datasets").iterdir()
    rows, digests = 0, {}
    for table in tables:
        for part in sorted((dataset / "commerce" / table).glob("*.parquet")):
            rows += pq.ParquetFile(part).metadata.num_rows
            digest = hashlib.sha256()
            with part.open("rb") as f:
                for block in iter(lambda f=f: f.read(1 << 24), b""):
                    digest.update(block)
            digests[f"{table}/{part.name}"] = digest.hexdigest()
    return rows, digests


def measure(preset: str, shards: int, processes: int, scope: str, workdir: Path) -> dict:
    workdir.mkdir(parents=True)
    config = workdir / "run.yaml"
    config.write_text(yaml.safe_dump(run_config(preset, processes)))
    data = workdir / "data"
    env = {**os.environ, "MOCK_PIPELINE_DATA_DIR": str(data), "MOCK_PIPELINE_SHARDS": str(shards)}
    env.pop("DAGSTER_HOME", None)  # an ephemeral instance per run
    keys = shard_keys(shards)
    command = [
        str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", MODULE,
        "--select", selection(scope), "--partition-range", f"{keys[0]}...{keys[-1]}", "-c", str(config),
    ]  # fmt: skip
    # A tiny parent per run reports the kernel's peak RSS of its largest descendant (ru_maxrss of
    # children cannot be reset, so it is read in a fresh process for each run).
    peak_file = workdir / "children_maxrss_kb"
    wrapper = [sys.executable, "-c", _WRAPPER, str(peak_file)]
    load_before = os.getloadavg()
    started = time.perf_counter()
    with (workdir / "dagster.log").open("w") as log:
        proc = subprocess.Popen([*wrapper, *command], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = PeakSampler(proc.pid)
        sampler.start()
        code = proc.wait()
    wall = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"dagster asset materialize failed ({code}); see {workdir / 'dagster.log'}")
    tables = list(PARTITIONED_TABLES["commerce"]) + (
        [t.name for t in COMMERCE.tables if t.name not in PARTITIONED_TABLES["commerce"]] if scope == "domain" else []
    )
    rows, digests = dataset_rows(data, tables)
    return {
        "processes": processes,
        "wall_seconds": round(wall, 1),
        "rows": rows,
        "rows_per_second": round(rows / wall),
        "peak_rss_mb_largest_process": round(max(sampler.peak_mb, int(peak_file.read_text()) / 1024.0), 1),
        "peak_rss_mb_sampled": round(sampler.peak_mb, 1),
        "most_processes_at_once": sampler.most_processes,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "command": " ".join(command),
        "run_config": run_config(preset, processes),
        "_digests": digests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="large", choices=("small", "medium", "large"))
    parser.add_argument("--shards", type=int, default=8, help="partitions per table (MOCK_PIPELINE_SHARDS)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="multiprocess max_concurrent")
    parser.add_argument("--scope", default="parts", choices=("parts", "domain"))
    parser.add_argument("--skip-baseline", action="store_true", help="only the multiprocess run")
    parser.add_argument("--workdir", type=Path, default=None, help="where data goes (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    root = args.workdir or Path(tempfile.mkdtemp(prefix="mock_pipeline_scale_"))
    results = {"preset": args.preset, "shards": args.shards, "scope": args.scope, "cpus": os.cpu_count()}
    runs = [("multiprocess", args.processes)] + ([] if args.skip_baseline else [("one_process", 1)])
    for name, processes in runs:
        print(f"== {name}: {args.preset} preset, {args.shards} shards, scope {args.scope} ...", flush=True)
        results[name] = measure(args.preset, args.shards, processes, args.scope, root / name)
        shown = {k: v for k, v in results[name].items() if not k.startswith("_") and k != "run_config"}
        print(json.dumps(shown, indent=2), flush=True)
        if not args.keep:
            subprocess.run(["rm", "-rf", str(root / name / "data")], check=True)
    if "one_process" in results:
        multi, one = results["multiprocess"], results["one_process"]
        results["speed_up"] = round(one["wall_seconds"] / multi["wall_seconds"], 2)
        results["same_bytes"] = multi["_digests"] == one["_digests"]
        print(f"speed-up over one process: {results['speed_up']}x; same bytes: {results['same_bytes']}")
    for name, _ in runs:
        results[name]["parquet_files"] = len(results[name].pop("_digests"))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
