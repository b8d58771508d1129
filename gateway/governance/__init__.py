"""Order-state governance: an order's exceptions, owned on the discrepancy queue."""
