"""The safety guard (seed 001), checked before anything is written: not in production, mock data
not disabled, schema `mock_data` unless explicitly allowed, every table within the record limit;
and the registry of what the load created, so that nothing else is ever replaced ("not ours")."""

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mock_pipeline.publish.database.errors import LoadRefused, NotOurs
from mock_pipeline.publish.database.target import Session, Target
from mock_pipeline.toggle import MOCK_DATA_ENABLED_ENV, disabled_reason

MOCK_SCHEMA = "mock_data"
PRODUCTION_ENV_VARS = ("NODE_ENV", "MOCK_PIPELINE_ENV", "DAGSTER_DEPLOYMENT")
# Every common spelling of production, compared case-insensitively.
PRODUCTION_VALUES = ("production", "prod", "prd", "live")
# What the load created, per schema: only what is listed here is ever replaced or dropped.
REGISTRY_TABLE = "mock_pipeline_registry"
CLEANUP_COMMAND = "dagster job execute -m mock_pipeline.definitions -j mock_data_cleanup -c cleanup.yaml"
ENABLED_ENV = MOCK_DATA_ENABLED_ENV
CONFIRM_TOKEN = "DELETE_ALL_MOCK_DATA"
# High enough for every built-in size preset, low enough to stop a runaway volume_multiplier.
DEFAULT_MAX_ROWS_PER_TABLE = 100_000_000
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast", "main", "temp")


@dataclass(frozen=True)
class Registered:
    """A registry row: an object the load created."""

    kind: str  # "table" or "schema"
    name: str
    domain: str
    dataset_id: str


def check_environment(env: Mapping[str, str]) -> None:
    """Seed 001: never in production (any common spelling), and only while mock data is enabled."""
    for var in PRODUCTION_ENV_VARS:
        value = env.get(var, "").strip()
        if value.lower() in PRODUCTION_VALUES:
            raise LoadRefused(
                f"{var}={value}: mock data is never written in production "
                f"({', '.join(PRODUCTION_VALUES)} in any case all mean production); "
                f"unset {var} or set it to development, test or staging"
            )
    reason = disabled_reason(env)  # the same reading as the schedules' and sensors' toggle
    if reason is not None:
        raise LoadRefused(f"{reason}; set {ENABLED_ENV}=true (or unset it) to write mock data")


def check_schema(schema: str, allow_other_schema: bool) -> None:
    """Seed 001: mock data lives in `mock_data`; another schema only when explicitly allowed."""
    if not _IDENTIFIER.match(schema):
        raise LoadRefused(
            f"database.target_schema: {schema!r} is not a plain identifier; "
            "allowed: lower-case letters, digits and _, at most 63 characters"
        )
    if schema in _SYSTEM_SCHEMAS or schema.startswith("pg_"):
        raise LoadRefused(f"database.target_schema: {schema!r} is a system schema; allowed: {MOCK_SCHEMA}")
    if schema != MOCK_SCHEMA and not allow_other_schema:
        raise LoadRefused(
            f"database.target_schema: {schema!r} refused; mock data goes to {MOCK_SCHEMA!r} "
            "unless allow_non_mock_schema is true"
        )


def check_row_limits(counts: Mapping[str, int], limit: int) -> None:
    if limit <= 0:
        raise LoadRefused(f"database.max_rows_per_table: must be a positive integer, got {limit}")
    over = {t: n for t, n in counts.items() if n > limit}
    if over:
        listed = ", ".join(f"{t} ({n:,} rows)" for t, n in over.items())
        raise LoadRefused(
            f"database.max_rows_per_table: {listed} above the limit of {limit:,}; "
            "raise max_rows_per_table or choose a smaller size"
        )


class Registry:
    """`<schema>.mock_pipeline_registry`: every table (and the schema itself) that the load created
    in that schema. Only what it lists is ever replaced or dropped; it lives inside the schema it
    describes, so a load into another schema never needs `mock_data`."""

    def __init__(self, session: Session, schema: str) -> None:
        self.session, self.schema = session, schema
        self.ref = session.qualified(schema, REGISTRY_TABLE)

    def exists(self) -> bool:
        return self.session.table_exists(self.schema, REGISTRY_TABLE)

    def create(self) -> None:
        # No primary key: DuckDB refuses a delete and re-insert of one key in a single transaction.
        self.session.execute(
            f"CREATE TABLE IF NOT EXISTS {self.ref} (kind text NOT NULL, name text NOT NULL, domain text NOT NULL, "
            "dataset_id text NOT NULL, loaded_at text NOT NULL)"
        )

    def entries(self) -> dict[tuple[str, str], Registered]:
        if not self.exists():
            return {}
        rows = self.session.fetch(f"SELECT kind, name, domain, dataset_id FROM {self.ref}")
        return {(r[0], r[1]): Registered(*r) for r in rows}

    def record(self, kind: str, name: str, domain: str, dataset_id: str) -> None:
        self.forget(kind, name)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.session.fetch(f"INSERT INTO {self.ref} VALUES (?, ?, ?, ?, ?)", [kind, name, domain, dataset_id, stamp])

    def forget(self, kind: str, name: str) -> None:
        self.session.fetch(f"DELETE FROM {self.ref} WHERE kind = ? AND name = ?", [kind, name])


def not_ours(target: Target, schema: str, names: Sequence[str]) -> NotOurs:
    listed = ", ".join(f"{schema}.{n}" for n in names)
    return NotOurs(
        f"{listed} already exist(s) in {target.description} and {'were' if len(names) > 1 else 'was'} not "
        f"created by mock_pipeline (not in {schema}.{REGISTRY_TABLE}); a table the project did not create is never "
        f"replaced: rename or drop it yourself, or choose another target_schema"
    )


def views_in_the_way(
    target: Target, schema: str, dependents: Mapping[str, Sequence[str]], refused: str, what_to_do: str
) -> NotOurs:
    """One line naming the user's views that dropping our tables would break, and what to do."""
    listed = "; ".join(f"{', '.join(views)} read(s) {schema}.{table}" for table, views in dependents.items())
    return NotOurs(
        f"{refused}: {listed} in {target.description}, and a view mock_pipeline did not create is never broken "
        f"or dropped: {what_to_do}"
    )
