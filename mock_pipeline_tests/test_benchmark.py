"""The benchmark script runs end to end at a tiny size: what it reports holds (never how fast).

Each test runs the script in a subprocess (imports, engine, every publishing destination): the integration tier.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
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


TINY_COMMERCE = (
    '{"commerce.tenants": 1, "commerce.products_per_tenant": 40, "commerce.orders_per_tenant": 120,'
    ' "commerce.customers_per_tenant": 20}'
)
PUBLISH_STEPS = ("database_tables (DuckDB)", "http_upload (outbox)", "vector_index (LanceDB)", "s3_upload (local)")


def test_publish_mode_times_every_destination_against_its_floor(tmp_path: Path) -> None:
    work = tmp_path / "bench"
    result = run_benchmark("--publish", "--overrides", TINY_COMMERCE, "--keep", str(work))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    [total] = re.findall(r"^commerce: ([\d,]+) rows in 21 tables", out, flags=re.MULTILINE)
    rows = int(total.replace(",", ""))
    assert rows > 0
    for label in PUBLISH_STEPS:
        [line] = re.findall(
            rf"^{re.escape(label)}\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+[\d,]+\s+[\d,]+\s+([\d.]+)$", out, re.M
        )
        n, ours, floor, ratio = int(line[0].replace(",", "")), float(line[1]), float(line[2]), float(line[3])
        assert 0 < n <= rows  # the vector step counts the text tables' rows only
        assert ours > 0 and floor >= 0
        # The seconds are printed rounded to 0.001: the ratio lies within what that rounding allows.
        low, high = (floor - 0.0005) / (ours + 0.0005), (floor + 0.0005) / max(ours - 0.0005, 1e-9)
        assert low - 0.005 <= ratio <= high + 0.005
    assert re.search(r"^\s+data folder\s+[\d,]+ bytes\s+[\d.]+x the CSV export$", out, re.M)
    # Every destination and every floor really wrote its output.
    data, floors = work / "data", work / "floors"
    for folder in ("http_outbox", "vectors", "s3", "database", "exports"):
        assert any(p.is_file() for p in (data / folder).rglob("*")), folder
    assert (floors / "floor.duckdb").stat().st_size > 0
    assert sorted(p.name for p in (floors / "lancedb").iterdir()) == ["products.lance", "reviews.lance"]
    copied = {p.relative_to(floors / "copy") for p in (floors / "copy").rglob("*") if p.is_file()}
    exported = next((data / "exports").glob("*/commerce"))
    assert copied == {p.relative_to(exported) for p in exported.rglob("*") if p.is_file()}


def test_publish_mode_refuses_bad_overrides_before_any_work(tmp_path: Path) -> None:
    result = run_benchmark("--publish", "--overrides", "{not json", "--keep", str(tmp_path / "bench"))
    assert result.returncode == 2
    assert "--overrides" in result.stderr
    assert not (tmp_path / "bench").exists()


CHECKS_STEPS = (
    "checks, one query per rule",
    "checks, one scan per table",
    "export (CSV files)",
    "floor: pyarrow CSV writer",
)


def test_checks_mode_times_both_ways_of_checking_and_the_export_against_the_writer() -> None:
    result = run_benchmark("--checks", "--overrides", TINY_COMMERCE, "--repeat", "2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    [(total, rules)] = re.findall(r"^commerce small: ([\d,]+) rows in 21 tables, (\d+) rules$", out, flags=re.M)
    assert int(total.replace(",", "")) > 0 and int(rules) > 100
    for label in CHECKS_STEPS:
        rounds = re.findall(rf"^(\d)\s+{re.escape(label)}\s+([\d.]+)\s+-?\d+\s+[\d,]+", out, flags=re.M)
        assert [r for r, _ in rounds] == ["1", "2"], label
        assert all(float(seconds) > 0 for _, seconds in rounds)
    # Both ways of checking give every rule the same verdict on this (coherent) data, and none fails.
    assert out.count("verdicts and violations identical: True;") == 2
    assert re.findall(r"rules failed: (\d+) of (\d+)", out) == [("0", rules), ("0", rules)]
