"""The REST API base every workspace builds on (design §5).

- Authentication, permissions, pagination, throttling (portal.api_policy): OAuth2
  client-credentials tokens bound to one organization, or the browser session of a person who
  passed the second factor; cursor pagination; one rate budget per organization.
- `TenantViewSet`: rows only through `Model.objects.visible_to(user)`; capability and scope checks.
- Cursor pagination, problem+json errors, per-organization throttling, Idempotency-Key on POST.
"""

from __future__ import annotations

import copy
import decimal
import functools
import hashlib
import json
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from portal.models import IdempotencyKey

PROBLEM_CONTENT_TYPE = "application/problem+json"


# --- Errors as problem+json (RFC 9457) -----------------------------------------------------------


def problem_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError({"non_field_errors": ["This conflicts with an existing record."]})
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    problem: dict[str, Any] = {
        "type": f"https://partner-portal.example/problems/{_problem_code(exc)}",
        "title": _problem_title(response.status_code),
        "status": response.status_code,
        "code": _problem_code(exc),
    }
    if isinstance(exc, exceptions.ValidationError):
        problem["detail"] = "The request has invalid fields."
        problem["errors"] = detail if isinstance(detail, dict) else {"non_field_errors": detail}
    else:
        problem["detail"] = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
    request = context.get("request")
    if request is not None:
        problem["instance"] = request.get_full_path()
    response.data = problem
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _problem_code(exc) -> str:
    codes = getattr(exc, "default_code", None) or "error"
    return str(codes)


def _problem_title(status_code: int) -> str:
    from http import HTTPStatus  # noqa: PLC0415 - only needed on the error path

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


# --- Idempotency-Key --------------------------------------------------------------------------


class _Replay(Exception):
    def __init__(self, response: Response):
        self.response = response


class IdempotencyMixin:
    """A POST repeated with the same Idempotency-Key gets the first answer; nothing runs twice."""

    idempotency_header = "HTTP_IDEMPOTENCY_KEY"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        key = request.META.get(self.idempotency_header)
        if request.method != "POST" or not key:
            return
        if len(key) > 255 or not key.isprintable():
            raise exceptions.ValidationError({"Idempotency-Key": ["Use 1 to 255 printable characters."]})
        fingerprint = hashlib.sha256(
            request.method.encode()
            + request.path.encode()
            + json.dumps(request.data, sort_keys=True, default=str).encode()
        ).hexdigest()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path,
                    fingerprint=fingerprint,
                )
        except IntegrityError:
            record = IdempotencyKey.objects.get(user=request.user, key=key)
            if record.fingerprint != fingerprint:
                raise exceptions.ValidationError(
                    {"Idempotency-Key": ["This key was used with a different request."]}
                ) from None
            if record.response_status is None:
                raise exceptions.APIException(
                    "A request with this Idempotency-Key is still in progress.", code="conflict"
                ) from None
            replay = Response(
                record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
            )
            if record.response_status >= 400:
                replay.content_type = PROBLEM_CONTENT_TYPE
            raise _Replay(replay) from None
        self._idempotency_record = record

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            if response.status_code >= 500:
                record.delete()
            else:
                IdempotencyKey.objects.filter(pk=record.pk).update(
                    response_status=response.status_code, response_body=response.data
                )
        return super().finalize_response(request, response, *args, **kwargs)


class PortalAutoSchema(AutoSchema):
    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [
                *parameters,
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    required=False,
                    description="Repeat a POST safely: the first answer is returned again.",
                ),
            ]
        return parameters


_PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem: what went wrong, and for bad input, each field's errors.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["type", "title", "status", "detail"],
}
_PROBLEMS = {
    "400": "The request has invalid fields; `errors` names each one.",
    "401": "No valid token or verified session.",
    "403": "The token's scopes or the caller's roles don't allow this.",
    "404": "No such object in your organization.",
    "429": "Too many requests for your organization; retry later.",
}


