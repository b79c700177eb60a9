"""Value pools built once per (locale, seed) with Faker; rows pick from them by index.

Faker is never called per row: a pool of a few thousand values is built once per process and
cached, and columns are `pool.take(indices)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker
from faker.config import AVAILABLE_LOCALES

POOL_SIZE = 2_000


def check_locale(locale: str) -> None:
    if locale not in AVAILABLE_LOCALES:
        raise ValueError(f"unknown locale {locale!r}; allowed: Faker locales such as en_US, de_DE, ar_EG")


@dataclass(frozen=True)
class Pools:
    first_names: pa.Array
    last_names: pa.Array
    companies: pa.Array
    streets: pa.Array
    cities: pa.Array
    phones: pa.Array
    words: pa.Array
    sentences: pa.Array


def _distinct(values: list[str]) -> pa.Array:
    # Keep first occurrences in order: deterministic and duplicate-free.
    return pa.array(list(dict.fromkeys(values)), pa.string())


def _names(fake: Faker, attribute: str, method: str, n: int) -> pa.Array:
    """A locale's whole name list when its provider exposes one (fast, no sampling), else n draws."""
    names = getattr(fake, attribute, None)
    if isinstance(names, (dict, list, tuple)) and len(names) >= 50:
        return _distinct([str(name) for name in names])
    return _distinct([getattr(fake, method)() for _ in range(n)])


@lru_cache(maxsize=8)
def pools(locale: str, seed: int) -> Pools:
    check_locale(locale)
    fake = Faker(locale)
    fake.seed_instance(seed)
    n = POOL_SIZE
    return Pools(
        first_names=_names(fake, "first_names", "first_name", n),
        last_names=_names(fake, "last_names", "last_name", n),
        companies=_distinct([fake.company() for _ in range(n // 4)]),
        streets=_distinct([fake.street_address() for _ in range(n // 2)]),
        cities=_distinct([fake.city() for _ in range(n // 4)]),
        phones=pa.array([fake.phone_number() for _ in range(n // 2)], pa.string()),
        words=_distinct(fake.words(nb=n)),
        sentences=pa.array([fake.sentence(nb_words=10) for _ in range(n)], pa.string()),
    )


def slug(values: pa.Array) -> pa.Array:
    """Lower-case ASCII letters and digits only, for e-mail local parts and handles."""
    lowered = pc.utf8_lower(pc.utf8_normalize(values, "NFKD"))
    return pc.replace_substring_regex(lowered, r"[^a-z0-9]+", "")
