"""Membership: the program membership, certifications of a third of the people, training
deliveries, Surface assessments, a marketplace offer's billed sales, licenses and VM image usage,
the purchased benefit package, and the capability scores of the last eight weeks from the nightly
scoring (which also enrolls what the organization qualifies for).
"""

from __future__ import annotations

from datetime import date, timedelta

from earnings.periods import add_months, month_start
from home.scale.base import MONTHS, Chunk, Context, analyze, insert_select
from membership.choices import (
    AssessmentStatus,
    EnrollmentStatus,
    LicenseStatus,
    MembershipStatus,
    OsType,
    PackageSource,
)
from membership.demo import COURSES, SURFACE_ASSESSMENTS, SURFACE_PASS_MARK
from membership.models import (
    Certification,
    DesignationEnrollment,
    MarketplaceBilledSale,
    MarketplaceLicense,
    Membership,
    PersonCertification,
    SurfaceAssessment,
    TrainingDelivery,
    VmImageUsage,
)
from membership.services import benefits, designations, rewards, scoring

__all__ = ("chunks",)

MEMBER_SINCE = date(2009, 7, 1)
OFFERS = [
    ("wideworld.managed-desktop", "Wide World Managed Desktop"),
    ("wideworld.backup", "Wide World Backup"),
]
PLANS = [("standard", "Standard"), ("premium", "Premium")]
VM_PLANS = [("wwb-ubuntu-22-04", OsType.LINUX), ("wwb-windows-2022", OsType.WINDOWS)]
VM_VERSIONS = ["3.1.0", "3.2.4", "4.0.0"]
HISTORY_WEEKS = 8


