"""Helpers shared by tests: materialising a domain into a data folder and comparing outputs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from mock_pipeline.domains.factory import Domain, domain_definitions
from mock_pipeline.publish.assets import exported_files_asset
from mock_pipeline.resources import DataDirResource, ScenarioResource


def materialize_domain(
    domain: Domain,
    data: Path,
    scenario: dict[str, Any] | None = None,
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
        resources={"scenario": ScenarioResource(**(scenario or {})), "data_dir": DataDirResource(root=str(data))},
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
