"""The outbox: delivering the writes owed to backends, and the dead-letter list."""