def add_problem_responses(result, generator, request, public):
    """drf-spectacular hook: document the problem+json answers every operation can give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            # Any request can be bad input (a garbled cursor, a NUL character): 400 is universal.
            codes = ["400", "401", "403", "429"]
            if "{" in path or method == "post":
                codes.append("404")
            for code in codes:
                operation["responses"].setdefault(
                    code,
                    {
                        "description": _PROBLEMS[code],
                        "content": {PROBLEM_CONTENT_TYPE: {"schema": reference}},
                    },
                )
    return result


# --- The base viewset ---------------------------------------------------------------------------


class TenantViewSet(IdempotencyMixin, viewsets.GenericViewSet):
    """Every API resource of a partner-owned model extends this.

    Subclasses set `model` (never `queryset`): rows come only from `visible_to(request.user)`.
    """

    model: Any = None
    select_related: tuple[str, ...] = ()
    capabilities: dict[str, str] = {}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # drf-spectacular builds the schema without a real caller: no rows, just the model.
            return self.model.objects.none()
        queryset = self.model.objects.visible_to(self.request.user)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        return queryset

    def get_object(self):
        try:
            return super().get_object()
        except (DjangoValidationError, ValueError) as exc:
            raise Http404 from exc

    def paginate_queryset(self, queryset):
        # Lists whose serializer reads only plain columns fetch dicts, not model instances:
        # the same rows and output at a fraction of the cost.
        columns = plain_columns(self.get_serializer_class())
        if columns and isinstance(queryset, QuerySet):
            queryset = queryset.values(*columns)
        return super().paginate_queryset(queryset)


@functools.cache
def plain_columns(serializer_class) -> tuple[str, ...] | None:
    """The model columns a ModelSerializer reads, or None if it needs more than plain columns."""
    if not issubclass(serializer_class, serializers.ModelSerializer):
        return None
    model = serializer_class.Meta.model
    concrete = {field.name: field for field in model._meta.concrete_fields}
    columns = []
    for field in serializer_class().fields.values():
        if field.write_only:
            continue
        column = concrete.get(field.source)
        if column is None or column.is_relation or isinstance(field, serializers.SerializerMethodField):
            return None
        columns.append(column.name)
    # Cursor pagination reads its position from the row, so the ordering column must be there.
    if "id" not in columns:
        columns.append("id")
    return tuple(columns)


def camel_case(name: str) -> str:
    """A service's field name as the API names it: `due_on` → `dueOn`."""
    if name in ("__all__", "non_field_errors"):
        return "non_field_errors"
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def api_errors(exc: DjangoValidationError, field_names: dict[str, str] | None = None) -> dict[str, list[str]]:
    """A service's ValidationError keyed by the API's field names (`field_names` for those whose
    API name is not simply their camelCase)."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": [str(message) for message in exc.messages]}
    names = field_names or {}
    return {
        names.get(field, camel_case(field)): [str(m) for m in DjangoValidationError(errors).messages]
        for field, errors in exc.error_dict.items()
    }


@contextmanager
def service_errors(field_names: dict[str, str] | None = None):
    """A service's ValidationError becomes a problem+json 400 naming the API's fields."""
    try:
        yield
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(api_errors(exc, field_names)) from None


def created(data: Any) -> Response:
    return Response(data, status=status.HTTP_201_CREATED)


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, building its fields once per class, with a fast path for the
    plain-column rows lists fetch as dicts."""

    def get_fields(self):
        # DRF introspects the model and builds every field for every serializer instance; the
        # result depends only on the class, so build it once and hand out copies.
        templates = type(self).__dict__.get("_field_templates")
        if templates is None:
            templates = super().get_fields()
            type(self)._field_templates = templates
        return {name: copy.deepcopy(field) for name, field in templates.items()}

    def to_representation(self, instance):
        if not isinstance(instance, dict):
            return super().to_representation(instance)
        # Built once per class: a dict row holds plain column values, which its fields render
        # without the request or the parent, so a list never builds (deep-copies) its fields.
        readers = type(self).__dict__.get("_column_readers")
        if readers is None:
            readers = [
                (field.field_name, field.source, column_reader(field)) for field in self._readable_fields
            ]
            type(self)._column_readers = readers
        row = {}
        for name, source, represent in readers:
            value = instance[source]
            row[name] = value if represent is None or value is None else represent(value)
        return row


def column_reader(field):
    """How a field renders a column value: None when unchanged, else a function."""
    if type(field) in _NATIVE:
        return None
    if (
        type(field) is serializers.DateTimeField
        and getattr(field, "timezone", None) is None
        and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == "iso-8601"
        and django_settings.TIME_ZONE == "UTC"
    ):
        # What DRF renders (ISO 8601, UTC as "Z"), without its per-value timezone lookups.
        return _iso_utc
    if type(field) is serializers.DecimalField:
        return _decimal_reader(field)
    if type(field) is serializers.UUIDField and field.uuid_format == "hex_verbose":
        return str  # what DRF renders, without its per-value format look-up
    return field.to_representation


def _decimal_reader(field: serializers.DecimalField):
    """DRF's DecimalField rendering (quantized, as a string) with its per-value set-up done once."""
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if field.decimal_places is None or field.normalize_output or field.localize or not coerce:
        return field.to_representation
    exponent = decimal.Decimal(1).scaleb(-field.decimal_places)
    context = decimal.getcontext().copy()
    if field.max_digits is not None:
        context.prec = field.max_digits
    rounding = field.rounding

    def represent(value):
        if not isinstance(value, decimal.Decimal):
            return field.to_representation(value)
        return f"{value.quantize(exponent, rounding=rounding, context=context):f}"

    return represent


def _iso_utc(value):
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# Fields whose to_representation returns a column's Python value unchanged (str, int, bool).
_NATIVE = frozenset(
    {
        serializers.CharField,
        serializers.EmailField,
        serializers.URLField,
        serializers.SlugField,
        serializers.ChoiceField,
        serializers.IntegerField,
        serializers.BooleanField,
    }
)
