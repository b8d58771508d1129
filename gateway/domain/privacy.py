"""Customer data shown to a caller without the ``pii:read`` scope (pure): enough to tell
orders apart and talk about them, not enough to reach the customer."""

from __future__ import annotations

MASK = "***"


def masked_email(email: str) -> str:
    """``ada.lovelace@example.org`` -> ``a***@example.org``: the first letter and the domain."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


def masked_name(name: str) -> str:
    """``Ada King Lovelace`` -> ``A. K. L.``: initials only."""
    initials = [f"{part[0]}." for part in name.split() if part]
    return " ".join(initials) if initials else MASK


def masked_postal_code(code: str) -> str:
    """The first two characters (the region), the rest hidden."""
    return code[:2] + MASK if len(code) > 2 else MASK
