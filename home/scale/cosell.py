"""Co-sell: the capability profile, customer references, solutions and routing rules, and two years
of referrals in Partner Center's shape.

Referral n's kind is n mod 20: 0–8 inbound from the vendor (routed by the rules, New while younger
than the fourteen days they stay open, then accepted, won, lost, declined or expired), 9–11
private deals, 12 a draft, 13–15 partner-led deals, 16–17 co-sell deals and 18–19 the
vendor-side records of the co-sell deals two before (same engagement). Their history rows are the
database triggers' (django-pghistory), dated as the referrals.
"""

from __future__ import annotations

from decimal import Decimal

from accounts.choices import ActionItemCode, Severity
from accounts.demo import CUSTOMER_SUFFIXES, CUSTOMER_WORDS
from accounts.models import ActionItem, RoleAssignment
from cosell.choices import LossReason, ReferralQualification
from cosell.models import CapabilityProfile, CaseStudy, Referral, RoutingRule, Solution
from cosell.validation import VENDOR_ID
from earnings.choices import SolutionArea
from home.scale.base import MONTHS, Chunk, Context, fetch, history_append, insert_select
from portal.roles import Role

__all__ = ("chunks",)

#: Referrals written per chunk (each chunk commits once).
CHUNK = 50_000
OPEN_DAYS = 14
COUNTRIES = ["DE", "DE", "AT", "CH", "GB", "FR", "NL", "SE", "ES", "IT", "PL", "US"]
CURRENCIES = {"DE": "EUR", "AT": "EUR", "CH": "CHF", "GB": "GBP", "FR": "EUR", "NL": "EUR", "SE": "SEK",
              "ES": "EUR", "IT": "EUR", "PL": "PLN", "US": "USD"}  # fmt: skip
CITIES = {"DE": "Munich", "AT": "Vienna", "CH": "Zurich", "GB": "London", "FR": "Paris", "NL": "Utrecht",
          "SE": "Stockholm", "ES": "Madrid", "IT": "Milan", "PL": "Warsaw", "US": "Seattle"}  # fmt: skip
SIZES = ["1to50employees", "51to500employees", "Morethan500employees", "251to1000employees",
         "1001to5000employees", "5001to10000employees"]  # fmt: skip
INDUSTRIES = ["Manufacturing", "Financial Services", "Retail & Consumer Goods", "Healthcare", "Education",
              "Government"]  # fmt: skip
PRODUCTS = [["Azure", "PowerBI"], ["Microsoft365", "Teams"], ["Dynamics365Enterprise"], ["Azure", "SQL"],
            ["Microsoft365"], ["Surface", "Teams"]]  # fmt: skip
SERVICES = ["DeploymentOrMigration", "ConsultingAndProfessional", "ManagedServices", "Licensing"]
FIRST = ["Lena", "Jonas", "Sophie", "Oliver", "Camille", "Lukas", "Mia", "Daan", "Aoife", "Jordan"]
LAST = ["Vogt", "Becker", "Gruber", "Hughes", "Durand", "Keller", "Schulz", "de Vries", "Byrne", "Lee"]
SOLUTIONS = [
    ("SOL-{code}-01", "Wide World Data Platform", SolutionArea.DATA_AI, True, True),
    ("SOL-{code}-02", "Copilot Adoption Factory", SolutionArea.MODERN_WORK, True, False),
    ("SOL-{code}-03", "Managed Azure Landing Zone", SolutionArea.AZURE_INFRA, True, True),
    ("SOL-{code}-04", "Zero Trust Security Service", SolutionArea.SECURITY, True, False),
    ("SOL-{code}-05", "Dynamics 365 Field Service Quick Start", SolutionArea.BUSINESS_APPS, False, False),
    ("SOL-{code}-06", "App Modernization Factory", SolutionArea.DIGITAL_APPS, True, False),
]
#: (name, priority, team, countries, solution index, products, min deal value, default).
RULES = [
    ("DACH data platform", 10, "DACH Data team", ["DE", "AT", "CH"], 0, [], None, False),
    ("Data platform, any country", 20, "Global Data team", [], 0, [], None, False),
    ("Modern Work leads", 30, "Modern Work team", [], None, ["Microsoft365", "Teams"], None, False),
    ("Security desk", 40, "Security team", [], 3, [], None, False),
    ("Large deals", 50, "Enterprise sales", [], None, [], Decimal("250000"), False),
    ("Nordics", 60, "Stockholm team", ["SE"], None, [], None, False),
    ("UK and Ireland", 70, "London team", ["GB", "IE"], None, [], None, False),
    ("Default", 1000, "Inbound triage", [], None, [], None, True),
]


