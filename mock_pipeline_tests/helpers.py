"""Helpers shared by tests: materialising a domain into a data folder and comparing outputs."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from mock_pipeline.domains.factory import Domain, domain_definitions
from mock_pipeline.engine.table import PART_FILE
from mock_pipeline.publish.assets import exported_files_asset
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.validation import Rule, connect, run_rules


def materialize_domain(
    domain: Domain,
    data: Path,
    scenario: dict[str, Any] | ScenarioResource | None = None,
    selection: Sequence[dg.AssetKey] | dg.AssetSelection | None = None,
    export: dict[str, Any] | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """Materialise a domain's tables, checks and files export in process into `data`."""
    assets, checks = domain_definitions(domain)
    export_asset = exported_files_asset(domain)
    run_config = {"ops": {f"{domain.name}__exported_files": {"config": export}}} if export else None
    return dg.materialize(
        [*assets, export_asset, *checks],
        resources={
            "scenario": scenario if isinstance(scenario, ScenarioResource) else ScenarioResource(**(scenario or {})),
            "data_dir": DataDirResource(root=str(data)),
        },
        selection=selection,
        run_config=run_config,
        raise_on_error=raise_on_error,
    )


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file below root, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    """(asset path, check name) -> passed, for every check evaluated in the run."""
    outcomes = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            outcomes[(evaluation.asset_key.to_user_string(), evaluation.check_name)] = evaluation.passed
    return outcomes


def read_table(dataset: Path, table: str) -> pa.Table:
    return pq.read_table(dataset / table / PART_FILE)


def rule_outcome(dataset: Path, rule: Rule, params: Mapping[str, Any]) -> dict[str, Any]:
    """One rule's verdict and metadata on a dataset."""
    (result,) = run_rules(dataset, [rule], params)
    return {"passed": result.passed, **result.metadata}


def corrupt_with_sql(dataset: Path, tmp_path: Path, table: str, select: str) -> Path:
    """A copy of the dataset whose `table` is replaced by `select` (SQL over the original views)."""
    copy = tmp_path / "broken"
    shutil.copytree(dataset, copy)
    fresh = tmp_path / "fresh.parquet"
    con = connect(copy)
    try:
        con.execute(f"COPY ({select}) TO '{fresh}' (FORMAT parquet)")
    finally:
        con.close()
    fresh.replace(copy / table / PART_FILE)
    return copy


def materialization_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    """The metadata values of a run's one materialisation."""
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}
