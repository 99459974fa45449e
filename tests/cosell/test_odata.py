"""The OData subset of the referrals list (cosell.odata): what it accepts, and what it refuses."""

from __future__ import annotations

import uuid

import pytest

from cosell.odata import DEFAULT_ORDERING, MAX_TOP, ODataError, parse_filter, parse_orderby, parse_query


class TestFilter:
    def test_it_reads_the_documented_examples(self):
        assert parse_filter("status eq 'New' and qualification eq 'SalesQualified'") == {
            "status": "New",
            "qualification": "SalesQualified",
        }
        engagement = "65edc0b5-3485-41b7-a17e-dfa9ef4706e2"
        assert parse_filter(f"engagementId eq '{engagement}'") == {"engagement_id": uuid.UUID(engagement)}
        assert parse_filter("customerProfile/address/country eq 'US' and direction eq 'Incoming'") == {
            "customer_country": "US",
            "is_inbound": True,
        }

    def test_it_reads_every_supported_property(self):
        filters = parse_filter(
            "status eq 'Closed' and substatus eq 'Won' and type eq 'Shared' and qualification eq 'None'"
            " and externalReferenceId eq 'CRM-OPP-004512' and customerProfile/address/country eq 'de'"
            " and direction eq 'Outgoing'"
        )
        assert filters == {
            "status": "Closed",
            "substatus": "Won",
            "type": "Shared",
            "qualification": "None",
            "external_reference_id": "CRM-OPP-004512",
            "customer_country": "DE",
            "is_inbound": False,
        }

    def test_it_accepts_a_bare_guid_and_any_case_of_and(self):
        engagement = uuid.uuid4()
        assert parse_filter(f"engagementId eq {engagement} AND type eq 'Shared'") == {
            "engagement_id": engagement,
            "type": "Shared",
        }

    def test_it_unescapes_doubled_quotes_and_keeps_and_inside_a_value(self):
        assert parse_filter("externalReferenceId eq 'O''Brien and Sons'") == {
            "external_reference_id": "O'Brien and Sons"
        }

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("status eq 'Open'", "status: use one of"),
            ("name eq 'x'", "Cannot filter on 'name'"),
            ("status ne 'New'", "Expected"),
            ("status eq 'New' or status eq 'Active'", "Only `and`"),
            ("status eq 'New' and", "Expected"),
            ("engagementId eq 'nope'", "not a GUID"),
            ("customerProfile/address/country eq 'DEU'", "two-letter"),
            ("status eq 'New' and status eq 'Active'", "two different values"),
            ("status eq 'New'and type eq 'Shared'", "Only `and`"),
            ("status eq New", "Expected"),
        ],
    )
    def test_it_refuses_what_it_cannot_honour(self, text, message):
        with pytest.raises(ODataError) as raised:
            parse_filter(text)
        assert raised.value.option == "$filter"
        assert message in raised.value.message


class TestOrderBy:
    def test_it_orders_with_an_id_tie_breaker_in_the_first_direction(self):
        assert parse_orderby("createdDateTime desc") == ("-created_at", "-id")
        assert parse_orderby("updatedDateTime") == ("updated_at", "id")
        assert parse_orderby("dealValue desc, createdDateTime asc") == ("-deal_value", "created_at", "-id")

    @pytest.mark.parametrize("text", ["name asc", "createdDateTime down", "", "dealValue, dealValue desc"])
    def test_it_refuses_unknown_properties_and_directions(self, text):
        with pytest.raises(ODataError) as raised:
            parse_orderby(text)
        assert raised.value.option == "$orderby"


class TestQuery:
    def test_it_has_defaults(self):
        query = parse_query({})
        assert (query.filters, query.ordering, query.top, query.skip, query.count) == (
            {},
            DEFAULT_ORDERING,
            MAX_TOP,
            0,
            False,
        )

    def test_it_reads_paging_and_count(self):
        query = parse_query({"$top": "25", "$skip": "50", "$count": "true", "$orderby": "dealValue desc"})
        assert (query.top, query.skip, query.count, query.ordering) == (25, 50, True, ("-deal_value", "-id"))

    @pytest.mark.parametrize(
        ("params", "option"),
        [
            ({"$top": "101"}, "$top"),
            ({"$top": "-1"}, "$top"),
            ({"$top": "ten"}, "$top"),
            ({"$skip": "1.5"}, "$skip"),
            ({"$count": "yes"}, "$count"),
            ({"$select": "id"}, "$select"),
            ({"$expand": "team"}, "$expand"),
        ],
    )
    def test_it_names_the_bad_option(self, params, option):
        with pytest.raises(ODataError) as raised:
            parse_query(params)
        assert raised.value.option == option
