"""The one Definitions object, composed from the domains and the publishing factories."""

import dagster as dg

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import Domain, domain_definitions
from mock_pipeline.publish.assets import exported_files_asset
from mock_pipeline.resources import DataDirResource, ScenarioResource

DOMAINS: tuple[Domain, ...] = (COMMERCE,)


def build_definitions() -> dg.Definitions:
    assets: list[dg.AssetsDefinition] = []
    checks: list[dg.AssetChecksDefinition] = []
    for domain in DOMAINS:
        domain_assets, domain_checks = domain_definitions(domain)
        assets += [*domain_assets, exported_files_asset(domain)]
        checks += domain_checks
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        resources={"scenario": ScenarioResource(), "data_dir": DataDirResource()},
        # One process: steps are short and columnar; multiprocess costs seconds per step.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
