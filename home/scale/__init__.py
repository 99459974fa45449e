"""The large partner: one organization the size of a big CSP partner, built set-based.

`seed_scale(scale)` builds, at scale 1, 2,000 people, 20,000 customers, 200,000 legacy and 200,000
new-commerce subscriptions, 5,000,000 earnings rows, 200,000 referrals, 50,000 claims and 20,000
GDAP relationships, with what they need around them (transactions, payments, opportunities,
migrations, reviews, history, audit, Action Center items, the security and membership figures),
over 24 months ending today. One module per workspace (`home`, `commerce`, `earnings`,
`incentives`, `cosell`, `security`, `membership`) lists its chunks; every chunk is an
`INSERT … SELECT` over generate_series (or a few service calls for one-per-organization rows) and
commits exactly once with its marker (see `home.scale.base`). The vendor data (catalog, price
lists, programs, activity catalogue) is the demo seed's, upserted by its own functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection

from home.scale.base import BASE_COUNTS, Chunk, Context, Plan, plan_for

__all__ = ("BASE_COUNTS", "ScaleReport", "counts_of", "plan_for", "seed_scale", "vacuum")

JOB_KIND = "accounts.seed_scale"
#: The big tables besides the earnings ones (see `vacuum`).
VACUUMED = (
    "accounts_customer",
    "accounts_auditevent",
    "accounts_actionitem",
    "commerce_legacysubscription",
    "commerce_ncesubscription",
    "commerce_migration",
    "cosell_referral",
    "incentives_claim",
    "incentives_opportunity",
    "security_gdaprelationship",
    "security_customermfastat",
    "portal_historyevent",
    "membership_marketplacelicense",
    "membership_vmimageusage",
    "membership_personcertification",
)


@dataclass
class ScaleReport:
    plan: Plan
    organization_id: int
    ran: list[tuple[str, float]] = field(default_factory=list)
    skipped: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(seconds for _key, seconds in self.ran)


def _chunks(ctx: Context) -> list[Chunk]:
    from home.scale import commerce, cosell, earnings, home, incentives, membership, security  # noqa: PLC0415

    return [
        Chunk("vendor", 1, lambda: _vendor_data(ctx)),
        *home.chunks(ctx),
        *commerce.chunks(ctx),
        *earnings.chunks(ctx),
        *incentives.chunks(ctx),
        *cosell.chunks(ctx),
        *security.chunks(ctx),
        *membership.chunks(ctx),
        Chunk("analyze", 1, _analyze),
    ]


def _vendor_data(ctx: Context) -> int:
    """The demo seed's vendor data (idempotent upserts) and the few rows the large partner adds."""
    from commerce.demo import commerce_demo_catalog  # noqa: PLC0415
    from earnings.demo import earnings_demo_exchange_rates, earnings_demo_programs  # noqa: PLC0415
    from home.scale import earnings  # noqa: PLC0415
    from incentives.demo import incentives_demo_catalogue  # noqa: PLC0415

    commerce_demo_catalog()
    earnings_demo_programs()
    earnings_demo_exchange_rates(seed=7, today=ctx.plan.today)
    incentives_demo_catalogue()
    earnings.vendor_levers()
    return 1


def _analyze() -> int:
    """Fresh planner statistics for the tables just filled (VACUUM, which also sets the visibility
    map for index-only scans, when not inside a transaction: see `earnings_vacuum`)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return 1


def counts_of(organization_id: int) -> dict[str, int]:
    """The headline counts of an organization, as `BASE_COUNTS` names them."""
    from accounts.models import Customer, User  # noqa: PLC0415
    from commerce.models import LegacySubscription, NceSubscription  # noqa: PLC0415
    from cosell.models import Referral  # noqa: PLC0415
    from earnings.models import Earning  # noqa: PLC0415
    from incentives.models import Claim  # noqa: PLC0415
    from security.models import GdapRelationship  # noqa: PLC0415

    scope = {"organization_id": organization_id}
    return {
        "users": User.objects.filter(**scope, is_service_account=False).count(),
        "customers": Customer.objects.filter(**scope).count(),
        "legacy_subscriptions": LegacySubscription.objects.filter(**scope).count(),
        "nce_subscriptions": NceSubscription.objects.filter(**scope).count(),
        "earnings": Earning.objects.filter(**scope).count(),
        "referrals": Referral.objects.filter(**scope).count(),
        "claims": Claim.objects.filter(**scope).count(),
        "gdap_relationships": GdapRelationship.objects.filter(**scope).count(),
    }


def seed_scale(
    scale: float = 1.0, *, progress: Callable[[str], None] | None = None, only: str | None = None
) -> ScaleReport:
    """Build (or finish building) the large partner at `scale`; a finished build is left as is.

    The build's day is fixed by its first run (kept in the run's parameters), so a run resumed on
    a later day writes the rows an uninterrupted run would have written.
    """
    from home.scale.home import organization_ensure  # noqa: PLC0415
    from portal.choices import JobStatus  # noqa: PLC0415
    from portal.jobs import job_create, job_finish, job_run_chunks, job_start  # noqa: PLC0415
    from portal.models import JobChunk, JobRun  # noqa: PLC0415

    say = progress or (lambda _message: None)
    plan = plan_for(scale)
    organization = organization_ensure(plan)
    job = JobRun.objects.filter(kind=JOB_KIND, organization=organization).order_by("pk").first()
    if job is None:
        job = job_create(
            kind=JOB_KIND,
            organization_id=organization.pk,
            parameters={"scale": scale, "today": plan.today.isoformat()},
        )
    plan = plan_for(scale, today=date.fromisoformat(job.parameters["today"]))
    report = ScaleReport(plan=plan, organization_id=organization.pk)
    if job.status == JobStatus.SUCCEEDED:
        say(f"{plan.legal_name}: already built on {plan.today} (job {job.pk}); nothing to do")
        report.skipped = JobChunk.objects.filter(job=job).count()
        report.counts = dict(job.result.get("counts", {}))
        return report
    ctx = Context(plan, organization)
    chunks = _chunks(ctx)
    done = set(JobChunk.objects.filter(job=job).values_list("key", flat=True))
    job_start(job, total=sum(chunk.size for chunk in chunks))
    for chunk in chunks:
        if chunk.key in done:
            report.skipped += 1
            continue
        if only is not None and not chunk.key.startswith(only):
            continue
        started = time.perf_counter()
        job_run_chunks(job, [(chunk.key, chunk.size, chunk.work)])
        seconds = time.perf_counter() - started
        report.ran.append((chunk.key, seconds))
        say(f"{chunk.key:32} {chunk.size:>10,} rows  {seconds:7.1f}s")
    if only is None:
        report.counts = counts_of(organization.pk)
        job_finish(job, result={"counts": report.counts})
        if report.ran and not connection.in_atomic_block:
            started = time.perf_counter()
            vacuum()
            say(f"{'vacuum':32} {'':>10}       {time.perf_counter() - started:7.1f}s")
    return report


def vacuum() -> None:
    """VACUUM (ANALYZE) the tables the build filled: as autovacuum would in time, it sets the
    visibility map (index-only scans) and fresh statistics, so pages measured next meet the
    tables as a running portal has them. Outside a transaction only."""
    from home.scale.earnings import earnings_vacuum  # noqa: PLC0415

    earnings_vacuum()
    with connection.cursor() as cursor:
        for table in VACUUMED:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