def chunks(ctx: Context) -> list[Chunk]:
    plan = ctx.plan
    result = [Chunk("cosell.profile", 1, lambda: _profile(ctx))]
    for start in range(1, plan.referrals + 1, CHUNK):
        stop = min(plan.referrals, start + CHUNK - 1)
        result.append(
            Chunk(
                f"cosell.referrals.{start:07d}",
                stop - start + 1,
                lambda a=start, b=stop: _referrals(ctx, a, b),
            )
        )
    result.append(Chunk("cosell.follow_up", 1, lambda: _follow_up(ctx)))
    return result


def _profile(ctx: Context) -> int:
    organization, code = ctx.organization, f"{ctx.plan.code:05d}"
    CapabilityProfile.objects.get_or_create(
        organization=organization,
        defaults={
            "solution_areas": [
                SolutionArea.DATA_AI,
                SolutionArea.MODERN_WORK,
                SolutionArea.AZURE_INFRA,
                SolutionArea.SECURITY,
            ],  # fmt: skip
            "industries": INDUSTRIES[:4],
            "products": ["Azure", "PowerBI", "SQL", "Microsoft365", "Teams", "Dynamics365Enterprise"],
            "services": SERVICES,
            "countries_served": sorted(set(COUNTRIES)),
            "languages": ["de", "en", "fr", "sv", "pl"],
            "designations": [SolutionArea.DATA_AI, SolutionArea.MODERN_WORK, SolutionArea.SECURITY],
            "specializations": ["Analytics on Microsoft Azure", "Identity and Access Management"],
            "certifications": {"DP-203": 48, "AZ-104": 120, "MS-102": 96, "SC-300": 40},
            "deal_size_band": "100,000–1,000,000 USD",
        },
    )
    CaseStudy.objects.bulk_create(
        CaseStudy(
            organization=organization,
            title=f"{word} modernises with Wide World",
            customer_name=f"{word} {CUSTOMER_SUFFIXES[index % len(CUSTOMER_SUFFIXES)]}",
            industry=INDUSTRIES[index % len(INDUSTRIES)],
            products=PRODUCTS[index % len(PRODUCTS)],
            outcome_text="Delivered in twelve weeks; running costs down a fifth.",
            is_public=index % 5 != 4,
        )
        for index, word in enumerate(CUSTOMER_WORDS)
    )
    for solution_id, name, area, ready, ip in SOLUTIONS:
        Solution.objects.get_or_create(
            solution_id=solution_id.format(code=code),
            defaults={
                "organization": organization,
                "name": name,
                "solution_area": area,
                "co_sell_ready": ready,
                "azure_ip_co_sell_eligible": ip,
            },
        )
    sellers = list(_referral_people(ctx)[: len(RULES)])
    for index, (name, priority, team, countries, solution, products, minimum, default) in enumerate(RULES):
        RoutingRule.objects.get_or_create(
            organization=organization,
            name=name,
            defaults={
                "priority": priority,
                "is_default": default,
                "match_countries": countries,
                "match_solution_ids": [SOLUTIONS[solution][0].format(code=code)]
                if solution is not None
                else [],
                "match_products": products,
                "match_min_deal_value": minimum,
                "assign_to_team": team,
                "assign_to_user_id": sellers[index % len(sellers)] if sellers and index % 2 else None,
                "notify_emails": [f"{team.lower().replace(' ', '.')}@{ctx.plan.domain}"],
            },
        )
    return 1


