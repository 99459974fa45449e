"""The partner capability score (spec/membership.md §2): the points rule in Python and SQL, and for
each of the six solution areas and training services a score recomputed by hand from seeded rows,
then a what-if checked against the real recomputation.

Every test scores on D = 15 Sep 2026 (FY27 rules): M0 = 1 Sep 2026, so net customer adds compare
Jul–Aug 2026 with Jul–Aug 2025, usage growth compares Sep 2025–Aug 2026 with Sep 2024–Aug 2025,
deployments count Sep 2025–Aug 2026, certifications must be valid on D and deliveries fall in
16 Sep 2025 … 15 Sep 2026.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from membership.choices import Designation
from membership.models import Certification, ScoreSnapshot
from membership.selectors.scores import (
    DesignationScore,
    MetricResult,
    designation_score,
    designation_scores,
    suggestions,
    what_if,
)
from membership.services import scoring
from membership.services.scoring import (
    POINTS_SQL,
    fiscal_year_of,
    metric_points,
    recalculate_capability_scores,
    rule_set_on,
)
from tests.factories import (
    CustomerFactory,
    OrganizationFactory,
    PartnerLocationFactory,
    PersonCertificationFactory,
    TrainingDeliveryFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

D = date(2026, 9, 15)
BA, MW, SEC = Designation.BUSINESS_APPS, Designation.MODERN_WORK, Designation.SECURITY
DAI, INFRA, APPS = Designation.DATA_AI, Designation.AZURE_INFRA, Designation.DIGITAL_APPS
TRAINING = Designation.TRAINING_SERVICES


# --- Seeding helpers --------------------------------------------------------------------------------


class Seed:
    """Rows of one organization, written the way Partner Center data arrives."""

    def __init__(self, organization=None):
        self.organization = organization or OrganizationFactory()
        self.location = PartnerLocationFactory(organization=self.organization)

    def customer(self, employees: int | None = None):
        return CustomerFactory(organization=self.organization, employee_count=employees)

    def tx(self, customer, area, day, usd, product="P1", name="Product", kind="purchase"):
        amount = Decimal(str(usd))
        return TransactionFactory(
            organization=self.organization,
            location=self.location,
            customer=customer,
            customer_name=customer.name if customer else "Unassociated",
            solution_area=area,
            transaction_date=day,
            transaction_type=kind,
            product_id=product,
            product_name=name,
            transaction_currency="USD",
            transaction_amount=amount,
            transaction_exchange_rate=Decimal(1),
            transaction_amount_usd=amount,
        )

    def certify(self, code, email, earned_on=date(2025, 10, 1), expires_on=None):
        return PersonCertificationFactory(
            organization=self.organization,
            certification=Certification.objects.get(code=code),
            email=email,
            earned_on=earned_on,
            expires_on=expires_on,
        )

    def people(self, code, count, prefix):
        for n in range(count):
            self.certify(code, f"{prefix}{n}@partner.example")

    def score(self, designation, track, day=D):
        recalculate_capability_scores(day=day, organization_ids=[self.organization.pk])
        return ScoreSnapshot.objects.get(
            organization=self.organization, designation=designation, track=track, taken_on=day
        )


def breakdown(snapshot) -> dict[str, tuple[str, int]]:
    """metric -> (achieved, points), as stored."""
    return {code: (values["achieved"], values["points"]) for code, values in snapshot.metrics.items()}


def predicted(organization, designation, changes, track=None):
    score = designation_score(organization, designation, track=track, day=D)
    return what_if(score, {code: Decimal(delta) for code, delta in changes.items()})


# --- The rule -----------------------------------------------------------------------------------------

# (achieved, threshold, weight, points): the spec §2.4 worked examples first, then the edges.
CASES = [
    ("7", "10", 15, 10),  # BA SMB net customer adds
    ("10", "10", 20, 20),  # BA SMB intermediate certifications
    ("2", "4", 15, 7),  # BA SMB advanced certifications
    ("14", "20", 30, 21),  # BA SMB usage growth
    ("6", "10", 20, 12),  # BA SMB deployments
    ("5", "5", 20, 20),  # MW Enterprise net customer adds
    ("12", "12", 10, 10),  # MW Enterprise intermediate certifications
    ("0", "4", 15, 0),  # MW Enterprise advanced certifications
    ("20", "20", 30, 30),  # MW Enterprise usage growth
    ("10", "10", 25, 25),  # MW Enterprise deployments
    ("0.01", "20", 15, 1),  # any progress earns at least 1 point
    ("1", "12", 10, 1),  # 0.83 floors to 0, lifted to 1
    ("30", "20", 30, 30),  # beyond the threshold: capped
    ("19.99", "20", 30, 29),
    ("1", "3", 3, 1),  # 3 × 1/3 is exactly 1
    ("2", "3", 30, 20),  # 30 × 2/3 is exactly 20
    ("5.55", "7.40", 40, 30),  # 40 × 0.75 is exactly 30
    ("2", "6", 15, 5),
    ("103.99", "20", 15, 15),
    ("-3", "10", 15, 0),
]


def test_metric_points_in_python_and_sql_agree_on_every_case():
    values = ", ".join(["(%s::int, %s::numeric, %s::numeric, %s::int)"] * len(CASES))
    params = [
        value
        for n, (achieved, threshold, weight, _) in enumerate(CASES)
        for value in (n, achieved, threshold, weight)
    ]
    points_sql = POINTS_SQL.format(achieved="achieved", threshold="threshold", weight="weight")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {points_sql} FROM (VALUES {values}) AS v(n, achieved, threshold, weight) ORDER BY n",
            params,
        )
        in_sql = [row[0] for row in cursor.fetchall()]
    in_python = [metric_points(Decimal(a), Decimal(t), w) for a, t, w, _ in CASES]
    assert in_python == [expected for *_, expected in CASES]
    assert in_sql == in_python


def test_worked_examples_totals_and_qualification():
    business_apps = [metric_points(Decimal(a), Decimal(t), w) for a, t, w, _ in CASES[:5]]
    modern_work = [metric_points(Decimal(a), Decimal(t), w) for a, t, w, _ in CASES[5:10]]
    assert sum(business_apps) == 70 and scoring.qualifies(70, business_apps)
    assert sum(modern_work) == 85 and not scoring.qualifies(85, modern_work)


def test_a_threshold_must_be_positive():
    with pytest.raises(ValueError):
        metric_points(Decimal(1), Decimal(0), 10)


def test_rule_set_and_fiscal_year_by_day():
    assert rule_set_on(date(2026, 6, 30)).fiscal_year == "FY26"
    assert rule_set_on(date(2026, 7, 1)).fiscal_year == "FY27"
    assert rule_set_on(date(2030, 1, 1)).fiscal_year == "FY27"
    with pytest.raises(ValidationError, match="No scoring rules"):
        rule_set_on(date(2025, 6, 30))
    assert fiscal_year_of(date(2026, 6, 30)) == "FY26"
    assert fiscal_year_of(date(2026, 7, 1)) == "FY27"
    assert fiscal_year_of(date(2027, 6, 30)) == "FY27"
    assert fiscal_year_of(date(2099, 12, 31)) == "FY00"


# --- Business Applications: the spec's SMB worked example, from data ---------------------------------


def seed_business_applications(seed: Seed) -> None:
    smb = [seed.customer(40) for _ in range(6)] + [seed.customer(None)]
    seed.tx(smb[0], BA, date(2025, 3, 10), 100_000, "BA-OLD")  # previous year only
    for n, customer in enumerate(smb[:6]):
        seed.tx(customer, BA, date(2026, 8, 5), 19_000, f"BA-P{n}", kind="usage")
    # Active in August, but a usage credit in January nets the product to 0: no deployment.
    seed.tx(smb[6], BA, date(2026, 8, 10), 1_500, "BA-S7", kind="usage")
    seed.tx(smb[6], BA, date(2026, 1, 10), -1_500, "BA-S7", kind="usage")
    # Not counted: a refund, a transaction without customer, another area.
    seed.tx(smb[1], BA, date(2026, 8, 6), 5_000, "BA-P1", kind="refund")
    seed.tx(None, BA, date(2026, 8, 7), 50_000, "BA-P9")
    seed.tx(smb[2], MW, date(2026, 8, 5), 30_000, "MW-P1")

    seed.people("PL-200", 10, "ba")
    seed.certify("PL-400", "ba0@partner.example")  # the same person twice: counted once
    seed.certify("MB-210", "BA3@Partner.Example")  # the same person, another spelling
    seed.certify("PL-200", "expired@partner.example", date(2024, 1, 1), expires_on=D)
    seed.certify("PL-200", "future@partner.example", date(2026, 9, 16))
    seed.certify("PL-600", "adv1@partner.example", earned_on=D)
    seed.certify("MB-700", "adv2@partner.example", date(2024, 5, 1), expires_on=date(2026, 9, 16))
    seed.certify("AZ-900", "fundamentals@partner.example")


def test_business_applications_smb_worked_example_qualifies_with_70():
    seed = Seed()
    seed_business_applications(seed)
    smb = seed.score(BA, "smb")
    assert breakdown(smb) == {
        "nca": ("7", 10),
        "int_cert": ("10", 20),
        "adv_cert": ("2", 7),
        "usage_growth": ("14", 21),
        "deployments": ("6", 12),
    }
    assert (smb.total, smb.qualified, smb.is_best) == (70, True, True)
    assert smb.rule_set.fiscal_year == "FY27"
    assert smb.metrics["nca"] == {
        "achieved": "7",
        "threshold": "10",
        "weight": 15,
        "points": 10,
        "unit": "customers",
    }
    enterprise = ScoreSnapshot.objects.get(organization=seed.organization, designation=BA, track="enterprise")
    # No enterprise customers; 10/15 intermediate → 13, 2/6 advanced → 5.
    assert breakdown(enterprise) == {
        "nca": ("0", 0),
        "int_cert": ("10", 13),
        "adv_cert": ("2", 5),
        "usage_growth": ("0", 0),
        "deployments": ("0", 0),
    }
    assert (enterprise.total, enterprise.qualified, enterprise.is_best) == (18, False, False)

    score = designation_score(seed.organization, BA, day=D)
    assert (score.track, score.total, score.qualified, score.other_track_total) == ("smb", 70, True, 18)
    assert [m.metric for m in score.metrics] == ["nca", "int_cert", "adv_cert", "usage_growth", "deployments"]
    assert score.blocking_metrics == [] and score.gap_to_qualify == 0

    # Two more people with advanced certifications: 4/4 → 15 points, +8.
    prediction = predicted(seed.organization, BA, {"adv_cert": 2})
    assert (prediction.delta_points, prediction.after.total) == (8, 78)
    seed.certify("PL-600", "adv3@partner.example")
    seed.certify("MB-700", "adv4@partner.example")
    assert seed.score(BA, "smb").total == prediction.after.total == 78


def test_business_applications_suggestions():
    seed = Seed()
    seed_business_applications(seed)
    seed.score(BA, "smb")
    score = designation_score(seed.organization, BA, day=D)
    by_metric = {s.metric: s for s in suggestions(score)}
    # One more customer: 8/10 × 15 = 12 (+2); one more advanced: 3/4 × 15 = 11 (+4);
    # one percentage point of growth: 15/20 × 30 = 22 (+1); one deployment: 7/10 × 20 = 14 (+2).
    assert {m: (s.change, s.gain) for m, s in by_metric.items()} == {
        "nca": (Decimal(1), 2),
        "adv_cert": (Decimal(1), 4),
        "usage_growth": (Decimal(1), 1),
        "deployments": (Decimal(1), 2),
    }
    assert by_metric["adv_cert"].text == "1 more person with an advanced certification gives +4 points"


# --- Modern Work: the spec's Enterprise example (85, not qualified) -----------------------------------


def test_modern_work_enterprise_85_not_qualified_without_advanced_certifications():
    seed = Seed()
    enterprise = [seed.customer(301)] + [seed.customer(5000) for _ in range(4)]
    smb = seed.customer(300)  # 300 employees: SMB
    seed.tx(enterprise[0], MW, date(2025, 2, 10), 50_000, "MW-OLD")
    for customer in enterprise:
        seed.tx(customer, MW, date(2026, 8, 3), 6_000, "MW-A")
        seed.tx(customer, MW, date(2025, 12, 3), 6_000, "MW-B")
    seed.tx(smb, MW, date(2026, 7, 20), 2_000, "MW-A")
    seed.people("MD-102", 6, "md")
    seed.people("MS-700", 6, "teams")

    best = seed.score(MW, "enterprise")
    assert breakdown(best) == {
        "nca": ("5", 20),
        "int_cert": ("12", 10),
        "adv_cert": ("0", 0),
        "usage_growth": ("20", 30),
        "deployments": ("10", 25),
    }
    assert (best.total, best.qualified, best.is_best) == (85, False, True)
    other = ScoreSnapshot.objects.get(organization=seed.organization, designation=MW, track="smb")
    # One SMB customer new this year: 1/10 × 20 → 2; growth from nothing → 100 % → 30;
    # 1/15 × 25 → 1; 12/8 intermediate → 10.
    assert breakdown(other) == {
        "nca": ("1", 2),
        "int_cert": ("12", 10),
        "adv_cert": ("0", 0),
        "usage_growth": ("100", 30),
        "deployments": ("1", 1),
    }
    assert (other.total, other.qualified, other.is_best) == (43, False, False)
    score = designation_score(seed.organization, MW, day=D)
    assert [m.metric for m in score.blocking_metrics] == ["adv_cert"]
    assert score.gap_to_qualify == 0 and not score.qualified

    # One person with an advanced certification: 1/4 × 15 → 3, and every metric is above 0.
    prediction = predicted(seed.organization, MW, {"adv_cert": 1})
    assert (prediction.delta_points, prediction.after.total, prediction.after.qualified) == (3, 88, True)
    assert "1 more person with an advanced certification gives +3 points and qualifies" in [
        s.text for s in suggestions(score)
    ]
    seed.certify("MS-102", "expert@partner.example")
    after = seed.score(MW, "enterprise")
    assert (after.total, after.qualified) == (88, True)


# --- Data & AI: net adds against a year ago, Virtual Machines excluded ---------------------------------


def test_data_ai_score_by_hand():
    seed = Seed()
    a = [seed.customer(employees) for employees in (None, 5000, 50, 50, 50, 50, 50, 50)]
    seed.tx(a[0], DAI, date(2026, 7, 3), "1000.00", "DAI-SQL")  # exactly 1,000: active
    seed.tx(a[1], DAI, date(2026, 8, 2), 600, "DAI-FAB")  # 600 + 500 in one month: active
    seed.tx(a[1], DAI, date(2026, 8, 20), 500, "DAI-FAB")
    seed.tx(a[2], DAI, date(2026, 7, 15), "999.99", "DAI-AI")  # never 1,000 in one month
    seed.tx(a[2], DAI, date(2026, 8, 15), "999.99", "DAI-AI")
    seed.tx(a[2], DAI, date(2026, 9, 2), 10_000, "DAI-AI")  # the current month does not count
    seed.tx(a[3], DAI, date(2026, 8, 9), 5_000, "DAI-VM", name="Virtual Machines Dsv5")
    seed.tx(a[4], DAI, date(2026, 8, 1), 2_000, "DAI-SQL")
    seed.tx(a[4], DAI, date(2025, 8, 1), 2_000, "DAI-SQL")  # active a year ago too
    seed.tx(a[5], DAI, date(2026, 7, 31), 3_000, "DAI-COS")
    seed.tx(a[5], DAI, date(2025, 7, 10), 1_500, "DAI-COS")  # active a year ago too
    seed.tx(a[6], DAI, date(2025, 7, 20), 4_000, "DAI-SQL")  # active a year ago only
    seed.tx(a[7], DAI, date(2026, 7, 5), 3_000, "DAI-AI", kind="refund")
    seed.tx(a[7], DAI, date(2026, 8, 12), 1_200, "DAI-AI", kind="usage")
    seed.people("DP-100", 4, "ds")
    seed.people("DP-300", 3, "dba")
    seed.people("AI-102", 3, "ai")

    snapshot = seed.score(DAI, "all")
    # Active now: a0 a1 a3 a4 a5 a7 (6); a year ago: a4 a5 a6 (3) → 3 → 30 × 3/8 = 11.
    # Growth: (15,299.98 − 7,500) / 7,500 = 104.00 % → 15.  Deployments without the VM: 6 → 9.
    assert breakdown(snapshot) == {
        "nca": ("3", 11),
        "int_cert": ("10", 25),
        "adv_cert": ("0", 0),
        "usage_growth": ("104", 15),
        "deployments": ("6", 9),
    }
    assert (snapshot.total, snapshot.qualified, snapshot.is_best) == (60, False, True)

    score = designation_score(seed.organization, DAI, day=D)
    texts = [s.text for s in suggestions(score)]
    assert "3 more people with advanced certifications gives 71 points and qualifies" in texts
    assert "3 more net new customers gives 71 points, but advanced certifications still score 0" in texts
    prediction = predicted(seed.organization, DAI, {"adv_cert": 2})
    assert (prediction.delta_points, prediction.after.total) == (7, 67)
    seed.people("DP-420", 2, "cosmos")
    assert seed.score(DAI, "all").total == 67


# --- Infrastructure: shrinking usage, other areas and unassociated rows kept apart ---------------------


def test_infrastructure_score_by_hand():
    seed = Seed()
    customer = seed.customer(120)
    seed.tx(customer, INFRA, date(2025, 1, 10), 10_000, "INF-NET")
    seed.tx(customer, INFRA, date(2026, 8, 10), 8_000, "INF-NET")
    seed.tx(None, INFRA, date(2026, 8, 11), 50_000, "INF-NET")
    seed.tx(customer, DAI, date(2026, 8, 12), 40_000, "DAI-SQL")
    seed.certify("AZ-104", "admin@partner.example")
    seed.certify("AZ-305", "architect@partner.example")
    seed.certify("AZ-900", "fundamentals@partner.example")
    seed.certify("AZ-204", "developer@partner.example")  # Digital & App Innovation

    snapshot = seed.score(INFRA, "all")
    # 8,000 this year against 10,000 the year before: no growth → 0 points.
    assert breakdown(snapshot) == {
        "nca": ("1", 3),
        "int_cert": ("1", 2),
        "adv_cert": ("1", 3),
        "usage_growth": ("0", 0),
        "deployments": ("1", 1),
    }
    assert (snapshot.total, snapshot.qualified) == (9, False)

    prediction = predicted(seed.organization, INFRA, {"int_cert": 2})
    assert (prediction.delta_points, prediction.after.total) == (5, 14)
    seed.certify("AZ-700", "network1@partner.example")
    seed.certify("AZ-700", "network2@partner.example")
    assert seed.score(INFRA, "all").total == 14


# --- Digital & App Innovation: growth from nothing, more deployments -----------------------------------


def test_digital_app_innovation_score_by_hand():
    seed = Seed()
    p1, p2, p3 = seed.customer(10), seed.customer(10), seed.customer(10)
    seed.tx(p1, APPS, date(2026, 7, 20), 2_500, "APP-AKS")
    seed.tx(p2, APPS, date(2026, 8, 20), 1_000, "APP-FN")
    seed.tx(p2, APPS, date(2026, 2, 1), 300, "APP-APIM")
    seed.tx(p3, APPS, date(2026, 8, 5), 500, "APP-AKS")
    seed.people("AZ-204", 8, "dev")
    seed.people("AZ-400", 3, "devops")
    seed.people("AZ-104", 5, "infra")  # Infrastructure certifications do not count here

    snapshot = seed.score(APPS, "all")
    assert breakdown(snapshot) == {
        "nca": ("2", 10),
        "int_cert": ("8", 25),
        "adv_cert": ("3", 15),
        "usage_growth": ("100", 15),
        "deployments": ("4", 7),
    }
    assert (snapshot.total, snapshot.qualified) == (72, True)

    # Four more deployments: 8/8 → 15, +8.
    prediction = predicted(seed.organization, APPS, {"deployments": 4})
    assert (prediction.delta_points, prediction.after.total) == (8, 80)
    for n in range(4):
        seed.tx(p1, APPS, date(2026, 3, 1), 100, f"APP-D{n}")
    assert seed.score(APPS, "all").total == 80


# --- Security: two tracks tied, Virtual Machines count outside the Azure areas --------------------------


def test_security_tie_goes_to_enterprise():
    seed = Seed()
    enterprise, smb = seed.customer(1000), seed.customer(None)
    seed.tx(enterprise, SEC, date(2026, 8, 10), 1_500, "SEC-VM", name="Virtual Machines security bundle")
    seed.tx(smb, SEC, date(2025, 5, 10), 1_000, "SEC-DEF")
    seed.tx(smb, SEC, date(2026, 8, 10), 1_100, "SEC-DEF")
    seed.people("SC-200", 3, "soc")
    seed.people("SC-100", 2, "architect")  # Security has no advanced metric

    best = seed.score(SEC, "enterprise")
    assert breakdown(best) == {
        "nca": ("1", 2),
        "int_cert": ("3", 20),
        "usage_growth": ("100", 20),
        "deployments": ("1", 2),
    }
    other = ScoreSnapshot.objects.get(organization=seed.organization, designation=SEC, track="smb")
    assert breakdown(other) == {
        "nca": ("1", 2),
        "int_cert": ("3", 30),
        "usage_growth": ("10", 10),
        "deployments": ("1", 2),
    }
    # 44 each, neither qualified: Enterprise is the one shown.
    assert (best.total, best.is_best, other.total, other.is_best) == (44, True, 44, False)

    prediction = predicted(seed.organization, SEC, {"int_cert": 2})
    assert (prediction.delta_points, prediction.after.total) == (13, 57)
    seed.people("SC-300", 2, "identity")
    assert seed.score(SEC, "enterprise").total == 57
    score = designation_score(seed.organization, SEC, day=D)
    assert (score.track, score.total, score.other_track_total) == ("enterprise", 57, 54)


# --- Training services: trainers, courses and weighted satisfaction ------------------------------------


def test_training_services_score_by_hand():
    seed = Seed()
    seed.certify("MCT", "trainer@partner.example", date(2024, 1, 1), expires_on=date(2026, 12, 31))
    seed.certify("MCT", "lapsed@partner.example", date(2023, 1, 1), expires_on=date(2026, 6, 30))
    deliveries = [
        (date(2025, 9, 15), 30, 10),  # 365 days before D: outside
        (date(2025, 9, 16), 10, 90),
        (date(2026, 1, 10), 20, 75),
        (date(2026, 3, 3), 0, 10),  # no learners: a course, no weight
        (date(2026, 5, 5), 5, 100),
        (D, 14, 81),
        (date(2026, 9, 16), 30, 10),  # after D
    ]
    for delivered_on, learners, satisfaction in deliveries:
        TrainingDeliveryFactory(
            organization=seed.organization,
            delivered_on=delivered_on,
            learners=learners,
            satisfaction=satisfaction,
        )

    snapshot = seed.score(TRAINING, "all")
    # 1 valid trainer → 20; 5 courses → 30 × 5/12 = 12; satisfaction floor(4,034 / 49) = 82 → 30.
    assert breakdown(snapshot) == {"trainers": ("1", 20), "courses": ("5", 12), "satisfaction": ("82", 30)}
    assert (snapshot.total, snapshot.qualified) == (62, False)

    prediction = predicted(seed.organization, TRAINING, {"trainers": 1})
    assert (prediction.delta_points, prediction.after.total, prediction.after.qualified) == (20, 82, True)
    seed.certify("MCT", "second.trainer@partner.example")
    after = seed.score(TRAINING, "all")
    assert (after.total, after.qualified) == (82, True)


# --- The run itself ---------------------------------------------------------------------------------------


def test_every_designation_and_track_is_written_once_per_day_and_a_rerun_replaces_it():
    seed = Seed()
    customer = seed.customer(None)
    seed.tx(customer, BA, date(2026, 8, 5), 2_000, "BA-P1")
    assert recalculate_capability_scores(day=date(2026, 9, 14), organization_ids=[seed.organization.pk]) == 10
    assert recalculate_capability_scores(day=D, organization_ids=[seed.organization.pk]) == 10
    rows = ScoreSnapshot.objects.filter(organization=seed.organization)
    assert rows.count() == 20
    assert sorted(rows.filter(taken_on=D).values_list("designation", "track")) == sorted(
        [(d, "all") for d in (DAI, INFRA, APPS, TRAINING)]
        + [(d, track) for d in (BA, MW, SEC) for track in ("enterprise", "smb")]
    )
    assert rows.filter(taken_on=D, is_best=True).count() == 7
    first = rows.get(taken_on=D, designation=BA, track="smb").total

    seed.people("PL-200", 5, "more")
    assert recalculate_capability_scores(day=D, organization_ids=[seed.organization.pk]) == 10
    assert rows.count() == 20
    assert rows.get(taken_on=D, designation=BA, track="smb").total == first + 10  # 5/10 × 20
    assert rows.get(taken_on=date(2026, 9, 14), designation=BA, track="smb").total == first


def test_only_the_given_organizations_are_scored():
    one, two = Seed(), Seed()
    assert recalculate_capability_scores(day=D, organization_ids=[]) == 0
    recalculate_capability_scores(day=D, organization_ids=[one.organization.pk])
    assert ScoreSnapshot.objects.filter(organization=one.organization).count() == 10
    assert not ScoreSnapshot.objects.filter(organization=two.organization).exists()
    recalculate_capability_scores(day=D)
    assert ScoreSnapshot.objects.filter(organization=two.organization).count() == 10


def test_designation_scores_lists_the_latest_best_track_of_each_designation():
    seed = Seed()
    seed_business_applications(seed)
    seed.score(BA, "smb", day=date(2026, 9, 1))
    seed.score(BA, "smb", day=D)
    scores = designation_scores(seed.organization, day=D)
    assert [s.designation for s in scores] == list(Designation.values)
    assert {s.taken_on for s in scores} == {D}
    ba = next(s for s in scores if s.designation == BA)
    assert (ba.track, ba.total, ba.fiscal_year, ba.label) == ("smb", 70, "FY27", BA.label)
    # On 1 Sep the window is Sep 2024 – Aug 2026 as well, but R is Jul–Aug 2026 too: the same totals.
    earlier = designation_scores(seed.organization, day=date(2026, 9, 10))
    assert {s.taken_on for s in earlier} == {date(2026, 9, 1)}
    assert designation_scores(seed.organization, day=date(2026, 8, 31)) == []
    assert designation_score(seed.organization, BA, track="enterprise", day=D).total == 18
    assert designation_score(seed.organization, DAI, track="smb", day=D) is None


def test_what_if_rejects_unknown_metrics_and_never_goes_below_zero():
    seed = Seed()
    seed_business_applications(seed)
    seed.score(BA, "smb")
    score = designation_score(seed.organization, BA, day=D)
    with pytest.raises(ValidationError) as error:
        what_if(score, {"trainers": Decimal(1)})
    assert "trainers" in error.value.message_dict
    with pytest.raises(ValidationError):
        what_if(score, {"nca": "lots"})
    lower = what_if(score, {"adv_cert": Decimal(-5)})
    assert lower.after.metrics[2].achieved == 0 and lower.delta_points == -7 and not lower.after.qualified


def test_a_step_that_already_qualifies_is_suggested_once():
    # Fabrikam's Infrastructure in the demo: 67 points, advanced certifications at 0.
    def metric(code, achieved, threshold, weight):
        points = metric_points(Decimal(achieved), Decimal(threshold), weight)
        return MetricResult(code, code, "", "", Decimal(achieved), Decimal(threshold), weight, points)

    metrics = [
        metric("nca", 14, 10, 30),
        metric("int_cert", 3, 10, 25),
        metric("adv_cert", 0, 4, 15),
        metric("usage_growth", 100, 20, 15),
        metric("deployments", 14, 10, 15),
    ]
    score = DesignationScore("Infra", "Infrastructure", "all", D, "FY27", 67, False, metrics, None)

    texts = [s.text for s in suggestions(score)]

    assert texts == [
        "1 more person with an intermediate certification gives +3 points",
        "1 more person with an advanced certification gives +3 points and qualifies",
        "1 more person with an intermediate certification gives 70 points, but adv_cert still score 0",
    ]
