"""Returns: the rules that decide (``rules``) and the service that records (``service``)."""
