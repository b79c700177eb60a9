"""Commerce as one world: each coherence rule holds on the generated data and fails on data
corrupted in the one way it guards against; profiles move the data in the direction they name."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.commerce.model import ITEM_SLOTS, CommerceModel
from mock_pipeline.domains.commerce.vocab import ORDER_PROBLEM_NOTICES
from mock_pipeline.engine.table import PART_FILE
from mock_pipeline.scenarios.model import ANOMALY_LABELS, build_scenario
from mock_pipeline.validation import connect, run_rules
from mock_pipeline_tests.conftest import SMALL as SCENARIO

Change = Callable[[pa.Table], pa.Table]
_RESHIP_TITLES = next(titles for _, event, titles in ORDER_PROBLEM_NOTICES if event == "reshipped")


@pytest.fixture
def dataset(commerce_small: tuple[dg.ExecuteInProcessResult, Path]) -> Path:
    return next(commerce_small[1].glob("datasets/*/commerce"))


def read(dataset: Path, table: str) -> pa.Table:
    return pq.read_table(dataset / table / PART_FILE)


def _outcome(dataset: Path, table: str, rule: str) -> bool:
    model = CommerceModel(build_scenario(**SCENARIO))
    rules = [r for r in COMMERCE.rules if r.table == table and r.name == rule]
    assert len(rules) == 1, f"{table}.{rule} is not a commerce rule"
    (outcome,) = run_rules(dataset, rules, COMMERCE.rule_params(model))
    return outcome.passed


def _first(table: pa.Table, mask: pa.Array) -> int:
    index = pc.index(pc.fill_null(mask, False), True).as_py()
    assert index >= 0, "no row to corrupt"
    return index


def _set(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table[column].to_pylist()
    values[row] = value
    field = table.schema.field(column)
    return table.set_column(table.schema.get_field_index(column), field, pa.array(values, field.type))


def _set_where(column: str, where: Callable[[pa.Table], pa.Array], value: object) -> Change:
    return lambda t: _set(t, column, _first(t, where(t)), value)


def _replace(column: str, values: Callable[[pa.Table], pa.Array]) -> Change:
    def change(t: pa.Table) -> pa.Table:
        field = t.schema.field(column)
        return t.set_column(t.schema.get_field_index(column), field, values(t).cast(field.type))

    return change


def _at(column: str, row: int, value: object) -> Change:
    return lambda t: _set(t, column, row, value)


def _is(column: str, value: object) -> Callable[[pa.Table], pa.Array]:
    return lambda t: pc.equal(t[column], value)


def _customers_round_robin(t: pa.Table) -> pa.Array:
    order = t["order_id"].to_numpy() - 1
    tenant = t["tenant_id"].to_numpy() - 1
    return pa.array((tenant * 100 + order % 100 + 1).astype(np.int64))


def _refund_reshipped_order(t: pa.Table) -> pa.Table:
    """Refund in full a reshipped order's payment (delivery_failure, still captured) right after its failure."""
    row = _first(t, pc.and_(_is("anomaly", "delivery_failure")(t), _is("status", "captured")(t)))
    t = _set(t, "status", row, "refunded")
    t = _set(t, "refunded_amount", row, t["amount"][row].as_py())
    return _set(t, "refunded_at", row, t["paid_at"][row].as_py() + dt.timedelta(days=1))


