"""The benchmark script runs end to end at a tiny size: what it reports holds (never how fast)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "benchmark.py"


def run_benchmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCHMARK), *args], capture_output=True, text=True, timeout=300)


def test_every_round_writes_the_floors_file_and_reports_medians() -> None:
    result = run_benchmark("--orders", "30000", "--naive-rows", "300", "--repeat", "2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("ours wrote the very file the floor wrote: True") == 2
    for label in ("ours (generate + CSV)", "naive (Faker loop + csv)", "floor (pyarrow CSV write)"):
        rows = re.findall(rf"^{re.escape(label)}\s+([\d,]+)\s", out, flags=re.MULTILINE)
        assert rows == (["300", "300"] if label.startswith("naive") else ["30,000", "30,000"])
    assert re.search(r"^medians of 2 rounds: ours [\d,]+ rows/s, ours / naive \d+x, floor / ours [\d.]+x$", out, re.M)


def test_a_round_count_below_one_is_refused_before_any_timing() -> None:
    result = run_benchmark("--repeat", "0")
    assert result.returncode == 2
    assert "--repeat must be at least 1, got 0" in result.stderr
    assert "round" not in result.stdout
