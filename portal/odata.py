"""One OData query layer for the API's lists: `$filter`, `$orderby`, `$top`, `$skip`, `$count`, `$select`.

A list declares its properties once, as an `ODataResource`; most come from the FilterSet the list's
page already has (each declared filter without a `method`, looked up exactly: the filter's name is the
property, its `field_name` the column, its choices the values accepted), the others are named in
`fields` (OData property → ORM lookup path, or an `ODataProperty` for more). `parse(params)` reads the
query string into an `ODataQuery`, `apply(queryset, query)` filters and orders, `page(...)` reads one
page, and `envelope(...)` builds `{"@odata.count": n, "value": [...], "@odata.nextLink": "..."}`.

`$filter` is read by the odata-query library into its syntax tree, which this module translates to a
Django `Q` over the declared properties only:

    expression := condition
                | expression and expression | expression or expression | not expression
                | ( expression )
    condition  := property comparator literal          status eq 'New', dealValue ge 1000
                | property in ( literal, literal… )    status in ('New', 'Active')  (one value: ('New',))
                | contains(property, 'text')           also startswith and endswith (text properties)
    comparator := eq | ne | gt | ge | lt | le           gt/ge/lt/le not on GUIDs, booleans and choices
    literal    := 'text' (a quote inside is doubled: 'O''Brien') | 42 | 99.5 | true | false | null
                | 2024-05-01 | 2024-05-01T09:30:00Z | 65edc0b5-3485-41b7-a17e-dfa9ef4706e2

Keywords are case-insensitive and need a space on both sides; `and` binds tighter than `or`. A literal
may stand on the left (`'New' eq status`); `null` is compared with `eq`/`ne` only. Each literal must
fit its property's type (a GUID may also be quoted; a date-time may be a date, meaning midnight UTC;
a date-time without an offset is UTC). Strings are at most 200 characters unless the property says
otherwise, and the whole expression at most 2,000.

`$orderby`: `<property> [asc|desc]`, comma separated, over the resource's sortable properties; the
tie-breaker (`id`, in the first key's direction) is added so pages are stable. `$top`: 0 to the
resource's maximum; `$skip`: 0 or more; `$count`: `true` or `false`; `$select`: property names from
the resource's selectable ones (`*` for all), comma separated.

Anything else — an unknown `$` option, a property not declared, another function, arithmetic,
lambdas, a value of the wrong type, an option given twice, an expression that cannot be read — is an
`ODataError(option, message)` naming the option: the API answers it with 400, because a query we
silently half-honoured would return rows the client did not ask for.

Foundation module: it imports no app.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, reduce
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter
from odata_query import ast
from odata_query import exceptions as odata_exceptions
from odata_query.grammar import ODataLexer, ODataParser

#: Every query option this layer knows, in the order error messages list them.
OPTIONS = ("$count", "$filter", "$orderby", "$select", "$skip", "$top")
MAX_FILTER_LENGTH = 2000
MAX_ORDERBY_LENGTH = 500
#: Nesting of and/or/not inside one another (a flat chain of `and`s is one level).
MAX_DEPTH = 32
MAX_STRING = 200
_INT64 = 2**63 - 1

# The types a property can have, and what a literal compared with it looks like.
STRING = "string"
GUID = "guid"
BOOLEAN = "boolean"
INTEGER = "integer"
DECIMAL = "decimal"
DATE = "date"
DATETIME = "datetime"
_EXAMPLES = {
    STRING: "a quoted string such as 'Contoso'",
    GUID: "a GUID such as 65edc0b5-3485-41b7-a17e-dfa9ef4706e2",
    BOOLEAN: "true or false",
    INTEGER: "a whole number such as 42",
    DECIMAL: "a number such as 1000 or 99.5",
    DATE: "a date such as 2024-05-01",
    DATETIME: "a date-time such as 2024-05-01T09:30:00Z",
}
#: Model field class → type, most specific first (DateTimeField is a DateField, AutoFields are integers).
_KIND_OF_FIELD: tuple[tuple[type[models.Field], str], ...] = (
    (models.UUIDField, GUID),
    (models.BooleanField, BOOLEAN),
    (models.DateTimeField, DATETIME),
    (models.DateField, DATE),
    (models.DecimalField, DECIMAL),
    (models.FloatField, DECIMAL),
    (models.IntegerField, INTEGER),
    (models.CharField, STRING),
    (models.TextField, STRING),
)
_COMPARATORS: dict[type[ast._Comparator], tuple[str, str]] = {
    # node → (the OData word, the Django lookup)
    ast.Eq: ("eq", "exact"),
    ast.NotEq: ("ne", "exact"),
    ast.Gt: ("gt", "gt"),
    ast.GtE: ("ge", "gte"),
    ast.Lt: ("lt", "lt"),
    ast.LtE: ("le", "lte"),
    ast.In: ("in", "in"),
}
#: `5 lt dealValue` is `dealValue gt 5` (eq and ne read the same both ways).
_FLIPPED = {ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Lt: ast.Gt, ast.LtE: ast.GtE}
_EQUALITY = ("eq", "ne", "in")
_ALL_COMPARATORS = ("eq", "ne", "gt", "ge", "lt", "le", "in")
_FUNCTIONS = {"contains": "contains", "startswith": "startswith", "endswith": "endswith"}


class ODataError(ValueError):
    """A query option we cannot honour; `option` is its name (`$filter`, `$top`, …)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message