CORRUPTIONS: list[tuple[str, Change, str, str]] = [
    # (table corrupted, change, table of the rule, rule)
    ("payments", _set_where("anomaly", lambda t: pc.is_null(t["anomaly"]), "stockout"), "payments",
     "anomaly_matches_order"),
    ("shipments", _set_where("anomaly", lambda t: pc.is_null(t["anomaly"]), "delivery_failure"), "shipments",
     "anomaly_matches_order"),
    ("support_tickets", _set_where("anomaly", lambda t: pc.is_null(t["anomaly"]), "payment_delay"),
     "support_tickets", "anomaly_matches_order"),
    ("support_tickets", _set_where("subject", lambda t: pc.equal(t["anomaly"], "delivery_failure"), "Cannot log in"),
     "support_tickets", "subject_speaks_of_the_orders_problem"),
    ("payments", _set_where("status", _is("status", "voided"), "captured"), "shipments", "cancellation_consequences"),
    ("reviews", lambda t: t.slice(1), "product_analytics", "equals_facts"),
    ("returns", lambda t: _set(t, "quantity", 0, t["quantity"][0].as_py() + 1), "product_analytics", "equals_facts"),
    # A delivered order's items counted as sold: cancelled, they are not.
    ("orders", lambda t: _set(t, "order_status", _first(t, pc.equal(t["order_status"], "delivered")), "cancelled"),
     "product_analytics", "equals_facts"),
    ("orders", _set_where("anomaly", _is("order_status", "delivered"), "cancellation"), "shipments",
     "cancellation_consequences"),
    ("orders", _set_where("anomaly", _is("anomaly", "delivery_failure"), None), "shipments",
     "delivery_failure_consequences"),
    ("orders", _set_where("anomaly", _is("order_status", "delivered"), "delivery_failure"), "shipments",
     "delivery_failure_consequences"),
    ("shipments", _set_where("status", _is("status", "failed"), "delivered"), "shipments",
     "delivery_failure_consequences"),
    ("shipments", lambda t: t.filter(pc.invert(t["is_reship"])), "shipments", "delivery_failure_consequences"),
    ("shipments", _set_where("shipped_at", lambda t: t["is_reship"], dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
     "shipments", "delivery_failure_consequences"),
    ("shipments", _set_where("failure_reason", lambda t: pc.and_(pc.is_valid(t["failure_reason"]), pc.is_in(
        t["order_id"], pc.filter(t["order_id"], t["is_reship"]))), "refused by recipient"), "shipments",
     "delivery_failure_consequences"),
    ("notifications", _set_where("title", lambda t: pc.and_(pc.is_valid(t["order_id"]), pc.is_null(t["anomaly"])),
                                 "Your delivery is running late"), "notifications", "speaks_of_the_orders_problem"),
    ("notifications", _set_where("anomaly", lambda t: pc.and_(pc.is_valid(t["order_id"]), pc.is_null(t["anomaly"])),
                                 "payment_delay"), "notifications", "speaks_of_the_orders_problem"),
    ("notifications", _set_where("title", lambda t: pc.is_null(t["order_id"]), "Your order has been delivered"),
     "notifications", "speaks_of_the_orders_problem"),
    ("notifications", _set_where("title", lambda t: pc.is_in(t["title"], pa.array(list(_RESHIP_TITLES))),
                                 "Refund issued for your undelivered order"), "notifications",
     "speaks_of_the_orders_problem"),
    ("payments", _refund_reshipped_order, "shipments", "delivery_failure_consequences"),
    ("shipments", lambda t: t.filter(pc.invert(t["is_reship"])), "notifications", "speaks_of_the_orders_problem"),
    ("shipments", _replace("delivered_at", lambda t: pc.add(t["delivered_at"], pa.scalar(dt.timedelta(days=400)))),
     "notifications", "speaks_of_the_orders_problem"),
    ("shipments", _replace("shipped_at", lambda t: pc.add(t["shipped_at"], pa.scalar(dt.timedelta(days=400)))),
     "notifications", "speaks_of_the_orders_problem"),
    ("support_tickets", _set_where("created_at", _is("anomaly", "delivery_delay"),
                                   dt.datetime(2024, 12, 30, 23, tzinfo=dt.UTC)), "support_tickets",
     "ongoing_problems_asked_while_they_last"),
    ("support_tickets", _set_where("created_at", _is("anomaly", "payment_delay"),
                                   dt.datetime(2024, 12, 30, 23, tzinfo=dt.UTC)), "support_tickets",
     "ongoing_problems_asked_while_they_last"),
    ("returns", _replace("reason", lambda t: pa.array(["defective on arrival"] * t.num_rows)), "reviews",
     "no_praise_for_a_faulty_return"),
    ("support_tickets", _set_where("created_at", _is("subject", "Change my delivery address"),
                                   dt.datetime(2024, 12, 30, 23, tzinfo=dt.UTC)), "support_tickets",
     "order_changes_asked_before_shipping"),
    ("notifications", _replace("sent_at", lambda t: pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * t.num_rows)),
     "notifications", "saved_item_news_after_saving"),
    ("payments", _set_where("attempts", _is("anomaly", "payment_delay"), 1), "payments", "payment_delay_paid_later"),
    ("payments", _replace("status", lambda t: pa.array(["captured"] * t.num_rows)), "payments",
     "status_reflects_outcome"),
    ("returns", _set_where("status", lambda t: pc.is_valid(t["refund_amount"]), "rejected"), "returns",
     "refund_follows_status_and_reason_fits"),
    ("returns", _set_where("reason", lambda t: pc.is_null(t["anomaly"]), "arrived too late"), "returns",
     "refund_follows_status_and_reason_fits"),
    ("stock_events", _set_where("delta", _is("source", "sale"), -1000), "stock_events", "sales_follow_order_items"),
    ("stock_events", _replace("anomaly", lambda t: pa.nulls(t.num_rows, pa.string())), "stock_events",
     "stockout_at_empty_shelf"),
    ("returns", _set_where("restocked_at", lambda t: pc.is_valid(t["restocked_at"]), None), "stock_events",
     "returns_restocked"),
    ("reviews", _set_where("title", lambda t: pc.equal(t["rating"], 5), "Terrible product, avoid"), "reviews",
     "sentiment_follows_rating"),
    ("products", _at("name", 0, "Premium Walnut Widget"), "products", "name_from_its_subcategory"),
    ("products", _replace("price", lambda t: pa.array([19.99] * t.num_rows)), "products",
     "names_distinct_and_prices_mixed"),
    ("products", _replace("created_at", lambda t: pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * t.num_rows)),
     "products", "created_after_vendor_category_warehouse"),
    ("orders", _replace("customer_id", _customers_round_robin), "orders", "heavy_tailed_customers"),
    ("orders", lambda t: _set(t, "raw_payload", _first(t, pc.less(t["order_date"], pa.scalar(
        dt.datetime(2024, 2, 1, tzinfo=dt.UTC), t.schema.field("order_date").type))),
        json.dumps({"source": "web", "campaign": "black_friday", "discount_code": None})),
     "orders", "campaigns_and_codes_in_season"),
    ("orders", _replace("order_date", lambda t: pa.array([dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC)] * t.num_rows)),
     "orders", "months_balanced"),
    ("customers", _replace("created_at", lambda t: pa.array([dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC)] * t.num_rows)),
     "customers", "months_balanced"),
    ("products", _replace("created_at", lambda t: pa.array([dt.datetime(2024, 1, 1, 0, 30, tzinfo=dt.UTC)] * t.num_rows)),
     "products", "months_balanced"),
    ("promotions", _set_where("code", lambda t: pc.less(t["starts_at"], pa.scalar(
        dt.datetime(2024, 2, 1, tzinfo=dt.UTC), t.schema.field("starts_at").type)), "SUMMER10-999"),
     "promotions", "seasonal_in_season"),
    ("tenants", _at("currency", 0, "XXX"), "tenants", "one_locale_per_tenant"),
    ("shipments", _at("carrier", 0, "Pony Express"), "shipments", "carrier_of_tenants_country"),
    ("vendors", lambda t: _set(t, "name", 1, t["name"][0].as_py()), "vendors", "company_names_unique"),
    ("customers", _at("email", 0, "kelly.grant0001@example.com"), "customers", "email_without_row_counter"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "change", "rule_table", "rule"), CORRUPTIONS, ids=[f"{c[2]}.{c[3]}<-{c[0]}" for c in CORRUPTIONS]
)
def test_coherence_rule_fails_on_corrupted_data(
    dataset: Path, tmp_path: Path, table: str, change: Change, rule_table: str, rule: str
) -> None:
    assert _outcome(dataset, rule_table, rule) is True
    copy = tmp_path / "dataset"
    shutil.copytree(dataset, copy)
    path = copy / table / PART_FILE
    pq.write_table(change(pq.read_table(path)), path)
    assert _outcome(copy, rule_table, rule) is False


