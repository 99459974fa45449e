"""REST resources of the Earnings workspace: /api/v1/earnings/…

Field names are Partner Center's (spec/earnings.md §3, §5, §6) and the filters are the pages'
FilterSets, so a page URL's query string works on the list endpoints unchanged. Exports follow
the Partner Center exports API (spec §2): create a request, poll it by id, download, delete.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from earnings import selectors
from earnings.choices import ExportFormat, ExportStatus, IneligibleReason
from earnings.exports import REPORTS, export_is_expired, export_path
from earnings.filters import EarningsFilterSet, IneligibleFilterSet, PaymentFilterSet, TransactionFilterSet
from earnings.models import Earning, ExportJob, IneligibleTransaction, Payment, Transaction
from earnings.services.exports import export_create, export_delete
from portal.api import ModelSerializer, TenantViewSet
from portal.capabilities import Capability

C = Capability


class ColumnsViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Read-only rows whose serializer reads model columns and `related` annotations only.

    Related values (a program's name, a payment's ID) are annotated onto the rows, so a list
    page is one query fetching dicts, as on the foundation's plain-column lists.
    """

    related: dict[str, F] = {}
    capabilities = {"*": C.EARNINGS_VIEW}

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.annotate(**self.related) if self.related else queryset

    def paginate_queryset(self, queryset):
        return super().paginate_queryset(queryset.values(*_columns(self.get_serializer_class())))


def _columns(serializer_class) -> tuple[str, ...]:
    columns = getattr(serializer_class, "_value_columns", None)
    if columns is None:
        sources = [field.source for field in serializer_class().fields.values()]
        columns = serializer_class._value_columns = tuple(dict.fromkeys([*sources, "id"]))
    return columns


class MonthField(serializers.CharField):
    """A month as Partner Center writes it: `YYYY-MM`."""

    def to_representation(self, value):
        return None if value is None else f"{value:%Y-%m}"