def _filter_error(message: str) -> ODataError:
    return ODataError("$filter", message)


@dataclass(frozen=True)
class ODataProperty:
    """One filterable property. `lookup` is the ORM path (`customer__address__country`); `kind` is
    read from the model field when not given (give it for an annotation). `choices` (values, or
    OData value → stored value) are the only values accepted, compared with eq/ne/in only; the model
    field's choices serve when none are given. `parse` checks and normalises a string literal
    (raise ValueError with the reason in plain words)."""

    lookup: str
    kind: str | None = None
    choices: Mapping[str, Any] | Sequence[Any] | None = None
    parse: Callable[[str], Any] | None = None
    max_length: int = MAX_STRING


@dataclass(frozen=True)
class _Property:
    """A declared property with its type and accepted values known."""

    name: str
    lookup: str
    kind: str
    choices: Mapping[str, Any] | None
    parse: Callable[[str], Any] | None
    max_length: int

    @property
    def comparators(self) -> tuple[str, ...]:
        ordered = self.choices is None and self.kind not in (GUID, BOOLEAN)
        return _ALL_COMPARATORS if ordered else _EQUALITY


@dataclass(frozen=True)
class ODataQuery:
    """A list's query: `filter` for `QuerySet.filter`, `ordering` for `order_by` (ends on the
    tie-breaker), the page (`skip`, `top`), whether to count, and the selected properties (empty:
    all of them)."""

    filter: Q = field(default_factory=Q)
    ordering: tuple[str, ...] = ()
    top: int = 0
    skip: int = 0
    count: bool = False
    select: tuple[str, ...] = ()


@dataclass(frozen=True)
class ODataPage:
    rows: list[Any]
    #: The total of matching rows, only when the query asked for it (`$count=true`).
    count: int | None
    #: Whether a next page exists (one row more than `$top` was read).
    more: bool


# --- Declaring a resource ---------------------------------------------------------------------------


def _parse_tree(text: str) -> ast._Node:
    # A new lexer and parser each time: sly keeps the parse state on the instance.
    return ODataParser().parse(ODataLexer().tokenize(text))


