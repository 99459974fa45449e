"""Insights read a summary instead of every referral: `cosell_referralsummary`, the referrals rolled
up per creation month (UTC) and the dimensions insights filter on, kept by statement triggers on
`cosell_referral` in the same transaction as any write to it (services, bulk loads, data fixes).

Each trigger sums the contribution of the rows a statement inserted (+), deleted (−) or updated
(− old, + new) per key, in key order (so two writers take the summary rows in the same order), and
upserts it; a summary row left with no deal is removed. Drafts and the vendor-side copies of co-sell
deals (a target `msft`) are not counted. The summary of the existing referrals is built here.

Also two partial indexes for the time-in-stage figures (the latest accepted / won-or-lost deals).
"""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

KEY = (
    "organization_id, month, status, substatus, microsoft_status, deal_kind, customer_country, "
    "solution_area, target_ids, currency"
)
#: The key of one referral row `r`, in KEY's order.
ROW_KEY = """r.organization_id,
    date_trunc('month', r.created_at AT TIME ZONE 'UTC')::date,
    r.status, r.substatus, r.microsoft_status, r.deal_kind, r.customer_country, r.solution_area,
    ARRAY(SELECT DISTINCT t ->> 'id'
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.target) = 'array' THEN r.target
                                           ELSE '[]'::jsonb END) t
           WHERE t ->> 'id' IS NOT NULL ORDER BY 1),
    r.currency"""
COUNTED = """NOT r.is_draft AND NOT (r.target @> '[{"id": "msft"}]'::jsonb)"""


def contribution(table: str, sign: str) -> str:
    """Each counted row of `table` as (key…, deals, valued, value_sum), with `sign` (+1 or -1)."""
    return f"""SELECT {ROW_KEY}, {sign} AS deals, {sign} * (r.deal_value IS NOT NULL)::int AS valued,
                      {sign} * coalesce(r.deal_value, 0) AS value_sum
                 FROM {table} r WHERE {COUNTED}"""


def upsert(contributions: str) -> str:
    return f"""
        INSERT INTO cosell_referralsummary AS s ({KEY}, deals, valued, value_sum)
        SELECT {KEY}, sum(deals), sum(valued), sum(value_sum)
          FROM ({contributions}) AS c ({KEY}, deals, valued, value_sum)
         GROUP BY {KEY}
        HAVING sum(deals) <> 0 OR sum(valued) <> 0 OR sum(value_sum) <> 0
         ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE
           SET deals = s.deals + EXCLUDED.deals,
               valued = s.valued + EXCLUDED.valued,
               value_sum = s.value_sum + EXCLUDED.value_sum;"""


#: Summary rows of the months the old rows left that have no deal any more.
PRUNE = f"""
        DELETE FROM cosell_referralsummary s
         USING (SELECT DISTINCT r.organization_id,
                       date_trunc('month', r.created_at AT TIME ZONE 'UTC')::date AS month
                  FROM old_rows r WHERE {COUNTED}) k
         WHERE s.organization_id = k.organization_id AND s.month = k.month AND s.deals = 0;"""

TRIGGERS = f"""
CREATE FUNCTION cosell_referral_summary_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {upsert(contribution("new_rows", "1"))}
    RETURN NULL;
END $$;
CREATE FUNCTION cosell_referral_summary_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {upsert(contribution("old_rows", "-1") + " UNION ALL " + contribution("new_rows", "1"))}
    {PRUNE}
    RETURN NULL;
END $$;
CREATE FUNCTION cosell_referral_summary_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {upsert(contribution("old_rows", "-1"))}
    {PRUNE}
    RETURN NULL;
END $$;
CREATE TRIGGER cosell_referral_summary_insert AFTER INSERT ON cosell_referral
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cosell_referral_summary_insert();
CREATE TRIGGER cosell_referral_summary_update AFTER UPDATE ON cosell_referral
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cosell_referral_summary_update();
CREATE TRIGGER cosell_referral_summary_delete AFTER DELETE ON cosell_referral
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cosell_referral_summary_delete();
"""

DROP_TRIGGERS = """
DROP TRIGGER cosell_referral_summary_insert ON cosell_referral;
DROP TRIGGER cosell_referral_summary_update ON cosell_referral;
DROP TRIGGER cosell_referral_summary_delete ON cosell_referral;
DROP FUNCTION cosell_referral_summary_insert();
DROP FUNCTION cosell_referral_summary_update();
DROP FUNCTION cosell_referral_summary_delete();
"""

#: The summary of the referrals written before this migration.
BUILD = upsert(contribution("cosell_referral", "1"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_move_auditevent_to_portal"),
        ("cosell", "0003_history_into_portal"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReferralSummary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField()),
                ("status", models.CharField(max_length=10)),
                ("substatus", models.CharField(max_length=10)),
                ("microsoft_status", models.CharField(blank=True, max_length=10)),
                ("deal_kind", models.CharField(blank=True, max_length=12)),
                ("customer_country", models.CharField(blank=True, max_length=2)),
                ("solution_area", models.CharField(blank=True, max_length=40)),
                (
                    "target_ids",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(), blank=True, default=list, size=None
                    ),
                ),
                ("currency", models.CharField(blank=True, max_length=3)),
                ("deals", models.IntegerField(default=0)),
                ("valued", models.IntegerField(default=0)),
                ("value_sum", models.DecimalField(decimal_places=6, default=0, max_digits=30)),
            ],
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(
                    ("accepted_at__isnull", False),
                    ("is_draft", False),
                    models.Q(("target__contains", [{"id": "msft"}]), _negated=True),
                ),
                fields=["organization", "-created_at"],
                include=("accepted_at",),
                name="cosell_referral_accepted",
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(
                    ("is_draft", False),
                    ("substatus__in", ["Won", "Lost"]),
                    models.Q(("target__contains", [{"id": "msft"}]), _negated=True),
                ),
                fields=["organization", "-created_at"],
                include=("accepted_at", "updated_at"),
                name="cosell_referral_won_lost",
            ),
        ),
        migrations.AddField(
            model_name="referralsummary",
            name="organization",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="accounts.organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="referralsummary",
            constraint=models.UniqueConstraint(
                fields=(
                    "organization",
                    "month",
                    "status",
                    "substatus",
                    "microsoft_status",
                    "deal_kind",
                    "customer_country",
                    "solution_area",
                    "target_ids",
                    "currency",
                ),
                name="cosell_summary_key",
            ),
        ),
        migrations.RunSQL(BUILD, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGERS, reverse_sql=DROP_TRIGGERS),
    ]
