"""Who may ask for what: one rule per operation and per sensitive field, declared on the
field itself (``permission_classes=allow(...)``), checked before its resolver runs.

A refused field is null with a FORBIDDEN error naming the roles that may ask for it; the
rest of the answer stands. tests/graphql/test_permissions.py walks every root field of the
schema, so an operation added without a rule fails CI.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from gateway.domain.principal import Role
from gateway.errors import Forbidden

STOREFRONT, STORE_ASSOCIATE, SUPPORT, OPS, ADMIN = (
    Role.STOREFRONT,
    Role.STORE_ASSOCIATE,
    Role.SUPPORT,
    Role.OPS,
    Role.ADMIN,
)
EVERYONE = frozenset(Role)


class Allowed(BasePermission):
    """Lets through a caller holding one of ``roles``."""

    roles: ClassVar[frozenset[Role]] = frozenset()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is not None and principal.roles & self.roles:
            return True
        names = sorted(role.value for role in self.roles)
        raise Forbidden(
            f"{info.path.typename}.{info.field_name} is for {', '.join(names)}", roles=names
        )


def allow(*roles: Role) -> list[type[BasePermission]]:
    """The permission of a field only callers holding one of ``roles`` may ask for."""
    allowed = frozenset(roles)
    name = "Allow" + "".join(role.value.title().replace("_", "") for role in sorted(allowed))
    return [type(name, (Allowed,), {"roles": allowed})]


def rule_of(field: Any) -> frozenset[Role] | None:
    """The roles a strawberry field allows, or None when it declares no rule."""
    for permission in getattr(field, "permission_classes", ()) or ():
        if isinstance(permission, type) and issubclass(permission, Allowed):
            return permission.roles
    return None
