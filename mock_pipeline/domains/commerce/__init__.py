"""Commerce (seeds 003 and 004): a multi-tenant shop with orders, stock, payments and engagement."""

from mock_pipeline.domains.commerce import checks
from mock_pipeline.domains.commerce.model import CommerceModel
from mock_pipeline.domains.commerce.tables import DOMAIN, TABLES
from mock_pipeline.domains.factory import Domain

COMMERCE = Domain(
    name=DOMAIN,
    tables=TABLES.specs,
    model=CommerceModel,
    rules=checks.RULES,
    rule_params=checks.params,
    report=checks.report,
)
