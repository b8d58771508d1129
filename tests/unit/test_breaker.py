"""The circuit breaker's state machine (adapters.resilience.breaker), time given by the test."""

from hypothesis import given
from hypothesis import strategies as st

from adapters.resilience.breaker import Breaker, BreakerRules, BreakerState
from adapters.resilience.budget import BudgetRules, RetryBudget

RULES = BreakerRules(consecutive_failures=5, failure_rate=0.5, window=20, min_calls=10)


def call(breaker: Breaker, *, failed: bool, now: float = 0.0) -> bool:
    admitted = breaker.admit(now)
    if admitted:
        breaker.record(failed=failed, now=now)
    return admitted


def test_given_five_failures_in_a_row_then_it_opens_and_refuses_at_once():
    breaker = Breaker(RULES)
    for _ in range(5):
        call(breaker, failed=True)
    assert breaker.state is BreakerState.OPEN
    assert breaker.admit(1.0) is False


def test_given_half_the_recent_calls_failed_then_it_opens_even_without_a_run():
    breaker = Breaker(RULES)
    for i in range(10):
        call(breaker, failed=i % 2 == 0)
    assert breaker.state is BreakerState.OPEN


def test_given_the_open_time_passed_then_one_probe_goes_and_its_success_closes_it():
    breaker = Breaker(RULES)
    for _ in range(5):
        call(breaker, failed=True, now=0.0)
    later = RULES.open_seconds + 0.1
    assert breaker.admit(later) is True
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.admit(later) is False  # the second caller waits for the probe
    breaker.record(failed=False, now=later)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.admit(later) is True


def test_given_the_probe_fails_then_it_opens_again_for_another_open_time():
    breaker = Breaker(RULES)
    for _ in range(5):
        call(breaker, failed=True, now=0.0)
    probe_at = RULES.open_seconds + 0.1
    assert call(breaker, failed=True, now=probe_at)
    assert breaker.state is BreakerState.OPEN
    assert breaker.admit(probe_at + RULES.open_seconds - 0.2) is False


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 0.5)), max_size=200))
def test_never_more_probes_in_flight_than_allowed_and_never_admits_while_open(steps):
    # Calls arrive (admitted or not) and some end; time only moves forward.
    breaker = Breaker(RULES)
    now, in_flight = 0.0, []
    for failed, step in steps:
        now += step
        state_before, opened_at = breaker.state, breaker.opened_at
        if breaker.admit(now):
            assert not (state_before is BreakerState.OPEN and now - opened_at < RULES.open_seconds)
            in_flight.append(failed)
        elif in_flight:
            breaker.record(failed=in_flight.pop(0), now=now)
        assert breaker.in_flight_probes <= RULES.probes


def test_a_retry_budget_allows_a_fifth_of_first_attempts_plus_a_floor():
    budget = RetryBudget(BudgetRules(ratio=0.2, floor=3, window_seconds=10))
    for _ in range(100):
        budget.first_attempt(0.0)
    granted = sum(budget.try_spend(1.0) for _ in range(100))
    assert granted == 3 + 20


def test_a_retry_budget_forgets_attempts_older_than_its_window():
    budget = RetryBudget(BudgetRules(ratio=0.2, floor=0, window_seconds=10))
    for _ in range(50):
        budget.first_attempt(0.0)
    assert budget.try_spend(11.0) is False
