"""The referrals list's OData properties (cosell.odata.REFERRALS on portal.odata): what it accepts,
and what it refuses. The grammar itself is tested in tests/portal/test_odata.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db.models import Q

from cosell.filters import ReferralFilterSet
from cosell.odata import DEFAULT_ORDERING, DEFAULT_TOP, MAX_TOP, REFERRALS
from portal.odata import ODataError


def parse_filter(text: str) -> Q:
    return REFERRALS.parse_filter(text)


class TestFilter:
    def test_it_reads_the_documented_examples(self):
        assert parse_filter("status eq 'New' and qualification eq 'SalesQualified'") == Q(
            ("status", "New"), ("qualification", "SalesQualified")
        )
        engagement = "65edc0b5-3485-41b7-a17e-dfa9ef4706e2"
        assert parse_filter(f"engagementId eq '{engagement}'") == Q(engagement_id=uuid.UUID(engagement))
        assert parse_filter("customerProfile/address/country eq 'US' and direction eq 'Incoming'") == Q(
            ("customer_country", "US"), ("is_inbound", True)
        )

    def test_it_reads_every_supported_property(self):
        condition = parse_filter(
            "status eq 'Closed' and substatus eq 'Won' and type eq 'Shared' and qualification eq 'None'"
            " and externalReferenceId eq 'CRM-OPP-004512' and customerProfile/address/country eq 'de'"
            " and direction eq 'Outgoing' and dealKind eq 'CoSell' and microsoftStatus eq 'Accepted'"
            " and dealValue ge 1000 and createdDateTime lt 2025-01-01T00:00:00Z"
            " and updatedDateTime ge 2024-06-01"
        )
        assert condition == Q(
            ("status", "Closed"),
            ("substatus", "Won"),
            ("type", "Shared"),
            ("qualification", "None"),
            ("external_reference_id", "CRM-OPP-004512"),
            ("customer_country", "DE"),
            ("is_inbound", False),
            ("deal_kind", "CoSell"),
            ("microsoft_status", "Accepted"),
            ("deal_value__gte", Decimal("1000")),
            ("created_at__lt", datetime(2025, 1, 1, tzinfo=UTC)),
            ("updated_at__gte", datetime(2024, 6, 1, tzinfo=UTC)),
        )

    def test_the_pages_filterset_supplies_its_plain_filters(self):
        # One definition: the page's status/substatus/type/dealKind/microsoftStatus filters are the
        # API's properties of the same name; the filters with a method of their own are not.
        for name in ("status", "substatus", "type", "dealKind", "microsoftStatus"):
            filter_ = ReferralFilterSet.base_filters[name]
            assert REFERRALS.properties[name].lookup == filter_.field_name
        assert "createdMonth" not in REFERRALS.properties and "q" not in REFERRALS.properties

    def test_it_accepts_a_bare_guid_and_any_case_of_and(self):
        engagement = uuid.uuid4()
        assert parse_filter(f"engagementId eq {engagement} AND type eq 'Shared'") == Q(
            ("engagement_id", engagement), ("type", "Shared")
        )

    def test_it_unescapes_doubled_quotes_and_keeps_and_inside_a_value(self):
        assert parse_filter("externalReferenceId eq 'O''Brien and Sons'") == Q(
            external_reference_id="O'Brien and Sons"
        )

    def test_it_reads_more_than_eq_and_and(self):
        # Refused by the first, hand-written parser; the OData layer reads them.
        assert parse_filter("status ne 'New'") == ~Q(status="New")
        assert parse_filter("status eq 'New' or status eq 'Active'") == Q(status="New") | Q(status="Active")
        assert parse_filter("status in ('New', 'Active')") == Q(status__in=["New", "Active"])
        # Contradictory, not an error: it matches nothing, as the expression says.
        assert parse_filter("status eq 'New' and status eq 'Active'") == Q(
            ("status", "New"), ("status", "Active")
        )

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("status eq 'Open'", "status: use one of"),
            ("name eq 'x'", "Cannot filter on 'name'"),
            ("status gt 'New'", "status is compared with eq, ne, in only"),
            ("status eq 'New' and", "Cannot read the expression"),
            ("engagementId eq 'nope'", "engagementId: not a GUID"),
            ("engagementId gt 65edc0b5-3485-41b7-a17e-dfa9ef4706e2", "compared with eq, ne, in only"),
            ("customerProfile/address/country eq 'DEU'", "two-letter"),
            ("direction eq 'Inbound'", "direction: use one of Incoming, Outgoing"),
            ("status eq 'New'and type eq 'Shared'", "Cannot read the expression at character 16"),
            ("status eq New", "status: compare with one of"),
            ("dealValue eq 'a lot'", "dealValue: compare with a number"),
            ("externalReferenceId eq '" + "x" * 201 + "'", "at most 200 characters"),
            ("contains(status, 'Ne')", "contains() works on text properties"),
        ],
    )
    def test_it_refuses_what_it_cannot_honour(self, text, message):
        with pytest.raises(ODataError) as raised:
            parse_filter(text)
        assert raised.value.option == "$filter"
        assert message in raised.value.message


class TestOrderBy:
    def test_it_orders_with_an_id_tie_breaker_in_the_first_direction(self):
        assert REFERRALS.parse_orderby("createdDateTime desc") == ("-created_at", "-id")
        assert REFERRALS.parse_orderby("updatedDateTime") == ("updated_at", "id")
        assert REFERRALS.parse_orderby("dealValue desc, createdDateTime asc") == (
            "-deal_value",
            "created_at",
            "-id",
        )

    @pytest.mark.parametrize(
        "text", ["name asc", "status", "createdDateTime down", "", "dealValue, dealValue desc"]
    )
    def test_it_refuses_unknown_properties_and_directions(self, text):
        with pytest.raises(ODataError) as raised:
            REFERRALS.parse_orderby(text)
        assert raised.value.option == "$orderby"


class TestQuery:
    def test_it_has_defaults(self):
        query = REFERRALS.parse({})
        assert (query.filter, query.ordering, query.top, query.skip, query.count, query.select) == (
            Q(),
            DEFAULT_ORDERING,
            MAX_TOP,
            0,
            False,
            (),
        )
        assert DEFAULT_ORDERING == ("-created_at", "-id") and DEFAULT_TOP == MAX_TOP == 100

    def test_it_reads_paging_and_count(self):
        query = REFERRALS.parse({"$top": "25", "$skip": "50", "$count": "true", "$orderby": "dealValue desc"})
        assert (query.top, query.skip, query.count, query.ordering) == (25, 50, True, ("-deal_value", "-id"))

    @pytest.mark.parametrize(
        ("params", "option"),
        [
            ({"$top": "101"}, "$top"),
            ({"$top": "-1"}, "$top"),
            ({"$top": "ten"}, "$top"),
            ({"$skip": "1.5"}, "$skip"),
            ({"$count": "yes"}, "$count"),
            # The document is answered whole: the referrals list selects nothing.
            ({"$select": "id"}, "$select"),
            ({"$expand": "team"}, "$expand"),
        ],
    )
    def test_it_names_the_bad_option(self, params, option):
        with pytest.raises(ODataError) as raised:
            REFERRALS.parse(params)
        assert raised.value.option == option
