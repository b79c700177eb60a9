"""`Tables.table` and `Tables.derived` take the same keywords, declared once (`TableOptions`): a
mistake in them is one line naming the table and the keyword, and both decorators read them alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from mock_pipeline.engine.columns import INT, STRING, TIMESTAMP
from mock_pipeline.engine.declare import Column, Columns, DeclarationError, TableOptions, Tables

DECLARATION: dict[str, Any] = {
    "key": "tag_id",
    "slots": lambda m: 3,
    "description": "Tags.",
    "columns": [
        Column("tag_id", INT, "Key of the tag"),
        Column("label", STRING, "What the tag says"),
        Column("created_at", TIMESTAMP, "When the tag was made"),
    ],
    "text_columns": ["label"],
    "export_exclude": ["created_at"],
}


def _builder(m: Any, lo: int, hi: int) -> Columns:
    raise AssertionError("never called here")


def _derivation(m: Any, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    raise AssertionError("never called here")


@pytest.mark.parametrize("decorator", ["table", "derived"])
def test_an_unknown_keyword_is_one_line_naming_it(decorator: str) -> None:
    declare = getattr(Tables("shop"), decorator)(**DECLARATION, text_colums=("label",))
    with pytest.raises(DeclarationError) as refused:
        declare(_builder)
    assert str(refused.value) == (
        "shop._builder: 'text_colums' is not a declaration keyword; allowed: key, slots, description, columns, "
        "created, text_columns, export_exclude, after, per_tenant, name"
    )


@pytest.mark.parametrize("decorator", ["table", "derived"])
def test_a_missing_keyword_is_one_line_naming_it(decorator: str) -> None:
    declaration = {k: v for k, v in DECLARATION.items() if k != "slots"} | {"name": "tags"}
    with pytest.raises(DeclarationError) as refused:
        getattr(Tables("shop"), decorator)(**declaration)(_builder)
    assert str(refused.value) == "shop.tags: 'slots' is missing; required: key, slots, description, columns"


def test_table_and_derived_read_the_same_options_alike() -> None:
    built = Tables("shop", per_tenant=True).table(**DECLARATION, name="tags")(_builder)
    derived = Tables("shop", per_tenant=True).derived(**DECLARATION, name="tags")(_derivation)
    assert built.build is not None and built.derive is None
    assert derived.build is None and derived.derive is _derivation
    same = ("domain", "name", "key", "schema", "description", "slots", "parents", "per_tenant", "foreign_keys")
    for attribute in (*same, "export_exclude", "text_columns", "created", "column_descriptions"):
        assert getattr(built, attribute) == getattr(derived, attribute), attribute
    # Lists given in a declaration are kept as tuples, as the table spec holds them.
    assert built.text_columns == ("label",) and built.export_exclude == ("created_at",)
    assert built.per_tenant is True and built.created == "created_at"


def test_options_are_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        TableOptions("tag_id", lambda m: 3, "Tags.", ())  # type: ignore[misc]
    options = TableOptions(**DECLARATION)
    assert options.columns == tuple(DECLARATION["columns"])
    with pytest.raises(AttributeError):
        options.key = "other"  # type: ignore[misc]
