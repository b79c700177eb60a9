"""The ERP's people and master data: staff users, customer companies and their branches, products."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.erp import data
from mock_pipeline.domains.erp.common import CURRENCY, TABLES, dense, presence
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.world import BRANCH_SLOTS, DEPARTMENTS, ROLES
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, MONEY, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical, unique_codes
from mock_pipeline.engine.pools import slug
from mock_pipeline.engine.random import Stream

STAFF_DOMAIN = "synergyflow.example"


def mobile(stream: Stream, key: np.ndarray) -> pa.Array:
    """Egyptian mobile numbers in E.164: +20 1[0125] and 8 digits (Vodafone, Etisalat, Orange, WE)."""
    operator = pick(("0", "1", "2", "5"), stream.sub("operator").integers(key, 0, 4))
    return col.join("+201", operator, col.digits(stream.sub("number").integers(key, 0, 10**8), 8))


def landline(stream: Stream, key: np.ndarray, governorate: np.ndarray) -> pa.Array:
    """+20, the governorate's area code, then 8 digits in Cairo and Giza and 7 elsewhere."""
    codes = pa.array([g[1] for g in data.GOVERNORATES], STRING)
    code = col.take(codes, governorate)
    number = stream.integers(key, 2 * 10**6, 10**7)
    wide = pa.array(np.isin(governorate, [0, 1]))  # Cairo, Giza
    return col.join("+20", code, pc.if_else(wide, col.digits(number + 2 * 10**7, 8), col.digits(number, 7)))


def person_name(m: ErpModel, table: str, key: np.ndarray) -> tuple[pa.Array, pa.Array]:
    first = col.take(m.first_names, m.stream(table, "first").integers(key, 0, len(m.first_names)))
    last = col.take(m.last_names, m.stream(table, "last").integers(key, 0, len(m.last_names)))
    return first, last


_DISTRICTS = pa.array([d for g in data.GOVERNORATES for d in g[3]], STRING)
_DISTRICT_START = np.cumsum([0] + [len(g[3]) for g in data.GOVERNORATES])[:-1]
_DISTRICT_COUNT = np.array([len(g[3]) for g in data.GOVERNORATES])
_GOVERNORATE_NAMES = tuple(g[0] for g in data.GOVERNORATES)


def district(m: ErpModel, table: str, key: np.ndarray, governorate: np.ndarray) -> pa.Array:
    local = m.stream(table, "district").integers(key, 0, _DISTRICT_COUNT[governorate])
    return col.take(_DISTRICTS, _DISTRICT_START[governorate] + local)


def address(m: ErpModel, table: str, key: np.ndarray, area: pa.Array, governorate: np.ndarray) -> pa.Array:
    number = col.text(m.stream(table, "building").integers(key, 1, 200))
    street = pick(data.STREETS, m.stream(table, "street").integers(key, 0, len(data.STREETS)))
    return col.join(number, " ", street, ", ", area, ", ", pick(_GOVERNORATE_NAMES, governorate))