def _referral_people(ctx: Context) -> list[int]:
    """The Referrals users and admins of the organization, in id order."""
    return list(
        RoleAssignment.objects.filter(
            organization=ctx.organization, role__in=[Role.REFERRALS_USER, Role.REFERRALS_ADMIN]
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def _referrals(ctx: Context, first: int, last: int) -> int:
    plan = ctx.plan
    code = f"{plan.code:05d}"
    rules = list(RoutingRule.objects.filter(organization=ctx.organization).order_by("priority"))
    solution_ids = [solution_id.format(code=code) for solution_id, *_ in SOLUTIONS]
    people = _referral_people(ctx) or [ctx.owner.pk]
    params = {
        "org": ctx.org,
        "first": first,
        "last": last,
        "count": plan.referrals,
        "span": MONTHS * 30,
        "open_days": OPEN_DAYS,
        "words": CUSTOMER_WORDS,
        "suffixes": CUSTOMER_SUFFIXES,
        "countries": COUNTRIES,
        "currencies": [CURRENCIES[country] for country in COUNTRIES],
        "cities": [CITIES[country] for country in COUNTRIES],
        "sizes": SIZES,
        "industries": INDUSTRIES,
        "products": [",".join(products) for products in PRODUCTS],
        "services": SERVICES,
        "firsts": FIRST,
        "lasts": LAST,
        "solutions": solution_ids,
        "rule_ids": [rule.pk for rule in rules],
        "rule_teams": [rule.assign_to_team for rule in rules],
        "people": people,
        "losses": [LossReason.BUDGET, LossReason.COMPETITOR, LossReason.NO_DECISION, LossReason.TIMING],
        "declines": [LossReason.NO_CAPACITY, LossReason.NOT_A_FIT, LossReason.DUPLICATE],
        "vendor": VENDOR_ID,
        "pgid": plan.partner_global_id,
        "prefix": plan.prefix,
    }
    kind = "x.kind"
    inbound = f"{kind} < 9"
    after = fetch("SELECT coalesce(max(id), 0) FROM cosell_referral")[0][0]
    written = insert_select(
        Referral,
        {
            "organization": "%(org)s",
            "referral_id": plan.uuid_sql("referral", "x.n"),
            # The vendor-side record of a co-sell deal shares the deal's engagement.
            "engagement_id": plan.uuid_sql("engagement", f"CASE WHEN {kind} >= 18 THEN x.n - 2 ELSE x.n END"),
            "name": "x.customer || ' - ' || replace(x.products, ',', ' and ') || ' project'",
            "external_reference_id": f"CASE WHEN {kind} BETWEEN 9 AND 17 AND {kind} <> 12 THEN 'CRM-' || "
            "x.n ELSE '' END",
            "created_at": "x.created",
            "updated_at": "least(x.created + interval '3 days', now())",
            "expiration_at": f"CASE WHEN {inbound} THEN x.created + %(open_days)s * interval '1 day' END",
            "accepted_at": "CASE WHEN x.substatus IN ('Accepted', 'Won', 'Lost') THEN x.created + interval "
            "'2 days' END",
            "status": "x.status",
            "substatus": "x.substatus",
            "status_reason": """CASE x.substatus WHEN 'Won' THEN 'Purchase order received.'
                                     WHEN 'Lost' THEN 'The customer chose another offer.'
                                     WHEN 'Declined' THEN 'No capacity this quarter.' ELSE '' END""",
            "loss_reason": """CASE x.substatus
                WHEN 'Lost' THEN (%(losses)s::text[])[1 + x.n %% cardinality(%(losses)s::text[])]
                WHEN 'Declined' THEN (%(declines)s::text[])[1 + x.n %% cardinality(%(declines)s::text[])]
                ELSE '' END""",
            "type": f"CASE WHEN {kind} BETWEEN 9 AND 12 THEN 'Independent' ELSE 'Shared' END",
            "qualification": f"""CASE WHEN {kind} = 12 THEN '{ReferralQualification.NONE}'
                                      WHEN {kind} BETWEEN 9 AND 15 THEN '{ReferralQualification.DIRECT}'
                                      WHEN x.n %% 3 = 0 THEN '{ReferralQualification.MARKETING_QUALIFIED}'
                                      ELSE '{ReferralQualification.SALES_QUALIFIED}' END""",
            "customer_marketplace_intent": f"CASE WHEN {kind} BETWEEN 13 AND 17 THEN 'Yes' ELSE '' END",
            "is_inbound": inbound,
            "is_draft": f"{kind} = 12",
            "deal_kind": f"""CASE WHEN {kind} < 9 THEN '' WHEN {kind} <= 12 AND {kind} <> 12 THEN 'Private'
                                  WHEN {kind} = 12 OR {kind} >= 16 THEN 'CoSell' ELSE 'PartnerLed' END""",
            "microsoft_status": f"""CASE WHEN {kind} < 13 THEN ''
                                         WHEN x.substatus = 'Won' THEN 'Won' WHEN x.substatus = 'Lost' THEN
                                             'Lost'
                                         WHEN x.n %% 3 = 0 THEN 'Engaged' WHEN x.n %% 3 = 1 THEN 'Accepted'
                                         ELSE 'Pending' END""",
            "lead_temperature": f"CASE WHEN {kind} BETWEEN 9 AND 17 AND {kind} <> 12 THEN (ARRAY['cold', "
            "'warm', 'hot'])[1 + x.n %% 3] ELSE '' END",
            "customer_profile": f"""CASE WHEN {kind} = 12 THEN jsonb_build_object('name', x.customer) ELSE
                jsonb_build_object('name', x.customer, 'size', x.size,
                    'address', jsonb_build_object('city', x.city, 'country', x.country),
                    'team', jsonb_build_array(jsonb_build_object('firstName', x.first, 'lastName', x.last,
                        'email', lower(x.first) || '.' || lower(replace(x.last, ' ', '')) || '@'
                                 || lower(replace(x.word, ' ', '')) || '.example'))) END""",
            "customer_name": "x.customer",
            "customer_country": "x.country",
            "customer_size": f"CASE WHEN {kind} = 12 THEN '' ELSE x.size END",
            "consent": """jsonb_build_object('consentToContact', true, 'consentToToShareInfoWithOthers',
                true)""",
            "notes": "x.customer || ' asks for help with ' || replace(x.products, ',', ', ') || '.'",
            "deal_value": f"CASE WHEN {kind} = 12 THEN NULL ELSE (5000 + (x.n * 7919) %% 495000)::numeric "
            "END",
            "currency": f"CASE WHEN {kind} = 12 THEN '' ELSE x.currency END",
            "closing_at": f"CASE WHEN {kind} = 12 THEN NULL ELSE date_trunc('day', x.created) + interval "
            "'90 days' END",
            "requirements": f"""CASE WHEN {kind} = 12 THEN '{{}}'::jsonb ELSE jsonb_build_object(
                'products', (SELECT jsonb_agg(jsonb_build_object('id', p)) FROM
                    unnest(string_to_array(x.products, ',')) p),
                'services', jsonb_build_array(jsonb_build_object('id', x.service)),
                'industries', jsonb_build_array(jsonb_build_object('id', x.industry))) END""",
            "team": "'[]'::jsonb",
            "target": f"""CASE WHEN {kind} >= 18
                              THEN jsonb_build_array(jsonb_build_object('id', %(vendor)s, 'type',
                                  'BusinessProfileLocation'))
                              WHEN {kind} BETWEEN 9 AND 12 THEN '[]'::jsonb
                              ELSE jsonb_build_array(jsonb_build_object('id', x.solution, 'type',
                                  'SolutionProfile')) END""",
            "invite_context": f"""CASE WHEN {inbound} THEN jsonb_build_object(
                                      'notes', 'Please contact the customer this week.',
                                      'invitedBy', jsonb_build_object('organizationId', %(vendor)s,
                                                                      'organizationName', 'Microsoft'))
                                       WHEN {kind} = 12 THEN '{{}}'::jsonb
                                       ELSE jsonb_build_object('invitedBy',
                                           jsonb_build_object('organizationId', %(pgid)s))
                                  END""",
            "routing_rule": f"CASE WHEN {inbound} THEN (%(rule_ids)s::bigint[])[1 + x.n %% "
            "cardinality(%(rule_ids)s::bigint[])] END",
            "assigned_team": f"CASE WHEN {inbound} THEN (%(rule_teams)s::text[])[1 + x.n %% "
            "cardinality(%(rule_teams)s::text[])] ELSE '' END",
            "assigned_user": f"""CASE WHEN {inbound} AND x.n %% 3 = 0 OR {kind} BETWEEN 9 AND 17
                                      THEN (%(people)s::bigint[])[1 + x.n %%
                                          cardinality(%(people)s::bigint[])] END""",
            "created_by": f"CASE WHEN {kind} BETWEEN 9 AND 17 THEN (%(people)s::bigint[])[1 + x.n %% "
            "cardinality(%(people)s::bigint[])] END",
            "version": "CASE WHEN x.status = 'New' THEN 1 ELSE 3 END",
        },
        """WITH x AS (
            SELECT n, n %% 20 AS kind, created, age, c.*, s.*,
                   c.word || ' ' || (%(suffixes)s::text[])[1 + (n / 23) %% cardinality(%(suffixes)s::text[])]
                       || ' ' || (n %% 9973) AS customer
              FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
              CROSS JOIN LATERAL (SELECT now() - (%(span)s * (1 - n::float / %(count)s)) * interval '1 day'
                  AS created) cr
              CROSS JOIN LATERAL (SELECT extract(epoch FROM now() - cr.created) / 86400 AS age) a
              CROSS JOIN LATERAL (SELECT
                  (%(words)s::text[])[1 + n %% cardinality(%(words)s::text[])] AS word,
                  (%(countries)s::text[])[1 + (n * 7) %% cardinality(%(countries)s::text[])] AS country,
                  (%(currencies)s::text[])[1 + (n * 7) %% cardinality(%(countries)s::text[])] AS currency,
                  (%(cities)s::text[])[1 + (n * 7) %% cardinality(%(countries)s::text[])] AS city,
                  (%(sizes)s::text[])[1 + (n * 11) %% cardinality(%(sizes)s::text[])] AS size,
                  (%(industries)s::text[])[1 + (n * 13) %% cardinality(%(industries)s::text[])] AS industry,
                  (%(products)s::text[])[1 + (n * 17) %% cardinality(%(products)s::text[])] AS products,
                  (%(services)s::text[])[1 + (n * 19) %% cardinality(%(services)s::text[])] AS service,
                  (%(solutions)s::text[])[1 + (n * 23) %% cardinality(%(solutions)s::text[])] AS solution,
                  (%(firsts)s::text[])[1 + (n * 29) %% cardinality(%(firsts)s::text[])] AS first,
                  (%(lasts)s::text[])[1 + (n * 31) %% cardinality(%(lasts)s::text[])] AS last) c
              CROSS JOIN LATERAL (SELECT
                  CASE WHEN n %% 20 = 12 OR n %% 20 >= 18 OR (n %% 20 < 9 AND a.age < %(open_days)s)
                            OR (n %% 20 >= 9 AND a.age < 7) THEN 'New'
                       WHEN (n * 31) %% 100 < 30 OR a.age < 60 THEN 'Active'
                       ELSE 'Closed' END AS status,
                  CASE WHEN n %% 20 = 12 OR n %% 20 >= 18 OR (n %% 20 >= 9 AND a.age < 7) THEN 'Pending'
                       WHEN n %% 20 < 9 AND a.age < %(open_days)s THEN 'Received'
                       WHEN (n * 31) %% 100 < 30 OR a.age < 60 THEN 'Accepted'
                       WHEN (n * 31) %% 100 < 55 THEN 'Won'
                       WHEN (n * 31) %% 100 < 75 THEN 'Lost'
                       WHEN n %% 20 < 9 AND (n * 31) %% 100 < 88 THEN 'Declined'
                       WHEN n %% 20 < 9 THEN 'Expired'
                       ELSE 'Lost' END AS substatus) s)
        FROM x""",
        params,
    )
    _history(ctx, after)
    return written


def _history(ctx: Context, after: int) -> int:
    """The activity feed of the referrals written after id `after` (cosell.services.activity's
    events): its arrival or creation (status and substatus), and the move to where it is now."""
    changes = """jsonb_build_object(
        'changes', jsonb_build_array(jsonb_build_array('/status', {old_status}, {status}),
                                     jsonb_build_array('/substatus', {old_substatus}, {substatus})),
        'actor_type', {actor_type}, 'source', {source}, 'correlation_id', '')"""
    vendor = "CASE WHEN r.is_inbound THEN '{}' ELSE '{}' END"
    return history_append(
        Referral,
        f"""WITH r AS (
                SELECT *, CASE WHEN is_inbound THEN 'New' WHEN status = 'Closed' THEN 'Active'
                               ELSE status END AS first_status,
                          CASE WHEN is_inbound THEN 'Received' WHEN status = 'Closed' THEN 'Accepted'
                               ELSE substatus END AS first_substatus
                  FROM cosell_referral WHERE organization_id = %(org)s AND id > %(after)s)
            SELECT organization_id, id, created_at, CASE WHEN is_inbound THEN NULL ELSE created_by_id END,
                   '', first_status, '',
                   {
            changes.format(
                old_status="NULL",
                status="first_status",
                old_substatus="NULL",
                substatus="first_substatus",
                actor_type=vendor.format("microsoft", "user"),
                source=vendor.format("api", "ui"),
            )
        },
                   'microsoft'
              FROM r
            UNION ALL
            SELECT organization_id, id, updated_at, assigned_user_id, first_status, status, status_reason,
                   {
            changes.format(
                old_status="first_status",
                status="status",
                old_substatus="first_substatus",
                substatus="substatus",
                actor_type="'user'",
                source="'ui'",
            )
        },
                   'system'
              FROM r WHERE status <> first_status OR substatus <> first_substatus""",
        {"org": ctx.org, "after": after},
    )


def _follow_up(ctx: Context) -> int:
    """The expiry reminders the referral job raises for inbound referrals closing within three days."""
    return insert_select(
        ActionItem,
        {
            "organization": "%(org)s",
            "code": f"'{ActionItemCode.REFERRAL_EXPIRING}'",
            "severity": f"CASE WHEN r.expiration_at < now() + interval '1 day' THEN '{Severity.HIGH}' ELSE "
            f"'{Severity.MEDIUM}' END",
            "title": "left('Referral ' || r.name || ' expires on ' || to_char(r.expiration_at, "
            "'DD Month YYYY HH24:MI'), 200)",
            "body": "r.customer_name || ': accept or decline it before then, or it closes as Expired.'",
            "due_at": "r.expiration_at",
            "target_url": "'/cosell/referrals/' || r.id || '/'",
            "audience_roles": f"""CASE WHEN r.assigned_user_id IS NULL THEN
                ARRAY['{Role.REFERRALS_ADMIN}']::varchar[]
                                       ELSE ARRAY['{Role.REFERRALS_USER}']::varchar[] END""",
            "dedupe_key": """'cosell-referral-' || r.id || '-expiring-' ||
                             CASE WHEN r.expiration_at < now() + interval '1 day' THEN '1d' ELSE '3d' END""",
            "created_at": "r.expiration_at - interval '3 days'",
        },
        """FROM cosell_referral r
           WHERE r.organization_id = %(org)s AND r.status = 'New' AND r.is_inbound
             AND r.expiration_at BETWEEN now() AND now() + interval '3 days'""",
        {"org": ctx.org},
        conflict="ON CONFLICT DO NOTHING",
    )
