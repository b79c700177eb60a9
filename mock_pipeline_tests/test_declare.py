"""The table declaration API (mock_pipeline.engine.declare): what a declaration produces, the mistakes it
refuses when the module is imported (one line naming the table and the field), and that the column
descriptions of a declared domain reach the asset specs the Dagster UI shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mock_pipeline.domains.factory import domain_definitions
from mock_pipeline.domains.maintenance import MAINTENANCE
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, JSON, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns, DeclarationError, Tables
from mock_pipeline.engine.table import TableSpec, generate


def _shop() -> Tables:
    """A two-table domain: customers, and orders referencing them."""
    tables = Tables("shop", per_tenant=True)

    @tables.table(
        key="customer_id",
        slots=lambda m: 5,
        description="People who order.",
        columns=(
            Column("customer_id", INT, "Key of the customer"),
            Column("tier", STRING, "gold or silver"),
            Column("created_at", TIMESTAMP, "When the customer signed up"),
        ),
        per_tenant=False,
    )
    def customers(m: Any, lo: int, hi: int) -> Columns:
        c = ids(lo, hi)
        return {"customer_id": c + 1, "tier": pick(("gold", "silver"), c), "created_at": col.timestamps(c * 60)}

    return tables


def _orders(tables: Tables, **overrides: Any) -> TableSpec:
    """Declare orders in `tables`, with any argument of the declaration replaced."""
    declaration: dict[str, Any] = {
        "key": "order_id",
        "slots": lambda m: 8,
        "description": "Orders of customers.",
        "columns": (
            Column("order_id", INT, "Key of the order"),
            Column("customer_id", INT, "Who ordered", references="customers"),
            Column("payload", JSON, "The order as the shop received it"),
            Column("created_at", TIMESTAMP, "When the order was placed"),
        ),
    } | overrides

    @tables.table(**declaration)
    def orders(m: Any, lo: int, hi: int) -> Columns:
        o = ids(lo, hi)
        return {
            "order_id": o + 1,
            "customer_id": o % 5 + 1,
            "payload": col.text(o),
            "created_at": col.timestamps(o * 60 + 600),
        }

    return orders


def test_a_declaration_is_the_table_spec_and_the_registry_is_the_table_list() -> None:
    tables = _shop()
    orders = _orders(tables, text_columns=("payload",), export_exclude=("payload",))
    assert isinstance(orders, TableSpec)
    assert [t.name for t in tables] == ["customers", "orders"]
    assert tables.specs == (tables[0], orders)
    assert orders.domain == "shop"
    assert orders.key == "order_id"
    assert orders.foreign_keys == (("customer_id", "customers"),)
    assert orders.parents == ("customers",)
    assert orders.created == "created_at"
    assert orders.per_tenant is True and tables[0].per_tenant is False  # registry default, and overridden
    assert orders.text_columns == ("payload",) and orders.export_exclude == ("payload",)
    assert orders.schema.names == ["order_id", "customer_id", "payload", "created_at"]
    assert orders.schema.field("created_at").type == TIMESTAMP
    assert orders.schema.field("payload").metadata == {b"format": b"json"}  # columns.JSON, as col.schema tags it
    assert orders.column_descriptions["customer_id"] == "Who ordered"
    assert orders.slots(None) == 8


def test_the_builder_returns_columns_and_gets_a_table_of_the_declared_schema() -> None:
    tables = _shop()
    orders = _orders(tables)
    chunks = list(generate(orders, None, chunk_size=3))
    assert [c.num_rows for c in chunks] == [3, 3, 2]
    whole = pa.concat_tables(chunks)
    assert whole.schema.equals(orders.schema, check_metadata=True)
    assert whole["order_id"].to_pylist() == list(range(1, 9))
    assert whole["customer_id"].to_pylist() == [1, 2, 3, 4, 5, 1, 2, 3]
    assert tables[0].build(None, 0, 2)["tier"].to_pylist() == ["gold", "silver"]


def test_after_adds_parents_no_column_points_to_and_a_self_reference_is_not_a_parent() -> None:
    tables = _shop()
    orders = _orders(
        tables,
        columns=(
            Column("order_id", INT, "Key of the order"),
            Column("replaces_order_id", INT, "The order this one replaces", references="orders"),
            Column("created_at", TIMESTAMP, "When the order was placed"),
        ),
        after=("customers",),
    )
    assert orders.foreign_keys == (("replaces_order_id", "orders"),)
    assert orders.parents == ("customers",)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "columns": (
                    Column("order_id", INT, "Key of the order"),
                    Column("order_id", STRING, "Key again"),
                    Column("created_at", TIMESTAMP, "When"),
                )
            },
            "shop.orders: column 'order_id' is declared more than once",
        ),
        ({"key": "id"}, "shop.orders: key 'id' is not a column; allowed: order_id, customer_id, payload, created_at"),
        ({"created": "placed_at"}, "shop.orders: created 'placed_at' is not a column; allowed: order_id,"),
        (
            {
                "columns": (
                    Column("order_id", INT, "Key of the order"),
                    Column("shop_id", INT, "The shop", references="shops"),
                    Column("created_at", TIMESTAMP, "When"),
                )
            },
            "shop.orders: column 'shop_id' references 'shops', which is not declared above it in shop;"
            " declared: customers",
        ),
        ({"text_columns": ("body",)}, "shop.orders: text_columns names 'body', not a column"),
        ({"export_exclude": ("secret",)}, "shop.orders: export_exclude names 'secret', not a column"),
        ({"after": ("invoices",)}, "shop.orders: after names 'invoices', which is not a table declared above it"),
        ({"description": " "}, "shop.orders: description is empty"),
        ({"name": "customers"}, "shop.customers: table 'customers' is declared twice in shop"),
    ],
)
def test_a_mistaken_declaration_is_refused_with_one_line_and_declares_nothing(
    overrides: dict[str, Any], message: str
) -> None:
    tables = _shop()
    with pytest.raises(DeclarationError) as refused:
        _orders(tables, **overrides)
    text = str(refused.value)
    assert text.startswith(message), text
    assert "\n" not in text
    assert [t.name for t in tables] == ["customers"]  # nothing half-declared


def test_a_foreign_key_must_point_up_the_declaration_order() -> None:
    """A table may only reference tables declared above it, so the registry's order is a valid build order."""
    tables = Tables("shop")
    with pytest.raises(DeclarationError, match=r"^shop.orders: column 'customer_id' references 'customers', which is"):
        _orders(tables)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Column("order id", INT, "Key"), "column name 'order id' must be a lower-case identifier"),
        (lambda: Column("OrderId", INT, "Key"), "column name 'OrderId' must be a lower-case identifier"),
        (lambda: Column("order_id", int, "Key"), "column 'order_id': type <class 'int'> must be a pyarrow type"),
        (lambda: Column("order_id", INT, ""), "column 'order_id': description is empty"),
    ],
)
def test_a_mistaken_column_is_refused(make: Any, message: str) -> None:
    with pytest.raises(DeclarationError) as refused:
        make()
    assert str(refused.value).startswith(message)


