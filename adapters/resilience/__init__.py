"""How every backend call is guarded: a deadline, a breaker, a retry budget, a bulkhead,
and the figures an operator reads (adapters.http sends through these)."""
