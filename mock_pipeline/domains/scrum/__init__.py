"""Scrum (seed 002, FICCT-Scrum): an organization's projects, sprints, issues, comments and links."""

from mock_pipeline.domains.factory import Domain
from mock_pipeline.domains.scrum import checks
from mock_pipeline.domains.scrum.model import ScrumModel
from mock_pipeline.domains.scrum.parameters import DOMAIN
from mock_pipeline.domains.scrum.tables import TABLES

SCRUM = Domain(
    name=DOMAIN,
    tables=TABLES.specs,
    model=ScrumModel,
    rules=checks.RULES,
    rule_params=checks.params,
    report=checks.report,
)
