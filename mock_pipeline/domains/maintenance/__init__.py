"""Maintenance (seed 000): a run-scoped equipment inventory with tickets, QC transitions and XP.

`run_tag_namespace(tag)` gives the category-name and serial-number prefixes a run owns, so that
a database load can refuse a run whose namespace already exists in its target.
"""

from collections.abc import Sequence

from mock_pipeline.domains.factory import Domain, NamespaceProbe
from mock_pipeline.domains.maintenance import checks
from mock_pipeline.domains.maintenance.model import MaintenanceModel, RunTagNamespace, run_tag_namespace
from mock_pipeline.domains.maintenance.tables import DOMAIN, TABLES
from mock_pipeline.scenarios.model import Scenario


def run_namespace(scenario: Scenario) -> Sequence[NamespaceProbe]:
    """Seed 000: a maintenance run owns the category names and serial numbers under its run tag."""
    namespace = run_tag_namespace(scenario.run_tag)
    return (
        NamespaceProbe("categories", "name", namespace.category_prefix),
        NamespaceProbe("items", "serial_number", namespace.serial_prefix),
    )


MAINTENANCE = Domain(
    name=DOMAIN,
    tables=TABLES.specs,
    model=MaintenanceModel,
    rules=checks.RULES,
    rule_params=checks.params,
    report=checks.report,
    namespace=run_namespace,
)

__all__ = ["MAINTENANCE", "RunTagNamespace", "run_namespace", "run_tag_namespace"]
