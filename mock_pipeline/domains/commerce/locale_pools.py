"""A tenant locale's Faker pools as the commerce model uses them: first and last names with
distinct e-mail slugs, and street addresses on one line. Cached per (locale, seed)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.engine.pools import Pools, pools, slug


@dataclass(frozen=True)
class NameParts:
    first: pa.Array
    last: pa.Array
    first_slug: pa.Array
    last_slug: pa.Array


def distinct_slugs(names: pa.Array) -> tuple[pa.Array, pa.Array]:
    slugs = slug(names).to_pylist()
    seen: set[str] = set()
    keep = []
    for i, s in enumerate(slugs):  # a few thousand pool entries, once per locale
        if s and s not in seen:
            seen.add(s)
            keep.append(i)
    idx = pa.array(keep, pa.int64())
    return names.take(idx), pa.array(slugs, pa.string()).take(idx)


@lru_cache(maxsize=8)
def one_line_pools(locale: str, seed: int) -> Pools:
    """The locale's pools with multi-line addresses (en_GB "Flat 1\\n...") joined on one line."""
    p = pools(locale, seed)
    return dataclasses.replace(p, streets=pc.replace_substring(p.streets, "\n", ", "))


@lru_cache(maxsize=8)
def locale_name_parts(locale: str, seed: int) -> NameParts:
    p = pools(locale, seed)
    first, first_slug = distinct_slugs(p.first_names)
    last, last_slug = distinct_slugs(p.last_names)
    return NameParts(first, last, first_slug, last_slug)
