"""Approved claims → Earnings ledger through the payout run (spec/incentives.md §9, E1), and the
payment Sent → claim Completed hand-back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from earnings.choices import AdjustmentReason, EarningKind, EarningType, PartnerRole, PaymentStatus
from earnings.models import Earning, EarningSummary, Payment
from earnings.services.engine import payout_run_create, payout_run_execute
from earnings.services.payments import payment_status_change
from incentives.choices import ClaimStatus
from incentives.services.payouts import claim_earnings_write
from portal.history import history_for
from tests.factories import ExchangeRateFactory, OutcomeLinkFactory, TransactionFactory
from tests.incentives.test_payouts import ON, approved_claim, build_world

APRIL, MAY, JUNE = date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)


@pytest.fixture
def world(org_a):
    return build_world(org_a)


def run(period: date, actor=None) -> dict:
    return payout_run_execute(payout_run_create(period=period, actor=actor))


def claim_rows(claim) -> list[Earning]:
    return list(Earning.objects.filter(claim_id=claim.claim_id).order_by("earning_type", "revision"))


def test_it_writes_rebate_and_coop_for_an_approved_fixed_claim_e1(world, alice):
    claim = approved_claim(world, world["workshop"], customer=world["customer"], claim_id="CLM-2025-000123")

    result = run(APRIL, actor=alice)

    assert (result["claim_earnings"], result["claim_adjustments"], result["claims_waiting"]) == (2, 0, 0)
    coop, rebate = claim_rows(claim)
    assert (rebate.earning_type, rebate.earning_amount, rebate.earning_amount_usd) == (
        EarningType.REBATE,
        Decimal("3000"),
        Decimal("3000"),
    )
    assert (coop.earning_type, coop.earning_amount, coop.earning_amount_usd) == (
        EarningType.COOP,
        Decimal("2000"),
        Decimal("2000"),
    )
    assert rebate.estimated_payment_month == date(2025, 6, 1)
    assert coop.estimated_payment_month is None
    assert rebate.earning_id == "E-CLM-2025-000123-Rebate-1"
    for row in (rebate, coop):
        assert row.kind == EarningKind.EARNING
        assert row.claim_id == "CLM-2025-000123"
        assert row.transaction_id is None
        assert row.enrollment_id == world["enrollment"].pk
        assert row.program_id == world["program"].pk
        assert row.engagement_id == world["workshop"].engagement_id
        assert row.lever_id == world["workshop"].lever_id
        assert row.partner_role == PartnerRole.BUILD_INTENT
        assert row.solution_area == world["workshop"].engagement.solution_area
        assert (row.customer_id, row.customer_name) == (world["customer"].pk, "Fabrikam Ltd")
        assert row.earning_rate is None
        assert (row.currency, row.earning_exchange_rate) == ("USD", Decimal("1"))
        assert row.earning_date == ON
        assert row.payment_status == PaymentStatus.UNPROCESSED
        assert row.created_by_id == alice.pk
    # The claim's earnings are in the month's summary like any other earnings.
    assert EarningSummary.objects.filter(earning_month=APRIL, organization=world["organization"]).exists()


def test_it_records_the_rate_of_a_variable_claim(world):
    claim = approved_claim(world, world["migration"], opportunity=world["opportunity"])

    run(APRIL)

    coop, rebate = claim_rows(claim)
    assert (rebate.earning_amount_usd, coop.earning_amount_usd) == (Decimal("30000"), Decimal("20000"))
    assert rebate.earning_rate == Decimal("0.05")


def test_it_pays_in_the_enrollment_currency(world):
    world["enrollment"].payment_currency = "EUR"
    world["enrollment"].save()
    ExchangeRateFactory(currency="EUR", rate_date=date(2025, 3, 1), rate_to_usd=Decimal("1.0500"))
    ExchangeRateFactory(currency="EUR", rate_date=date(2025, 4, 1), rate_to_usd=Decimal("1.0850"))
    ExchangeRateFactory(currency="EUR", rate_date=date(2025, 4, 9), rate_to_usd=Decimal("1.2000"))
    claim = approved_claim(world, world["workshop"])

    run(APRIL)

    coop, rebate = claim_rows(claim)
    # 3,000 / 1.085 and 2,000 / 1.085: the rate in force on the approval day (8 April).
    assert (rebate.earning_amount, rebate.currency, rebate.earning_amount_usd) == (
        Decimal("2764.98"),
        "EUR",
        Decimal("3000"),
    )
    assert coop.earning_amount == Decimal("1843.32")
    assert (rebate.earning_exchange_rate, rebate.exchange_rate_date) == (Decimal("1.085"), date(2025, 4, 1))


def test_it_waits_for_a_rate_of_the_payment_currency(world):
    world["enrollment"].payment_currency = "JPY"
    world["enrollment"].save()
    approved_claim(world, world["workshop"])

    result = run(APRIL)

    assert (result["claim_earnings"], result["claims_waiting"]) == (0, 1)


def test_it_writes_only_claims_decided_by_the_period(world):
    april = approved_claim(world, world["workshop"])
    may = approved_claim(world, world["workshop"], decided=date(2025, 5, 2))
    not_approved = approved_claim(world, world["workshop"], status=ClaimStatus.UNDER_REVIEW)

    run(APRIL)

    assert len(claim_rows(april)) == 2
    assert claim_rows(may) == claim_rows(not_approved) == []
    run(MAY)
    assert len(claim_rows(may)) == 2


def test_a_rerun_writes_nothing(world):
    approved_claim(world, world["workshop"])
    approved_claim(world, world["migration"], opportunity=world["opportunity"])
    run(APRIL)
    before = list(Earning.objects.order_by("pk").values())

    result = run(APRIL)
    again = run(MAY)

    assert result["claim_earnings"] == result["claim_adjustments"] == again["claim_earnings"] == 0
    assert list(Earning.objects.order_by("pk").values()) == before


def test_a_changed_payout_writes_one_adjustment_per_earning_type(world):
    claim = approved_claim(world, world["migration"], opportunity=world["opportunity"])
    run(APRIL)
    # Phase 3: the claim is linked to the customer's resulting usage, USD 200,000 → 5 % = 10,000.
    OutcomeLinkFactory(
        organization=world["organization"],
        claim=claim,
        transaction=TransactionFactory(
            organization=world["organization"], transaction_amount_usd=Decimal("200000")
        ),
    )

    result = run(MAY)

    assert (result["claim_earnings"], result["claim_adjustments"]) == (0, 2)
    coop, coop_2, rebate, rebate_2 = claim_rows(claim)
    assert (rebate_2.kind, rebate_2.revision, rebate_2.earning_amount_usd) == (
        EarningKind.ADJUSTMENT,
        2,
        Decimal("-24000"),
    )
    assert coop_2.earning_amount_usd == Decimal("-16000")
    assert rebate_2.reason_code == AdjustmentReason.INCORRECT_CALCULATION
    assert rebate_2.note == (
        f"Claim {claim.claim_id} payout recalculated by the 2025-05 payout run: earned 30000.00, "
        "now 6000.00 USD"
    )
    assert sum(row.earning_amount_usd for row in claim_rows(claim)) == Decimal("10000")
    assert run(MAY)["claim_adjustments"] == 0


def test_a_claim_whose_payout_falls_to_zero_is_reversed(world):
    claim = approved_claim(world, world["workshop"])
    run(APRIL)
    zero_fee = world["workshop"].rates.get(market_tier="A")
    zero_fee.fixed_fee_usd = Decimal("0")
    zero_fee.save()

    result = run(MAY)

    assert result["claim_reversals"] == 2
    assert sum(row.earning_amount_usd for row in claim_rows(claim)) == 0


def test_it_writes_no_rows_for_a_zero_payout(world):
    world["migration"].annual_cap_usd = Decimal("0")
    world["migration"].save()
    claim = approved_claim(world, world["migration"], opportunity=world["opportunity"])

    run(APRIL)

    claim.refresh_from_db()
    assert claim.approved_payout_usd == 0
    assert claim_rows(claim) == []


def test_it_works_as_a_service_without_the_run(world):
    approved_claim(world, world["workshop"])

    assert claim_earnings_write(period=APRIL, job=None)["claim_earnings"] == 2
    assert claim_earnings_write(period=APRIL, job=None)["claim_earnings"] == 0


def test_a_sent_payment_completes_its_claims(world, alice):
    claim = approved_claim(world, world["workshop"])
    other = approved_claim(world, world["workshop"], decided=date(2025, 5, 20))
    run(APRIL)
    run(MAY)
    run(JUNE)  # April's rebate is due in June; May's in July.
    payment = Payment.objects.get()
    assert payment.earned_usd == Decimal("3000")
    assert {row.payment_id for row in claim_rows(claim)} == {None, payment.pk}  # co-op is not paid as cash

    payment_status_change(payment=payment, to_status=PaymentStatus.IN_PROGRESS, actor=alice)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    payment_status_change(payment=payment, to_status=PaymentStatus.SENT, actor=alice)

    claim.refresh_from_db()
    other.refresh_from_db()
    assert claim.status == ClaimStatus.COMPLETED
    assert other.status == ClaimStatus.APPROVED
    event = history_for(claim).get(to_status=ClaimStatus.COMPLETED)
    assert (event.from_status, event.actor, event.note) == (
        ClaimStatus.APPROVED,
        alice,
        f"Payment {payment.payment_id} sent.",
    )
    # A completed claim keeps its earnings: the next run changes nothing.
    assert run(JUNE)["claim_adjustments"] == 0


def test_a_claim_written_late_lands_in_its_approval_month_summary(world):
    world["enrollment"].payment_currency = "JPY"
    world["enrollment"].save()
    approved_claim(world, world["workshop"], decided=date(2025, 3, 20))
    assert run(date(2025, 3, 1))["claims_waiting"] == 1
    ExchangeRateFactory(currency="JPY", rate_date=date(2025, 3, 1), rate_to_usd=Decimal("0.0066"))

    result = run(APRIL)

    assert result["claim_earnings"] == 2
    march = EarningSummary.objects.filter(organization=world["organization"], earning_month=date(2025, 3, 1))
    assert sum(row.earning_amount_usd for row in march) == Decimal("5000")
