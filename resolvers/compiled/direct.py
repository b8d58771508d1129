"""Resolvers called from a plan as strawberry's field wrapper calls them, without the wrapper.

For a field with a resolver, strawberry resolves through a wrapper that, on every call,
builds an Info, converts the arguments by walking their types (and an InputContext per
input object), chains the field's extensions with functools.partial, awaits the permission
extension's coroutine and then the resolver's: about 8 % of a compiled ``reserve``'s CPU
(py-spy, bench/reservations.py). Here the same steps are decided once per field: the
arguments converted by plans (resolvers.input_builders, compared with strawberry's own
conversion by tests/graphql/test_input_builders.py), the permission classes asked in turn
with strawberry's checks, the resolver called with the same arguments and the same Info.

Only for what that covers: a resolver (async, or plain: strawberry's sync chain, whose
permission checks must answer a bool there and then) whose extensions are all permission
checks that raise when refused, no exception handler that could turn its errors into values,
and arguments the planner converts. Any other field keeps strawberry's wrapper. A plain
resolver was the larger part: a product page's availability rows, prices and totals went
through the wrapper, 9.7 % of an in-process compiled page.
tests/graphql/test_compiled.py runs every operation of the suite both ways and compares the
answers byte for byte, refusals included.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import (
    BasePermission,
    PermissionExtension,
    PermissionReturnedAwaitableInSyncContextError,
    PermissionReturnedNonBooleanError,
)
from strawberry.schema.schema import Schema
from strawberry.types.field import StrawberryField

from resolvers.compiled.plan import BACKREF, DIRECT
from resolvers.input_builders import Convert, Unsupported, argument_converters


class DirectResolver:
    """A field's resolve, as graphql-core calls it: (source, info, **arguments)."""

    __slots__ = (
        "_arguments",
        "_field",
        "_function",
        "_info_class",
        "_info_name",
        "_permissions",
        "_source_first",
        "_source_names",
        "_sync",
    )

    def __init__(
        self,
        field: StrawberryField,
        arguments: tuple[tuple[str, str, Convert], ...],
        permissions: tuple[BasePermission, ...],
        info_class: type[Any],
    ) -> None:
        resolver = field.base_resolver
        assert resolver is not None
        self._field = field
        self._function: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]
        self._arguments = arguments
        self._permissions = permissions
        self._info_class = info_class
        self._source_first = resolver.self_parameter is not None
        self._source_names = tuple(
            parameter.name
            for parameter in (resolver.parent_parameter, resolver.root_parameter)
            if parameter is not None
        )
        self._info_name = None if resolver.info_parameter is None else resolver.info_parameter.name
        self._sync = not field.is_async

    def __call__(self, source: Any, info: GraphQLResolveInfo, **given: Any) -> Any:
        if self._sync:
            return self._resolve_sync(source, info, given)
        return self._resolve(source, info, given)

    def _info_and_arguments(
        self, raw_info: GraphQLResolveInfo, given: Any
    ) -> tuple[Any, dict[str, Any]]:
        info = self._info_class(_raw_info=raw_info, _field=self._field)
        kwargs = {
            python_name: convert(given[graphql_name])
            for graphql_name, python_name, convert in self._arguments
            if graphql_name in given
        }
        return info, kwargs

    def _call(self, source: Any, info: Any, kwargs: dict[str, Any]) -> Any:
        for name in self._source_names:
            kwargs[name] = source
        if self._info_name is not None:
            kwargs[self._info_name] = info
        return self._function(source, **kwargs) if self._source_first else self._function(**kwargs)

    def _resolve_sync(self, source: Any, raw_info: GraphQLResolveInfo, given: Any) -> Any:
        info, kwargs = self._info_and_arguments(raw_info, given)
        # PermissionExtension.resolve, for each permission in turn.
        for permission in self._permissions:
            allowed = permission.has_permission(source, info, **kwargs)
            if inspect.isawaitable(allowed):
                if inspect.iscoroutine(allowed):
                    allowed.close()
                raise PermissionReturnedAwaitableInSyncContextError(permission)
            if not isinstance(allowed, bool):
                raise PermissionReturnedNonBooleanError(permission, allowed)
            if not allowed:
                return permission.on_unauthorized()
        return self._call(source, info, kwargs)

    async def _resolve(self, source: Any, raw_info: GraphQLResolveInfo, given: Any) -> Any:
        info, kwargs = self._info_and_arguments(raw_info, given)
        # PermissionExtension.resolve_async, for each permission in turn.
        for permission in self._permissions:
            allowed = permission.has_permission(source, info, **kwargs)
            if inspect.isawaitable(allowed):
                allowed = await allowed
            if not isinstance(allowed, bool):
                if inspect.iscoroutine(allowed):
                    allowed.close()
                raise PermissionReturnedNonBooleanError(permission, allowed)
            if not allowed:
                return permission.on_unauthorized()
        result = self._call(source, info, kwargs)
        if inspect.isasyncgen(result):
            return result
        return await result if inspect.isawaitable(result) else result


def direct_resolver(schema: Schema, field: StrawberryField) -> DirectResolver | None:
    """The direct call of ``field``, or None where strawberry's wrapper is kept."""
    if field.base_resolver is None or field.is_subscription:
        return None
    permissions: list[BasePermission] = []
    for extension in field.extensions:
        if (
            type(extension) is not PermissionExtension
            or extension.fail_silently
            or type(extension).map_arguments is not FieldExtension.map_arguments
        ):
            return None
        permissions += extension.permissions
    converter = schema.schema_converter
    if converter._get_field_exception_handlers(field):
        return None
    try:
        arguments = argument_converters(field.arguments, converter.scalar_registry, schema.config)
    except Unsupported:
        return None
    return DirectResolver(field, arguments, tuple(permissions), schema.config.info_class)


def install(schema: Schema) -> int:
    """Give each field of ``schema`` that can be called directly its direct call (in the
    GraphQLField's extensions, where a plan looks); the number given one."""
    given = 0
    for named in schema._schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for definition in named.fields.values():
            own = (definition.extensions or {}).get(BACKREF)
            if not isinstance(own, StrawberryField):
                continue
            direct = direct_resolver(schema, own)
            if direct is not None:
                definition.extensions = {**(definition.extensions or {}), DIRECT: direct}
                given += 1
    return given
