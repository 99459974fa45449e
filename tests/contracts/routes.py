"""Walks the URLconf: every API route and every HTML route that takes an object's pk."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

_SKIP_PREFIXES = ("admin/", "o/", "api/schema", "api/docs", "static/", "media/")


@dataclass
class Route:
    pattern: str
    name: str
    callback: Any
    kwargs: list[str] = field(default_factory=list)

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/v1/")

    @property
    def viewset(self):
        return getattr(self.callback, "cls", None)

    @property
    def model(self):
        viewset = self.viewset
        if viewset is not None:
            return getattr(viewset, "model", None)
        view_class = getattr(self.callback, "view_class", None)
        if view_class is not None:
            return getattr(view_class, "model", None)
        return getattr(self.callback, "tenant_model", None)

    def url_kwargs_for(self, obj) -> dict[str, Any]:
        """The URL arguments that address `obj` on this route."""
        viewset = self.viewset
        if viewset is not None and hasattr(viewset, "tenant_url_kwargs"):
            return viewset.tenant_url_kwargs(obj)
        sample = getattr(self.callback, "tenant_sample_kwargs", {})
        return {name: obj.pk if name == "pk" else sample.get(name, "x") for name in self.kwargs}

    def path_for(self, **values: Any) -> str:
        path = self.pattern
        for name in self.kwargs:
            path = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", str(values[name]), path)
        path = path.replace("^", "").replace("$", "").replace("\\.", ".")
        path = re.sub(r"\(\?P<format>[^)]*\)", "", path)
        return "/" + path.lstrip("/")


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            space = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), space)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name or ''}", entry.callback


def all_routes() -> list[Route]:
    routes = []
    for pattern, name, callback in _walk(get_resolver().url_patterns):
        if pattern.startswith(_SKIP_PREFIXES) or "format" in pattern:
            continue
        kwargs = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern)
        names = [a or b for a, b in kwargs]
        routes.append(Route(pattern, name, callback, names))
    return routes


#: The vendor's own API: no partner organization owns its rows, and no partner credential reaches it
#: (tests/contracts/test_tenant_isolation.py::test_no_partner_reaches_a_vendor_route); which vendor
#: client sees what is tested in tests/accounts/test_vendor_api.py.
VENDOR_PREFIX = "api/v1/vendor/"


def vendor_routes() -> list[Route]:
    return [route for route in all_routes() if route.pattern.startswith(VENDOR_PREFIX)]


def object_routes() -> list[Route]:
    """Routes that address one partner-owned object: they take a pk, or their viewset names its
    URL arguments."""
    return [
        route
        for route in all_routes()
        if not route.pattern.startswith(VENDOR_PREFIX)
        and ("pk" in route.kwargs or (route.kwargs and hasattr(route.viewset, "tenant_url_kwargs")))
    ]


def api_list_routes() -> list[Route]:
    return [
        route
        for route in all_routes()
        if route.is_api
        and not route.kwargs
        and "get" in getattr(route.callback, "actions", {})
        and route.callback.actions["get"] == "list"
    ]
