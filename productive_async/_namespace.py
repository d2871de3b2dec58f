"""What the generated namespaces (``client.<collection>``, ``client.reports.<name>``) stand on:
a lookup of one typed facade per resource, made on first use and kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ._engine import Context, ResourceBase

F = TypeVar("F", bound="ResourceBase[Any]")
N = TypeVar("N", bound="NamespaceBase")


class NamespaceBase:
    """A namespace of typed resources sharing one client's :class:`~._engine.Context`."""

    _context: Context
    _facades: dict[str, Any]

    def _bind(self, context: Context, facades: dict[str, Any]) -> None:
        self._context = context
        self._facades = facades

    def _typed_resource(self, name: str, cls: type[F]) -> F:
        """The facade ``cls`` of resource ``name``, made once. Raises
        :class:`~productive_async.UnknownResourceError` when the client's registry lacks it."""
        facade = self._facades.get(name)
        if type(facade) is not cls:
            facade = cls(self._context.registry[name], self._context)
            self._facades[name] = facade
        result: F = facade
        return result

    def _reports(self, cls: type[N]) -> N:
        """The reports namespace ``cls``, sharing this namespace's facades."""
        namespace = cls.__new__(cls)
        namespace._bind(self._context, self._facades)
        return namespace
