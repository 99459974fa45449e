"""Security: the tenant's settings, MFA figures for every customer tenant, Azure budgets, two years
of alerts, one GDAP relationship per customer (in every status, with its roles and, when live, an
access assignment), legacy DAP links, program verification, compliance training and the daily
score history.

GDAP relationship c is customer c's. Its status is (31c mod 100) through STATUSES: live ones were
activated within the last two years and end in the future (expiring ones within 30 days), expired
ones ended, requests are recent. Their history rows are the triggers' (django-pghistory), dated as
the relationships.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.choices import ActionItemCode, Severity
from accounts.models import ActionItem
from home.scale.base import MONTHS, Chunk, Context, analyze, history_append, insert_select
from portal.roles import Role
from security.choices import (
    DAP_CREATION_ENDED,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    AlertStatus,
    AlertType,
    CheckKind,
    CheckStatus,
    GdapStatus,
    Program,
)
from security.models import (
    CustomerAzureSubscription,
    CustomerMfaStat,
    DapRelationship,
    EntraRole,
    GdapAccessAssignment,
    GdapRelationship,
    ProgramEnrollment,
    SecurityAlert,
    SecurityScoreSnapshot,
    TrainingAssignment,
    TrainingCourse,
    VerificationCheck,
)
from security.services.compliance import check_transition, document_upload, program_enroll
from security.services.requirements import (
    security_requirements_sync_action_items,
    security_score,
    security_snapshot_take,
)
from security.services.settings import security_settings_update
from security.verification.assist.facts import ProfileFacts
from security.verification.samples.documents import sample_document

__all__ = ("chunks",)

G = GdapStatus
STATUSES = [G.ACTIVE] * 55 + [G.EXPIRING] * 5 + [G.EXPIRED] * 12 + [G.TERMINATED] * 8 + [
    G.APPROVAL_PENDING
] * 6 + [G.CREATED] * 5 + [G.APPROVED] * 3 + [G.ACTIVATING] * 2 + [G.TERMINATION_REQUESTED] * 2 + [
    G.TERMINATING
] * 2  # fmt: skip
#: Least-privileged role sets; every twentieth relationship also holds Global Administrator.
ROLE_SETS = [
    ("Helpdesk", ["Helpdesk Administrator", "Directory Readers", "User Administrator"]),
    ("Licensing", ["License Administrator", "Directory Readers"]),
    ("Support", ["Service Support Administrator", "Directory Readers", "Global Reader"]),
    ("Apps", ["Application Administrator", "Cloud Application Administrator"]),
]
GROUPS = ["Helpdesk-L1", "Helpdesk-L2", "Licensing desk", "Cloud operations"]
ALERT_TYPES = [AlertType.UNUSUAL_SIGN_IN, AlertType.SPENDING_ANOMALY, AlertType.LEAKED_CREDENTIALS,
               AlertType.CRYPTO_MINING, AlertType.MALWARE, AlertType.OTHER]  # fmt: skip
ALERT_TITLES = [
    "Sign-in from an unfamiliar country for an admin agent",
    "Azure spending 4× the daily average",
    "Credentials of a customer admin found in a leak",
    "Possible crypto-mining on a customer subscription",
    "Malware detected on a customer device",
    "Unusual number of role changes",
]


def chunks(ctx: Context) -> list[Chunk]:
    plan = ctx.plan
    return [
        Chunk("security.tenant", 1, lambda: _tenant(ctx)),
        Chunk("security.customers", plan.customers, lambda: _customers(ctx)),
        Chunk("security.gdap", plan.gdap_relationships, lambda: _gdap(ctx)),
        Chunk("security.compliance", 1, lambda: _compliance(ctx)),
        Chunk("security.score", 1, lambda: _score(ctx)),
    ]


def _tenant(ctx: Context) -> int:
    """Settings (a security contact, conditional access), alerts over two years (answered within
    hours, the last few still open)."""
    security_settings_update(
        actor=ctx.owner,
        organization=ctx.organization,
        security_contact_name="Wide World Security Operations",
        security_contact_email=f"soc@{ctx.plan.domain}",
        security_contact_phone="+49 89 1234567",
        conditional_access_requires_mfa=True,
        conditional_access_policy_count=7,
    )
    count = max(6, ctx.plan.customers // 20)
    return insert_select(
        SecurityAlert,
        {
            "organization": "%(org)s",
            "alert_id": ctx.plan.uuid_sql("alert", "x.n"),
            "customer": "c.id",
            "alert_type": "(%(types)s::text[])[1 + x.n %% cardinality(%(types)s::text[])]",
            "title": "(%(titles)s::text[])[1 + x.n %% cardinality(%(titles)s::text[])]",
            "created_at": "x.created",
            "responded_at": "CASE WHEN x.open THEN NULL ELSE x.created + (1 + x.n %% 20) * interval "
            "'1 hour' END",
            "responded_by": "CASE WHEN x.open THEN NULL ELSE %(owner)s::bigint END",
            "response_note": """CASE WHEN x.open THEN '' WHEN x.n %% 3 = 0
                                     THEN 'Checked with the customer; the activity is expected.'
                                     ELSE 'Password reset, sessions revoked, MFA re-registered.' END""",
            "status": f"""CASE WHEN x.open THEN '{AlertStatus.ACTIVE}' WHEN x.n %% 3 = 0 THEN
                '{AlertStatus.DISMISSED}'
                               ELSE '{AlertStatus.RESOLVED}' END""",
        },
        f"""WITH c AS ({ctx.customers_sql()}),
                 x AS (SELECT n, now() - (%(span)s * (1 - n::float / %(count)s) + 0.1) * interval '1 day' AS
                     created,
                              n > %(count)s - 3 AS open
                         FROM generate_series(1, %(count)s) AS n)
            FROM x JOIN c ON c.idx = (x.n * 37) %% %(customers)s""",
        {
            "org": ctx.org,
            "owner": ctx.owner.pk,
            "types": [str(t) for t in ALERT_TYPES],
            "titles": ALERT_TITLES,
            "span": MONTHS * 30,
            "count": count,
            "customers": ctx.plan.customers,
        },
    )


def _customers(ctx: Context) -> int:
    """Every customer's MFA figures (one admin in four without MFA at every eighth customer), Azure
    subscriptions of half the commercial customers (budgets on seven in ten), DAP links of the
    customers older than the end of DAP (most already removed)."""
    params = {"org": ctx.org, "owner": ctx.owner.pk, "ended": DAP_CREATION_ENDED}
    customers = f"WITH c AS ({ctx.customers_sql()})"
    written = insert_select(
        CustomerMfaStat,
        {
            "organization": "%(org)s",
            "customer": "c.id",
            "admins_with_mfa": "CASE WHEN c.idx %% 8 = 3 THEN a.admins - 1 ELSE a.admins END",
            "admins_total": "a.admins",
            "non_admins_with_mfa": "(a.users - a.admins) * (40 + c.idx %% 61) / 100",
            "users_total": "a.users",
            "security_defaults_on": "c.idx %% 3 = 0",
            "ca_policies_count": "c.idx %% 5",
            "checked_at": "now() - (c.idx %% 10) * interval '1 day'",
        },
        f"""{customers} FROM c CROSS JOIN LATERAL (SELECT 2 + c.idx %% 5 AS admins,
                  2 + c.idx %% 5 + greatest(5, coalesce(c.employee_count, 50)) AS users) a""",
        params,
    )
    insert_select(
        CustomerAzureSubscription,
        {
            "organization": "%(org)s",
            "customer": "c.id",
            "subscription_id": "md5(c.tenant_id::text || ':azure')::uuid",
            "display_name": "'Azure plan – ' || c.name",
            "budget_amount": "CASE WHEN c.idx %% 10 < 7 THEN (500 + (c.idx * 37) %% 20000)::numeric END",
            "budget_currency": "CASE WHEN c.idx %% 10 < 7 THEN 'USD' ELSE '' END",
            "checked_at": "now() - (c.idx %% 7) * interval '1 day'",
        },
        f"{customers} FROM c WHERE c.segment = 'commercial' AND c.idx %% 2 = 0",
        params,
    )
    insert_select(
        DapRelationship,
        {
            "organization": "%(org)s",
            "customer": "c.id",
            "established_at": "least(c.created_at, %(ended)s::timestamptz - interval '1 day') - interval "
            "'30 days'",
            "detected_at": "%(ended)s::timestamptz + interval '10 days'",
            "last_activity_at": "now() - (20 + c.idx %% 300) * interval '1 day'",
            "removed_at": "CASE WHEN c.idx %% 5 < 3 THEN now() - (c.idx %% 400) * interval '1 day' END",
            "removed_by": "CASE WHEN c.idx %% 5 < 3 THEN %(owner)s::bigint END",
        },
        f"{customers} FROM c WHERE c.idx %% 10 = 1",
        params,
    )
    return written


def _gdap(ctx: Context) -> int:
    plan = ctx.plan
    roles = {role.display_name: str(role.pk) for role in EntraRole.objects.all()}
    role_sets = [[roles[name] for name in names] for _label, names in ROLE_SETS]
    width = max(len(role_set) for role_set in role_sets)
    params = {
        "org": ctx.org,
        "owner": ctx.owner.pk,
        "count": plan.gdap_relationships,
        "customers": plan.customers,
        "statuses": [str(s) for s in STATUSES],
        "labels": [label for label, _ in ROLE_SETS],
        # Role set i's roles at positions width·i + 1 …, padded with NULL.
        "roles": [role for role_set in role_sets for role in role_set + [None] * (width - len(role_set))],
        "width": width,
        "sets": len(role_sets),
        "global_admin": GLOBAL_ADMINISTRATOR_ROLE_ID,
        "groups": GROUPS,
    }
    written = insert_select(
        GdapRelationship,
        {
            "organization": "%(org)s",
            "relationship_id": plan.uuid_sql("gdap", "x.n") + "::text",
            "customer": "x.customer_id",
            "display_name": "left((%(labels)s::text[])[1 + x.n %% %(sets)s] || ' ' || x.name, 50)",
            "duration": "x.duration",
            "auto_extend_duration": "CASE WHEN x.n %% 5 < 2 AND x.n %% 20 <> 0 AND x.status <> 'expiring' "
            "THEN interval '180 days' ELSE interval '0' END",
            "status": "x.status",
            "is_default_template": "x.n %% 25 = 0",
            "created_at": "x.created",
            "locked_for_approval_at": "CASE WHEN x.activated IS NOT NULL OR x.status IN ('approvalPending', "
            "'approved', "
            "'activating') THEN x.created + interval '1 hour' END",
            "activated_at": "x.activated",
            "last_modified_at": "coalesce(x.ended, x.activated, x.created)",
            "end_at": "coalesce(x.ended, x.activated + x.duration)",
            "created_by": "%(owner)s",
        },
        f"""WITH c AS ({ctx.customers_sql()}),
            s AS (SELECT n, (%(statuses)s::text[])[1 + (n * 31) %% cardinality(%(statuses)s::text[])] AS
                status
                    FROM generate_series(0, %(count)s - 1) AS n),
            x AS (
                SELECT s.n, s.status, c.id AS customer_id, c.name,
                       CASE WHEN s.status = 'expired' THEN interval '365 days' ELSE interval '730 days' END
                           AS duration,
                       CASE s.status
                           WHEN 'active' THEN now() - (1 + (s.n * 13) %% 700) * interval '1 day'
                           WHEN 'expiring' THEN now() + (1 + s.n %% 30) * interval '1 day' - interval
                               '730 days'
                           WHEN 'expired' THEN now() - (1 + s.n %% 300) * interval '1 day' - interval
                               '365 days'
                           WHEN 'terminated' THEN now() - (200 + s.n %% 400) * interval '1 day'
                           WHEN 'terminationRequested' THEN now() - (100 + s.n %% 300) * interval '1 day'
                           WHEN 'terminating' THEN now() - (100 + s.n %% 300) * interval '1 day'
                       END AS activated,
                       CASE WHEN s.status = 'terminated' THEN now() - (1 + s.n %% 150) * interval '1 day'
                           END AS ended
                  FROM s JOIN c ON c.idx = s.n %% %(customers)s)
            FROM (SELECT x.*, coalesce(x.activated - interval '2 days',
                                       now() - (1 + x.n %% 60) * interval '1 day') AS created FROM x) x""",
        params,
    )
    # Their roles: the set's roles, plus Global Administrator for every twentieth.
    through = GdapRelationship.roles.through
    relationships = """FROM security_gdaprelationship g
        CROSS JOIN LATERAL (SELECT substr(g.display_name, 1, strpos(g.display_name, ' ') - 1) AS label) l
        CROSS JOIN LATERAL (SELECT array_position(%(labels)s::text[], l.label) - 1 AS i) si
        CROSS JOIN generate_series(1, %(width)s) AS k
        WHERE g.organization_id = %(org)s AND (%(roles)s::uuid[])[%(width)s * si.i + k] IS NOT NULL"""
    insert_select(
        through,
        {"gdaprelationship": "g.id", "entrarole": "(%(roles)s::uuid[])[%(width)s * si.i + k]"},
        relationships,
        params,
    )
    insert_select(
        through,
        {"gdaprelationship": "g.id", "entrarole": "%(global_admin)s::uuid"},
        f"FROM security_gdaprelationship g WHERE g.organization_id = %(org)s AND g.relationship_id IN "
        f"(SELECT {plan.uuid_sql('gdap', 'n')}::text FROM generate_series(0, %(count)s - 1, 20) AS n)",
        params,
    )
    # Live relationships give their first role to a security group of the partner's agents.
    insert_select(
        GdapAccessAssignment,
        {
            "organization": "%(org)s",
            "assignment_id": "md5(g.relationship_id || ':assignment')::uuid::text",
            "relationship": "g.id",
            "security_group_id": "md5(%(org)s || ':group:' || (g.id %% 4))::uuid",
            "security_group_name": "(%(groups)s::text[])[1 + g.id %% 4]",
            "status": "'active'",
            "created_at": "g.activated_at + interval '1 hour'",
            "last_modified_at": "g.activated_at + interval '1 hour'",
        },
        "FROM security_gdaprelationship g WHERE g.organization_id = %(org)s AND g.status IN ('active', "
        "'expiring')",
        params,
    )
    insert_select(
        GdapAccessAssignment.roles.through,
        {"gdapaccessassignment": "a.id", "entrarole": "min_role.role"},
        """FROM security_gdapaccessassignment a
           CROSS JOIN LATERAL (SELECT entrarole_id AS role FROM security_gdaprelationship_roles r
                                WHERE r.gdaprelationship_id = a.relationship_id ORDER BY r.id LIMIT 1)
                                    min_role
           WHERE a.organization_id = %(org)s""",
        params,
    )
    _gdap_history(ctx)
    # What the daily job raises for relationships ending within 30 days that don't auto-extend.
    insert_select(
        ActionItem,
        {
            "organization": "%(org)s",
            "code": f"'{ActionItemCode.GDAP_EXPIRING}'",
            "severity": f"CASE WHEN g.end_at < now() + interval '7 days' THEN '{Severity.HIGH}' ELSE "
            f"'{Severity.MEDIUM}' END",
            "title": "left('GDAP relationship “' || g.display_name || '” with ' || c.name || ' ends on ' "
            "|| to_char(g.end_at, 'YYYY-MM-DD'), 200)",
            "body": "'It does not auto-extend. Turn on the auto-extension or renew it, or your access to the "
            "customer''s tenant stops.'",
            "due_at": "g.end_at",
            "target_url": "'/security/gdap/' || g.id || '/'",
            "audience_roles": f"ARRAY['{Role.ADMIN_AGENT}']::varchar[]",
            "dedupe_key": "'gdap-expiring:' || g.relationship_id",
        },
        """FROM security_gdaprelationship g JOIN accounts_customer c ON c.id = g.customer_id
           WHERE g.organization_id = %(org)s AND g.status = 'expiring'""",
        params,
        conflict="ON CONFLICT DO NOTHING",
    )
    return written


def _gdap_history(ctx: Context) -> int:
    """Each relationship's history as security.services.gdap writes it (its end date and
    auto-extension in the data): the request, the activation, and where it ended."""
    data = """jsonb_build_object(
        'end_at', {end_at},
        'auto_extend_duration', CASE WHEN g.auto_extend_duration > interval '0'
                                     THEN 'P' || extract(day FROM g.auto_extend_duration) || 'D'
                                     ELSE 'PT0S' END)"""
    end_at = "to_char(g.end_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    return history_append(
        GdapRelationship,
        f"""SELECT g.organization_id, g.id, g.created_at, g.created_by_id, '', 'created', 'Created',
                   {data.format(end_at="NULL")}
              FROM security_gdaprelationship g WHERE g.organization_id = %(org)s
            UNION ALL
            SELECT g.organization_id, g.id, g.activated_at, NULL, 'approvalPending', 'active',
                   'Approved by the customer', {data.format(end_at=end_at)}
              FROM security_gdaprelationship g
             WHERE g.organization_id = %(org)s AND g.activated_at IS NOT NULL
            UNION ALL
            SELECT g.organization_id, g.id, least(g.end_at, now()) - interval '1 minute', NULL, 'active',
                   g.status, '', {data.format(end_at=end_at)}
              FROM security_gdaprelationship g
             WHERE g.organization_id = %(org)s AND g.activated_at IS NOT NULL AND g.status <> 'active'
            UNION ALL
            SELECT g.organization_id, g.id, g.created_at + interval '1 hour', g.created_by_id, 'created',
                   g.status, 'Sent to the customer for approval', {data.format(end_at="NULL")}
              FROM security_gdaprelationship g
             WHERE g.organization_id = %(org)s AND g.activated_at IS NULL AND g.status <> 'created'""",
        {"org": ctx.org},
    )


def _compliance(ctx: Context) -> int:
    """Verification of the two programs (all checks verified but the CSP program's address), and
    the four compliance courses for every active person (half done, a tenth overdue)."""
    verified = {
        CheckKind.EMAIL,
        CheckKind.EMPLOYMENT,
        CheckKind.DOMAIN,
        CheckKind.BUSINESS,
        CheckKind.IDENTITY,
    }
    for number, program in enumerate([Program.AI_CLOUD_PARTNER_PROGRAM, Program.CSP_DIRECT_BILL]):
        enrollment = ProgramEnrollment.objects.filter(organization=ctx.organization, program=program).first()
        if enrollment is None:
            enrollment = program_enroll(actor=ctx.owner, organization=ctx.organization, program=program)
        for check in VerificationCheck.objects.filter(enrollment=enrollment).order_by("kind"):
            if check.status == CheckStatus.NOT_STARTED:
                check = check_transition(actor=None, check=check, to_status=CheckStatus.PENDING)
            if check.kind in verified or (check.kind == CheckKind.ADDRESS and number == 0):
                check_transition(actor=None, check=check, to_status=CheckStatus.VERIFIED)
            elif check.kind == CheckKind.ADDRESS:
                check = check_transition(
                    actor=None,
                    check=check,
                    to_status=CheckStatus.ACTION_REQUIRED,
                    reason="The address could not be matched with public records. Upload a utility bill or "
                    "bank statement at most 90 days old.",
                )
                # The partner uploaded a bill that is too old: the assisted check says so.
                sample = sample_document(
                    "old",
                    profile=ProfileFacts.from_organization(ctx.organization),
                    today=ctx.plan.today,
                    seed=7,
                    check_kind=CheckKind.ADDRESS,
                )
                document_upload(
                    actor=ctx.owner,
                    check=check,
                    doc_type=sample.declared_type,
                    upload=SimpleUploadedFile(f"utility-bill.{sample.file_type}", sample.data),
                )
    courses = list(
        TrainingCourse.objects.filter(is_active=True).order_by("code").values_list("pk", flat=True)
    )
    return insert_select(
        TrainingAssignment,
        {
            "organization": "%(org)s",
            "course": "course",
            "user": "p.id",
            "assigned_by": "%(owner)s",
            "assigned_at": "now() - (30 + (p.idx * 7 + course) %% 300) * interval '1 day'",
            "due_on": """CASE WHEN (p.idx + course) %% 10 = 0 THEN current_date - (1 + p.idx %% 20)::int
                              ELSE current_date + (1 + (p.idx * 3 + course) %% 60)::int END""",
            "completed_at": "CASE WHEN (p.idx + course) %% 2 = 1 THEN now() - (p.idx %% 25) * interval "
            "'1 day' END",
        },
        f"""WITH p AS ({ctx.people_sql()})
            FROM p JOIN accounts_user u ON u.id = p.id AND u.is_active
            CROSS JOIN unnest(%(courses)s::bigint[]) AS course""",
        {"org": ctx.org, "owner": ctx.owner.pk, "courses": courses},
    )


def _score(ctx: Context) -> int:
    """Today's score from the service (and the Action Center items it keeps in step), and a
    snapshot a day for the two years before, trending up to it."""
    analyze()
    snapshot = security_snapshot_take(ctx.organization, on=ctx.plan.today)
    security_requirements_sync_action_items(ctx.organization, security_score(ctx.organization))
    return insert_select(
        SecurityScoreSnapshot,
        {
            "organization": "%(org)s",
            "taken_on": "%(today)s::date - d",
            "score": "s.score",
            "earned": "least(%(possible)s, round(s.score * %(possible)s / 100.0)::int)",
            "possible": "%(possible)s",
            "authorization_ok": "%(authorization_ok)s",
            "requirements": "'[]'::jsonb",
            "taken_at": "(%(today)s::date - d)::timestamptz + interval '2 hours'",
        },
        """FROM generate_series(1, %(days)s) AS d
           CROSS JOIN LATERAL (SELECT least(100, greatest(0, %(score)s - d / 30 + (d %% 7) - 3))::int AS
               score) s""",
        {
            "org": ctx.org,
            "today": ctx.plan.today,
            "possible": snapshot.possible,
            "authorization_ok": snapshot.authorization_ok,
            "score": snapshot.score,
            "days": MONTHS * 30,
        },
        conflict="ON CONFLICT DO NOTHING",
    )
