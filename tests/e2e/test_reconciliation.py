"""A partner uploads their own records, confirms the guessed column mapping, follows the import job
that reads and matches every row, and opens the reconciliation it made; a file with a bad cell is
refused on the job page with its line, column and value."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from earnings.models import Reconciliation
from portal.roles import Role
from tests.conftest import confirm_totp
from tests.e2e.test_sign_in_and_roles import sign_in
from tests.factories import EarningFactory, EnrollmentFactory, TransactionFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GOOD = (
    "transactionId,customerName,earningAmount,transactionCurrency,Notes\n"
    "TX-E1,Contoso,100.00,EUR,first\n"
    "TX-E2,Contoso,(20.00),eur,credit\n"
    "TX-E9,Contoso,5.00,EUR,not ours\n"
)
BAD = "transactionId,earningAmount,transactionCurrency\nTX-E1,100.00,EUR\nTX-E2,twenty,EUR\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _sign_in(page: Page, user, app) -> None:
    page.goto("/earnings/reconcile/")
    sign_in(page, user.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(app.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Reconciliation", exact=True)).to_be_visible()


def _upload(page: Page, tmp_path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    page.get_by_test_id("reconcile-new").click()
    page.get_by_label("Your records").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name=f"Map the columns of {name}")).to_be_visible()


def test_a_partner_reconciles_a_file_through_its_import_job(page: Page, org_a, media, tmp_path):
    ines = UserFactory(organization=org_a, email="ines@alpha.example", roles=[Role.INCENTIVES_USER])
    app = confirm_totp(ines)
    enrollment = EnrollmentFactory(organization=org_a)
    for transaction_id, amount in (("TX-E1", "100.00"), ("TX-E2", "-20.00"), ("TX-E3", "7.00")):
        transaction = TransactionFactory(
            organization=org_a, location=enrollment.location, transaction_id=transaction_id
        )
        EarningFactory(
            organization=org_a,
            enrollment=enrollment,
            transaction=transaction,
            earning_amount=Decimal(amount),
            currency="EUR",
        )

    _sign_in(page, ines, app)
    _upload(page, tmp_path, "my-books.csv", GOOD)
    expect(page.get_by_test_id("file-preview")).to_contain_text("TX-E9")
    # Partner Center's names are chosen for the person; the unmapped "Notes" stays unmapped.
    expect(page.get_by_label("Transaction ID (transactionId)")).to_have_value("transactionId")
    expect(page.get_by_label("Amount (earningAmount)")).to_have_value("earningAmount")
    page.get_by_role("button", name="Reconcile").click()

    expect(page).to_have_url(re.compile(r"/earnings/reconcile/jobs/\d+/$"))
    progress = page.get_by_test_id("job-progress")
    expect(progress).to_contain_text("Succeeded")
    counts = page.get_by_test_id("import-counts")
    expect(counts).to_contain_text("Matched")
    expect(page.get_by_test_id("import-unknown-columns")).to_contain_text("Notes")
    expect(page.get_by_test_id("import-result-file")).to_be_visible()

    page.get_by_test_id("reconciliation-link").click()
    reconciliation = Reconciliation.objects.get()
    expect(page).to_have_url(re.compile(rf"/earnings/reconcile/{reconciliation.pk}/$"))
    expect(page.get_by_test_id("line-matched")).to_have_count(2)
    expect(page.get_by_test_id("line-partner_only")).to_have_count(1)
    expect(page.get_by_test_id("line-portal_only")).to_have_count(1)
    euro = page.get_by_test_id("total-EUR")
    expect(euro.get_by_test_id("total-partner")).to_have_text("85.00")
    expect(euro.get_by_test_id("total-portal")).to_have_text("87.00")
    assert (reconciliation.matched_count, reconciliation.created_by) == (2, ines)


def test_a_bad_cell_is_shown_on_the_job_page_and_nothing_is_reconciled(page: Page, org_a, media, tmp_path):
    ines = UserFactory(organization=org_a, email="ines@alpha.example", roles=[Role.INCENTIVES_USER])
    app = confirm_totp(ines)

    _sign_in(page, ines, app)
    _upload(page, tmp_path, "my-books.csv", BAD)
    page.get_by_role("button", name="Reconcile").click()

    expect(page.get_by_test_id("import-rejected")).to_contain_text("nothing was imported")
    problem = page.get_by_test_id("import-errors").locator("tbody tr")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("3")
    expect(problem).to_contain_text("earningAmount")
    expect(problem).to_contain_text("twenty")
    expect(problem).to_contain_text("is not a number")
    assert not Reconciliation.objects.exists()

    page.get_by_role("link", name="← Reconciliations").click()
    expect(page.get_by_test_id("reconcile-job-row")).to_contain_text("my-books.csv")
