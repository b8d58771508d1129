"""The README's table of who may ask for what, rendered from the rules on the schema's
fields (resolvers/permissions.py). ``python -m resolvers.role_table`` prints it; a test
fails when the README's differs."""

from __future__ import annotations

from gateway.domain.principal import Role
from resolvers.permissions import rule_of
from resolvers.schema import build_schema

_ABBREVIATED = {
    Role.STOREFRONT: "storefront",
    Role.STORE_ASSOCIATE: "store",
    Role.SUPPORT: "support",
    Role.OPS: "ops",
    Role.ADMIN: "admin",
}


def role_table() -> str:
    schema = build_schema()
    names = schema.config.name_converter
    head = " | ".join(_ABBREVIATED[role] for role in Role)
    rows = [f"| Operation | {head} |", "|---|" + "---|" * len(Role)]
    for kind in ("Query", "Mutation", "Subscription"):
        definition = schema.get_type_by_name(kind)
        for field in sorted(definition.fields, key=names.get_graphql_name):  # type: ignore[union-attr]
            rule = rule_of(field) or frozenset()
            marks = " | ".join("yes" if role in rule else "" for role in Role)
            rows.append(f"| `{kind}.{names.get_graphql_name(field)}` | {marks} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(role_table())
