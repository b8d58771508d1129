"""Events from the backends: signed webhooks in (``signatures``), and what follows from them
(real-time issue, in parts)."""
