"""`MockDataset`: a Dagster component that makes mock data for tables the user declares in YAML.

`dg scaffold defs mock_pipeline.MockDataset my_shop` writes `defs/my_shop/defs.yaml` with a small
example; the component validates its attributes (one line naming the table, the column and the YAML
line) and returns the same assets and blocking checks as the built-in domains, plus the files export.
Resources (scenario, data_dir) come from the code location, as for the built-in domains.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from mock_pipeline.mock_dataset.compile import Destination, compile_domain, dataset_definitions
from mock_pipeline.mock_dataset.spec import Located, error, parse_spec

EXAMPLE_TABLES = """\
    customers:
      rows: 200
      columns:
        customer_id: {type: int, sequence: {}}
        name: {type: string, faker: {kind: person_name}}
        email: {type: string, unique: true, faker: {kind: email, from: name}}
        city: {type: string, faker: {kind: city}}
        created_at: {type: timestamp, timestamp: {}}
    products:
      rows: 50
      columns:
        product_id: {type: int, sequence: {}}
        title: {type: string, text: {vocabulary: [red, blue, wool, steel, lamp, chair, mug], min_words: 2, max_words: 3}}
        category: {type: string, choice: {values: [home, garden, kitchen], weights: [5, 2, 3]}}
        price: {type: money, number: {distribution: lognormal, mu: 3.0, sigma: 0.6, min: 1, max: 500, ending: 0.99}}
        created_at: {type: timestamp, timestamp: {}}
    orders:
      per_parent: {table: customers, distribution: poisson, mean: 3, max: 12}
      columns:
        order_id: {type: int, sequence: {}}
        customer_id: {type: int, reference: {table: customers}}
        status: {type: string, choice: {values: [paid, shipped, cancelled], weights: [6, 3, 1]}}
        created_at: {type: timestamp, timestamp: {after: customers.created_at, lag_hours: {distribution: exponential, mean: 72}}}
    order_items:
      per_parent: {table: orders, distribution: uniform, low: 1, high: 4.49, round: 0}
      columns:
        order_item_id: {type: int, sequence: {}}
        order_id: {type: int, reference: {table: orders}}
        product_id: {type: int, reference: {table: products, skew: 1.1}}
        quantity: {type: int, number: {distribution: poisson, mean: 1.5, min: 1, max: 10}}
        unit_price: {type: money, number: {distribution: uniform, low: 2, high: 80, round: 2}}
        total: {type: money, expression: "quantity * unit_price"}
        created_at: {type: timestamp, timestamp: {after: [orders.created_at, products.created_at], lag_hours: {distribution: uniform, low: 0, high: 0.5}}}
      rules:
        - {name: total_is_quantity_times_price, where: "total <> quantity * unit_price"}
    reviews:
      per_parent: {table: order_items, distribution: uniform, low: 0, high: 1.4, round: 0}
      columns:
        review_id: {type: int, sequence: {}}
        order_item_id: {type: int, reference: {table: order_items}}
        stars: {type: int, choice: {values: [1, 2, 3, 4, 5], weights: [1, 1, 2, 4, 6]}}
        body: {type: string, nulls: 0.3, text: {vocabulary: [great, fine, broke, soon, again, value], max_words: 12}}
        created_at: {type: timestamp, timestamp: {after: order_items.created_at, lag_hours: {distribution: lognormal, mu: 4, sigma: 1}}}
"""


def example_yaml(name: str) -> str:
    """A defs.yaml of five tables, what `dg scaffold defs mock_pipeline.MockDataset <name>` writes."""
    return f"type: mock_pipeline.MockDataset\n\nattributes:\n  name: {name}\n  tables:\n{EXAMPLE_TABLES}"


class MockDatasetScaffolder(dg.Scaffolder):
    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        folder = Path(request.target_path)
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^a-z0-9_]", "_", folder.name.lower()).lstrip("_0123456789") or "my_dataset"
        (folder / "defs.yaml").write_text(example_yaml(name))


@dg.scaffold_with(MockDatasetScaffolder)
class MockDataset(dg.Component, dg.Model, dg.Resolvable):
    """Mock data for your own tables: one asset per table (deps = foreign keys), blocking checks
    derived from the declaration plus your SQL rules, and the files export. Same seed and scenario
    config, same bytes, whatever the chunk size."""

    name: str = Field(description="The dataset's name: its asset key prefix and group.")
    tables: dict[str, Any] = Field(description="Tables by name: rows or per_parent, columns, rules.")
    description: str | None = None
    types: list[str] = Field(
        default_factory=list, description="CREATE TYPE statements of an imported schema (its enums), for database_ddl."
    )
    publish: list[Destination] = Field(
        default_factory=lambda: ["files"],
        description="Publishing assets: files, database, database_ddl (an imported schema's own DDL), s3, http, vectors"
        " (their resources from the code location).",
    )
    generator_modules: list[str] = Field(
        default_factory=list, description="Modules imported first: they register custom generators."
    )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        for module in self.generator_modules:
            importlib.import_module(module)
        yaml_file = Path(context.path) / "defs.yaml"
        located = (
            Located(yaml_file.read_text(), str(yaml_file), root=("attributes",))
            if yaml_file.is_file()
            else Located(None, f"MockDataset {self.name}")
        )
        data = {"name": self.name, "tables": self.tables}
        if self.description is not None:
            data["description"] = self.description
        if self.types:
            data["types"] = self.types
        spec = parse_spec(data, located)
        if "database_ddl" in self.publish and not any(t.ddl for t in spec.tables.values()):
            raise error(located, ["publish"], "database_ddl needs tables with ddl: (written by import-schema)")
        return dataset_definitions(compile_domain(spec, located), self.publish, spec)
