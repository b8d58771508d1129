"""Order-state governance's judge (gateway.governance.order_states): what each system says
of an order against its canonical status, for every status and every report."""

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import SourceSystem
from gateway.domain.orders import OrderStatus
from gateway.governance.order_states import FLOOR, judge
from gateway.services.orders.reports import StatusReport
from gateway.services.orders.states import ALLOWED, PROGRESS, advance

S = OrderStatus
OMS, ERP, WEB = SourceSystem.OMS, SourceSystem.ERP, SourceSystem.STOREFRONT

reports = st.lists(
    st.builds(
        StatusReport,
        source=st.sampled_from([OMS, ERP, WEB]),
        reported=st.none() | st.sampled_from(list(OrderStatus)),
        raw=st.sampled_from(["a", "b", "c"]),
    ),
    max_size=3,
    unique_by=lambda r: r.source,
)


@given(status=st.sampled_from(list(OrderStatus)), said=reports)
def test_property_a_forward_move_is_legal_and_every_system_is_judged_once(status, said):
    verdict = judge(status, said)
    if verdict.target is not None:
        assert verdict.forward is not None
        assert advance(status, verdict.forward.reported) is verdict.target
        assert PROGRESS[verdict.target] >= PROGRESS[status] or verdict.target is S.CANCELLED
        assert verdict.target in ALLOWED[status] or PROGRESS[verdict.target] > PROGRESS[status]
    wrong = [m.system for m in verdict.mismatches]
    assert len(wrong) == len(set(wrong))
    assert not set(wrong) & set(verdict.agreeing)
    assert set(wrong) | set(verdict.agreeing) == {r.source for r in said}


@given(status=st.sampled_from(list(OrderStatus)), said=reports)
def test_property_a_system_still_owed_writes_is_not_judged(status, said):
    verdict = judge(status, said, settling={OMS, ERP, WEB})
    assert verdict == judge(status, [])


@given(status=st.sampled_from(list(OrderStatus)), said=reports)
def test_property_systems_that_say_what_the_order_is_never_disagree(status, said):
    same = [StatusReport(r.source, status, r.raw) for r in said]
    verdict = judge(status, same)
    assert verdict.mismatches == () and verdict.target is None


def test_given_the_oms_went_back_to_open_after_shipment_then_it_is_a_mismatch():
    verdict = judge(S.SHIPPED, [StatusReport(OMS, S.ALLOCATED, "OPEN")])
    (mismatch,) = verdict.mismatches
    assert (mismatch.system, mismatch.says) == (OMS, "OPEN")
    assert "SHIPPED" in mismatch.why
    assert FLOOR[S.SHIPPED] is S.SHIPPED


def test_given_one_system_cancelled_and_another_shipped_then_neither_is_applied():
    verdict = judge(
        S.ALLOCATED,
        [StatusReport(ERP, S.SHIPPED, "To Bill"), StatusReport(WEB, S.CANCELLED, "cancelled")],
    )
    (mismatch,) = verdict.mismatches
    assert mismatch.system is WEB and "ERP says To Bill" in mismatch.why
    # The shipment the ERP reports is still a fact the order follows.
    assert verdict.target is S.SHIPPED and verdict.forward.source is ERP


def test_given_what_the_gateway_wrote_itself_then_it_is_not_read_back():
    # The gateway wrote "completed" when the order shipped; WooCommerce alone would mean
    # delivered by it.
    said = [StatusReport(WEB, S.DELIVERED, "completed")]
    assert judge(S.SHIPPED, said, echoes={WEB: {"completed"}}).target is None
    assert judge(S.SHIPPED, said).target is S.DELIVERED


def test_given_woocommerce_says_processing_then_a_placed_order_is_not_allocated_by_it():
    verdict = judge(S.PLACED, [StatusReport(WEB, S.ALLOCATED, "processing")])
    assert verdict.target is None and verdict.mismatches == ()


def test_given_a_cancelled_order_still_open_in_shopify_then_it_is_a_mismatch():
    verdict = judge(S.CANCELLED, [StatusReport(OMS, S.ALLOCATED, "OPEN")])
    assert [m.system for m in verdict.mismatches] == [OMS]