# --- users -------------------------------------------------------------------------------------
def staff_names(m: ErpModel, i: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(first, last, e-mail handle): distinct first/last pairs, so handles need no counter."""
    nf, nl = len(m.first_names), len(m.last_names)
    pairs = nf * nl
    initials = 1 if m.users <= pairs else 26  # a middle initial only when the pairs run out
    code = unique_codes(m.stream("users", "name"), i, pairs * initials)
    first = col.take(m.first_names, code % nf)
    last = col.take(m.last_names, (code // nf) % nl)
    first_slug = pc.if_else(pc.equal(pc.utf8_length(slug(first)), 0), "user", slug(first))
    last_slug = pc.if_else(pc.equal(pc.utf8_length(slug(last)), 0), "staff", slug(last))
    if initials == 1:
        return first, last, col.join(first_slug, ".", last_slug)
    initial = pick(tuple("abcdefghijklmnopqrstuvwxyz"), code // pairs)
    return first, last, col.join(first_slug, ".", initial, ".", last_slug)


@TABLES.table(
    key="user_id",
    slots=lambda m: m.users,
    description="SynergyFlow staff: admin 5%, manager 15%, sales 50%, support 30%.",
    columns=(
        Column("user_id", INT, "Staff account key, 1..n."),
        Column("first_name", STRING, "Given name."),
        Column("last_name", STRING, "Family name."),
        Column("full_name", STRING, "Given and family name."),
        Column("email", STRING, "Work e-mail first.last@synergyflow.example (a reserved domain)."),
        Column("phone", STRING, "Egyptian mobile number in E.164 (+20 1x xxxx xxxx)."),
        Column("role", STRING, "admin, manager, sales or support."),
        Column("department", STRING, "The department of the role."),
        Column("is_active", pa.bool_(), "Whether the account can still sign in."),
        Column("created_at", TIMESTAMP, "When the account was opened (UTC)."),
        Column("last_login_at", TIMESTAMP, "The latest sign-in by the end of the window (UTC)."),
    ),
)
def users(m: ErpModel, lo: int, hi: int) -> Columns:
    i = ids(lo, hi)
    first, last, handle = staff_names(m, i)
    role = m.user_role[i]
    created = m.user_created[i]
    last_login = created + np.floor((m.end - 1 - created) * m.stream("users", "login").uniform(i) ** 0.2).astype(
        np.int64
    )
    return {
        "user_id": i + 1,
        "first_name": first,
        "last_name": last,
        "full_name": col.join(first, " ", last),
        "email": col.join(handle, "@", STAFF_DOMAIN),
        "phone": mobile(m.stream("users", "phone"), i),
        "role": pick(ROLES, role),
        "department": pick(DEPARTMENTS, role),
        "is_active": m.stream("users", "inactive").uniform(i) >= 0.05,
        "created_at": col.timestamps(created),
        "last_login_at": col.timestamps(last_login),
    }


# --- companies and branches --------------------------------------------------------------------
_REGION_DAYS_TEXT = tuple(
    ",".join(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d - 1] for d in data.REGION_ISO_DAYS[r])
    for r in data.REGIONS
)


_NAME_ROOTS = (*data.COMPANY_PREFIXES, *data.LAST_NAMES)
_NAME_QUALIFIERS = ("", " & Sons", " Star", " Palace", " Corner", " Express", " Plus", " Gardens")


def _name_code(m: ErpModel, c: np.ndarray, base: int, variants: int) -> np.ndarray:
    """Distinct codes for companies: within `base` while it suffices, then over base x variants, then with
    a district; a dataset never repeats a company name."""
    n = m.companies
    modulus = base * min(variants, -(-n // base)) if n <= base * variants else base * variants * len(_DISTRICTS)
    return unique_codes(m.stream("companies", "name"), c, modulus)


def company_name(m: ErpModel, c: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(name, business type): a unique Egyptian trading name (family or place, qualifier, business type);
    unique within the dataset."""
    roots, kinds = len(_NAME_ROOTS), len(data.BUSINESS_TYPES)
    code = _name_code(m, c, roots * kinds, len(_NAME_QUALIFIERS))
    kind = pick(data.BUSINESS_TYPES, code % kinds)
    variant = (code // (roots * kinds)) % len(_NAME_QUALIFIERS)
    name = col.join(pick(_NAME_ROOTS, (code // kinds) % roots), pick(_NAME_QUALIFIERS, variant), " ", kind)
    extra = code // (roots * kinds * len(_NAME_QUALIFIERS))
    district_name = col.take(_DISTRICTS, np.maximum(extra - 1, 0) % len(_DISTRICTS))
    return pc.if_else(pa.array(extra > 0), col.join(name, " (", district_name, ")"), name), kind


def tax_number(m: ErpModel, c: np.ndarray) -> pa.Array:
    """Egyptian tax registration number: 9 digits as ###-###-###, unique per company."""
    text = col.digits(10**8 + unique_codes(m.stream("companies", "tax"), c, 9 * 10**8), 9)
    part = lambda a, b: pc.utf8_slice_codeunits(text, a, b)  # noqa: E731
    return col.join(part(0, 3), "-", part(3, 6), "-", part(6, 9))


@TABLES.table(
    key="company_id",
    slots=lambda m: m.companies,
    description="Customer companies across Egypt's governorates with tax number, payment terms and delivery region.",
    columns=(
        Column("company_id", INT, "Customer company key, 1..n."),
        Column("name", STRING, "Trading name, unique in the dataset."),
        Column("legal_name", STRING, "Registered name with its legal form."),
        Column("business_type", STRING, "What the customer runs (cafe, hotel, supermarket, ...)."),
        Column("governorate", STRING, "Egyptian governorate of the head office."),
        Column("district", STRING, "District within the governorate."),
        Column("address", STRING, "Street address of the head office."),
        Column("phone", STRING, "Landline with the governorate's area code (+20)."),
        Column("email", STRING, "Accounts e-mail on a reserved .example domain."),
        Column("contact_name", STRING, "Purchasing contact."),
        Column("contact_mobile", STRING, "The contact's Egyptian mobile number."),
        Column("tax_number", STRING, "Egyptian tax registration number ###-###-###, unique."),
        Column("payment_terms_days", INT, "Days from invoice to due date (0 = cash on delivery)."),
        Column("credit_limit", MONEY, "Credit granted, EGP."),
        Column("delivery_region", STRING, "A (Greater Cairo depot) or B (Alexandria depot), from the governorate."),
        Column("delivery_days", STRING, "The region's delivery weekdays."),
        Column("account_manager_id", INT, "The sales user who owns the account (users.user_id).", references="users"),
        Column("bulk_payer", pa.bool_(), "Settles a month of invoices with one bank transfer."),
        Column("created_at", TIMESTAMP, "When the customer account was opened (UTC)."),
    ),
)
def companies(m: ErpModel, lo: int, hi: int) -> Columns:
    c = ids(lo, hi)
    info = m.company
    governorate = info["governorate"][c]
    region = info["region"][c]
    name, kind = company_name(m, c)
    area = district(m, "companies", c, governorate)
    contact_first, contact_last = person_name(m, "companies", c)
    handle = pc.utf8_slice_codeunits(slug(name), 0, 60)
    handle = pc.if_else(pc.equal(pc.utf8_length(handle), 0), "company", handle)
    legal = pick(data.LEGAL_FORMS, m.stream("companies", "legal").integers(c, 0, len(data.LEGAL_FORMS)))
    return {
        "company_id": c + 1,
        "name": name,
        "legal_name": col.join(name, " ", legal),
        "business_type": kind,
        "governorate": pick(_GOVERNORATE_NAMES, governorate),
        "district": area,
        "address": address(m, "companies", c, area, governorate),
        "phone": landline(m.stream("companies", "phone"), c, governorate),
        "email": col.join("accounts@", handle, ".example"),
        "contact_name": col.join(contact_first, " ", contact_last),
        "contact_mobile": mobile(m.stream("companies", "mobile"), c),
        "tax_number": tax_number(m, c),
        "payment_terms_days": info["terms"][c],
        "credit_limit": col.money(50_000_00 * m.stream("companies", "credit").integers(c, 1, 21)),
        "delivery_region": pick(data.REGIONS, region),
        "delivery_days": pick(_REGION_DAYS_TEXT, region),
        "account_manager_id": info["account_manager"][c] + 1,
        "bulk_payer": info["bulk"][c],
        "created_at": col.timestamps(info["created"][c]),
    }


@presence("branches")
def _branches_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    return s % BRANCH_SLOTS < m.company["branches"][s // BRANCH_SLOTS]


@TABLES.table(
    key="branch_id",
    slots=lambda m: m.companies * BRANCH_SLOTS,
    description="Branches of about 30% of the companies.",
    columns=(
        Column("branch_id", INT, "Branch key, 1..n."),
        Column("company_id", INT, "The company the branch belongs to.", references="companies"),
        Column("name", STRING, "Company name and district."),
        Column("governorate", STRING, "Governorate of the branch."),
        Column("district", STRING, "District of the branch."),
        Column("address", STRING, "Street address of the branch."),
        Column("phone", STRING, "Landline with the governorate's area code."),
        Column("manager_name", STRING, "Branch manager."),
        Column("created_at", TIMESTAMP, "When the branch opened (after its company; UTC)."),
    ),
)
def branches(m: ErpModel, lo: int, hi: int) -> Columns:
    s = ids(lo, hi)
    s = s[_branches_present(m, lo, hi)]
    company, k = s // BRANCH_SLOTS, s % BRANCH_SLOTS
    # Most branches are in the company's governorate; some open in another one.
    home = m.company["governorate"][company]
    elsewhere = categorical(m.stream("branches", "governorate"), s, data.GOVERNORATE_WEIGHTS)
    governorate = np.where(m.stream("branches", "moved").bernoulli(s, 0.3), elsewhere, home)
    area = district(m, "branches", s, governorate)
    name, _ = company_name(m, company)
    first, last = person_name(m, "branches", s)
    return {
        "branch_id": dense(m, "branches").keys(s),
        "company_id": company + 1,
        "name": col.join(name, " - ", area),
        "governorate": pick(_GOVERNORATE_NAMES, governorate),
        "district": area,
        "address": address(m, "branches", s, area, governorate),
        "phone": landline(m.stream("branches", "phone"), s, governorate),
        "manager_name": col.join(first, " ", last),
        "created_at": col.timestamps(m.branch_created[company, k]),
    }


# --- products ----------------------------------------------------------------------------------
@TABLES.table(
    key="product_id",
    slots=lambda m: m.products,
    description="Coffee and beverage catalogue in EGP; popularity follows a Zipf law.",
    columns=(
        Column("product_id", INT, "Product key, 1..n; lower ids are the more popular (Zipf)."),
        Column("sku", STRING, "SF-, a 3-letter category code and 5 digits."),
        Column("name", STRING, "Grade and product name from the category's vocabulary."),
        Column("category", STRING, "Coffee and beverage category."),
        Column("unit", STRING, "Selling unit and pack size."),
        Column("unit_price", MONEY, "List price, EGP."),
        Column("unit_cost", MONEY, "Purchase cost, EGP."),
        Column("currency", STRING, "EGP."),
        Column("safety_stock", INT, "Units the weekly restock keeps on hand beyond the week's demand."),
        Column("active", pa.bool_(), "Still sold."),
        Column("created_at", TIMESTAMP, "When the product was listed (UTC)."),
    ),
)
def products(m: ErpModel, lo: int, hi: int) -> Columns:
    p = ids(lo, hi)
    info = m.product
    combo = info["combo"][p]
    names, units = m.catalogue["name"], m.catalogue["unit"]
    category = info["category"][p]
    prefixes = tuple(c[1] for c in data.PRODUCT_CATEGORIES)
    # Beyond the catalogue's combinations a product line and a tag keep names apart: "Organic Gold Estate ...".
    variant = info["variant"][p]
    lines = len(data.PRODUCT_LINES)
    line = pick(data.PRODUCT_LINES, (variant - 1) % lines)
    tag = pick(data.PRODUCT_TAGS, (variant - 1) // lines)
    tagged = pc.utf8_trim_whitespace(col.join(tag, " ", line, " ", col.take(names, combo)))
    name = pc.if_else(pa.array(variant > 0), tagged, col.take(names, combo))
    return {
        "product_id": p + 1,
        "sku": col.join("SF-", pick(prefixes, category), "-", col.digits(p + 1, 5)),
        "name": name,
        "category": pick(tuple(c[0] for c in data.PRODUCT_CATEGORIES), category),
        "unit": col.take(units, combo),
        "unit_price": col.money(info["price_cents"][p]),
        "unit_cost": col.money(info["cost_cents"][p]),
        "currency": pa.array([CURRENCY] * len(p), STRING),
        "safety_stock": info["safety"][p],
        "active": m.stream("products", "active").uniform(p) >= 0.03,
        "created_at": col.timestamps(info["created"][p]),
    }
