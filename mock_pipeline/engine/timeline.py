"""Time-series engine: events per day = base rate x weekday x seasonality x volume x trend, plus
bursts; times within a day follow an hour-of-day profile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mock_pipeline.engine.distributions import categorical, poisson
from mock_pipeline.engine.random import Stream

DAY = 86_400
# Monday..Sunday; business traffic dips at the weekend.
WEEKDAY_PATTERN = (1.05, 1.10, 1.10, 1.05, 1.15, 0.80, 0.75)
# Hour-of-day shares: quiet night, morning ramp, lunch and evening peaks.
HOUR_PROFILE = (
    0.6, 0.4, 0.3, 0.3, 0.3, 0.5, 1.0, 2.0, 3.5, 4.5, 5.0, 5.5,
    6.0, 5.5, 5.0, 5.0, 5.0, 5.5, 6.0, 6.5, 6.5, 5.0, 3.0, 1.5,
)  # fmt: skip


@dataclass(frozen=True)
class Window:
    """The scenario's date window, both ends inclusive, in UTC days."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_epoch(self) -> int:
        return int(dt.datetime(self.start.year, self.start.month, self.start.day, tzinfo=dt.UTC).timestamp())

    @property
    def end_epoch(self) -> int:
        """First second after the window."""
        return self.start_epoch + self.days * DAY

    def day_epochs(self) -> np.ndarray:
        return self.start_epoch + np.arange(self.days, dtype=np.int64) * DAY

    def weekdays(self) -> np.ndarray:
        return (self.start.weekday() + np.arange(self.days)) % 7

    def day_of_year(self) -> np.ndarray:
        first = self.start.timetuple().tm_yday - 1
        return (first + np.arange(self.days)) % 365


@dataclass(frozen=True)
class Rhythm:
    """The shape of a daily event rate over a window."""

    weekday: Sequence[float] = WEEKDAY_PATTERN
    seasonal_amplitude: float = 0.25  # +-25% around the yearly mean
    seasonal_peak_doy: int = 335  # early December
    trend: float = 0.0  # relative growth from the first to the last day (1.0 doubles)
    bursts_per_year: float = 6.0
    burst_multiplier: float = 2.5


def daily_weights(stream: Stream, window: Window, rhythm: Rhythm) -> np.ndarray:
    """Relative expected events per day (mean about 1 before trend)."""
    weekday = np.asarray(rhythm.weekday, dtype=np.float64)
    weekday = weekday / weekday.mean()
    season = 1.0 + rhythm.seasonal_amplitude * np.cos(
        2.0 * np.pi * (window.day_of_year() - rhythm.seasonal_peak_doy) / 365.0
    )
    position = np.arange(window.days) / max(window.days - 1, 1)
    trend = 1.0 + rhythm.trend * position
    day_idx = np.arange(window.days)
    burst = stream.sub("burst").bernoulli(day_idx, rhythm.bursts_per_year / 365.0)
    bursts = np.where(burst, rhythm.burst_multiplier, 1.0)
    return weekday[window.weekdays()] * season * trend * bursts


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split exactly `total` events over days in proportion to weights (largest remainder)."""
    expected = total * weights / weights.sum()
    counts = np.floor(expected).astype(np.int64)
    short = total - int(counts.sum())
    if short:
        # Stable ordering: ties go to the earlier day.
        order = np.argsort(-(expected - counts), kind="stable")[:short]
        counts[order] += 1
    return counts


def poisson_counts(stream: Stream, rates: np.ndarray) -> np.ndarray:
    """Random daily counts with the given expected values."""
    return poisson(stream.sub("daily"), np.arange(len(rates)), rates)


@dataclass(frozen=True)
class Schedule:
    """Events laid out in time order: event i happens on day `day[i]`."""

    window: Window
    counts: np.ndarray  # events per day

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def day_of(self, event: np.ndarray) -> np.ndarray:
        ends = np.cumsum(self.counts)
        return np.searchsorted(ends, event, side="right")

    def timestamps(self, stream: Stream, event: np.ndarray, hours: Sequence[float] = HOUR_PROFILE) -> np.ndarray:
        """Epoch seconds for events: their day plus an hour-of-day draw and a uniform second."""
        day = self.day_of(event)
        hour = categorical(stream.sub("hour"), event, hours)
        second = stream.sub("second").integers(event, 0, 3600)
        return self.window.start_epoch + day.astype(np.int64) * DAY + hour * 3600 + second