def test_stock_ledger_follows_sales(dataset: Path) -> None:
    """Product by product, the ledger's sales are the units ordered in orders not cancelled."""
    items = read(dataset, "order_items").to_pandas()
    orders = read(dataset, "orders").to_pandas()[["order_id", "order_status"]]
    live = items.merge(orders, on="order_id").query("order_status != 'cancelled'")
    sold = live.groupby("product_id")["quantity"].sum()
    events = read(dataset, "stock_events").to_pandas()
    ledger = -events[events["source"] == "sale"].groupby("product_id")["delta"].sum()
    assert sold.sort_index().equals(ledger.sort_index().astype(sold.dtype))
    inventory = read(dataset, "inventory").to_pandas().set_index("product_id")["quantity_on_hand"]
    last = events.sort_values("stock_event_id").groupby("product_id")["resulting_level"].last()
    assert inventory.sort_index().equals(last.sort_index())
    negative = events[events["resulting_level"] < 0]
    assert (negative["anomaly"] == "stockout").all() and len(negative) > 0


def test_ledger_in_blocks_of_products_is_the_whole_tenants_ledger(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger derived a few hundred base events at a time (blocks never split a product) is the
    very table derived a tenant at a time: its draws are keyed by position in the tenant's ledger."""
    from mock_pipeline.domains.commerce import ledger

    monkeypatch.setattr(ledger, "BLOCK_EVENTS", 301)
    model = CommerceModel(build_scenario(**SCENARIO))
    blocks = list(ledger._ledgers(model, dataset))
    assert len(blocks) > 2 * model.tenants, "the small preset should span many blocks"
    derived = pa.concat_tables(ledger.stock_events.derive(model, dataset, 1000))
    assert derived.equals(read(dataset, "stock_events"))


def test_one_label_per_order_and_its_consequences(dataset: Path) -> None:
    orders = read(dataset, "orders").to_pandas().set_index("order_id")
    for table in ("payments", "shipments", "support_tickets", "returns"):
        rows = read(dataset, table).to_pandas()
        labelled = rows[rows["anomaly"].notna()]
        assert (labelled["anomaly"].values == orders.loc[labelled["order_id"], "anomaly"].values).all(), table
    returns = read(dataset, "returns").to_pandas()
    late = returns[returns["reason"] == "arrived too late"]
    assert (orders.loc[late["order_id"], "anomaly"] == "delivery_delay").all()
    assert returns.loc[returns["status"] == "rejected", "refund_amount"].isna().all()
    statuses = set(read(dataset, "payments")["status"].to_pylist())
    assert {"captured", "refunded", "voided"} <= statuses


def test_failed_deliveries_are_refunded_or_reshipped(dataset: Path) -> None:
    """Each failed delivery ends one of two ways, both present: refunded, or sent again later and not refunded."""
    orders = read(dataset, "orders").to_pandas().set_index("order_id")
    shipments = read(dataset, "shipments").to_pandas()
    payments = read(dataset, "payments").to_pandas().set_index("order_id")
    failed = orders.index[orders["anomaly"] == "delivery_failure"]
    parcels = shipments[shipments["order_id"].isin(failed)].groupby("order_id")
    refunded, reshipped = 0, 0
    for order_id, rows in parcels:
        first = rows.sort_values("shipped_at").iloc[0]
        assert first["status"] == "failed" and not first["is_reship"]
        if len(rows) == 1:
            refunded += 1
            assert orders.at[order_id, "order_status"] == "delivery_failed"
            assert payments.at[order_id, "status"] == "refunded"
        else:
            reshipped += 1
            second = rows.sort_values("shipped_at").iloc[1]
            assert len(rows) == 2 and second["is_reship"] and second["shipped_at"] > first["failed_at"]
            assert second["status"] in ("in_transit", "delivered")
            assert orders.at[order_id, "order_status"] == (
                "delivered" if second["status"] == "delivered" else "shipped"
            )
            refunded_at = payments.at[order_id, "refunded_at"]  # money back only for a return of the reship
            assert pd.isna(refunded_at) or refunded_at > second["delivered_at"]
    assert len(parcels) == len(failed) and refunded > 0 and reshipped > 0
    others = shipments[~shipments["order_id"].isin(failed)]
    assert others["order_id"].is_unique and (others["status"] != "failed").all()


def test_notifications_tell_each_orders_problem(dataset: Path) -> None:
    """Orders with a problem get a notice of that problem, labelled with it; no other notification is labelled."""
    orders = read(dataset, "orders").to_pandas().set_index("order_id")
    notes = read(dataset, "notifications").to_pandas()
    titles = {title: label for label, _, group in ORDER_PROBLEM_NOTICES for title in group}
    told = notes[notes["title"].isin(titles)]
    assert (told["title"].map(titles).values == orders.loc[told["order_id"], "anomaly"].values).all()
    assert (told["anomaly"].values == told["title"].map(titles).values).all()
    assert notes.loc[~notes["title"].isin(titles), "anomaly"].isna().all()
    labelled = orders.index[orders["anomaly"].notna()]
    assert told["order_id"].nunique() >= 0.9 * len(labelled)
    assert set(told["anomaly"]) == set(ANOMALY_LABELS)
    assert notes["order_id"].notna().any() and notes["order_id"].isna().any()


def test_parents_are_created_before_children(dataset: Path) -> None:
    products = read(dataset, "products").to_pandas()
    vendors = read(dataset, "vendors").to_pandas().set_index("vendor_id")["created_at"]
    assert (products["created_at"].to_numpy() >= vendors.loc[products["vendor_id"]].to_numpy()).all()
    tenants = read(dataset, "tenants").to_pandas().set_index("tenant_id")["created_at"]
    customers = read(dataset, "customers").to_pandas()
    assert (customers["created_at"].to_numpy() >= tenants.loc[customers["tenant_id"]].to_numpy()).all()


@pytest.mark.parametrize("profile", ["normal-ops", "peak-season"])
def test_items_and_item_product_agree_and_no_order_repeats_a_product(profile: str) -> None:
    """items() resolves repeated products over an order's consecutive lines; item_product, slot by slot, must give
    the same products (shipments and returns ask it for single slots)."""
    model = CommerceModel(build_scenario(**{**SCENARIO, "profile": profile}))
    g = np.arange(model.tenants * model.orders)
    date = model.order_date(g)
    items = model.items(g, date)
    assert (items["slot"] % ITEM_SLOTS > 0).sum() > len(g) // 2  # plenty of orders with several lines
    assert np.array_equal(model.item_product(items["slot"], date[items["row"]]), items["product"])
    order = items["slot"] // ITEM_SLOTS
    pairs = order * model.tenants * model.products + items["product"]
    assert len(np.unique(pairs)) == len(pairs)


def _orders(profile: str) -> tuple[CommerceModel, np.ndarray, np.ndarray]:
    model = CommerceModel(build_scenario(profile=profile))
    g = np.arange(model.tenants * model.orders)
    life = model.lifecycle(g)
    return model, life.anomaly, life.status


@pytest.mark.parametrize(
    ("profile", "label", "factor"),
    [
        ("peak-season", None, 2.0),
        ("anomaly-heavy", "delivery_failure", 3.0),
        ("anomaly-heavy", "payment_delay", 3.0),
        ("warehouse-outage", "cancellation", 5.0),
        ("payment-crisis", "payment_delay", 3.0),
        ("growth-phase", None, 1.0),
    ],
)
def test_profiles_move_commerce_the_way_they_say(profile: str, label: str | None, factor: float) -> None:
    normal, normal_anomaly, _ = _orders("normal-ops")
    model, anomaly, _ = _orders(profile)
    if label is None and profile == "peak-season":
        assert model.orders >= 3 * normal.orders
        assert (anomaly >= 0).mean() > 2 * (normal_anomaly >= 0).mean()
    elif label is None:  # growth: twice the companies (suppliers); the last two months far busier than the first two
        assert model.vendors == 2 * normal.vendors
        counts = model.schedule.counts
        assert counts[-60:].sum() > 1.5 * counts[:60].sum()
        assert not np.array_equal(model.schedule.counts, normal.schedule.counts)
    else:
        index = ANOMALY_LABELS.index(label)
        assert (anomaly == index).mean() > factor * (normal_anomaly == index).mean()


def test_report_lines_measure_what_the_profile_asked(dataset: Path) -> None:
    model = CommerceModel(build_scenario(**SCENARIO))
    params = COMMERCE.rule_params(model)
    con = connect(dataset)
    try:
        observed = {line.metric: (line.asked, con.execute(line.sql.format(**params)).fetchone()[0])
                    for line in COMMERCE.report(model)}  # fmt: skip
    finally:
        con.close()
    assert observed["orders"] == (10_000.0, 10_000)
    asked, share = observed["anomaly share"]
    assert abs(share - asked) < 0.02
    assert observed["stock-outs (sales meeting an empty shelf)"][1] > 0
    for label in ANOMALY_LABELS:
        asked, share = observed[f"share labelled {label}"]
        assert abs(share - asked) < 0.01, label
