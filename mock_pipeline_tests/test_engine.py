"""The pure engine: counter-based randomness, distributions, time series, cohorts, chunking."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest

from mock_pipeline.engine import columns as col
from mock_pipeline.engine.cohort import Cohort
from mock_pipeline.engine.distributions import (
    categorical,
    exponential,
    lognormal,
    normal,
    null_mask,
    poisson,
    unique_codes,
    zipf,
)
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.table import read_ahead, rebatch
from mock_pipeline.engine.timeline import DAY, WEEKDAY_PATTERN, Rhythm, Schedule, Window, allocate, daily_weights

N = 200_000
IDX = np.arange(N, dtype=np.int64)


def test_stream_is_a_pure_function_of_seed_path_and_index() -> None:
    a = Stream(42, "commerce", "orders", "customer")
    whole = a.uniform(IDX)
    # Any sub-range, computed alone in any order, gives the same values.
    pieces = np.concatenate([a.uniform(IDX[lo : lo + 7919]) for lo in range(0, N, 7919)][::-1][::-1])
    assert np.array_equal(whole, pieces)
    assert np.array_equal(
        whole[123_456:123_460], Stream(42, "commerce", "orders", "customer").uniform(IDX[123_456:123_460])
    )
    assert not np.array_equal(whole, Stream(43, "commerce", "orders", "customer").uniform(IDX))
    assert not np.array_equal(whole, Stream(42, "commerce", "orders", "total").uniform(IDX))
    assert whole.min() >= 0.0 and whole.max() < 1.0


def test_uniform_is_uniform_and_columns_are_uncorrelated() -> None:
    u = Stream(1, "t", "a").uniform(IDX)
    v = Stream(1, "t", "b").uniform(IDX)
    counts, _ = np.histogram(u, bins=10, range=(0, 1))
    assert np.all(np.abs(counts / N - 0.1) < 0.005)
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01
    # Neighbouring rows are independent too.
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


def test_categorical_shares_within_tolerance() -> None:
    weights = (0.05, 0.15, 0.5, 0.3)
    drawn = categorical(Stream(7, "users", "role"), IDX, weights)
    shares = np.bincount(drawn, minlength=4) / N
    assert np.all(np.abs(shares - np.array(weights)) < 0.01)


def test_zipf_top_fifth_takes_most_units() -> None:
    ranks = zipf(Stream(7, "products", "rank"), IDX, 200, 1.1)
    counts = np.sort(np.bincount(ranks, minlength=200))[::-1]
    top = counts[:40].sum() / counts.sum()
    assert 0.70 <= top <= 0.90
    assert counts[0] > counts[-1] * 50


def test_continuous_distributions_have_the_stated_moments() -> None:
    z = normal(Stream(3, "x"), IDX, mean=10.0, std=2.0)
    assert abs(z.mean() - 10.0) < 0.03 and abs(z.std() - 2.0) < 0.03
    ln = lognormal(Stream(3, "y"), IDX, 0.0, 0.5)
    assert abs(np.median(ln) - 1.0) < 0.02 and ln.min() > 0
    e = exponential(Stream(3, "e"), IDX, 5.0)
    assert abs(e.mean() - 5.0) < 0.1
    lam = np.where(IDX % 2 == 0, 3.0, 40.0)
    p = poisson(Stream(3, "p"), IDX, lam)
    assert abs(p[::2].mean() - 3.0) < 0.05 and abs(p[1::2].mean() - 40.0) < 0.1
    assert abs(p[1::2].var() - 40.0) < 1.5


def test_null_fraction_is_deterministic() -> None:
    mask = null_mask(Stream(5, "c"), IDX, 0.2)
    assert abs(mask.mean() - 0.2) < 0.005
    assert np.array_equal(mask, null_mask(Stream(5, "c"), IDX, 0.2))


def test_unique_codes_never_collide() -> None:
    codes = unique_codes(Stream(9, "orders", "external"), IDX, 10**8)
    assert len(np.unique(codes)) == N
    assert codes.min() >= 0 and codes.max() < 10**8
    full = unique_codes(Stream(9, "sku"), np.arange(10**6), 10**6)
    assert np.array_equal(np.sort(full), np.arange(10**6))  # a permutation
    with pytest.raises(ValueError, match="only 1000 codes"):
        unique_codes(Stream(9, "x"), np.arange(1001), 1000)


def test_time_series_follows_weekday_season_trend_and_exact_totals() -> None:
    window = Window(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    flat = Rhythm(seasonal_amplitude=0.0, bursts_per_year=0.0)
    weights = daily_weights(Stream(1, "orders"), window, flat)
    by_weekday = np.array([weights[window.weekdays() == d].mean() for d in range(7)])
    expected = np.array(WEEKDAY_PATTERN) / np.mean(WEEKDAY_PATTERN)
    assert np.allclose(by_weekday, expected)
    growing = daily_weights(Stream(1, "orders"), window, Rhythm(trend=1.5, bursts_per_year=0.0))
    assert growing[-60:].mean() > 2.0 * growing[:60].mean()
    counts = allocate(100_000, growing)
    assert counts.sum() == 100_000
    schedule = Schedule(window, counts)
    ts = schedule.timestamps(Stream(1, "t"), np.arange(100_000))
    assert ts.min() >= window.start_epoch and ts.max() < window.end_epoch
    assert np.all(np.diff((ts - window.start_epoch) // DAY) >= 0)  # events are laid out in day order
    hours = (ts % DAY) // 3600
    assert (hours == 3).mean() < (hours == 19).mean() / 5  # quiet night, busy evening


def test_cohort_existing_prefix_only_counts_entities_created_before() -> None:
    start = 1_700_000_000
    cohort = Cohort(1000, start, start + 3600, start + 365 * DAY, old_share=0.3)
    created = cohort.created(Stream(2, "c"), np.arange(1000), np.arange(1000))
    assert np.all(np.diff(created) >= 0) and created.min() >= start and created.max() < start + 365 * DAY
    probes = start + np.arange(0, 365 * DAY, 3 * 3600)
    k = cohort.existing(probes)
    assert np.all(k[probes >= start + 3600] >= 300)
    for t, n in zip(probes[::50], k[::50], strict=True):
        assert np.all(created[:n] <= t)


def test_money_is_exact_decimal_and_timestamps_utc() -> None:
    cents = np.array([1999, 5, -250, 123456789], dtype=np.int64)
    values = col.money(cents, nulls=np.array([False, False, True, False]))
    assert values.type == pa.decimal128(14, 2)
    assert [str(v) if v is not None else None for v in values.to_pylist()] == ["19.99", "0.05", None, "1234567.89"]
    ts = col.timestamps(np.array([0, 86_399]))
    assert ts.to_pylist()[1].isoformat() == "1970-01-01T23:59:59+00:00"
    assert np.array_equal(col.epoch_seconds(ts), [0, 86_399])


def test_rebatch_makes_fixed_size_batches_whatever_the_input_chunks() -> None:
    table = pa.table({"x": np.arange(10_000)})
    for chunk in (1, 999, 7919, 10_000):
        pieces = [table.slice(i, chunk) for i in range(0, 10_000, chunk)]
        out = list(rebatch(pieces, 4096))
        assert [t.num_rows for t in out] == [4096, 4096, 1808]
        assert pa.concat_tables(out).equals(table)


def test_read_ahead_keeps_order_raises_the_producers_error_and_stops_early() -> None:
    assert list(read_ahead(iter(range(1000)), depth=2)) == list(range(1000))

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("bad chunk 2")

    seen: list[int] = []
    with pytest.raises(ValueError, match="bad chunk 2"):
        seen.extend(read_ahead(failing()))
    assert seen == [1]

    produced: list[int] = []

    def endless() -> Iterator[int]:
        for i in itertools.count():
            produced.append(i)
            yield i

    reader = read_ahead(endless(), depth=2, name="endless-test")
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()  # the caller stops early: the thread ends, having run at most depth + 2 ahead
    assert not any(t.name == "endless-test" for t in threading.enumerate())
    assert len(produced) <= 3 + 2 + 2