def _path(node: ast._Node) -> str | None:
    """`customerProfile/address/country` for the tree of a property path, None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.owner
    if not isinstance(node, ast.Identifier):
        return None
    parts.append(node.full_name())
    return "/".join(reversed(parts))


def _check_name(name: str) -> None:
    try:
        readable = _path(_parse_tree(name)) == name
    except odata_exceptions.ODataException:
        readable = False
    if not readable:
        # e.g. a name starting with `null`, `true` or `any`, which the lexer reads as a keyword.
        raise ImproperlyConfigured(f"OData property {name!r} is not a name $filter can read.")


def _model_field(model: type[models.Model], lookup: str) -> models.Field:
    parts = lookup.split("__")
    for index, part in enumerate(parts):
        found = model._meta.get_field(part)
        if index == len(parts) - 1:
            break
        if not found.is_relation or found.related_model is None:
            raise FieldDoesNotExist(f"{part} is not a relation")
        model = found.related_model
    if found.is_relation:
        found = found.target_field
    return found


def _kind_of(model_field: models.Field) -> str:
    for cls, kind in _KIND_OF_FIELD:
        if isinstance(model_field, cls):
            return kind
    raise ImproperlyConfigured(f"No OData type for {model_field!r}; give the property a kind.")


def _choice_map(choices: Any) -> dict[str, Any] | None:
    if choices is None:
        return None
    if callable(choices):
        choices = choices()
    if isinstance(choices, Mapping):
        return {str(key): value for key, value in choices.items()}
    values: dict[str, Any] = {}
    for item in choices:
        value = item[0] if isinstance(item, tuple | list) else item
        if value not in ("", None):
            values[str(value)] = value
    return values


class ODataResource:
    """The OData properties of one list, and reading a request's query options against them.

    `filterset`: its declared filters without a `method` and with an exact lookup become properties
    (the filter's name → its `field_name`; `exclude` leaves some out). `fields`: more properties (or
    replacements), OData name → ORM lookup path or `ODataProperty`. `orderings`: the names of the
    sortable properties. `selectable`: the names `$select` accepts (none: `$select` is refused).
    `default_orderby` is written as `$orderby` is. `$top` is 0..`max_top`, `default_top` when absent.
    """

    def __init__(
        self,
        *,
        model: type[models.Model] | None = None,
        filterset: type | None = None,
        fields: Mapping[str, str | ODataProperty] | None = None,
        exclude: Iterable[str] = (),
        orderings: Iterable[str] = (),
        selectable: Iterable[str] = (),
        default_orderby: str | None = None,
        tiebreaker: str = "id",
        max_top: int = 100,
        default_top: int | None = None,
    ) -> None:
        if model is None and filterset is not None:
            model = filterset._meta.model
        if model is None:
            raise ImproperlyConfigured("An ODataResource needs a model or a FilterSet with one.")
        self.model = model
        excluded = set(exclude)
        declared: dict[str, ODataProperty] = {}
        for name, filter_ in (filterset.base_filters if filterset is not None else {}).items():
            if filter_.method is None and filter_.lookup_expr == "exact" and name not in excluded:
                declared[name] = ODataProperty(filter_.field_name, choices=filter_.extra.get("choices"))
        for name, spec in (fields or {}).items():
            declared[name] = spec if isinstance(spec, ODataProperty) else ODataProperty(spec)
        for name in declared:
            _check_name(name)
        self._declared = declared
        self.tiebreaker = tiebreaker
        unknown = [name for name in (*orderings, *selectable) if name not in declared]
        if unknown:
            raise ImproperlyConfigured(f"Not declared as OData properties: {', '.join(unknown)}.")
        self.orderings: dict[str, str] = {name: declared[name].lookup for name in orderings}
        self.selectable: tuple[str, ...] = tuple(selectable)
        if max_top < 1 or not 0 <= (max_top if default_top is None else default_top) <= max_top:
            raise ImproperlyConfigured("max_top must be at least 1 and default_top within 0..max_top.")
        self.max_top = max_top
        self.default_top = max_top if default_top is None else default_top
        try:
            self.default_ordering = self.parse_orderby(default_orderby) if default_orderby else (tiebreaker,)
        except ODataError as exc:
            raise ImproperlyConfigured(f"default_orderby: {exc.message}") from None
        self.options: tuple[str, ...] = tuple(
            option for option in OPTIONS if option != "$select" or self.selectable
        )

    @property
    def filterable(self) -> tuple[str, ...]:
        return tuple(self._declared)

    @cached_property
    def properties(self) -> dict[str, _Property]:
        """Each property with its type and accepted values (read from the model on first use)."""
        resolved = {}
        for name, spec in self._declared.items():
            try:
                model_field = _model_field(self.model, spec.lookup)
            except FieldDoesNotExist:
                if spec.kind is None:
                    raise ImproperlyConfigured(
                        f"OData property {name}: {self.model.__name__} has no field {spec.lookup!r}."
                    ) from None
                model_field = None
            choices = spec.choices
            if choices is None and model_field is not None and model_field.choices:
                choices = model_field.flatchoices
            resolved[name] = _Property(
                name=name,
                lookup=spec.lookup,
                kind=spec.kind or _kind_of(model_field),
                choices=_choice_map(choices),
                parse=spec.parse,
                max_length=spec.max_length,
            )
        return resolved

    # --- Reading the options ------------------------------------------------------------------------

    def parse(self, params: Mapping[str, Any]) -> ODataQuery:
        """The query options of a request's query string (a QueryDict or any mapping of strings).
        Parameters not starting with `$` are left to the caller."""
        unknown = sorted(name for name in params if name.startswith("$") and name not in self.options)
        if unknown:
            name = unknown[0]
            raise ODataError(name, f"{name} is not supported here; use {', '.join(self.options)}.")
        getlist = getattr(params, "getlist", None)
        if getlist is not None:
            for name in self.options:
                if len(getlist(name)) > 1:
                    raise ODataError(name, f"Give {name} once.")
        filter_text = params.get("$filter")
        orderby_text = params.get("$orderby")
        select_text = params.get("$select")
        count_text = params.get("$count", "false").lower()
        if count_text not in ("true", "false"):
            raise ODataError("$count", "Use true or false.")
        return ODataQuery(
            filter=self.parse_filter(filter_text) if filter_text else Q(),
            ordering=self.parse_orderby(orderby_text) if orderby_text else self.default_ordering,
            top=_integer("$top", params["$top"], 0, self.max_top) if "$top" in params else self.default_top,
            skip=_integer("$skip", params["$skip"], 0, None) if "$skip" in params else 0,
            count=count_text == "true",
            select=self.parse_select(select_text) if select_text else (),
        )

    def parse_filter(self, text: str) -> Q:
        """`$filter` → a `Q` over the declared properties (see the module's grammar)."""
        if len(text) > MAX_FILTER_LENGTH:
            raise _filter_error(f"The expression is too long: at most {MAX_FILTER_LENGTH:,} characters.")
        if "\x00" in text:
            raise _filter_error("The expression contains a NUL character.")
        stripped = text.strip()
        if not stripped:
            raise _filter_error("The expression is empty.")
        offset = len(text) - len(text.lstrip())
        try:
            tree = _parse_tree(stripped)
        except odata_exceptions.TokenizingException as exc:
            raise _filter_error(_unreadable(stripped, exc.token.index, offset)) from None
        except odata_exceptions.ParsingException as exc:
            if exc.eof or exc.token is None:
                raise _filter_error(
                    "The expression ends too early: a value, an operand or a closing parenthesis is missing."
                ) from None
            raise _filter_error(_unreadable(stripped, exc.token.index, offset)) from None
        except odata_exceptions.UnknownFunctionException as exc:
            raise _filter_error(_unsupported_function(exc.function_name)) from None
        except odata_exceptions.ODataException as exc:
            raise _filter_error(f"Cannot read the expression: {str(exc).rstrip('.')}.") from None
        except (RecursionError, ValueError, TypeError, IndexError, NotImplementedError):
            # The library's own limits (e.g. a property path thousands of segments deep).
            raise _filter_error("Cannot read the expression.") from None
        if tree is None:
            raise _filter_error("The expression is empty.")
        return _Translator(self.properties).condition(tree, 0)

    def parse_orderby(self, text: str) -> tuple[str, ...]:
        """`$orderby` → `order_by` arguments, ending on the tie-breaker in the first key's direction
        (so one index scan serves the whole sort)."""
        if len(text) > MAX_ORDERBY_LENGTH:
            raise ODataError("$orderby", f"Too long: at most {MAX_ORDERBY_LENGTH} characters.")
        ordering: list[str] = []
        for part in text.split(","):
            words = part.split()
            if not words or len(words) > 2:
                raise ODataError("$orderby", "Use `<property> [asc|desc]`, comma separated.")
            column = self.orderings.get(words[0])
            if column is None:
                sortable = ", ".join(self.orderings) or "nothing"
                raise ODataError("$orderby", f"Cannot order by {words[0]!r}; use one of {sortable}.")
            direction = words[1].lower() if len(words) == 2 else "asc"
            if direction not in ("asc", "desc"):
                raise ODataError("$orderby", f"{words[0]}: the direction is asc or desc.")
            if any(existing.lstrip("-") == column for existing in ordering):
                raise ODataError("$orderby", f"{words[0]} is named twice.")
            ordering.append(("-" if direction == "desc" else "") + column)
        if ordering[-1].lstrip("-") != self.tiebreaker:
            ordering.append(("-" if ordering[0].startswith("-") else "") + self.tiebreaker)
        return tuple(ordering)

    def parse_select(self, text: str) -> tuple[str, ...]:
        """`$select` → the selected property names, in the order given (`*`: all, as without it)."""
        names = [part.strip() for part in text.split(",")]
        if any(not name for name in names):
            raise ODataError("$select", "Use property names, comma separated.")
        if names == ["*"]:
            return ()
        for name in names:
            if name not in self.selectable:
                raise ODataError(
                    "$select", f"Cannot select {name!r}; use one of {', '.join(self.selectable)}."
                )
        return tuple(dict.fromkeys(names))

    # --- Answering ----------------------------------------------------------------------------------

    def apply(self, queryset: QuerySet, query: ODataQuery) -> QuerySet:
        """The query's filter and ordering on `queryset` (the caller narrows it to what the user may see)."""
        return queryset.filter(query.filter).order_by(*query.ordering)

    def page(self, queryset: QuerySet, query: ODataQuery) -> ODataPage:
        """One page: `$skip` rows skipped, `$top` rows read (and one more, to know whether a next page
        exists); the matching rows counted only when `$count=true` asked for it."""
        filtered = queryset.filter(query.filter)
        count = filtered.count() if query.count else None
        rows = list(filtered.order_by(*query.ordering)[query.skip : query.skip + query.top + 1])
        return ODataPage(rows=rows[: query.top], count=count, more=query.top > 0 and len(rows) > query.top)

    def project(self, document: Mapping[str, Any], query: ODataQuery) -> Mapping[str, Any]:
        """The document's selected properties, in the order `$select` named them (all without one)."""
        if not query.select:
            return document
        return {name: document.get(name) for name in query.select}

    def openapi_parameters(self) -> list[OpenApiParameter]:
        """The list's query options for the OpenAPI schema, naming the properties each takes."""
        parameters = [
            OpenApiParameter(
                "$filter",
                str,
                description=(
                    "OData filter: `eq ne gt ge lt le`, `in (…)`, `and or not`, parentheses, "
                    "`contains/startswith/endswith(property, 'text')`; properties: "
                    + ", ".join(self.filterable)
                    + "."
                ),
            ),
            OpenApiParameter(
                "$orderby",
                str,
                description="`<property> asc|desc`, comma separated; properties: "
                + ", ".join(self.orderings),
            ),
            OpenApiParameter(
                "$top", int, description=f"Page size, at most {self.max_top} (default {self.default_top})."
            ),
            OpenApiParameter("$skip", int, description="Rows to skip."),
            OpenApiParameter(
                "$count", bool, description="`true` adds `@odata.count` (the total matching rows)."
            ),
        ]
        if self.selectable:
            parameters.append(
                OpenApiParameter(
                    "$select",
                    str,
                    description="Properties to answer, comma separated: " + ", ".join(self.selectable),
                )
            )
        return parameters


def _integer(option: str, text: str, low: int, high: int | None) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise ODataError(option, "Give a whole number.")
    value = int(text)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ODataError(option, f"Give a number {bound}.")
    return value


def _unreadable(text: str, index: int, offset: int) -> str:
    near = text[index : index + 20]
    hint = ""
    if near[:1] == "'":
        hint = " (a string is not closed? A quote inside one is doubled: 'O''Brien')"
    elif re.search(r"\sin\s*\([^,()]*\)$", text[: index + 1], re.IGNORECASE):
        hint = " (a list of one value is written ('a',), or use eq)"
    return f"Cannot read the expression at character {index + offset + 1}, near {near!r}{hint}."


def _unsupported_function(name: str) -> str:
    return f"The function {name}() is not supported; use {', '.join(_FUNCTIONS)}."


# --- $filter: the library's tree → Q ------------------------------------------------------------------


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _describe(node: ast._Node) -> str:
    """A node as the client wrote it, roughly, for an error message."""
    path = _path(node)
    if path is not None:
        return _short(path)
    if isinstance(node, ast.String):
        return "'" + _short(node.val).replace("'", "''") + "'"
    if isinstance(node, ast.Null):
        return "null"
    if isinstance(node, ast.List):
        return "a list"
    if isinstance(node, ast._Literal):
        return _short(str(getattr(node, "val", node)))
    if isinstance(node, ast.Call):
        return f"{node.func.full_name()}(…)"
    if isinstance(node, ast.BinOp):
        return "arithmetic (add, sub, mul, div, mod)"
    if isinstance(node, ast.CollectionLambda):
        return "any()/all()"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return "a negated expression"
    return "a condition"


def _is_path(node: ast._Node) -> bool:
    return isinstance(node, ast.Identifier | ast.Attribute)


def _flatten(node: ast.BoolOp) -> list[ast._Node]:
    """The operands of a chain of the same operator (`a and b and c`), left to right, without
    recursion: a long chain is one level, not one per operand."""
    operator = type(node.op)
    operands: list[ast._Node] = []
    stack: list[ast._Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.BoolOp) and isinstance(current.op, operator):
            stack += [current.right, current.left]
        else:
            operands.append(current)
    return operands


class _Translator:
    def __init__(self, properties: Mapping[str, _Property]) -> None:
        self.properties = properties

    def condition(self, node: ast._Node, depth: int) -> Q:
        if depth > MAX_DEPTH:
            raise _filter_error(f"The expression is nested too deeply (at most {MAX_DEPTH} levels).")
        if isinstance(node, ast.BoolOp):
            combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_
            return reduce(combine, (self.condition(operand, depth + 1) for operand in _flatten(node)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~self.condition(node.operand, depth + 1)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise _filter_error(
            f"{_describe(node)} is not a condition; compare a property with a value, e.g. `status eq 'New'`."
        )

    def property(self, node: ast._Node) -> _Property:
        path = _path(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            raise _filter_error(
                "`not` binds tighter than a comparison: write not (status eq 'New'), with parentheses."
            )
        if path is None:
            raise _filter_error(
                f"Expected a property where {_describe(node)} is; functions, arithmetic "
                "and any()/all() cannot be compared."
            )
        found = self.properties.get(path)
        if found is None:
            raise _filter_error(
                f"Cannot filter on {_short(path)!r}; use one of {', '.join(self.properties)}."
            )
        return found

    def compare(self, node: ast.Compare) -> Q:
        comparator, left, right = type(node.comparator), node.left, node.right
        if comparator is not ast.In and not _is_path(left) and _is_path(right):
            comparator, left, right = _FLIPPED.get(comparator, comparator), right, left
        prop = self.property(left)
        word, lookup = _COMPARATORS[comparator]
        if comparator is ast.In:
            if not isinstance(right, ast.List):
                raise _filter_error(f"{prop.name} in: give a list of values, e.g. ('a', 'b').")
            values = [self.value(prop, item) for item in right.val]
            return Q(**{f"{prop.lookup}__in": values})
        if isinstance(right, ast.Null):
            if comparator not in (ast.Eq, ast.NotEq):
                raise _filter_error(f"{prop.name}: null is compared with eq or ne only.")
            return Q(**{f"{prop.lookup}__isnull": comparator is ast.Eq})
        if word not in prop.comparators:
            raise _filter_error(
                f"{prop.name} is compared with {', '.join(prop.comparators)} only, not {word}."
            )
        column = prop.lookup if lookup == "exact" else f"{prop.lookup}__{lookup}"
        condition = Q(**{column: self.value(prop, right)})
        return ~condition if comparator is ast.NotEq else condition

    def call(self, node: ast.Call) -> Q:
        name = node.func.full_name()
        if name not in _FUNCTIONS:
            raise _filter_error(_unsupported_function(name))
        if len(node.args) != 2:
            raise _filter_error(f"{name}(property, 'text') takes two arguments.")
        prop = self.property(node.args[0])
        if prop.kind != STRING or prop.choices is not None:
            raise _filter_error(f"{name}() works on text properties; {prop.name} is not one (use eq).")
        text = node.args[1]
        if not isinstance(text, ast.String):
            raise _filter_error(f"{name}({prop.name}, …): the second argument is {_EXAMPLES[STRING]}.")
        if len(text.val) > prop.max_length:
            raise _filter_error(f"{name}({prop.name}, …): at most {prop.max_length} characters.")
        return Q(**{f"{prop.lookup}__{_FUNCTIONS[name]}": text.val})

    def value(self, prop: _Property, node: ast._Node) -> Any:
        if isinstance(node, ast.Null):
            raise _filter_error(f"{prop.name}: null is compared with eq or ne only.")
        if not isinstance(node, ast._Literal) or isinstance(node, ast.List):
            raise _filter_error(f"{prop.name}: compare with {_expected(prop)}, not {_describe(node)}.")
        if prop.choices is not None:
            if not isinstance(node, ast.String) or node.val not in prop.choices:
                raise _filter_error(f"{prop.name}: use one of {', '.join(sorted(prop.choices))}.")
            return prop.choices[node.val]
        try:
            return _literal(prop, node)
        except _WrongType:
            raise _filter_error(
                f"{prop.name}: compare with {_expected(prop)}, not {_describe(node)}."
            ) from None
        except (ValueError, OverflowError, InvalidOperation) as exc:
            raise _filter_error(f"{prop.name}: {exc}.") from None


def _expected(prop: _Property) -> str:
    if prop.choices is not None:
        return "one of " + ", ".join(f"'{choice}'" for choice in sorted(prop.choices))
    return _EXAMPLES[prop.kind]


class _WrongType(Exception):
    """A literal of another type than the property's."""


def _literal(prop: _Property, node: ast._Literal) -> Any:
    """The value of a literal compared with `prop`; _WrongType for a literal of another type."""
    kind = prop.kind
    if kind == STRING and isinstance(node, ast.String):
        if len(node.val) > prop.max_length:
            raise ValueError(f"at most {prop.max_length} characters")
        return prop.parse(node.val) if prop.parse is not None else node.val
    if kind == GUID and isinstance(node, ast.GUID | ast.String):
        try:
            return uuid.UUID(node.val)
        except ValueError:
            raise ValueError("not a GUID") from None
    if kind == BOOLEAN and isinstance(node, ast.Boolean):
        return node.py_val
    if kind == INTEGER and isinstance(node, ast.Integer):
        if abs(int(node.val)) > _INT64:
            raise ValueError("the number is out of range")
        return int(node.val)
    if kind == DECIMAL and isinstance(node, ast.Integer | ast.Float):
        number = Decimal(node.val)
        if not number.is_finite() or abs(number.adjusted()) > 30:
            raise ValueError("the number is out of range")
        return number
    if kind in (DATE, DATETIME) and isinstance(node, ast.Date):
        try:
            day = dt.date.fromisoformat(node.val)
        except ValueError:
            raise ValueError(f"{node.val} is not a valid date") from None
        # A date compared with a date-time is its midnight, UTC.
        return day if kind == DATE else dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    if kind == DATETIME and isinstance(node, ast.DateTime):
        try:
            moment = node.py_val
        except ValueError:
            raise ValueError(f"{node.val} is not a valid date-time") from None
        # UTC without an offset; with one, in UTC (PostgreSQL refuses offsets beyond ±15:59).
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    raise _WrongType


# --- The response envelope ----------------------------------------------------------------------------


def next_link(url: str, params: Mapping[str, str], query: ODataQuery) -> str:
    """The next page's URL: the same query string with `$skip` moved on by `$top`."""
    items = {key: value for key, value in params.items() if key != "$skip"}
    items["$skip"] = str(query.skip + query.top)
    return url + "?" + urlencode(items)


def envelope(
    values: list[Any], page: ODataPage, query: ODataQuery, *, url: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """`{"@odata.count": n, "value": [...], "@odata.nextLink": "..."}`: the count only when asked for,
    the link only when there is a next page. `url` is the list's absolute URL without a query string,
    `params` the request's query parameters."""
    body: dict[str, Any] = {}
    if page.count is not None:
        body["@odata.count"] = page.count
    body["value"] = values
    if page.more:
        body["@odata.nextLink"] = next_link(url, params, query)
    return body
