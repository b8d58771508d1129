"""Where a delivery goes, from what an order says of its address (offline: no service)."""
