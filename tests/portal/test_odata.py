"""The OData query layer (portal.odata): declaring a resource, reading every option, filtering a real
queryset, the envelope, and every refusal naming its option (a clear 400, never a 500)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.http import QueryDict

from cosell.filters import ReferralFilterSet
from cosell.models import Referral
from portal.odata import (
    DATE,
    DATETIME,
    DECIMAL,
    GUID,
    INTEGER,
    STRING,
    ODataError,
    ODataProperty,
    ODataQuery,
    ODataResource,
    envelope,
    next_link,
)
from portal.roles import Role
from tests.factories import ReferralFactory, UserFactory

RESOURCE = ODataResource(
    filterset=ReferralFilterSet,
    exclude=("microsoftStatus",),
    fields={
        "id": "referral_id",
        "name": "name",
        "engagementId": "engagement_id",
        "isDraft": "is_draft",
        "version": "version",
        "dealValue": "deal_value",
        "createdDateTime": "created_at",
        # A transform, so the type is given: the model has no field of that name.
        "createdDate": ODataProperty("created_at__date", kind=DATE),
        "assignedUser/email": "assigned_user__email",
        "country": ODataProperty("customer_country", parse=str.upper, max_length=2),
    },
    orderings=("name", "dealValue", "createdDateTime"),
    selectable=("id", "name", "dealValue"),
    default_orderby="createdDateTime desc",
    max_top=50,
    default_top=20,
)


def refused(params: dict | QueryDict, option: str) -> str:
    with pytest.raises(ODataError) as raised:
        RESOURCE.parse(params)
    assert raised.value.option == option
    assert raised.value.message
    return raised.value.message


# --- Declaring ----------------------------------------------------------------------------------------


class TestDeclaring:
    def test_the_filtersets_plain_filters_are_properties_with_their_types(self):
        properties = RESOURCE.properties
        # From ReferralFilterSet: status/substatus/type/dealKind (microsoftStatus excluded); the
        # filters with a method (direction, country, createdMonth, q) are not taken.
        assert list(properties)[:4] == ["status", "substatus", "type", "dealKind"]
        assert "microsoftStatus" not in properties and "q" not in properties
        assert properties["status"].lookup == "status" and "New" in properties["status"].choices
        kinds = {name: prop.kind for name, prop in properties.items()}
        assert kinds["name"] == STRING and kinds["engagementId"] == GUID and kinds["version"] == INTEGER
        assert kinds["dealValue"] == DECIMAL and kinds["createdDateTime"] == DATETIME
        assert kinds["createdDate"] == DATE and kinds["assignedUser/email"] == STRING
        assert RESOURCE.options == ("$count", "$filter", "$orderby", "$select", "$skip", "$top")
        assert RESOURCE.default_ordering == ("-created_at", "-id")

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"fields": {"nullable": "name"}},  # the lexer reads `null` first
            {"fields": {"bad name": "name"}},
            {"fields": {"name": "name"}, "orderings": ("dealValue",)},
            {"fields": {"name": "name"}, "selectable": ("id",)},
            {"fields": {"name": "name"}, "orderings": ("name",), "default_orderby": "name sideways"},
            {"fields": {"name": "name"}, "max_top": 0},
            {"fields": {"name": "name"}, "max_top": 10, "default_top": 11},
        ],
    )
    def test_a_bad_declaration_fails_at_once(self, kwargs):
        with pytest.raises(ImproperlyConfigured):
            ODataResource(model=Referral, **kwargs)

    def test_a_property_without_a_field_needs_its_type(self):
        resource = ODataResource(model=Referral, fields={"nothing": "no_such_field"})
        with pytest.raises(ImproperlyConfigured, match="no field 'no_such_field'"):
            resource.parse({"$filter": "nothing eq 'x'"})

    def test_the_openapi_parameters_name_the_properties(self):
        parameters = {parameter.name: parameter for parameter in RESOURCE.openapi_parameters()}
        assert set(parameters) == {"$filter", "$orderby", "$top", "$skip", "$count", "$select"}
        assert "engagementId" in parameters["$filter"].description
        assert "at most 50 (default 20)" in parameters["$top"].description
        assert "$select" not in {p.name for p in ODataResource(model=Referral).openapi_parameters()}


# --- $filter on a real queryset ---------------------------------------------------------------------


@pytest.fixture
def rows(org_a):
    owner = UserFactory(organization=org_a, email="gamma@alpha.example")
    made = {
        "alpha": ReferralFactory(
            organization=org_a,
            name="Alpha",
            status="New",
            substatus="Received",
            type="Shared",
            deal_value=Decimal("100"),
            customer_country="DE",
            created_at=datetime(2024, 1, 10, 12, tzinfo=UTC),
            version=1,
        ),
        "beta": ReferralFactory(
            organization=org_a,
            name="Beta 100% _sure_ O'Brien",
            status="Active",
            substatus="Accepted",
            type="Independent",
            deal_value=Decimal("500.50"),
            customer_country="GB",
            is_draft=True,
            created_at=datetime(2024, 3, 5, 23, 30, tzinfo=UTC),
            version=3,
        ),
        "gamma": ReferralFactory(
            organization=org_a,
            name="Gamma",
            status="Closed",
            substatus="Won",
            deal_value=None,
            customer_country="US",
            created_at=datetime(2024, 6, 1, tzinfo=UTC),
            version=2,
            assigned_user=owner,
        ),
    }
    return made


def names(text: str) -> set[str]:
    query = RESOURCE.parse({"$filter": text})
    return {referral.name.split()[0] for referral in RESOURCE.apply(Referral.objects.all(), query)}


@pytest.mark.django_db
class TestFilterOnAQueryset:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("status eq 'New'", {"Alpha"}),
            ("status ne 'New'", {"Beta", "Gamma"}),
            ("status in ('New', 'Closed')", {"Alpha", "Gamma"}),
            ("status in ('Active',)", {"Beta"}),
            ("status eq 'New' or status eq 'Active'", {"Alpha", "Beta"}),
            ("not (status eq 'New') and type eq 'Shared'", {"Gamma"}),
            ("(status eq 'New' or status eq 'Active') and isDraft eq true", {"Beta"}),
            ("status eq 'New' or status eq 'Active' and isDraft eq true", {"Alpha", "Beta"}),
            ("dealValue gt 100", {"Beta"}),
            ("dealValue ge 100", {"Alpha", "Beta"}),
            ("dealValue lt 500.5", {"Alpha"}),
            ("dealValue le 500.50", {"Alpha", "Beta"}),
            ("dealValue eq null", {"Gamma"}),
            ("dealValue ne null", {"Alpha", "Beta"}),
            ("500 le dealValue", {"Beta"}),
            ("version in (1, 2)", {"Alpha", "Gamma"}),
            ("version ge 3", {"Beta"}),
            ("isDraft eq false", {"Alpha", "Gamma"}),
            ("createdDateTime ge 2024-03-05T23:30:00Z", {"Beta", "Gamma"}),
            ("createdDateTime le 2024-03-06T00:30:00+01:00", {"Alpha", "Beta"}),
            ("createdDateTime gt 2024-03-05", {"Beta", "Gamma"}),
            ("createdDateTime lt 2024-03-05T23:30:00", {"Alpha"}),
            ("createdDate eq 2024-03-05", {"Beta"}),
            ("contains(name, '100%')", {"Beta"}),
            ("contains(name, '_sure_')", {"Beta"}),
            ("contains(name, '%')", {"Beta"}),
            ("contains(name, 'alpha')", set()),
            ("startswith(name, 'Gam') or endswith(name, 'O''Brien')", {"Beta", "Gamma"}),
            ("not contains(name, 'a')", set()),
            ("name eq 'Beta 100% _sure_ O''Brien'", {"Beta"}),
            ("name gt 'B'", {"Beta", "Gamma"}),
            ("country eq 'de'", {"Alpha"}),
            ("assignedUser/email eq 'gamma@alpha.example'", {"Gamma"}),
            ("assignedUser/email eq null", {"Alpha", "Beta"}),
            ("status EQ 'New' AND type eq 'Shared'", {"Alpha"}),
            ("  (((status eq 'New')))  ", {"Alpha"}),
        ],
    )
    def test_it_filters(self, rows, text, expected):
        assert names(text) == expected

    def test_a_guid_bare_or_quoted(self, rows):
        engagement = rows["beta"].engagement_id
        assert names(f"engagementId eq {engagement}") == {"Beta"}
        assert names(f"engagementId eq '{engagement}'") == {"Beta"}
        assert names(f"engagementId in ({engagement}, {uuid.uuid4()})") == {"Beta"}
        assert names(f"id eq {rows['gamma'].referral_id}") == {"Gamma"}

    def test_quotes_and_sql_in_a_value_are_only_a_value(self, rows):
        assert names("name eq 'x'' OR 1=1 --'") == set()
        assert names("name eq '''; DROP TABLE cosell_referral; --'") == set()
        assert names("contains(name, '\\')") == set()
        assert Referral.objects.count() == 3

    def test_a_long_flat_chain_is_fine(self, rows):
        text = " or ".join(["status eq 'New'"] * 100)
        assert len(text) < 2000
        assert names(text) == {"Alpha"}


# --- $filter refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nothing eq 'x'", "Cannot filter on 'nothing'; use one of status,"),
        ("microsoftStatus eq 'Accepted'", "Cannot filter on 'microsoftStatus'"),
        ("direction eq 'inbound'", "Cannot filter on 'direction'"),
        ("status eq 'Open'", "status: use one of Active, Closed, New, None."),
        ("status eq 1", "status: use one of Active, Closed, New, None."),
        ("status gt 'New'", "status is compared with eq, ne, in only, not gt."),
        ("isDraft lt true", "isDraft is compared with eq, ne, in only"),
        ("isDraft eq 'yes'", "isDraft: compare with true or false, not 'yes'."),
        ("dealValue eq 'a lot'", "dealValue: compare with a number such as 1000 or 99.5, not 'a lot'."),
        ("dealValue gt 1e40", "dealValue: the number is out of range."),
        ("version eq 1.5", "version: compare with a whole number"),
        ("version eq 99999999999999999999", "version: the number is out of range."),
        ("createdDateTime gt 'yesterday'", "createdDateTime: compare with a date-time"),
        ("createdDateTime gt 2024-02-30T00:00:00Z", "is not a valid date-time"),
        ("createdDate eq 2024-02-30", "2024-02-30 is not a valid date"),
        ("createdDate eq 2024-02-03T00:00:00Z", "createdDate: compare with a date"),
        ("engagementId eq 'not-a-guid'", "engagementId: not a GUID."),
        ("engagementId eq 42", "engagementId: compare with a GUID"),
        ("name eq '" + "x" * 201 + "'", "name: at most 200 characters."),
        ("country eq 'DEU'", "country: at most 2 characters."),
        ("dealValue gt null", "null is compared with eq or ne only"),
        ("status in ('New', null)", "null is compared with eq or ne only"),
        ("dealValue eq version", "compare with a number such as 1000 or 99.5, not version"),
        ("name eq duration'P1D'", "name: compare with a quoted string"),
        ("name eq 12:30:00", "name: compare with a quoted string"),
        ("tolower(name) eq 'x'", "Expected a property where tolower(…) is"),
        ("matchesPattern(name, '^A')", "The function matchesPattern() is not supported; use contains,"),
        ("substringof('x', name)", "The function substringof() is not supported"),
        ("contains(status, 'Ne')", "contains() works on text properties; status is not one"),
        ("contains(name, 5)", "the second argument is a quoted string"),
        ("contains(name)", "Cannot read the expression: Function 'contains' takes 2 arguments"),
        ("dealValue add 5 gt 10", "Expected a property where arithmetic"),
        ("-dealValue gt 10", "Expected a property where a negated expression is"),
        ("team/any(t: t eq 'x')", "any()/all() is not a condition"),
        ("name", "name is not a condition"),
        ("true", "true is not a condition"),
        ("'New' eq 'New'", "Expected a property where 'New' is"),
        ("not status eq 'New'", "`not` binds tighter than a comparison"),
        ("status in 'New'", "Cannot read the expression at character"),
        ("status in ('New')", "(a list of one value is written ('a',), or use eq)"),
        ("status eq 'New' and", "Cannot read the expression at character 16"),
        ("status eq 'New'and type eq 'Shared'", "at character 16, near \"and type eq 'Shared'\""),
        ("status eq 'New' xor type eq 'Shared'", "Cannot read the expression at character 16"),
        ("status eq 'New", "(a string is not closed?"),
        ("status eq 'O'Brien'", "Cannot read the expression at character 14"),
        ("((status eq 'New')", "The expression ends too early"),
        ("(status eq 'New'))", "Cannot read the expression at character 18, near ')'"),
        (")status eq 'New'(", "Cannot read the expression at character 1"),
        ("status eq 'New' ; DELETE", "Cannot read the expression"),
        ('status eq "New"', "Cannot read the expression at character 11"),
        ("status == 'New'", "Cannot read the expression"),
        ("  ", "The expression is empty."),
        ("status eq 'a\x00b'", "NUL character"),
        ("status eq 'New' or " * 120, "The expression is too long: at most 2,000 characters."),
        ("not (" * 40 + "status eq 'New'" + ")" * 40, "nested too deeply (at most 32 levels)"),
        ("x/" * 400 + "y eq 1", "Cannot filter on 'x/x/x/"),
        ("(" * 900 + "status eq 'New'" + ")" * 899, "The expression ends too early"),
    ],
)
def test_a_filter_it_cannot_honour_is_an_error_naming_filter(text, message):
    assert message in refused({"$filter": text}, "$filter")


# --- The other options ----------------------------------------------------------------------------------


class TestOptions:
    def test_defaults(self):
        assert RESOURCE.parse({}) == ODataQuery(
            filter=Q(), ordering=("-created_at", "-id"), top=20, skip=0, count=False, select=()
        )

    def test_it_reads_every_option(self):
        query = RESOURCE.parse(
            {
                "$filter": "status eq 'New'",
                "$orderby": "dealValue DESC, name",
                "$top": "50",
                "$skip": "100",
                "$count": "TRUE",
                "$select": "name, id,name",
                "page": "ignored: not an OData option",
            }
        )
        assert query == ODataQuery(
            filter=Q(status="New"),
            ordering=("-deal_value", "name", "-id"),
            top=50,
            skip=100,
            count=True,
            select=("name", "id"),
        )

    def test_empty_filter_orderby_and_select_are_as_if_absent(self):
        assert RESOURCE.parse({"$filter": "", "$orderby": "", "$select": ""}) == RESOURCE.parse({})
        assert RESOURCE.parse({"$select": "*"}).select == ()
        assert RESOURCE.parse({"$top": "0"}).top == 0

    @pytest.mark.parametrize(
        ("params", "option", "message"),
        [
            ({"$orderby": "status"}, "$orderby", "Cannot order by 'status'; use one of name, dealValue,"),
            ({"$orderby": "name sideways"}, "$orderby", "the direction is asc or desc"),
            ({"$orderby": "name asc desc"}, "$orderby", "Use `<property> [asc|desc]`"),
            ({"$orderby": "name,"}, "$orderby", "Use `<property> [asc|desc]`"),
            ({"$orderby": "name, name desc"}, "$orderby", "name is named twice"),
            ({"$orderby": "name " * 200}, "$orderby", "Too long"),
            ({"$top": "51"}, "$top", "between 0 and 50"),
            ({"$top": "-1"}, "$top", "Give a whole number."),
            ({"$top": "ten"}, "$top", "Give a whole number."),
            ({"$top": ""}, "$top", "Give a whole number."),
            ({"$top": "1" * 12}, "$top", "Give a whole number."),
            ({"$skip": "1.5"}, "$skip", "Give a whole number."),
            ({"$skip": "-5"}, "$skip", "Give a whole number."),
            ({"$count": "yes"}, "$count", "Use true or false."),
            ({"$count": ""}, "$count", "Use true or false."),
            ({"$select": "status"}, "$select", "Cannot select 'status'; use one of id, name, dealValue."),
            ({"$select": "name,,id"}, "$select", "Use property names, comma separated."),
            ({"$expand": "team"}, "$expand", "$expand is not supported here; use $count, $filter,"),
            ({"$search": "x", "$apply": "y"}, "$apply", "$apply is not supported here"),
        ],
    )
    def test_each_bad_option_is_named(self, params, option, message):
        assert message in refused(params, option)

    def test_select_is_refused_where_nothing_is_selectable(self):
        resource = ODataResource(model=Referral, fields={"name": "name"})
        with pytest.raises(ODataError) as raised:
            resource.parse({"$select": "name"})
        assert raised.value.option == "$select"
        assert "use $count, $filter, $orderby, $skip, $top" in raised.value.message

    def test_an_option_given_twice_is_refused(self):
        assert "Give $top once." in refused(QueryDict("$top=1&$top=2"), "$top")
        assert RESOURCE.parse(QueryDict("$top=1&other=a&other=b")).top == 1

    def test_project_keeps_the_selected_properties_in_order(self):
        document = {"id": "1", "name": "Alpha", "dealValue": 5, "status": "New"}
        assert RESOURCE.project(document, RESOURCE.parse({"$select": "dealValue,id"})) == {
            "dealValue": 5,
            "id": "1",
        }
        assert RESOURCE.project(document, RESOURCE.parse({})) is document


# --- Paging and the envelope ----------------------------------------------------------------------------


@pytest.mark.django_db
class TestPaging:
    def test_a_page_counts_only_when_asked_and_knows_whether_more_follow(self, rows):
        queryset = Referral.objects.all()
        first = RESOURCE.page(queryset, RESOURCE.parse({"$orderby": "name", "$top": "2"}))
        assert [r.name[:4] for r in first.rows] == ["Alph", "Beta"]
        assert (first.count, first.more) == (None, True)
        last = RESOURCE.page(queryset, RESOURCE.parse({"$orderby": "name", "$top": "2", "$skip": "2"}))
        assert [r.name for r in last.rows] == ["Gamma"] and not last.more
        counted = RESOURCE.page(queryset, RESOURCE.parse({"$filter": "dealValue ne null", "$count": "true"}))
        assert (counted.count, len(counted.rows), counted.more) == (2, 2, False)
        nothing = RESOURCE.page(queryset, RESOURCE.parse({"$top": "0", "$count": "true"}))
        assert (nothing.rows, nothing.count, nothing.more) == ([], 3, False)

    def test_the_envelope_and_the_next_link(self, rows):
        params = QueryDict("$orderby=name&$top=1&$skip=1&$count=true&q=x y")
        query = RESOURCE.parse(params)
        page = RESOURCE.page(Referral.objects.all(), query)
        body = envelope(["row"], page, query, url="https://portal.example/api/list", params=params)
        assert list(body) == ["@odata.count", "value", "@odata.nextLink"]
        assert body["@odata.count"] == 3 and body["value"] == ["row"]
        assert body["@odata.nextLink"] == (
            "https://portal.example/api/list?%24orderby=name&%24top=1&%24count=true&q=x+y&%24skip=2"
        )
        last_query = RESOURCE.parse({"$skip": "2"})
        last = RESOURCE.page(Referral.objects.all(), last_query)
        assert envelope([], last, last_query, url="u", params={}) == {"value": []}

    def test_next_link_moves_skip_on_by_top(self):
        query = ODataQuery(top=25, skip=50)
        assert next_link("/l", {"$skip": "50", "$top": "25"}, query) == "/l?%24top=25&%24skip=75"


# --- Through the API: every bad query is a 400 problem naming the option, never a 500 ---------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "option"),
    [
        ({"$filter": "status eq 'New"}, "$filter"),
        ({"$filter": "((status eq 'New'"}, "$filter"),
        ({"$filter": "status eq 'New'))"}, "$filter"),
        ({"$filter": "status eq 'New' or " * 200}, "$filter"),
        ({"$filter": "not (" * 60 + "status eq 'New'" + ")" * 60}, "$filter"),
        ({"$filter": "customerProfile/" * 120 + "country eq 'x'"}, "$filter"),
        ({"$filter": "dealValue gt 1e999999"}, "$filter"),
        ({"$filter": "createdDateTime gt 9999-12-31T23:59:59-23:00"}, "$filter"),
        ({"$filter": "engagementId eq 'ZZZ'"}, "$filter"),
        ({"$filter": "\u00e9t\u00e4t eq '\u2603'"}, "$filter"),
        ({"$filter": "geo.intersects(a, geography'POINT(0 0)')"}, "$filter"),
        ({"$orderby": "dealValue desc; DROP TABLE x"}, "$orderby"),
        ({"$top": "1e3"}, "$top"),
        ({"$skip": "999999999999"}, "$skip"),
        ({"$count": "1"}, "$count"),
        ({"$select": "id"}, "$select"),
        ({"$format": "json"}, "$format"),
    ],
)
def test_the_referrals_api_answers_400_naming_the_option(org_a, api_for, params, option):
    api = api_for(org_a, scopes=("cosell:read",), roles=(Role.REFERRALS_ADMIN,))
    response = api.get("/api/v1/cosell/engagements/referrals", params)
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert option in response.json()["errors"]
