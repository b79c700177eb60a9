"""What the API can serve: the domains' tables per dataset, from Parquet when materialised, else on demand.

A request names a dataset either by its scenario (seed, profile, size, as_of) or by the
dataset_id of a materialised dataset. Scenario values are validated by the same `build_scenario`
as a run, so a bad one gets the run's one-line error.
"""

from __future__ import annotations

import json
import shlex
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_pipeline.api.rows import GeneratedRows, LruCache, ParquetRows, RowSource
from mock_pipeline.domains.factory import Domain
from mock_pipeline.engine.table import TableSpec
from mock_pipeline.publish.files import MANIFEST
from mock_pipeline.scenarios.model import Scenario, ScenarioError, build_scenario


class ApiError(Exception):
    """A request the API refuses: an HTTP status and one line naming the parameter."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def domains() -> dict[str, Domain]:
    """The four domains (imported here, not at module import: the API starts fast)."""
    from mock_pipeline.domains.commerce import COMMERCE
    from mock_pipeline.domains.erp import ERP
    from mock_pipeline.domains.maintenance import MAINTENANCE
    from mock_pipeline.domains.scrum import SCRUM

    return {d.name: d for d in (COMMERCE, ERP, MAINTENANCE, SCRUM)}


# Seed 004's own paths: aliases for commerce tables.
COMMERCE_ALIASES: dict[str, str] = {
    "users": "customers",
    "wishlists": "wishlists",
    "notifications": "notifications",
    "products": "products",
    "categories": "categories",
    "vendors": "vendors",
    "orders": "orders",  # with its items nested
    "payments": "payments",
    "shipping": "shipments",
    "warehouses": "warehouses",
    "inventory": "inventory",
    "returns": "returns",
    "reviews": "reviews",
    "support-tickets": "support_tickets",
    "promotions": "promotions",
    "analytics/users": "customer_analytics",
    "analytics/products": "product_analytics",
}
NESTED = {("commerce", "orders"): "order_items"}  # seed 004: "Order details with items"


@dataclass(frozen=True)
class Dataset:
    dataset_id: str
    scenario: Scenario | None  # None: known only as materialised Parquet (no config to generate from)


class Catalog:
    """Datasets under one data folder, and the row sources of their tables (cached per process)."""

    def __init__(self, data_root: Path) -> None:
        self.root = data_root
        self.domains = domains()
        self._models = LruCache(8)
        self._sources = LruCache(64)
        self._warm_locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    # --- datasets ----------------------------------------------------------------------------
    def dataset(self, params: dict[str, Any], dataset_id: str | None) -> Dataset:
        if dataset_id is not None:
            if params:
                raise ApiError(
                    400, f"dataset_id: cannot be combined with {', '.join(sorted(params))}; give one or the other"
                )
            return self._by_id(dataset_id)
        try:
            scenario = build_scenario(**params)
        except ScenarioError as exc:
            raise ApiError(400, str(exc).removeprefix("scenario.")) from None
        return Dataset(scenario.dataset_id, scenario)

    def _by_id(self, dataset_id: str) -> Dataset:
        known = self.materialised_ids()
        if dataset_id not in known:
            allowed = ", ".join(known) if known else "none materialised under " + str(self.root)
            raise ApiError(404, f"dataset_id: unknown dataset {dataset_id!r}; allowed: {allowed}")
        # The export's manifest keeps the run config that made the dataset: with it, tables not
        # materialised can still be generated on demand.
        for manifest in sorted((self.root / "exports" / dataset_id).rglob(MANIFEST)):
            config = json.loads(manifest.read_text()).get("run_config")
            if config:
                try:
                    scenario = build_scenario(**config)
                except (ScenarioError, TypeError):
                    continue
                if scenario.dataset_id == dataset_id:
                    return Dataset(dataset_id, scenario)
        return Dataset(dataset_id, None)

    def materialised_ids(self) -> list[str]:
        folder = self.root / "datasets"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    # --- tables ------------------------------------------------------------------------------
    def domain(self, name: str) -> Domain:
        if name not in self.domains:
            raise ApiError(404, f"domain: unknown domain {name!r}; allowed: {', '.join(self.domains)}")
        return self.domains[name]

    def spec(self, domain: Domain, table: str) -> TableSpec:
        names = [t.name for t in domain.tables]
        if table not in names:
            raise ApiError(404, f"table: unknown {domain.name} table {table!r}; allowed: {', '.join(names)}")
        return domain.table(table)

    def folder(self, dataset: Dataset, domain: Domain, spec: TableSpec) -> Path:
        return self.root / "datasets" / dataset.dataset_id / domain.name / spec.name

    def is_materialised(self, dataset: Dataset, domain: Domain, spec: TableSpec) -> bool:
        return any(self.folder(dataset, domain, spec).glob("*.parquet"))

    def source(self, dataset: Dataset, domain: Domain, spec: TableSpec) -> RowSource:
        folder = self.folder(dataset, domain, spec)
        files = sorted(folder.glob("*.parquet"))
        if files:
            # A rewritten table is a new file (written atomically, then renamed): a new source.
            stamp = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
            return self._sources.get(("parquet", str(folder), stamp), lambda: ParquetRows(spec, folder))
        if dataset.scenario is None:
            raise ApiError(
                404,
                f"table: {domain.name}/{spec.name} is not materialised in dataset {dataset.dataset_id} "
                "and its run config is unknown; query it by seed, profile, size and as_of instead",
            )
        if spec.build is None:
            raise ApiError(409, self.materialize_hint(dataset.scenario, domain, spec))
        model = self.model(domain, dataset.scenario)
        lock = self._warm_locks.setdefault((domain.name, dataset.dataset_id), threading.Lock())
        key = ("generated", domain.name, dataset.dataset_id, spec.name)
        return self._sources.get(key, lambda: GeneratedRows(spec, model, lock, key))

    def model(self, domain: Domain, scenario: Scenario) -> Any:
        def build() -> Any:
            try:
                return domain.model(scenario)
            except ScenarioError as exc:
                raise ApiError(400, str(exc).removeprefix("scenario.")) from None

        return self._models.get((domain.name, scenario.dataset_id), build)

    @staticmethod
    def materialize_hint(scenario: Scenario, domain: Domain, spec: TableSpec) -> str:
        config = {"resources": {"scenario": {"config": scenario.launch_config}}}  # valid run config
        command = [
            "dagster", "asset", "materialize", "-m", "mock_pipeline.definitions",
            "--select", f"*{domain.name}/{spec.name}", "--config-json", json.dumps(config, separators=(",", ":")),
        ]  # fmt: skip
        return (
            f"table: {domain.name}/{spec.name} is derived from other tables and not materialised for dataset "
            f"{scenario.dataset_id}; make it with: {shlex.join(command)}"
        )
