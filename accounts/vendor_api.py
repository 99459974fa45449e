"""The vendor-side integration API (`/api/v1/vendor/<feed>/`): the vendor's own systems push what
they know (customers, legacy subscriptions, …) into the portal.

Callers are `VendorClient`s: OAuth2 client-credentials applications the vendor's staff create in
the admin, bound to no organization, each granted `vendor.<feed>:read|write` scopes. Their tokens
are honoured here only (`VendorTokenAuthentication`), and partner tokens never here: the partner
API's authentication knows no vendor client, and this one no partner client.

A feed takes a bulk upsert: up to 1,000 records per call (a JSON array, or `{"value": [...]}`),
keyed on the vendor's own ids, written through the import pipeline's layout for the feed
(`portal.imports.records`), answered with a result per record — created, updated, unchanged or
rejected with every reason. The same body twice changes nothing the second time and says so. A
larger body is refused with the way to send it: a file (multipart `file`), imported as a job
(202 with the job's URL, `GET /api/v1/vendor/jobs/<id>/`).
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from oauth2_provider.models import AccessToken
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import VendorClient
from accounts.tokens import token_checksum
from portal.audit import audit_record
from portal.imports import import_start, importer_for
from portal.imports.pipeline import Importer
from portal.imports.records import MAX_RECORDS, import_records
from portal.models import JobRun
from portal.uploads import UploadRejected


class VendorTokenAuthentication:
    """A bearer token of a live vendor client: the client's service user and the token, its scopes
    cut to what the client is granted now."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "").split()
        if not header or header[0].lower() != "bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the token as `Authorization: Bearer <token>`.")
        token = (
            AccessToken.objects.select_related("application__vendor_client__service_user")
            .filter(
                token_checksum=token_checksum(header[1]),
                application__vendor_client__isnull=False,
                application__vendor_client__revoked_at__isnull=True,
                expires__gt=timezone.now(),
            )
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(
                "The token is not a live vendor client's: vendor feeds take only the tokens of clients "
                "the vendor created in the admin."
            )
        client = token.application.vendor_client
        granted = set(client.scopes)
        token.scope = " ".join(scope for scope in token.scope.split() if scope in granted)
        request.vendor_client = client
        return client.service_user, token

    def authenticate_header(self, request):
        return 'Bearer realm="vendor"'


class VendorFeedPermission(permissions.BasePermission):
    """The token's client holds `vendor.<feed>:read` (GET) or `vendor.<feed>:write` (the rest)."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, AccessToken):
            return False
        mode = "read" if request.method in permissions.SAFE_METHODS else "write"
        scope = f"vendor.{view.feed}:{mode}"
        if scope not in token.scope.split():
            self.message = f"The token lacks the {scope!r} scope."
            return False
        return True


class VendorView(APIView):
    authentication_classes = [VendorTokenAuthentication]
    permission_classes = [VendorFeedPermission]
    throttle_classes: list = []
    feed = ""


class RecordResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The record's position in the body, from 0.")
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged", "rejected"])
    errors = serializers.ListField(child=serializers.DictField(), help_text="property, value, reason")


class FeedResultSerializer(serializers.Serializer):
    jobId = serializers.IntegerField()  # noqa: N815
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    unknownProperties = serializers.ListField(child=serializers.CharField())  # noqa: N815
    value = RecordResultSerializer(many=True)


class JobStartedSerializer(serializers.Serializer):
    jobId = serializers.IntegerField()  # noqa: N815
    status = serializers.CharField()
    statusUrl = serializers.URLField()  # noqa: N815


class JobStateSerializer(serializers.Serializer):
    jobId = serializers.IntegerField()  # noqa: N815
    status = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    result = serializers.DictField()
    errors = serializers.ListField(child=serializers.DictField())


_RECORDS = {
    "type": "array",
    "maxItems": MAX_RECORDS,
    "items": {"type": "object", "additionalProperties": True},
    "description": f"Up to {MAX_RECORDS} records (or an object whose `value` is that array).",
}
_FILE = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "validRowsOnly": {"type": "boolean"},
    },
    "required": ["file"],
}


class FeedView(VendorView):
    """POST a bulk upsert of the feed's records (or a file, as a job)."""

    parser_classes = [JSONParser, MultiPartParser]
    importer_name = ""

    @property
    def importer(self) -> Importer:
        return importer_for(self.importer_name)

    @extend_schema(
        request={"application/json": _RECORDS, "multipart/form-data": _FILE},
        responses={200: FeedResultSerializer, 202: JobStartedSerializer},
    )
    def post(self, request):
        client = request.vendor_client
        if "file" in request.FILES:
            return self._file(request, client)
        records = request.data.get("value") if isinstance(request.data, dict) else request.data
        try:
            outcome = import_records(
                self.importer, records, actor=request.user, parameters={"vendor_client": client.pk}
            )
        except UploadRejected as exc:
            raise exceptions.ValidationError(
                {"records": [exc.message, *(str(error) for error in exc.errors)]}
            ) from None
        audit_record(
            actor=request.user,
            action=f"vendor.{self.feed}.upserted",
            organization_id=None,
            target=outcome.job,
            changes={"client": client.name, **outcome.counts},
        )
        body = {
            "jobId": outcome.job.pk,
            **outcome.counts,
            "unknownProperties": outcome.unknown_properties,
            "value": outcome.results,
        }
        return Response(body, status=status.HTTP_200_OK)

    def _file(self, request, client: VendorClient):
        try:
            job = import_start(
                self.importer,
                request.FILES["file"],
                actor=request.user,
                organization_id=None,
                valid_rows_only=request.data.get("validRowsOnly") in ("true", "True", "1"),
                parameters={"vendor_client": client.pk},
            )
        except UploadRejected as exc:
            raise exceptions.ValidationError(
                {"file": [exc.message, *(str(error) for error in exc.errors)]}
            ) from None
        url = request.build_absolute_uri(reverse("vendor-job", args=[job.pk]))
        return Response(
            {"jobId": job.pk, "status": job.status, "statusUrl": url}, status=202, headers={"Location": url}
        )


class AnyVendorWriteScope(permissions.BasePermission):
    """The token's client may write at least one vendor feed (it can have started a job)."""

    message = "The token has no vendor feed's write scope."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        return isinstance(token, AccessToken) and any(
            scope.startswith("vendor.") and scope.endswith(":write") for scope in token.scope.split()
        )


class JobView(VendorView):
    """The state of a job this vendor client started: 404 for any other job."""

    permission_classes = [AnyVendorWriteScope]

    @extend_schema(responses=JobStateSerializer)
    def get(self, request, pk: int):
        job = get_object_or_404(JobRun, pk=pk, parameters__vendor_client=request.vendor_client.pk)
        return Response(
            {
                "jobId": job.pk,
                "status": job.status,
                "done": job.done,
                "total": job.total,
                "result": job.result,
                "errors": job.errors[:1000],
            }
        )


class CustomersFeed(FeedView):
    """Customers of partner organizations, in Partner Center's Customer shape (`companyProfile`,
    `billingProfile.defaultAddress.country`), each with the `partnerId` of the organization it is
    a customer of; keyed on that organization and the customer's tenant ID."""

    feed = "customers"
    importer_name = "accounts.vendor_customers"


def feed_urls(feeds: dict[str, type[FeedView]]) -> list[Any]:
    return [path(f"{name}/", view.as_view(), name=f"vendor-{name}") for name, view in feeds.items()]


urlpatterns = [
    *feed_urls({"customers": CustomersFeed}),
    path("jobs/<int:pk>/", JobView.as_view(), name="vendor-job"),
]

__all__ = ("MAX_RECORDS", "CustomersFeed", "FeedView", "VendorTokenAuthentication", "urlpatterns")
