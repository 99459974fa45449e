"""The partner capability score of each Solutions Partner designation (spec/membership.md §2).

The nightly job (`recalculate_capability_scores`) computes every organization's score in ONE
set-based statement (`SNAPSHOT_SQL`): per-metric aggregates of transactions, certifications and
training deliveries, joined to the metric definitions of the rule set in effect, points, totals,
qualification and the best track, written as `ScoreSnapshot` rows by INSERT … SELECT … ON CONFLICT.
Rerunning a day replaces that day's rows; earlier days stay as the score history.

Pages and the API read the snapshots through `membership.selectors.scores`, whose `what_if` and
`suggestions` use `metric_points`: the same rule as `POINTS_SQL`.

Metric definitions, as of day D (M0 = the first day of D's month):

* customer metrics read `earnings.Transaction` rows of the area with a customer, of type purchase or
  usage, in USD; the track is the customer's: enterprise when employee_count >= 301, else smb;
* `nca`: customers with >= USD 1,000 in either of the two months before M0, minus those of the same
  two months a year earlier (never below 0);
* `usage_growth`: percent growth of the twelve months before M0 over the twelve before those;
* `deployments`: distinct (customer, product) pairs with positive USD over the twelve months (the
  Azure areas exclude Virtual Machines);
* `int_cert` / `adv_cert` / `trainers`: distinct people holding a valid certification of the
  designation and level on D;
* `courses` / `satisfaction`: training deliveries of the 365 days up to D, and their
  learner-weighted satisfaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Customer, Organization
from earnings.choices import SolutionArea, TransactionType
from earnings.models import Transaction
from earnings.periods import add_months
from membership.choices import (
    ENTERPRISE_MIN_EMPLOYEES,
    FISCAL_YEAR_START_MONTH,
    NCA_MIN_MONTHLY_USD,
    QUALIFYING_POINTS,
    SOLUTION_AREAS,
    Designation,
)
from membership.models import (
    Certification,
    PersonCertification,
    ScoreMetricDefinition,
    ScoreRuleSet,
    ScoreSnapshot,
    TrainingDelivery,
)

#: Areas whose deployments exclude Virtual Machines and VM licences (spec §2.3).
AZURE_AREAS = (SolutionArea.DATA_AI, SolutionArea.AZURE_INFRA, SolutionArea.DIGITAL_APPS)
VIRTUAL_MACHINES_PREFIX = "Virtual Machines"


# --- The rule ----------------------------------------------------------------------------------------


def metric_points(achieved: Decimal, threshold: Decimal, weight: int) -> int:
    """floor(weight × min(1, achieved / threshold)), at least 1 when achieved > 0 (spec §2.3).

    Exact decimal arithmetic; `POINTS_SQL` is the same rule in SQL.
    """
    achieved, threshold = Decimal(achieved), Decimal(threshold)
    if threshold <= 0:
        raise ValueError("A metric's threshold must be positive.")
    if achieved <= 0:
        return 0
    if achieved >= threshold:
        return int(weight)
    return max(1, int((weight * achieved) // threshold))


#: `metric_points` in SQL, over columns `achieved`, `threshold` and `weight` (numeric arithmetic:
#: the product is exact and the quotient keeps 16+ significant digits, so floor() is exact).
POINTS_SQL = """
    CASE WHEN {achieved} <= 0 THEN 0
         WHEN {achieved} >= {threshold} THEN {weight}
         ELSE greatest(1, floor({weight} * {achieved} / {threshold}))::int
    END"""


def qualifies(total: int, points: Iterable[int]) -> bool:
    """Total >= 70 and every metric above 0 points (spec §2.1)."""
    return total >= QUALIFYING_POINTS and all(p > 0 for p in points)


def rule_set_on(day: date) -> ScoreRuleSet:
    """The rule set in effect on `day`: the latest started on or before it."""
    rule_set = ScoreRuleSet.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
    if rule_set is None:
        raise ValidationError({"day": f"No scoring rules are in effect on {day:%d %b %Y}."})
    return rule_set


def fiscal_year_of(day: date) -> str:
    """The fiscal year of `day`: FY27 runs 1 Jul 2026 – 30 Jun 2027 (it starts on 1 July)."""
    year = day.year + 1 if day.month >= FISCAL_YEAR_START_MONTH else day.year
    return f"FY{year % 100:02d}"


# --- The nightly computation -----------------------------------------------------------------------

SNAPSHOT_SQL = """
WITH orgs AS (
    SELECT id AS organization_id FROM {organization}
     WHERE %(every_org)s OR id = ANY(%(org_ids)s)
),
definitions AS (
    SELECT designation, track, metric, weight, threshold, unit
      FROM {definition} WHERE rule_set_id = %(rule_set)s
),
-- Customer metrics: the area's purchase and usage transactions with a customer, 24 months to M0.
area_transactions AS NOT MATERIALIZED (
    SELECT t.organization_id, t.solution_area AS designation, t.customer_id, t.product_id,
           t.product_name, t.transaction_date, t.transaction_amount_usd AS usd
      FROM {transaction} t
     WHERE (%(every_org)s OR t.organization_id = ANY(%(org_ids)s))
       AND t.customer_id IS NOT NULL
       AND t.transaction_type = ANY(%(types)s)
       AND t.solution_area = ANY(%(areas)s)
       AND t.transaction_date >= %(m24)s AND t.transaction_date < %(m0)s
),
customer_months AS (
    SELECT organization_id, designation, customer_id,
           date_trunc('month', transaction_date)::date AS month, sum(usd) AS usd
      FROM area_transactions
     GROUP BY 1, 2, 3, 4
),
customers AS (
    SELECT organization_id, designation, customer_id,
           bool_or(month >= %(r_from)s AND usd >= %(nca_min)s) AS active_now,
           bool_or(month >= %(y_from)s AND month < %(y_to)s AND usd >= %(nca_min)s) AS active_year_ago,
           coalesce(sum(usd) FILTER (WHERE month >= %(m12)s), 0) AS usd_current,
           coalesce(sum(usd) FILTER (WHERE month < %(m12)s), 0) AS usd_previous
      FROM customer_months
     GROUP BY 1, 2, 3
),
customer_deployments AS (
    SELECT organization_id, designation, customer_id, count(*) AS deployments
      FROM (SELECT organization_id, designation, customer_id, product_id
              FROM area_transactions
             WHERE transaction_date >= %(m12)s
               AND NOT (designation = ANY(%(azure_areas)s) AND product_name LIKE %(vm_prefix)s)
             GROUP BY 1, 2, 3, 4
            HAVING sum(usd) > 0) AS pairs
     GROUP BY 1, 2, 3
),
-- Each customer counts for the 'all' track and for its own: enterprise or smb.
tracks AS (
    SELECT c.organization_id, c.designation, tr.track,
           count(*) FILTER (WHERE c.active_now) - count(*) FILTER (WHERE c.active_year_ago) AS nca,
           sum(c.usd_current) AS usd_current, sum(c.usd_previous) AS usd_previous,
           coalesce(sum(d.deployments), 0) AS deployments
      FROM customers c
      JOIN {customer} cu ON cu.id = c.customer_id
      LEFT JOIN customer_deployments d ON d.organization_id = c.organization_id
                                      AND d.designation = c.designation AND d.customer_id = c.customer_id
     CROSS JOIN LATERAL (VALUES ('all'),
                                (CASE WHEN cu.employee_count >= %(enterprise_min)s THEN 'enterprise'
                                      ELSE 'smb' END)) AS tr(track)
     GROUP BY 1, 2, 3
),
-- Achieved values in long form; track NULL = the same for every track.
achieved AS (
    SELECT organization_id, designation, track, m.metric, m.value
      FROM tracks
     CROSS JOIN LATERAL (VALUES
            ('nca', greatest(nca, 0)::numeric),
            ('usage_growth', CASE WHEN usd_current <= usd_previous THEN 0
                                  WHEN usd_previous <= 0 THEN 100
                                  ELSE round((usd_current - usd_previous) * 100 / usd_previous, 2) END),
            ('deployments', deployments::numeric)) AS m(metric, value)
    UNION ALL
    SELECT pc.organization_id, ce.designation, NULL,
           CASE ce.level WHEN 'intermediate' THEN 'int_cert' WHEN 'advanced' THEN 'adv_cert'
                         ELSE 'trainers' END,
           count(DISTINCT lower(pc.email))
      FROM {person_certification} pc
      JOIN {certification} ce ON ce.id = pc.certification_id
     WHERE (%(every_org)s OR pc.organization_id = ANY(%(org_ids)s))
       AND ce.level IN ('intermediate', 'advanced', 'trainer')
       AND pc.earned_on <= %(day)s AND (pc.expires_on IS NULL OR pc.expires_on > %(day)s)
     GROUP BY 1, 2, 4
    UNION ALL
    SELECT td.organization_id, %(training)s, NULL, m.metric, m.value
      FROM (SELECT organization_id, count(*) AS courses,
                   coalesce(floor(sum(satisfaction * learners)::numeric / nullif(sum(learners), 0)), 0)
                       AS satisfaction
              FROM {training_delivery}
             WHERE (%(every_org)s OR organization_id = ANY(%(org_ids)s))
               AND delivered_on > %(day)s::date - 365 AND delivered_on <= %(day)s
             GROUP BY 1) AS td
     CROSS JOIN LATERAL (VALUES ('courses', td.courses::numeric),
                                ('satisfaction', td.satisfaction)) AS m(metric, value)
),
-- Every organization × every metric definition of the rule set: points per metric.
scored AS (
    SELECT o.organization_id, d.designation, d.track, d.metric, d.weight, d.threshold, d.unit,
           coalesce(a.value, 0) AS achieved
      FROM orgs o CROSS JOIN definitions d
      LEFT JOIN achieved a ON a.organization_id = o.organization_id AND a.designation = d.designation
                          AND a.metric = d.metric AND (a.track IS NULL OR a.track = d.track)
),
pointed AS (
    SELECT scored.*, {points} AS points FROM scored
),
totals AS (
    SELECT organization_id, designation, track,
           jsonb_object_agg(metric, jsonb_build_object(
               'achieved', trim_scale(achieved)::text, 'threshold', trim_scale(threshold)::text,
               'weight', weight, 'points', points, 'unit', unit)) AS metrics,
           sum(points)::int AS total,
           sum(points) >= %(qualifying)s AND bool_and(points > 0) AS qualified
      FROM pointed
     GROUP BY 1, 2, 3
)
INSERT INTO {snapshot} (organization_id, designation, track, taken_on, rule_set_id, metrics, total,
                        qualified, is_best)
