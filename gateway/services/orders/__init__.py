"""Orders: placing them, their lifecycle, following the backends, reading them."""
