"""Home (accounts): the large organization, its locations and people with roles and second
factors, its customers, invitations, API clients, Action Center items and two years of audit log."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.choices import ActionItemCode, PartnerType, Severity
from accounts.demo import CUSTOMER_SUFFIXES, CUSTOMER_WORDS, DEMO_PASSWORD, backup_code_for, totp_key_for
from accounts.models import Invitation, Organization, PartnerLocation, RoleAssignment, User
from accounts.services import api_clients, people
from accounts.services.action_center import action_item_raise
from home.scale.base import MONTHS, Chunk, Context, Plan, insert_select
from home.scale.customers import customers_ensure
from portal.models import AuditEvent, JobRun
from portal.roles import Role

__all__ = ("LOCATIONS", "chunks", "organization_ensure")

#: Partner locations, headquarters first: one per country the partner transacts in.
LOCATIONS = ["DE", "GB", "FR", "NL", "SE", "ES", "IT", "PL", "US"]
#: Customers per location: the headquarters' country twice as often.
CUSTOMER_COUNTRIES = ["DE", "DE", "GB", "FR", "NL", "SE", "ES", "IT", "PL", "US", "AT", "CH"]
FIRST_NAMES = [
    "Anna", "Ben", "Chloe", "Dmitri", "Elif", "Finn", "Grace", "Hiro", "Ines", "Jonas", "Kavya", "Liam",
    "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Yara",
    "Zoe", "Aaron", "Bianca", "Carlos", "Dana", "Emil",
]  # fmt: skip
LAST_NAMES = [
    "Schmidt", "Okafor", "Dubois", "Ivanova", "Yilmaz", "Murphy", "Tanaka", "Garcia", "Novak", "Berg",
    "Patel", "Rossi", "Kowalski", "Andersson", "Silva", "Nguyen", "Fischer", "Brien", "Haddad", "Lund",
    "Meyer", "Costa", "Larsen", "Moreau", "Jansen",
]  # fmt: skip
#: The first people after the owner hold these roles, so even a small build has every admin.
FIRST_ROLES = [
    Role.ACCOUNT_ADMIN,
    Role.COMPLIANCE_ADMIN,
    Role.INCENTIVES_ADMIN,
    Role.REFERRALS_ADMIN,
    Role.ADMIN_AGENT,
    Role.BILLING_ADMIN,
    Role.USER_MANAGEMENT_ADMIN,
    Role.SALES_AGENT,
    Role.REFERRALS_USER,
    Role.INCENTIVES_USER,
    Role.HELPDESK_AGENT,
    Role.PARTNER_ADMIN,
    Role.BUSINESS_PROFILE_CONTRIBUTOR,
    Role.INCENTIVES_MARKETER,
    Role.EXECUTIVE_REPORT_VIEWER,
    Role.DEVELOPER,
    Role.GLOBAL_ADMIN,
]
#: The rest, weighted as a big CSP partner's staff: mostly agents and referral sellers.
ROLE_MIX = [
    *[Role.ADMIN_AGENT] * 6,
    *[Role.HELPDESK_AGENT] * 5,
    *[Role.SALES_AGENT] * 4,
    *[Role.REFERRALS_USER] * 4,
    *[Role.INCENTIVES_USER] * 2,
    Role.BILLING_ADMIN,
    Role.EXECUTIVE_REPORT_VIEWER,
    Role.BUSINESS_PROFILE_CONTRIBUTOR,
    Role.DEVELOPER,
    Role.REFERRALS_ADMIN,
]
#: Location-scoped roles are limited to the person's location every other time.
SCOPED = [Role.INCENTIVES_USER, Role.REFERRALS_USER, Role.INCENTIVES_MARKETER, Role.EXECUTIVE_REPORT_VIEWER]
AUDIT_ACTIONS = [
    ("customer.created", "accounts.customer"),
    ("user.roles_changed", "accounts.user"),
    ("claim.submitted", "incentives.claim"),
    ("referral.accepted", "cosell.referral"),
    ("referral.updated", "cosell.referral"),
    ("gdap.relationship_created", "security.gdaprelationship"),
    ("migration.created", "commerce.migration"),
    ("export.requested", "earnings.exportjob"),
    ("user.created", "accounts.user"),
    ("security.alert_responded", "security.securityalert"),
]
JOB_KINDS = [
    "earnings.payout_run",
    "earnings.export",
    "commerce.migration_batch",
    "cosell.referrals_import",
    "import:security.customer_mfa",
    "incentives.claim_reminders",
]


def organization_ensure(plan: Plan) -> Organization:
    """The organization, its locations and its owner (Owner + Global admin, with a TOTP device and
    a backup code derived as the demo's, so `seed_scale` can print a working login)."""
    organization = Organization.objects.filter(partner_global_id=plan.partner_global_id).first()
    if organization is not None:
        return organization
    with transaction.atomic():
        actor = User.objects.filter(email="admin@vendor.example").first()
        organization = people.organization_create(
            actor=actor,
            legal_name=plan.legal_name,
            partner_global_id=plan.partner_global_id,
            country="DE",
            partner_types=[PartnerType.DIRECT_BILL_CSP, PartnerType.SERVICES, PartnerType.TRAINING],
            website=f"https://{plan.domain}",
            address_line1="Weltstraße 1",
            city="Munich",
            postal_code="80331",
            company_size="1000+",
            primary_contact_first_name="Morgan",
            primary_contact_last_name="Owner",
            primary_contact_email=f"owner@{plan.domain}",
        )
        PartnerLocation.objects.bulk_create(
            PartnerLocation(
                organization=organization,
                partner_id=plan.location_partner_id(index),
                country=country,
                name=f"{plan.legal_name} ({country})",
                is_headquarters=index == 0,
            )
            for index, country in enumerate(LOCATIONS)
        )
        owner = people.user_create(
            actor=actor,
            organization=organization,
            email=f"owner@{plan.domain}",
            password=DEMO_PASSWORD,
            display_name="Morgan Owner",
            roles=[Role.OWNER, Role.GLOBAL_ADMIN],
        )
        TOTPDevice.objects.create(
            user=owner, name="Authenticator app", key=totp_key_for(7, owner.email), confirmed=True
        )
        device = StaticDevice.objects.create(user=owner, name="backup")
        StaticToken.objects.create(device=device, token=backup_code_for(7, owner.email))
    return organization


def chunks(ctx: Context) -> list[Chunk]:
    plan = ctx.plan
    return [
        Chunk("home.people", plan.users, lambda: _people(ctx)),
        Chunk("home.customers", plan.customers, lambda: _customers(ctx)),
        Chunk("home.extras", 1, lambda: _extras(ctx)),
        Chunk("home.audit", plan.audit_events, lambda: _audit(ctx)),
    ]


# --- People ---------------------------------------------------------------------------------------


def _people(ctx: Context) -> int:
    """Everyone but the owner: person n (2 … users) with a role (two for every fifth), a confirmed
    authenticator app for seven in eight, backup codes for every other, one in forty inactive."""
    plan = ctx.plan
    written = insert_select(
        User,
        {
            # An unusable password ("!…"): these people sign in through the organization's SSO.
            "password": "'!' || md5(%(prefix)s || n)",
            "is_superuser": "false",
            "email": "lower(first || '.' || last || n || '@' || %(domain)s)",
            "display_name": "first || ' ' || last",
            "is_staff": "false",
            "is_active": "n %% 40 <> 0",
            "is_service_account": "false",
            "date_joined": "now() - ((n * 7919) %% (%(months)s * 30)) * interval '1 day'",
            "organization": "%(org)s",
        },
        """FROM generate_series(2, %(users)s) AS n
           CROSS JOIN LATERAL (SELECT
               (%(firsts)s::text[])[1 + n %% cardinality(%(firsts)s::text[])] AS first,
               (%(lasts)s::text[])[1 + (n / cardinality(%(firsts)s::text[])) %%
                   cardinality(%(lasts)s::text[])]
                   AS last) AS names""",
        {
            "prefix": plan.prefix,
            "domain": plan.domain,
            "months": MONTHS,
            "org": ctx.org,
            "users": plan.users,
            "firsts": FIRST_NAMES,
            "lasts": LAST_NAMES,
        },
        conflict="ON CONFLICT (email) DO NOTHING",
    )
    locations = [location.pk for location in ctx.locations]
    people = f"WITH people AS ({ctx.people_sql()})"
    role_of = """CASE WHEN p.idx <= cardinality(%(first_roles)s::text[])
                      THEN (%(first_roles)s::text[])[p.idx]
                      ELSE (%(mix)s::text[])[1 + p.idx %% cardinality(%(mix)s::text[])] END"""
    params = {
        "first_roles": [str(role) for role in FIRST_ROLES],
        "mix": [str(role) for role in ROLE_MIX],
        "scoped": [str(role) for role in SCOPED],
        "locations": locations,
        "org": ctx.org,
    }
    for second in (False, True):
        role = role_of if not second else role_of.replace("p.idx", "(p.idx + 7)")
        insert_select(
            RoleAssignment,
            {
                "organization": "%(org)s",
                "user": "p.id",
                "role": "r.role",
                "location": """CASE WHEN r.role = ANY(%(scoped)s::text[]) AND p.idx %% 2 = 0
                                    THEN (%(locations)s::bigint[])[1 + p.idx %%
                                        cardinality(%(locations)s::bigint[])]
                               END""",
                "assigned_at": "now() - (p.idx %% 600) * interval '1 day'",
            },
            f"""{people} FROM people p CROSS JOIN LATERAL (SELECT {role} AS role) r
                WHERE p.idx > 0 {"AND p.idx %% 5 = 0" if second else ""}""",
            params,
            conflict="ON CONFLICT DO NOTHING",
        )
    insert_select(
        TOTPDevice,
        {
            "user": "p.id",
            "name": "'Authenticator app'",
            "confirmed": "true",
            "key": "md5(%(prefix)s || p.email) || substr(md5(p.email), 1, 8)",
            "step": "30",
            "t0": "0",
            "digits": "6",
            "tolerance": "1",
            "drift": "0",
            "last_t": "-1",
            "throttling_failure_count": "0",
            "created_at": "now()",
        },
        f"{people} FROM people p WHERE p.idx > 0 AND p.idx %% 8 <> 0",
        {"prefix": plan.prefix},
    )
    insert_select(
        StaticDevice,
        {
            "user": "p.id",
            "name": "'backup'",
            "confirmed": "true",
            "throttling_failure_count": "0",
            "created_at": "now()",
        },
        f"{people} FROM people p WHERE p.idx > 0 AND p.idx %% 2 = 0",
    )
    return written


def _customers(ctx: Context) -> int:
    """Customers over the organization's countries, each served by its country's location (the
    headquarters for countries without one), created over the last three years."""
    by_country = {location.country: location.pk for location in ctx.locations}
    headquarters = ctx.locations[0].pk
    start = timezone.make_aware(datetime.combine(ctx.plan.today - timedelta(days=3 * 365), time(9)))
    return customers_ensure(
        ctx.organization,
        ctx.plan.customers,
        words=CUSTOMER_WORDS,
        suffixes=CUSTOMER_SUFFIXES,
        countries=CUSTOMER_COUNTRIES,
        location_ids=[by_country.get(country, headquarters) for country in CUSTOMER_COUNTRIES],
        created_from=start,
        created_every=timedelta(days=3 * 365) / ctx.plan.customers,
    )


# --- Invitations, API clients, job history, Action Center -----------------------------------------


def _extras(ctx: Context) -> int:
    plan, owner = ctx.plan, ctx.owner
    invitations = max(3, plan.users // 80)
    insert_select(
        Invitation,
        {
            "organization": "%(org)s",
            "email": "'new.hire' || n || '@' || %(domain)s",
            "display_name": "'New hire ' || n",
            "roles": "ARRAY[(%(roles)s::text[])[1 + n %% cardinality(%(roles)s::text[])]]::varchar[]",
            "token": "md5(%(prefix)s || ':invitation:' || n) || md5(%(prefix)s || ':token:' || n)",
            "invited_by": "%(owner)s",
            "created_at": "now() - (n %% 12) * interval '1 day'",
            "expires_at": "now() + (30 - n %% 12) * interval '1 day'",
        },
        "FROM generate_series(1, %(n)s) AS n",
        {
            "org": ctx.org,
            "domain": plan.domain,
            "roles": [str(Role.ADMIN_AGENT), str(Role.SALES_AGENT), str(Role.REFERRALS_USER)],
            "prefix": plan.prefix,
            "owner": owner.pk,
            "n": invitations,
        },
    )
    for name, scopes, roles in (
        ("ERP integration", ["accounts:read", "earnings:read"], [Role.ACCOUNT_ADMIN, Role.INCENTIVES_ADMIN]),
        ("PSA referral sync", ["cosell:read", "cosell:write"], [Role.REFERRALS_ADMIN]),
    ):
        api_clients.api_client_create(
            actor=owner, organization=ctx.organization, name=name, scopes=scopes, roles=roles
        )
    insert_select(
        JobRun,
        {
            "organization": "%(org)s",
            "kind": "(%(kinds)s::text[])[1 + n %% cardinality(%(kinds)s::text[])]",
            "parameters": "jsonb_build_object('requested_by', 'scale seed', 'run', n)",
            "status": "CASE WHEN n %% 25 = 0 THEN 'failed' ELSE 'succeeded' END",
            "total": "100 + (n * 37) %% 5000",
            "done": "CASE WHEN n %% 25 = 0 THEN (n * 37) %% 100 ELSE 100 + (n * 37) %% 5000 END",
            "errors": """CASE WHEN n %% 25 = 0 THEN
                '[{"message": "The worker stopped; run it again."}]'::jsonb
                              ELSE '[]'::jsonb END""",
            "created_by": "%(owner)s",
            "created_at": "now() - n * interval '2 days'",
            "started_at": "now() - n * interval '2 days' + interval '5 seconds'",
            "finished_at": "now() - n * interval '2 days' + interval '3 minutes'",
        },
        "FROM generate_series(1, %(n)s) AS n",
        {"org": ctx.org, "kinds": JOB_KINDS, "owner": owner.pk, "n": MONTHS * 15},
    )
    now = timezone.now()
    for code, key, severity, title, body, days, url, roles in (
        (
            ActionItemCode.TAX_PROFILE_MISSING,
            "tax-profile",
            Severity.HIGH,
            "Add a valid tax profile for the PL location",
            "Incentive payments to the PL location are on hold until a tax profile is valid.",
            10,
            "/earnings/payment-profile/",
            [Role.INCENTIVES_ADMIN],
        ),
        (
            ActionItemCode.MIGRATION_DEADLINE,
            "nce-migration-wave",
            Severity.MEDIUM,
            "Plan the migration of legacy subscriptions to new commerce",
            "Legacy subscriptions move in the vendor-led wave; migrate first to keep control.",
            45,
            "/commerce/",
            [Role.ADMIN_AGENT],
        ),
        (
            ActionItemCode.INVITATION_PENDING,
            "invitations-pending",
            Severity.LOW,
            f"{invitations} invitations are waiting to be accepted",
            "Remind the people invited or withdraw the invitations.",
            7,
            "/users/",
            [Role.USER_MANAGEMENT_ADMIN],
        ),
    ):
        action_item_raise(
            organization_id=ctx.org,
            code=code,
            dedupe_key=key,
            severity=severity,
            title=title,
            body=body,
            due_at=now + timedelta(days=days),
            target_url=url,
            audience_roles=roles,
        )
    return 1


def _audit(ctx: Context) -> int:
    """Fifty audit events a person over two years, by the organization's people."""
    return insert_select(
        AuditEvent,
        {
            "organization": "%(org)s",
            "actor": "p.id",
            "actor_label": "p.email",
            "action": "(%(actions)s::text[])[1 + n %% cardinality(%(actions)s::text[])]",
            "target_type": "(%(targets)s::text[])[1 + n %% cardinality(%(targets)s::text[])]",
            "target_id": "(1 + (n * 7919) %% 100000)::text",
            "target_label": "'#' || (1 + (n * 7919) %% 100000)",
            "changes": "jsonb_build_object('source', 'page')",
            "ip_address": "('10.' || (n %% 250) || '.' || (n / 250 %% 250) || '.' || (1 + n %% 200))::inet",
            "user_agent": "'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/131.0'",
            "request_id": "md5(%(prefix)s || ':request:' || n)",
            "at": "now() - (%(span)s::float * n / %(n)s) * interval '1 second'",
        },
        f"""WITH people AS ({ctx.people_sql()}),
                 counted AS (SELECT count(*) AS c FROM people)
            FROM generate_series(1, %(n)s) AS n
            CROSS JOIN counted
            JOIN people p ON p.idx = n %% counted.c""",
        {
            "org": ctx.org,
            "actions": [action for action, _ in AUDIT_ACTIONS],
            "targets": [target for _, target in AUDIT_ACTIONS],
            "prefix": ctx.plan.prefix,
            "span": MONTHS * 30 * 86400,
            "n": ctx.plan.audit_events,
        },
    )
