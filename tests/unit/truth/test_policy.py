"""The source-of-truth policy: refused at start when it cannot be honoured, and readable."""

import pytest

from gateway.config import DEFAULT_FIELD_POLICY, Settings, TruthSettings
from gateway.domain import NodeType, SourceSystem
from gateway.domain.truth import DiscrepancyKind, Enforcement, Severity
from gateway.truth.policy import PolicyError, check, source_of_truth


def test_the_default_policy_is_accepted_and_says_who_is_right_about_what():
    check(TruthSettings(), DEFAULT_FIELD_POLICY)
    view = source_of_truth(TruthSettings(), DEFAULT_FIELD_POLICY)
    stock = {(a.node_type, a.system) for a in view.authorities if a.figure == "stock"}
    assert stock == {(NodeType.WAREHOUSE, SourceSystem.ERP), (NodeType.STORE, SourceSystem.POS)}
    [web_stock] = [c for c in view.copies if c.figure.startswith("stock_quantity")]
    assert web_stock.system is SourceSystem.STOREFRONT
    assert web_stock.enforcement[DiscrepancyKind.OVERSELL_RISK] is Enforcement.ENFORCE


def test_a_policy_the_gateway_cannot_honour_is_refused_naming_every_problem():
    bad = TruthSettings(
        warehouse_stock=SourceSystem.STOREFRONT,
        enforcement={DiscrepancyKind.BARCODE_CONFLICT: Enforcement.ENFORCE},
        severity_at_stake={Severity.MEDIUM: 5000, Severity.HIGH: 100},
        sla_hours={Severity.LOW: 1.0},
    )
    with pytest.raises(PolicyError) as refused:
        check(bad, DEFAULT_FIELD_POLICY)
    message = str(refused.value)
    assert "TRUTH__WAREHOUSE_STOCK is STOREFRONT" in message
    assert "BARCODE_CONFLICT cannot be enforced" in message
    assert "TRUTH__SEVERITY_AT_STAKE must grow" in message
    assert "missing: MEDIUM, HIGH, CRITICAL" in message


def test_a_field_policy_that_puts_another_system_first_for_the_item_master_is_refused():
    policy = {**DEFAULT_FIELD_POLICY, "name": [SourceSystem.STOREFRONT, SourceSystem.ERP]}
    with pytest.raises(PolicyError, match="FIELD_POLICY puts STOREFRONT first for 'name'"):
        check(TruthSettings(), policy)


def test_the_policy_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUTH__WEB_STOCK_BUFFER", "2")
    monkeypatch.setenv("TRUTH__ENFORCEMENT", '{"OVERSELL_RISK": "FLAG"}')
    truth = Settings(_env_file=None).truth
    assert truth.web_stock_buffer == 2
    assert truth.enforcement == {DiscrepancyKind.OVERSELL_RISK: Enforcement.FLAG}
