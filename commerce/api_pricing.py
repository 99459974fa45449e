"""Price lists over the API: /api/v1/commerce/price-lists/ and /price-lists/{id}/rows/ (read-only),
and the price impact of a migration as the validate call returns it (`priceImpact`).

Row fields carry the file's column names in camelCase, like Partner Center's price sheet JSON.
Price lists are the vendor's data, the same for every partner: `PriceList.objects.visible_to(user)`
(portal.tenancy.VendorDataQuerySet) returns every list to a member of a partner organization and
none to anyone else, so these viewsets read through `TenantViewSet` like any other resource.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action

from commerce.choices import Segment
from commerce.filters import PriceListFilter, PriceListRowFilter
from commerce.models import PriceList, PriceListRow
from commerce.pricing.impact import PriceImpact
from portal.api import ModelSerializer, TenantViewSet
from portal.capabilities import Capability
from portal.tenancy import get_visible_or_404

C = Capability


class PriceListSerializer(ModelSerializer):
    # camelCase field names throughout, like the rows and Partner Center's JSON.
    isPreview = serializers.BooleanField(source="is_preview")
    effectiveMonth = serializers.DateField(source="effective_month")
    sourceFile = serializers.CharField(source="source_file")
    rowCount = serializers.IntegerField(source="row_count")
    uploadedAt = serializers.DateTimeField(source="uploaded_at")
    replacedBy = serializers.IntegerField(
        source="replaced_by_id",
        allow_null=True,
        help_text="The corrected list that replaced this one (status superseded), if any.",
    )

    class Meta:
        model = PriceList
        fields = [
            "id",
            "name",
            "market",
            "currency",
            "isPreview",
            "effectiveMonth",
            "sourceFile",
            "status",
            "rowCount",
            "uploadedAt",
            "replacedBy",
        ]


class PriceListRowSerializer(ModelSerializer):
    """One row of the license-based price list (spec/commerce.md §4.1), Partner Center's names."""

    productTitle = serializers.CharField(source="product_title")
    productId = serializers.CharField(source="product_id")
    skuId = serializers.CharField(source="sku_id")
    skuTitle = serializers.CharField(source="sku_title")
    skuDescription = serializers.CharField(source="sku_description")
    unitOfMeasure = serializers.CharField(source="unit_of_measure")
    termDuration = serializers.CharField(source="term_duration")
    billingPlan = serializers.CharField(source="billing_plan")
    unitPrice = serializers.DecimalField(source="unit_price", max_digits=18, decimal_places=6)
    pricingTierRangeMin = serializers.IntegerField(source="pricing_tier_range_min", allow_null=True)
    pricingTierRangeMax = serializers.IntegerField(source="pricing_tier_range_max", allow_null=True)
    effectiveStartDate = serializers.DateTimeField(source="effective_start_date")
    effectiveEndDate = serializers.DateTimeField(source="effective_end_date")
    erpPrice = serializers.DecimalField(source="erp_price", max_digits=18, decimal_places=6, allow_null=True)
    endOfSaleDate = serializers.DateTimeField(source="end_of_sale_date", allow_null=True)
    # A plain string in the schema: an enum named after `segment` would collide with the customer
    # segment's (other values). ENUM_NAME_OVERRIDES in settings could name the two apart instead.
    segment = serializers.CharField(help_text=f"One of {', '.join(Segment.values)}.")

    class Meta:
        model = PriceListRow
        fields = [
            "id",
            "productTitle",
            "productId",
            "skuId",
            "skuTitle",
            "publisher",
            "skuDescription",
            "unitOfMeasure",
            "termDuration",
            "billingPlan",
            "market",
            "currency",
            "unitPrice",
            "pricingTierRangeMin",
            "pricingTierRangeMax",
            "effectiveStartDate",
            "effectiveEndDate",
            "tags",
            "erpPrice",
            "segment",
            "endOfSaleDate",
        ]


class PriceListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The vendor's price lists (current and preview), newest month first."""

    model = PriceList
    serializer_class = PriceListSerializer
    filterset_class = PriceListFilter
    capabilities = {"*": C.PRICING_VIEW}

    @extend_schema(responses=PriceListRowSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        serializer_class=PriceListRowSerializer,
        filterset_class=PriceListRowFilter,
    )
    def rows(self, request, pk=None):
        """The list's rows, filtered like the price list page (q, productId, segment, term, plan)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_queryset(self):
        if self.action != "rows":
            return super().get_queryset()
        # The rows action lists rows (its FilterSet and serializer are the rows'), of one list.
        if getattr(self, "swagger_fake_view", False):
            return PriceListRow.objects.none()
        price_list = get_visible_or_404(PriceList, self.request.user, pk=self.kwargs["pk"])
        return PriceListRow.objects.visible_to(self.request.user).filter(price_list=price_list)


# --- The price impact of a migration (commerce.pricing.impact) ----------------------------------------


class PriceImpactChargeSerializer(serializers.Serializer):
    perPeriod = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    perTerm = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


class PriceImpactSerializer(serializers.Serializer):
    """What a migration changes in what the subscription costs, add-ons included.

    `after` is in `currency` (the price list's), `before` in `legacyCurrency` and null when the
    vendor sent no legacy price; `difference` (after − before) is null unless both are known in one
    currency. Per term: over the new term's days (`termStart` to `termEnd`), prorated by days when
    shorter than a full term.
    """

    currency = serializers.CharField()
    legacyCurrency = serializers.CharField()
    billingCycle = serializers.CharField()
    period = serializers.ChoiceField(choices=["month", "year", "term"])
    termStart = serializers.DateField()
    termEnd = serializers.DateField()
    addOns = serializers.IntegerField(help_text="How many add-ons' charges are included.")
    before = PriceImpactChargeSerializer(allow_null=True)
    after = PriceImpactChargeSerializer()
    difference = PriceImpactChargeSerializer(allow_null=True)


def price_impact_body(impact: PriceImpact | None) -> dict | None:
    """`impact` in the shape of `PriceImpactSerializer`, or None."""
    if impact is None:
        return None
    before = None
    if impact.legacy_charge_per_term is not None:
        before = {"perPeriod": impact.legacy_charge_per_period, "perTerm": impact.legacy_charge_per_term}
    difference = None
    if impact.comparable:
        difference = {"perPeriod": impact.difference_per_period, "perTerm": impact.difference_per_term}
    return {
        "currency": impact.currency,
        "legacyCurrency": impact.legacy_currency,
        "billingCycle": impact.billing_cycle,
        "period": impact.period,
        "termStart": impact.term_start,
        "termEnd": impact.term_end,
        "addOns": impact.add_ons,
        "before": before,
        "after": {"perPeriod": impact.charge_per_period, "perTerm": impact.charge_per_term},
        "difference": difference,
    }
