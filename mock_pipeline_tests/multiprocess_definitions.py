"""The project's commerce table assets (without their checks) on Dagster's multiprocess executor,
for the determinism test: one process per step, any subset, no parent needed."""

import dagster as dg

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import domain_definitions
from mock_pipeline.resources import DataDirResource, ScenarioResource

_assets, _ = domain_definitions(COMMERCE)

defs = dg.Definitions(
    assets=_assets,
    resources={"scenario": ScenarioResource(), "data_dir": DataDirResource()},
    executor=dg.multiprocess_executor,
)