def chunks(ctx: Context) -> list[Chunk]:
    return [
        Chunk("membership.people", ctx.plan.users, lambda: _people(ctx)),
        Chunk("membership.marketplace", ctx.plan.customers // 10, lambda: _marketplace(ctx)),
        Chunk("membership.scores", 1, lambda: _scores(ctx)),
    ]


def _people(ctx: Context) -> int:
    """Membership, certifications (one to three for every third person; some expired), training
    deliveries and Surface assessments."""
    today = ctx.plan.today
    anniversary = MEMBER_SINCE.replace(year=today.year)
    if anniversary < today:
        anniversary = anniversary.replace(year=today.year + 1)
    Membership.objects.get_or_create(
        organization=ctx.organization,
        defaults={
            "status": MembershipStatus.ACTIVE,
            "member_since": MEMBER_SINCE,
            "anniversary_date": anniversary,
        },
    )
    certifications = list(
        Certification.objects.exclude(level="trainer").order_by("code").values_list("pk", flat=True)
    )
    trainer = Certification.objects.filter(level="trainer").values_list("pk", flat=True).first()
    params = {
        "org": ctx.org,
        "certs": certifications,
        "trainer": trainer,
        "location_ids": [location.pk for location in ctx.locations],
        "today": today,
        "countries": [location.country for location in ctx.locations],
    }
    people = f"WITH p AS ({ctx.people_sql()})"
    written = insert_select(
        PersonCertification,
        {
            "organization": "%(org)s",
            "location": "(%(location_ids)s::bigint[])[1 + p.idx %% cardinality(%(location_ids)s::bigint[])]",
            "learner_name": "p.display_name",
            "email": "p.email",
            "certification": "CASE WHEN p.idx %% 97 = 5 AND k = 1 THEN %(trainer)s::bigint "
            "ELSE (%(certs)s::bigint[])[1 + (p.idx * 7 + k * 5) %% cardinality(%(certs)s::bigint[])] END",
            "earned_on": "%(today)s::date - (10 + (p.idx * 13 + k * 101) %% 1300)::int",
            "expires_on": "%(today)s::date - (10 + (p.idx * 13 + k * 101) %% 1300)::int + 365 "
            "+ CASE WHEN (p.idx + k) %% 9 = 0 THEN 0 ELSE 730 END",
        },
        f"{people} FROM p CROSS JOIN generate_series(1, 1 + p.idx %% 3) AS k WHERE p.idx %% 3 = 0",
        params,
        conflict="ON CONFLICT DO NOTHING",
    )
    insert_select(
        TrainingDelivery,
        {
            "organization": "%(org)s",
            "course_name": "(%(courses)s::text[])[1 + n %% cardinality(%(courses)s::text[])]",
            "delivered_on": "%(today)s::date - 5 - n * 12",
            "learners": "6 + (n * 7) %% 19",
            "satisfaction": "78 + (n * 11) %% 19",
        },
        "FROM generate_series(0, %(deliveries)s - 1) AS n",
        {**params, "courses": COURSES, "deliveries": MONTHS * 2},
    )
    insert_select(
        SurfaceAssessment,
        {
            "organization": "%(org)s",
            "location": "(%(location_ids)s::bigint[])[1 + p.idx %% cardinality(%(location_ids)s::bigint[])]",
            "learner_name": "p.display_name",
            "email": "p.email",
            "country": "(%(countries)s::text[])[1 + p.idx %% cardinality(%(countries)s::text[])]",
            "assessment_name": "(%(assessments)s::text[])[1 + p.idx %% cardinality(%(assessments)s::text[])]",
            "completed_on": "%(today)s::date - ((p.idx * 17) %% 700)::int",
            "score": "48 + (p.idx * 31) %% 52",
            "status": f"""CASE WHEN 48 + (p.idx * 31) %% 52 >= {SURFACE_PASS_MARK}
                               THEN '{AssessmentStatus.PASSED}' ELSE '{AssessmentStatus.FAILED}' END""",
        },
        f"{people} FROM p WHERE p.idx %% 2 = 1",
        {**params, "assessments": SURFACE_ASSESSMENTS},
    )
    return written


def _marketplace(ctx: Context) -> int:
    """Two marketplace offers: 24 months of billed sales (growing), a year of license rows for a
    tenth of the customers, six months of VM image usage; the Marketplace Rewards years they earn."""
    today = ctx.plan.today
    current = month_start(today)
    first = add_months(current, -MONTHS)
    params = {
        "org": ctx.org,
        "first": first,
        "months": MONTHS,
        "offer_ids": [offer for offer, _ in OFFERS],
        "offer_names": [name for _, name in OFFERS],
        "plan_ids": [plan for plan, _ in PLANS],
        "plan_names": [name for _, name in PLANS],
        "latest": add_months(current, -1),
        "customers": ctx.plan.customers,
        "statuses": [LicenseStatus.ACTIVE] * 8 + [LicenseStatus.SUSPENDED, LicenseStatus.CANCELLED],
    }
    insert_select(
        MarketplaceBilledSale,
        {
            "organization": "%(org)s",
            "billed_on": "(%(first)s::date + m * interval '1 month')::date",
            "offer_id": "(%(offer_ids)s::text[])[o]",
            "offer_name": "(%(offer_names)s::text[])[o]",
            "amount_usd": "round((8000 + 1500 * m) * CASE WHEN o = 1 THEN 0.8 ELSE 0.2 END * (0.94 + (m %% "
            "5) * 0.03), 2)",
        },
        "FROM generate_series(0, %(months)s - 1) AS m CROSS JOIN generate_series(1, 2) AS o",
        params,
    )
    written = insert_select(
        MarketplaceLicense,
        {
            "organization": "%(org)s",
            "date": "(%(latest)s::date - m * interval '1 month')::date",
            "offer_name": "(%(offer_names)s::text[])[1 + c.idx %% 2]",
            "offer_id": "(%(offer_ids)s::text[])[1 + c.idx %% 2]",
            "plan_name": "(%(plan_names)s::text[])[1 + (c.idx / 2) %% 2]",
            "plan_id": "(%(plan_ids)s::text[])[1 + (c.idx / 2) %% 2]",
            "customer_name": "c.name",
            "customer_tenant_id": "c.tenant_id",
            "country": "c.country",
            "licenses_purchased": "(ARRAY[10, 25, 50, 100, 250])[1 + c.idx %% 5]",
            "licenses_assigned": "(ARRAY[10, 25, 50, 100, 250])[1 + c.idx %% 5] * (55 + c.idx %% 46) / 100",
            "license_status": "CASE WHEN m = 0 THEN (%(statuses)s::text[])[1 + c.idx %% 10] ELSE 'Active' "
            "END",
            "subscription_id": "md5(c.tenant_id::text || ':marketplace')::uuid",
            "term_start": "(%(latest)s::date - interval '11 months')::date",
            "term_end": "(%(latest)s::date + interval '1 month' - interval '1 day')::date",
        },
        f"""WITH c AS ({ctx.customers_sql()})
            FROM c CROSS JOIN generate_series(0, 11) AS m WHERE c.idx %% 10 = 0""",
        params,
    )
    insert_select(
        VmImageUsage,
        {
            "organization": "%(org)s",
            "month": "(%(latest)s::date - m * interval '1 month')::date",
            "offer_name": "'Wide World Backup'",
            "plan_sku": "(%(vm_plans)s::text[])[pl]",
            "image_version": "(%(versions)s::text[])[v]",
            "os_type": "(%(os)s::text[])[pl]",
            "customer_count": "1 + (m * 7 + v * 3 + pl) %% 40",
            "deployments": "1 + (m * 7 + v * 3 + pl) %% 40 + (m + v) %% 12",
            "active_vms": "1 + (m * 7 + v * 3 + pl) %% 40 + (m + v) %% 6",
            "normalized_usage_hours": "(1 + (m * 7 + v * 3 + pl) %% 40) * 500 * CASE WHEN pl = 2 THEN 4 "
            "ELSE 2 END",
            "raw_usage_hours": "(1 + (m * 7 + v * 3 + pl) %% 40) * 500",
            "country": "(ARRAY['DE', 'GB', 'US', 'SE'])[1 + (m + v + pl) %% 4]",
            "is_latest_version": "v = 3",
        },
        "FROM generate_series(0, 5) AS m CROSS JOIN generate_series(1, 2) AS pl CROSS JOIN "
        "generate_series(1, 3) AS v "
        "WHERE NOT (v = 3 AND m > 3)",
        {
            **params,
            "vm_plans": [plan for plan, _ in VM_PLANS],
            "os": [os for _, os in VM_PLANS],
            "versions": VM_VERSIONS,
        },
    )
    # The anniversary job on the two anniversaries so far (the month after the first billed month).
    anchor = add_months(first, 1)
    for year in range(2):
        day = anchor.replace(year=anchor.year + year)
        if day <= today:
            rewards.rewards_anniversaries(day=day)
    return written


def _scores(ctx: Context) -> int:
    """The purchased Partner Success Core package; the nightly scoring of the last eight weeks (oldest
    first, as the job ran), then enrollment in every designation it found the partner eligible for."""
    today = ctx.plan.today
    analyze()
    benefits.package_grant(
        organization=ctx.organization,
        code="partner_success_core",
        source=PackageSource.PURCHASE,
        start=today - timedelta(days=90),
        actor=ctx.owner,
    )
    days = [today - timedelta(weeks=weeks) for weeks in range(HISTORY_WEEKS, 0, -1)] + [today]
    written = 0
    for day in days:
        written += scoring.recalculate_capability_scores(day=day, organization_ids=[ctx.org])
    for enrollment in DesignationEnrollment.objects.filter(
        organization=ctx.organization, status=EnrollmentStatus.ELIGIBLE
    ).order_by("designation"):
        designations.designation_enroll(
            actor=ctx.owner, organization=ctx.organization, designation=enrollment.designation
        )
    return written
