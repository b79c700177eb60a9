"""Maintenance (seed 000): a run-scoped equipment inventory with tickets, QC transitions and XP.

`run_tag_namespace(tag)` gives the category-name and serial-number prefixes a run owns, so that
a database load can refuse a run whose namespace already exists in its target.
"""

from mock_pipeline.domains.factory import Domain
from mock_pipeline.domains.maintenance import checks
from mock_pipeline.domains.maintenance.model import MaintenanceModel, RunTagNamespace, run_tag_namespace
from mock_pipeline.domains.maintenance.tables import DOMAIN, TABLES

MAINTENANCE = Domain(
    name=DOMAIN,
    tables=TABLES.specs,
    model=MaintenanceModel,
    rules=checks.RULES,
    rule_params=checks.params,
    report=checks.report,
)

__all__ = ["MAINTENANCE", "RunTagNamespace", "run_tag_namespace"]
