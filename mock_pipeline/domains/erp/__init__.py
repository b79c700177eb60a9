"""ERP (seed 001, SynergyFlow): a coffee and beverage distributor's orders, stock, deliveries,
invoices, refunds, machine service visits and audit trail, with Egyptian data by default."""

from mock_pipeline.domains.erp import checks, coherence
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.tables import TABLES
from mock_pipeline.domains.factory import Domain

ERP = Domain(
    name=TABLES.domain,
    tables=TABLES.specs,
    model=ErpModel,
    rules=(*checks.RULES, *coherence.RULES),
    rule_params=checks.params,
    report=checks.report,
)
