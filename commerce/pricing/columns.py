"""The price list file's columns (spec/commerce.md §4.1): their order, the `PriceListRow` field
each fills, the optional preview column (§4.2) and Microsoft's optional `ChangeIndicator`, and the
columns that identify one price."""

from __future__ import annotations

__all__ = ("PRICE_LIST_COLUMNS",)

# The file's columns in order (§4.1) and the PriceListRow field each one fills.
COLUMN_FIELDS = {
    "ProductTitle": "product_title",
    "ProductId": "product_id",
    "SkuId": "sku_id",
    "SkuTitle": "sku_title",
    "Publisher": "publisher",
    "SkuDescription": "sku_description",
    "UnitOfMeasure": "unit_of_measure",
    "TermDuration": "term_duration",
    "BillingPlan": "billing_plan",
    "Market": "market",
    "Currency": "currency",
    "UnitPrice": "unit_price",
    "PricingTierRangeMin": "pricing_tier_range_min",
    "PricingTierRangeMax": "pricing_tier_range_max",
    "EffectiveStartDate": "effective_start_date",
    "EffectiveEndDate": "effective_end_date",
    "Tags": "tags",
    "ERP Price": "erp_price",
    "Segment": "segment",
}
PRICE_LIST_COLUMNS = list(COLUMN_FIELDS)
#: The preview file's extra column (§4.2); optional in any file.
END_OF_SALE_COLUMN = "EndofSaleDate"
#: The optional first column of some of Microsoft's files (§4.1).
CHANGE_INDICATOR_COLUMN = "ChangeIndicator"
ALL_COLUMNS = {
    **COLUMN_FIELDS,
    END_OF_SALE_COLUMN: "end_of_sale_date",
    CHANGE_INDICATOR_COLUMN: "change_indicator",
}

# Which row fields identify one price: a file may not repeat them (the table's unique key).
UNIQUE_COLUMNS = [
    "ProductId",
    "SkuId",
    "TermDuration",
    "BillingPlan",
    "Segment",
    "EffectiveStartDate",
    "PricingTierRangeMin",
]
# Text fields a download writes bare when empty (COPY would quote an empty string).
_TEXT_FIELDS = {
    "product_title",
    "product_id",
    "sku_id",
    "sku_title",
    "publisher",
    "sku_description",
    "unit_of_measure",
    "term_duration",
    "billing_plan",
    "market",
    "currency",
    "tags",
    "segment",
    "change_indicator",
}