def _amount(source: str, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(source=source, max_digits=18, decimal_places=6, read_only=True, **kwargs)


def _rate(source: str, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(source=source, max_digits=12, decimal_places=8, read_only=True, **kwargs)


def _text(source: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(source=source, read_only=True, **kwargs)


# --- Earnings ---------------------------------------------------------------------------------------


class EarningSerializer(ModelSerializer):
    earningId = _text("earning_id")  # noqa: N815 - Partner Center's field names
    participantId = _text("participant_id_value")  # noqa: N815
    participantName = _text("participant_name_value")  # noqa: N815
    programName = _text("program_name")  # noqa: N815
    engagementId = _text("engagement_id_value", allow_null=True)  # noqa: N815
    engagementName = _text("engagement_name", allow_null=True)  # noqa: N815
    lever = _text("lever_name", allow_null=True)
    transactionId = _text("transaction_id_value", allow_null=True)  # noqa: N815
    transactionDate = serializers.DateField(source="transaction_date", read_only=True, allow_null=True)  # noqa: N815
    transactionCurrency = _text("currency")  # noqa: N815
    earningRate = _rate("earning_rate", allow_null=True)  # noqa: N815
    earningType = _text("earning_type")  # noqa: N815
    earningAmount = _amount("earning_amount")  # noqa: N815
    earningAmountUSD = _amount("earning_amount_usd")  # noqa: N815
    earningExchangeRate = _rate("earning_exchange_rate")  # noqa: N815
    exchangeRateDate = serializers.DateField(source="exchange_rate_date", read_only=True)  # noqa: N815
    earningDate = serializers.DateField(source="earning_date", read_only=True)  # noqa: N815
    calculationDate = serializers.DateField(source="calculation_date", read_only=True)  # noqa: N815
    estimatedPaymentMonth = MonthField(  # noqa: N815
        source="estimated_payment_month",
        read_only=True,
        allow_null=True,
        help_text="YYYY-MM; null: Not applicable",
    )
    paymentId = _text("payment_id_value", allow_null=True)  # noqa: N815
    paymentStatus = _text("payment_status")  # noqa: N815
    customerName = _text("customer_name")  # noqa: N815
    productId = _text("product_id")  # noqa: N815
    productName = _text("product_name")  # noqa: N815
    claimId = _text("claim_id")  # noqa: N815
    solutionArea = _text("solution_area")  # noqa: N815
    partnerRole = _text("partner_role")  # noqa: N815
    partnerAssociation = _text("partner_association")  # noqa: N815
    reasonCode = _text("reason_code")  # noqa: N815

    class Meta:
        model = Earning
        fields = [
            "id",
            "earningId",
            "kind",
            "participantId",
            "participantName",
            "programName",
            "engagementId",
            "engagementName",
            "lever",
            "transactionId",
            "transactionDate",
            "transactionCurrency",
            "earningRate",
            "earningType",
            "earningAmount",
            "earningAmountUSD",
            "earningExchangeRate",
            "exchangeRateDate",
            "earningDate",
            "calculationDate",
            "estimatedPaymentMonth",
            "paymentId",
            "paymentStatus",
            "customerName",
            "productId",
            "productName",
            "claimId",
            "solutionArea",
            "partnerRole",
            "partnerAssociation",
            "reasonCode",
        ]


class EarningViewSet(ColumnsViewSet):
    model = Earning
    serializer_class = EarningSerializer
    filterset_class = EarningsFilterSet
    related = {
        "participant_id_value": F("enrollment__participant_id"),
        "participant_name_value": F("enrollment__participant_name"),
        "program_name": F("program__name"),
        "engagement_id_value": F("engagement__engagement_id"),
        "engagement_name": F("engagement__name"),
        "lever_name": F("lever__name"),
        "transaction_id_value": F("transaction__transaction_id"),
        "transaction_date": F("transaction__transaction_date"),
        "payment_id_value": F("payment__payment_id"),
    }


# --- Transactions (revenue) -------------------------------------------------------------------------


class TransactionSerializer(ModelSerializer):
    transactionId = _text("transaction_id")  # noqa: N815
    transactionDate = serializers.DateField(source="transaction_date", read_only=True)  # noqa: N815
    transactionType = _text("transaction_type")  # noqa: N815
    partnerId = _text("partner_id_value")  # noqa: N815
    customerName = _text("customer_name")  # noqa: N815
    customerTenantId = _text("customer_tenant_id")  # noqa: N815
    customerCountry = _text("customer_country")  # noqa: N815
    productId = _text("product_id")  # noqa: N815
    productName = _text("product_name")  # noqa: N815
    SkuId = _text("sku_id")  # noqa: N815
    subscriptionId = _text("subscription_id")  # noqa: N815
    invoiceNumber = _text("invoice_number")  # noqa: N815
    solutionArea = _text("solution_area")  # noqa: N815
    partnerRole = _text("partner_role")  # noqa: N815
    partnerAssociation = _text("partner_association")  # noqa: N815
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    quantityType = _text("quantity_type")  # noqa: N815
    transactionCurrency = _text("transaction_currency")  # noqa: N815
    transactionAmount = _amount("transaction_amount")  # noqa: N815
    transactionExchangeRate = _rate("transaction_exchange_rate")  # noqa: N815
    transactionAmountUSD = _amount("transaction_amount_usd")  # noqa: N815

    class Meta:
        model = Transaction
        fields = [
            "id",
            "transactionId",
            "transactionDate",
            "transactionType",
            "partnerId",
            "customerName",
            "customerTenantId",
            "customerCountry",
            "productId",
            "productName",
            "SkuId",
            "subscriptionId",
            "invoiceNumber",
            "solutionArea",
            "partnerRole",
            "partnerAssociation",
            "quantity",
            "quantityType",
            "transactionCurrency",
            "transactionAmount",
            "transactionExchangeRate",
            "transactionAmountUSD",
        ]


class TransactionViewSet(ColumnsViewSet):
    model = Transaction
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilterSet
    related = {"partner_id_value": F("location__partner_id")}


# --- Payments ---------------------------------------------------------------------------------------


class PaymentSerializer(ModelSerializer):
    paymentID = _text("payment_id")  # noqa: N815
    participantID = _text("participant_id_value")  # noqa: N815
    participantName = _text("participant_name_value")  # noqa: N815
    programName = _text("program_name")  # noqa: N815
    paymentMonth = MonthField(source="payment_month", read_only=True)  # noqa: N815
    paymentStatus = _text("status")  # noqa: N815
    paymentMethod = _text("method")  # noqa: N815
    earned = serializers.DecimalField(max_digits=18, decimal_places=6, read_only=True)
    earnedCurrencyCode = _text("currency")  # noqa: N815
    earnedUSD = _amount("earned_usd")  # noqa: N815
    salesTax = _amount("sales_tax")  # noqa: N815
    serviceFeeTax = _amount("service_fee_tax")  # noqa: N815
    totalPayment = _amount("total_payment")  # noqa: N815
    paymentDate = serializers.DateField(source="payment_date", read_only=True, allow_null=True)  # noqa: N815
    CIReferenceNumber = _text("ci_reference_number")  # noqa: N815

    class Meta:
        model = Payment
        fields = [
            "id",
            "paymentID",
            "participantID",
            "participantName",
            "programName",
            "paymentMonth",
            "paymentStatus",
            "paymentMethod",
            "earned",
            "earnedCurrencyCode",
            "earnedUSD",
            "salesTax",
            "serviceFeeTax",
            "totalPayment",
            "paymentDate",
            "CIReferenceNumber",
        ]


class PaymentViewSet(ColumnsViewSet):
    model = Payment
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilterSet
    related = {
        "participant_id_value": F("enrollment__participant_id"),
        "participant_name_value": F("enrollment__participant_name"),
        "program_name": F("program__name"),
    }


# --- Ineligible transactions ------------------------------------------------------------------------


class ReasonField(serializers.CharField):
    """The reason code's text (spec §5), read from the code column."""

    def to_representation(self, value):
        return IneligibleReason(value).label if value in IneligibleReason.values else ""


class IneligibleSerializer(ModelSerializer):
    transactionId = _text("transaction_id_value")  # noqa: N815
    transactionDate = serializers.DateField(source="transaction_date", read_only=True)  # noqa: N815
    programName = _text("program_name")  # noqa: N815
    engagementId = _text("engagement_id_value")  # noqa: N815
    engagementName = _text("engagement_name")  # noqa: N815
    solutionArea = _text("solution_area")  # noqa: N815
    partnerRole = _text("partner_role")  # noqa: N815
    customerName = _text("customer_name")  # noqa: N815
    productId = _text("product_id")  # noqa: N815
    productName = _text("product_name")  # noqa: N815
    transactionAmountUSD = _amount("transaction_amount_usd")  # noqa: N815
    reasonCode = _text("reason_code")  # noqa: N815
    reason = ReasonField(source="reason_text", read_only=True)
    calculationDate = serializers.DateField(source="calculation_date", read_only=True)  # noqa: N815

    class Meta:
        model = IneligibleTransaction
        fields = [
            "id",
            "transactionId",
            "transactionDate",
            "programName",
            "engagementId",
            "engagementName",
            "solutionArea",
            "partnerRole",
            "customerName",
            "productId",
            "productName",
            "transactionAmountUSD",
            "reasonCode",
            "reason",
            "calculationDate",
        ]


class IneligibleViewSet(ColumnsViewSet):
    model = IneligibleTransaction
    serializer_class = IneligibleSerializer
    filterset_class = IneligibleFilterSet
    related = {
        "transaction_id_value": F("transaction__transaction_id"),
        "program_name": F("program__name"),
        "engagement_id_value": F("engagement__engagement_id"),
        "engagement_name": F("engagement__name"),
        "solution_area": F("engagement__solution_area"),
        "partner_role": F("transaction__partner_role"),
        "customer_name": F("transaction__customer_name"),
        "product_id": F("transaction__product_id"),
        "product_name": F("transaction__product_name"),
        "transaction_amount_usd": F("transaction__transaction_amount_usd"),
        "reason_text": F("reason_code"),
    }


# --- Exports (spec §2) -----------------------------------------------------------------------------


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"
    default_detail = "The download link has expired; create the export again."


class ExportRequestSerializer(serializers.Serializer):
    report = serializers.ChoiceField(choices=list(REPORTS))
    format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.CSV)
    filters = serializers.DictField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        default=dict,
        help_text='The page filters by query parameter name, e.g. {"solutionArea": "Security"}.',
    )


class ExportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="export_id", read_only=True)
    format = serializers.CharField(source="file_format", read_only=True)
    rowCount = serializers.IntegerField(source="row_count", read_only=True)  # noqa: N815
    requestedAt = serializers.DateTimeField(source="requested_at", read_only=True)  # noqa: N815
    completedAt = serializers.DateTimeField(source="completed_at", read_only=True, allow_null=True)  # noqa: N815
    expiresAt = serializers.DateTimeField(source="expires_at", read_only=True, allow_null=True)  # noqa: N815
    downloadUrl = serializers.SerializerMethodField()  # noqa: N815

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "report",
            "format",
            "filters",
            "status",
            "rowCount",
            "requestedAt",
            "completedAt",
            "expiresAt",
            "error",
            "downloadUrl",
        ]

    def get_downloadUrl(self, export: ExportJob) -> str | None:  # noqa: N802
        if export.status != ExportStatus.COMPLETED or export_is_expired(export) or not export.file_path:
            return None
        path = reverse("earnings-export-file", kwargs={"export_id": export.export_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ExportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet
):
    model = ExportJob
    serializer_class = ExportSerializer
    lookup_field = "export_id"
    lookup_url_kwarg = "export_id"
    capabilities = {"*": C.EARNINGS_VIEW}

    @classmethod
    def tenant_url_kwargs(cls, export: ExportJob) -> dict:
        return {"export_id": export.export_id}

    @classmethod
    def tenant_row_id(cls, export: ExportJob):
        return export.export_id

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        return selectors.exports(user=self.request.user)

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportSerializer})
    def create(self, request):
        data = ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            export = export_create(
                report=data.validated_data["report"],
                file_format=data.validated_data["format"],
                filters=data.validated_data["filters"],
                actor=request.user,
            )
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"filters": exc.messages}
            raise exceptions.ValidationError(detail) from exc
        return Response(self.get_serializer(export).data, status=status.HTTP_202_ACCEPTED)

    def perform_destroy(self, instance):
        export_delete(export=instance, actor=self.request.user)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No such export, or its file is not ready yet."),
            410: OpenApiResponse(description="The download link has expired (24 hours after completion)."),
        }
    )
    @action(detail=True, methods=["get"], url_path="file", url_name="file")
    def file(self, request, export_id=None):
        export = self.get_object()
        if export.status != ExportStatus.COMPLETED:
            raise exceptions.NotFound("This export has no file yet.")
        path = export_path(export)
        if export_is_expired(export) or not export.file_path or not path.exists():
            raise Gone()
        filename = f"{export.report}-{export.export_id}.{export.file_format}"
        return FileResponse(path.open("rb"), as_attachment=True, filename=filename)


router = SimpleRouter()
router.register("earnings", EarningViewSet, basename="earnings-earning")
router.register("transactions", TransactionViewSet, basename="earnings-transaction")
router.register("payments", PaymentViewSet, basename="earnings-payment")
router.register("ineligible", IneligibleViewSet, basename="earnings-ineligible")
router.register("exports", ExportViewSet, basename="earnings-export")

urlpatterns = router.urls