def test_a_builder_whose_columns_differ_from_the_declaration_fails_naming_them() -> None:
    tables = Tables("shop")

    @tables.table(
        key="customer_id",
        slots=lambda m: 2,
        description="People who order.",
        columns=(Column("customer_id", INT, "Key"), Column("tier", STRING, "Tier")),
        created=None,
    )
    def customers(m: Any, lo: int, hi: int) -> Columns:
        return {"customer_id": np.arange(lo, hi) + 1, "level": pick(("gold",), np.arange(lo, hi))}

    with pytest.raises(
        ValueError, match=r"^customers: the builder's columns differ .*missing \['tier'\], extra \['level'\]"
    ):
        customers.build(None, 0, 2)


def test_maintenance_column_descriptions_are_on_the_asset_specs() -> None:
    """The Dagster UI reads dagster/column_schema from the asset definition, before any run."""
    assets, _ = domain_definitions(MAINTENANCE)
    specs = {spec.key.path[-1]: spec for a in assets for spec in a.specs}
    assert set(specs) == {t.name for t in MAINTENANCE.tables}
    for table in MAINTENANCE.tables:
        schema = specs[table.name].metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == table.schema.names
        assert all(c.description for c in schema.columns), table.name
    tickets = {c.name: c.description for c in specs["tickets"].metadata["dagster/column_schema"].columns}
    assert tickets["ticket_id"] == "Key of the maintenance ticket"
    assert tickets["status"] == "Current status: new, assigned, in_progress, waiting_qc or done"


def test_a_builder_may_return_a_finished_table_of_the_declared_schema_only() -> None:
    tables = Tables("shop")
    declaration: dict[str, Any] = {
        "key": "customer_id",
        "slots": lambda m: 2,
        "description": "People who order.",
        "columns": (Column("customer_id", INT, "Key"),),
        "created": None,
    }

    @tables.table(**declaration)
    def customers(m: Any, lo: int, hi: int) -> pa.Table:
        return pa.table({"customer_id": pa.array(ids(lo, hi) + 1, INT)})

    @tables.table(**declaration)
    def visitors(m: Any, lo: int, hi: int) -> pa.Table:
        return pa.table({"customer_id": pa.array(ids(lo, hi) + 1, pa.int32())})

    assert customers.build(None, 0, 2)["customer_id"].to_pylist() == [1, 2]
    with pytest.raises(ValueError, match=r"^visitors: the builder's table has schema customer_id: int32"):
        visitors.build(None, 0, 2)


def test_a_derived_table_is_declared_with_its_derivation_and_no_builder(tmp_path: Path) -> None:
    tables = _shop()

    @tables.derived(
        key="customer_id",
        slots=lambda m: 5,
        description="Orders per customer, from the orders written.",
        columns=(
            Column("customer_id", INT, "The customer", references="customers"),
            Column("orders", INT, "How many orders the customer placed"),
        ),
        created=None,
    )
    def customer_orders(m: Any, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
        yield pa.table({"customer_id": pa.array([1], INT), "orders": pa.array([len(str(dataset))], INT)})

    assert customer_orders.build is None
    assert customer_orders.parents == ("customers",)
    assert next(iter(customer_orders.derive(None, tmp_path, 10)))["orders"].to_pylist() == [len(str(tmp_path))]
    with pytest.raises(ValueError, match="derived from other tables"):
        next(generate(customer_orders, None, chunk_size=10))