SELECT organization_id, designation, track, %(day)s, %(rule_set)s, metrics, total, qualified,
       row_number() OVER (PARTITION BY organization_id, designation
                          ORDER BY total DESC, qualified DESC, track = 'enterprise' DESC) = 1
  FROM totals
ON CONFLICT (organization_id, designation, track, taken_on) DO UPDATE
   SET rule_set_id = EXCLUDED.rule_set_id, metrics = EXCLUDED.metrics, total = EXCLUDED.total,
       qualified = EXCLUDED.qualified, is_best = EXCLUDED.is_best
"""

#: The day's rows of tracks the rule set no longer defines (a rerun replaces the whole day).
STALE_SQL = """
DELETE FROM {snapshot} s
 WHERE s.taken_on = %(day)s AND (%(every_org)s OR s.organization_id = ANY(%(org_ids)s))
   AND NOT EXISTS (SELECT 1 FROM {definition} d
                    WHERE d.rule_set_id = %(rule_set)s AND d.designation = s.designation
                      AND d.track = s.track)
"""


def _tables() -> dict[str, str]:
    models = {
        "organization": Organization,
        "customer": Customer,
        "transaction": Transaction,
        "definition": ScoreMetricDefinition,
        "certification": Certification,
        "person_certification": PersonCertification,
        "training_delivery": TrainingDelivery,
        "snapshot": ScoreSnapshot,
    }
    return {name: model._meta.db_table for name, model in models.items()}


def snapshot_parameters(
    day: date, rule_set: ScoreRuleSet, organization_ids: Collection[int] | None
) -> dict[str, object]:
    """The parameters of `SNAPSHOT_SQL` for `day` (the periods of spec §2.3)."""
    m0 = day.replace(day=1)
    return {
        "day": day,
        "rule_set": rule_set.pk,
        "every_org": organization_ids is None,
        "org_ids": sorted(set(organization_ids or ())),
        "types": [TransactionType.PURCHASE.value, TransactionType.USAGE.value],
        "areas": [area.value for area in SOLUTION_AREAS],
        "azure_areas": [area.value for area in AZURE_AREAS],
        "vm_prefix": VIRTUAL_MACHINES_PREFIX + "%",
        "m0": m0,
        "m12": add_months(m0, -12),
        "m24": add_months(m0, -24),
        "r_from": add_months(m0, -2),
        "y_from": add_months(m0, -14),
        "y_to": add_months(m0, -12),
        "nca_min": NCA_MIN_MONTHLY_USD,
        "enterprise_min": ENTERPRISE_MIN_EMPLOYEES,
        "training": Designation.TRAINING_SERVICES.value,
        "qualifying": QUALIFYING_POINTS,
    }


def score_snapshots_write(*, day: date, organization_ids: Collection[int] | None = None) -> int:
    """Write the day's ScoreSnapshot rows (one statement); returns the rows written.

    The scores alone, without the designation changes that follow (`recalculate_capability_scores`).
    """
    rule_set = rule_set_on(day)
    params = snapshot_parameters(day, rule_set, organization_ids)
    tables = _tables()
    points = POINTS_SQL.format(achieved="achieved", threshold="threshold", weight="weight")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(STALE_SQL.format(**tables), params)
        cursor.execute(SNAPSHOT_SQL.format(points=points, **tables), params)
        return cursor.rowcount


def recalculate_capability_scores(
    *, day: date | None = None, organization_ids: Collection[int] | None = None
) -> int:
    """The nightly run (spec §2.5): every organization's (or the given ones') scores for `day`
    (default today), then the designations that follow from them. Returns the snapshot rows written."""
    from membership.services.designations import designations_sync  # noqa: PLC0415 - imports us

    day = day or timezone.localdate()
    with transaction.atomic():
        written = score_snapshots_write(day=day, organization_ids=organization_ids)
        designations_sync(day=day, organization_ids=organization_ids)
    return written
