"""The Commerce workspace's notifications, through the outbox to a real SMTP server: a migration
batch done (with its counts) or failed (a migration failed, or its job stopped), the vendor-led wave
ahead (once per set of subscriptions and wave start), and a new price list told to the pricing
viewers of every partner organization, one `notify` per organization — each to the people it
concerns and nobody else, once per occurrence."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import RoleAssignment
from commerce.models import PriceList
from commerce.notifications import (
    MIGRATION_BATCH_DONE,
    MIGRATION_BATCH_FAILED,
    PRICE_LIST_PUBLISHED,
    WAVE_WARNING,
)
from commerce.services import batches, engine, migration_batch_run, migration_batch_start, migration_wave_warn
from commerce.services.notices import price_list_published_notify
from commerce.tasks import migration_batch_task
from portal.choices import JobStatus
from portal.models import JobRun
from portal.notifications import categories
from portal.notifications.models import Notification
from portal.roles import Role
from tests.commerce.conftest import legacy_subscription as legacy
from tests.commerce.test_price_lists import CURRENT, _upload
from tests.factories import CustomerFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

ALPHA, BETA = "[Alpha Partners GmbH]", "[Beta Partners Ltd]"


@pytest.fixture
def people(org_a, org_b, alice, bob, charlie):
    """Alpha: Alice (Owner, Global admin), a Sales agent and an Admin agent place orders and manage
    customers; a Developer sees prices only; Bob (Incentives user) and a Helpdesk agent none of it.
    Beta: Charlie (Global admin)."""
    return {
        "alice": alice,
        "sales": UserFactory(organization=org_a, email="sal@alpha.example", roles=[Role.SALES_AGENT]),
        "agent": UserFactory(organization=org_a, email="agent@alpha.example", roles=[Role.ADMIN_AGENT]),
        "developer": UserFactory(organization=org_a, email="dev@alpha.example", roles=[Role.DEVELOPER]),
        "bob": bob,
        "helpdesk": UserFactory(organization=org_a, email="help@alpha.example", roles=[Role.HELPDESK_AGENT]),
        "charlie": charlie,
    }


def _told(category, organization=None) -> set[str]:
    rows = Notification.objects.filter(category=category.code)
    if organization is not None:
        rows = rows.filter(organization=organization)
    return set(rows.values_list("recipient__email", flat=True))


def _emails(people, *names) -> set[str]:
    return {people[name].email for name in names}


def _subject(message) -> str:
    return " ".join(str(message["Subject"]).split())


def _text(message) -> str:
    return " ".join(message.get_body(preferencelist=("plain",)).get_content().split())


def _by_recipient(smtp_server) -> dict[str, list]:
    received: dict[str, list] = {}
    for message in smtp_server.messages():
        received.setdefault(message["To"], []).append(message)
    return received


def test_the_categories_are_on_the_preferences_page():
    codes = {found.code for found in categories()}
    assert {
        MIGRATION_BATCH_DONE.code,
        MIGRATION_BATCH_FAILED.code,
        WAVE_WARNING.code,
        PRICE_LIST_PUBLISHED.code,
    } <= codes


# --- Migration batches -------------------------------------------------------------------------------


@pytest.fixture
def starter(org_a):
    """Started the batch as a Sales agent, then moved to the Helpdesk before it finished: told as the
    one who started it, not for their roles."""
    return UserFactory(organization=org_a, email="starter@alpha.example", roles=[Role.SALES_AGENT])


def _renewing(us_customer, offer="basic", days=30):
    return legacy(us_customer, offer, term_end=date.today() + timedelta(days=days))


def test_a_batch_done_is_told_with_its_counts_to_its_starter_and_the_order_placers(
    catalog, us_customer, people, starter, smtp_server, django_capture_on_commit_callbacks
):
    chosen = [_renewing(us_customer, days=30 + n) for n in range(3)]
    chosen.append(_renewing(us_customer, "business_voice"))  # no new-commerce equivalent: refused
    with django_capture_on_commit_callbacks(execute=True):
        batch = migration_batch_start(
            actor=starter,
            organization=starter.organization,
            rows=[{"subscription_id": str(s.subscription_id)} for s in chosen],
            external_reference_id="Q3-move",
        )
        RoleAssignment.objects.filter(user=starter).update(role=Role.HELPDESK_AGENT)

    job = JobRun.objects.get(pk=batch.job_id)
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"completed": 3, "failed": 0, "rejected": 1, "add_ons": 0}
    told = _emails(people, "alice", "sales", "agent") | {starter.email}
    # Never the Developer, Bob, the Helpdesk agent, nor Charlie of Beta.
    assert _told(MIGRATION_BATCH_DONE) == told
    assert not _told(MIGRATION_BATCH_FAILED)
    received = _by_recipient(smtp_server)
    assert set(received) == told
    message = received[starter.email][0]
    assert _subject(message) == f"{ALPHA} Migration batch Q3-move done: 3 of 4 migrated"
    text = _text(message)
    assert "3 subscriptions moved to new commerce and 1 refused as not eligible" in text
    assert f"https://portal.test/commerce/batches/{batch.pk}/" in text

    # The task redelivered (or run again by hand) tells nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        migration_batch_run(job_id=batch.job_id)
    assert len(smtp_server.messages()) == len(told)


def test_a_batch_with_failed_migrations_is_told_as_failed(
    catalog, us_customer, people, starter, monkeypatch, smtp_server, django_capture_on_commit_callbacks
):
    def vendor_down(plans, *, now):
        raise RuntimeError("the vendor's order API timed out")

    monkeypatch.setattr(engine, "provision", vendor_down)
    chosen = [_renewing(us_customer, days=30 + n) for n in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        batch = migration_batch_start(
            actor=starter,
            organization=starter.organization,
            rows=[{"subscription_id": str(s.subscription_id)} for s in chosen],
            external_reference_id="Q3-down",
        )

    assert JobRun.objects.get(pk=batch.job_id).result["failed"] == 2
    told = _emails(people, "alice", "sales", "agent") | {starter.email}
    assert _told(MIGRATION_BATCH_FAILED) == told
    assert not _told(MIGRATION_BATCH_DONE)
    message = _by_recipient(smtp_server)[people["agent"].email][0]
    assert _subject(message) == f"{ALPHA} Migration batch Q3-down: 2 of 2 migrations failed"
    assert "stay active on the legacy platform" in _text(message)


def test_a_batch_whose_job_stops_is_told_as_failed_with_the_error(
    catalog, us_customer, people, starter, monkeypatch, smtp_server, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(batches, "migrate_chunk", broken)
    chosen = [_renewing(us_customer)]
    with django_capture_on_commit_callbacks():  # the job is queued, not run
        batch = migration_batch_start(
            actor=starter,
            organization=starter.organization,
            rows=[{"subscription_id": str(s.subscription_id)} for s in chosen],
            external_reference_id="Q3-broken",
        )
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        migration_batch_task(batch.job_id)  # the worker runs it

    job = JobRun.objects.get()
    assert job.status == JobStatus.FAILED  # by the job's task
    assert _told(MIGRATION_BATCH_FAILED) == _emails(people, "alice", "sales", "agent") | {starter.email}
    message = _by_recipient(smtp_server)[starter.email][0]
    assert _subject(message) == f"{ALPHA} Migration batch Q3-broken failed"
    text = _text(message)
    assert "The batch stopped with an error: RuntimeError: database unavailable." in text
    assert "So far 0 subscriptions moved to new commerce of 1." in text


# --- Vendor-led waves --------------------------------------------------------------------------------


@pytest.fixture
def wave_estate(catalog, org_a, org_b):
    commercial = CustomerFactory(organization=org_a, country="US", segment="commercial")
    commercial_b = CustomerFactory(organization=org_b, country="GB", segment="commercial")
    return {
        "first_day": legacy(commercial, "premium", term_end=date(2024, 1, 11)),
        "later": legacy(commercial, "e3", term_end=date(2024, 3, 31)),
        "no_equivalent": legacy(commercial, "business_voice", term_end=date(2024, 1, 12)),
        "beta": legacy(commercial_b, "basic", quantity=7, term_end=date(2024, 1, 15)),
        "customer": commercial,
    }


def test_the_wave_ahead_is_told_at_most_once_a_month_per_wave(
    wave_estate, org_a, org_b, people, smtp_server, django_capture_on_commit_callbacks
):
    def warn(on: date) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            migration_wave_warn(wave="commercial", on=on)

    warn(date(2023, 12, 20))  # before the warning window
    assert not Notification.objects.exists()
    warn(date(2024, 1, 1))
    warn(date(2024, 1, 2))  # the daily check again: the same set, the same wave start

    alpha = _emails(people, "alice", "sales", "agent")  # not the Developer, Bob nor the Helpdesk
    assert _told(WAVE_WARNING, org_a) == alpha
    assert _told(WAVE_WARNING, org_b) == {people["charlie"].email}
    received = _by_recipient(smtp_server)
    assert set(received) == alpha | {people["charlie"].email}
    [message] = received[people["sales"].email]
    assert _subject(message) == (
        f"{ALPHA} 2 legacy subscriptions move to new commerce in the vendor-led commercial wave"
    )
    text = _text(message)
    assert "The first of yours moves on 12 January 2024." in text
    assert "https://portal.test/commerce/subscriptions/?status=active&migrated=false" in text
    [beta] = received[people["charlie"].email]
    assert (
        _subject(beta)
        == f"{BETA} 1 legacy subscription moves to new commerce in the vendor-led commercial wave"
    )

    # Another subscription renewing in the wave the same month: warned already, not flooded.
    legacy(wave_estate["customer"], "basic", term_end=date(2024, 2, 1))
    warn(date(2024, 1, 3))
    assert Notification.objects.filter(category=WAVE_WARNING.code, organization=org_a).count() == len(alpha)
    assert len(_by_recipient(smtp_server)[people["alice"].email]) == 1


# --- Price lists -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def vendor_staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="pricing@vendor.example")


def _import(vendor_staff, capture, content: bytes = CURRENT) -> JobRun:
    from commerce.services import price_list_import_start  # noqa: PLC0415

    with capture(execute=True):
        job = price_list_import_start(actor=vendor_staff, upload=_upload(content), is_preview=False)
    job.refresh_from_db()
    return job


def test_a_new_price_list_is_told_to_the_pricing_viewers_of_every_organization(
    org_a, org_b, people, vendor_staff, smtp_server, django_capture_on_commit_callbacks
):
    nobody_to_tell = OrganizationFactory(legal_name="Gamma Helpdesk Ltd")
    UserFactory(organization=nobody_to_tell, email="help@gamma.example", roles=[Role.HELPDESK_AGENT])

    job = _import(vendor_staff, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    price_list = PriceList.objects.get()
    pricing = _emails(people, "alice", "sales", "agent", "developer")  # not Bob nor the Helpdesk agent
    assert _told(PRICE_LIST_PUBLISHED, org_a) == pricing
    assert _told(PRICE_LIST_PUBLISHED, org_b) == {people["charlie"].email}
    assert not Notification.objects.filter(organization=nobody_to_tell).exists()
    assert set(Notification.objects.values_list("event_key", flat=True)) == {
        f"commerce.price_list_published:{price_list.pk}"
    }
    received = _by_recipient(smtp_server)
    assert set(received) == pricing | {people["charlie"].email}
    [message] = received[people["charlie"].email]
    assert _subject(message) == f"{BETA} New price list: US price list April 2025"
    text = _text(message)
    assert "The vendor published the US price list for April 2025: 9 prices in USD" in text
    assert f"https://portal.test/commerce/price-lists/{price_list.pk}/" in text
    assert _subject(received[people["developer"].email][0]).startswith(ALPHA)

    # The same file again is the same list: nobody hears of it twice; nor when raised again.
    again = _import(vendor_staff, django_capture_on_commit_callbacks)
    assert again.result["price_list"] == "unchanged"
    with django_capture_on_commit_callbacks(execute=True):
        assert price_list_published_notify(price_list) == 0
    assert len(smtp_server.messages()) == len(pricing) + 1


def test_the_price_list_fan_out_is_one_query_for_the_organizations_then_one_notify_each(
    org_a, org_b, people, django_capture_on_commit_callbacks
):
    from tests.factories import PriceListFactory  # noqa: PLC0415

    def queries_for(price_list) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks():
            told = price_list_published_notify(price_list)
        return len(captured.captured_queries), told

    two_orgs, told = queries_for(PriceListFactory())
    assert told == 5  # Alpha's four pricing viewers and Charlie
    # Three more organizations, each with three pricing viewers and someone who is not one.
    for number in range(3):
        organization = OrganizationFactory()
        for role in (Role.SALES_AGENT, Role.DEVELOPER, Role.BILLING_ADMIN, Role.HELPDESK_AGENT):
            UserFactory(organization=organization, roles=[role], email=f"{role}{number}@more.example")
    five_orgs, told = queries_for(PriceListFactory())
    assert told == 5 + 3 * 3
    per_organization = (five_orgs - two_orgs) / 3
    assert per_organization == int(per_organization) and per_organization <= 4
    assert two_orgs == 1 + 2 * per_organization
