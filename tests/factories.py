"""factory_boy factories; tenant rows hang off OrganizationFactory.

`FACTORIES` maps each partner-owned model to its factory: the tenant-isolation test uses it to
create a row of organization A for every registered route. A workspace adds its models here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from fpdf import FPDF
from oauth2_provider.models import Application

from accounts.choices import ActionItemCode, CustomerSegment, Severity
from accounts.models import (
    ActionItem,
    ApiClient,
    Customer,
    Invitation,
    Organization,
    PartnerLocation,
    RoleAssignment,
    User,
)
from commerce.choices import (
    BillingCycle,
    MigrationStatus,
    PriceListStatus,
    Segment,
    SubscriptionStatus,
    TermDuration,
)
from commerce.models import (
    Availability,
    LegacyOffer,
    LegacySubscription,
    Migration,
    MigrationBatch,
    MigrationSchedule,
    NceSubscription,
    NceSubscriptionChange,
    PriceList,
    PriceListRow,
    Product,
    Sku,
)
from cosell.models import CapabilityProfile, CaseStudy, Referral, RoutingRule, Solution
from earnings.choices import (
    EarningType,
    IneligibleReason,
    PartnerRole,
    SolutionArea,
)
from earnings.models import (
    Earning,
    EarningRate,
    EarningSummary,
    Engagement,
    Enrollment,
    ExchangeRate,
    ExportJob,
    IneligibleTransaction,
    Lever,
    Payment,
    Program,
    Reconciliation,
    ReconciliationLine,
    Transaction,
    TransactionUpload,
)
from incentives.choices import ClaimStatus, PayPattern, ProofKind, ReviewDecision
from incentives.models import (
    ActivityRate,
    ActivityType,
    Claim,
    ClaimReview,
    CountryMarketTier,
    Opportunity,
    OutcomeLink,
    ProofDocument,
)
from membership.choices import AssessmentStatus as SurfaceStatus
from membership.choices import (
    BenefitKind,
    BenefitUnit,
    Designation,
    EnrollmentStatus,
    IsvStatus,
    LicenseStatus,
    OsType,
    PackageSource,
    Track,
)
from membership.models import (
    Benefit,
    BenefitConsumption,
    BenefitPackage,
    Certification,
    DesignationEnrollment,
    IsvSuccessApplication,
    MarketplaceBilledSale,
    MarketplaceLicense,
    MarketplaceRewardTier,
    Membership,
    PersonCertification,
    RewardsYear,
    ScoreRuleSet,
    ScoreSnapshot,
    SurfaceAssessment,
    TrainingDelivery,
    VmImageUsage,
)
from portal.history import Entry, history_record_many
from portal.models import AuditEvent, HistoryEvent, JobRun, WebhookDelivery, WebhookEndpoint
from portal.notifications.models import AlertRule, Notification
from portal.roles import Role
from security.choices import AlertType, CheckKind, CheckStatus, DocumentType, GdapStatus, Likelihood
from security.choices import Program as VerifiedProgram
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
    SecuritySettings,
    TrainingAssignment,
    TrainingCourse,
    VerificationCheck,
    VerificationDocument,
)

PASSWORD = "Correct-Horse-Battery-9"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    legal_name = factory.Sequence(lambda n: f"Partner {n} Ltd")
    partner_global_id = factory.Sequence(lambda n: f"{3000000 + n}")
    country = "DE"
    partner_types = factory.LazyFunction(lambda: ["services"])


class PartnerLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerLocation

    organization = factory.SubFactory(OrganizationFactory)
    partner_id = factory.Sequence(lambda n: f"{5000000 + n}")
    country = "DE"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@partner.example")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            RoleAssignment.objects.create(organization_id=self.organization_id, user=self, role=role)
        self.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    domain = factory.Sequence(lambda n: f"customer{n}.onmicrosoft.example")
    country = "DE"
    segment = CustomerSegment.COMMERCIAL


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("user.organization")
    role = "incentives_user"


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@partner.example")
    roles = factory.LazyFunction(lambda: ["incentives_user"])
    token = factory.LazyFunction(lambda: uuid.uuid4().hex)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    organization = factory.SubFactory(OrganizationFactory)
    code = ActionItemCode.TAX_PROFILE_MISSING
    severity = Severity.MEDIUM
    title = factory.Sequence(lambda n: f"Something to do {n}")
    dedupe_key = factory.Sequence(lambda n: f"item-{n}")


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    organization = factory.SubFactory(OrganizationFactory)
    actor_label = "someone@partner.example"
    action = "customer.created"


class NotificationFactory(factory.django.DjangoModelFactory):
    """A notification to a new member of the organization (categories are checked when notifying,
    not when a row is written)."""

    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("recipient.organization")
    category = "tests.notice"
    title = factory.Sequence(lambda n: f"Notice {n}")
    url = "/"
    event_key = factory.Sequence(lambda n: f"tests:{n}")
    channel = "in_app"


class AlertRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertRule

    owner = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("owner.organization")
    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = "security.score_below"
    parameters = factory.LazyFunction(lambda: {"threshold": "80"})


class JobRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobRun

    organization = factory.SubFactory(OrganizationFactory)
    kind = "test.job"


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    organization = factory.SubFactory(OrganizationFactory)
    url = "https://hooks.partner.example/portal"
    secret = factory.LazyFunction(lambda: uuid.uuid4().hex)
    events = factory.LazyFunction(lambda: ["test.event"])


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    organization = factory.SelfAttribute("endpoint.organization")
    event = "test.event"
    event_id = factory.LazyFunction(uuid.uuid4)
    payload = factory.LazyFunction(lambda: {"hello": "world"})


class HistoryEventFactory(factory.django.DjangoModelFactory):
    """An event appended through the chain writer, the only way history is written."""

    class Meta:
        model = HistoryEvent

    organization = factory.SubFactory(OrganizationFactory)
    content_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(Organization))
    object_id = "1"
    to_status = "done"

    @classmethod
    def _create(cls, model_class, *, organization, actor=None, at=None, **entry):
        return history_record_many([Entry(organization_id=organization.pk, **entry)], actor=actor, at=at)[0]


def api_client_factory(organization: Organization) -> ApiClient:
    user = UserFactory(organization=organization, is_service_account=True, roles=["account_admin"])
    application = Application.objects.create(
        name="test client",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    return ApiClient.objects.create(
        organization=organization,
        name="test client",
        application=application,
        service_user=user,
        scopes=["accounts:read"],
    )


#: model → callable(organization) creating one row owned by that organization.
FACTORIES = {
    Organization: lambda organization: organization,
    PartnerLocation: lambda organization: PartnerLocationFactory(organization=organization),
    User: lambda organization: UserFactory(organization=organization),
    RoleAssignment: lambda organization: RoleAssignmentFactory(user__organization=organization),
    Customer: lambda organization: CustomerFactory(organization=organization),
    Invitation: lambda organization: InvitationFactory(organization=organization),
    ActionItem: lambda organization: ActionItemFactory(organization=organization),
    AuditEvent: lambda organization: AuditEventFactory(organization=organization),
    ApiClient: api_client_factory,
    JobRun: lambda organization: JobRunFactory(organization=organization),
    Notification: lambda organization: NotificationFactory(recipient__organization=organization),
    AlertRule: lambda organization: AlertRuleFactory(owner__organization=organization),
    WebhookEndpoint: lambda organization: WebhookEndpointFactory(organization=organization),
    WebhookDelivery: lambda organization: WebhookDeliveryFactory(endpoint__organization=organization),
    HistoryEvent: lambda organization: HistoryEventFactory(organization=organization),
}


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("product_id",)

    product_id = factory.Sequence(lambda n: f"CFQ7TTC{n:05d}")
    title = factory.Sequence(lambda n: f"Product {n}")


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    product = factory.SubFactory(ProductFactory)
    sku_id = factory.Sequence(lambda n: f"{n % 10000:04d}")
    title = factory.LazyAttribute(lambda sku: f"{sku.product.title} plan {sku.sku_id}")


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"US price list {n}")
    market = "US"
    currency = "USD"
    effective_month = date(2025, 4, 1)
    source_file = "price-list.csv"
    status = PriceListStatus.READY


class PriceListRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListRow

    price_list = factory.SubFactory(PriceListFactory)
    product_title = "Microsoft 365 Business Basic"
    product_id = "CFQ7TTC0LH18"
    sku_id = factory.Sequence(lambda n: f"{n % 10000:04d}")
    sku_title = "Microsoft 365 Business Basic"
    publisher = "Microsoft Corporation"
    term_duration = TermDuration.P1Y
    billing_plan = BillingCycle.ANNUAL
    market = factory.SelfAttribute("price_list.market")
    currency = factory.SelfAttribute("price_list.currency")
    unit_price = Decimal("64.80")
    effective_start_date = datetime(2025, 4, 1, tzinfo=UTC)
    effective_end_date = datetime(9999, 11, 30, 23, 59, 59, tzinfo=UTC)
    tags = "License"
    erp_price = Decimal("72.00")
    segment = Segment.COMMERCIAL


# Price lists are the vendor's, not an organization's: the organization argument is ignored.
FACTORIES[PriceList] = lambda organization: PriceListFactory()
FACTORIES[PriceListRow] = lambda organization: PriceListRowFactory()


class AvailabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Availability

    availability_id = factory.Sequence(lambda n: f"CFQ7TTC0K{n % 1000:03d}")
    sku = factory.SubFactory(SkuFactory)
    segment = Segment.COMMERCIAL
    term_duration = TermDuration.P1Y
    billing_plans = factory.LazyFunction(lambda: [BillingCycle.ANNUAL, BillingCycle.MONTHLY])
    markets = factory.LazyFunction(lambda: ["US", "DE", "GB"])


class LegacyOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegacyOffer

    offer_id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"Legacy offer {n}")
    segment = Segment.COMMERCIAL
    equivalent_sku = factory.SubFactory(SkuFactory)


class LegacySubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegacySubscription

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    offer = factory.SubFactory(LegacyOfferFactory)
    quantity = 10
    term_duration = TermDuration.P1Y
    billing_cycle = BillingCycle.MONTHLY
    term_end = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=120))
    term_start = factory.LazyAttribute(lambda s: s.term_end - timedelta(days=364))
    status = SubscriptionStatus.ACTIVE


class NceSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NceSubscription

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    availability = factory.SubFactory(AvailabilityFactory)
    catalog_item_id = factory.LazyAttribute(lambda s: s.availability.catalog_item_id)
    quantity = 10
    term_duration = TermDuration.P1Y
    billing_cycle = BillingCycle.MONTHLY
    term_start = factory.LazyFunction(timezone.localdate)
    term_end = factory.LazyAttribute(lambda s: s.term_start + timedelta(days=364))
    unit_price = Decimal("237.60")
    currency = "USD"


class MigrationBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MigrationBatch

    organization = factory.SubFactory(OrganizationFactory)
    external_reference_id = factory.Sequence(lambda n: f"batch-{n}")


class MigrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Migration

    organization = factory.SubFactory(OrganizationFactory)
    current_subscription = factory.SubFactory(
        LegacySubscriptionFactory, organization=factory.SelfAttribute("..organization")
    )
    customer = factory.SelfAttribute("current_subscription.customer")
    status = MigrationStatus.FAILED
    term_duration = TermDuration.P1Y
    billing_cycle = BillingCycle.MONTHLY
    quantity = 10
    error_code = "PROVISIONING_FAILED"


FACTORIES[LegacySubscription] = lambda organization: LegacySubscriptionFactory(organization=organization)
FACTORIES[NceSubscription] = lambda organization: NceSubscriptionFactory(organization=organization)
FACTORIES[Migration] = lambda organization: MigrationFactory(organization=organization)
FACTORIES[MigrationBatch] = lambda organization: MigrationBatchFactory(organization=organization)


class MigrationScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MigrationSchedule

    organization = factory.SubFactory(OrganizationFactory)
    current_subscription = factory.SubFactory(
        LegacySubscriptionFactory, organization=factory.SelfAttribute("..organization")
    )
    customer = factory.SelfAttribute("current_subscription.customer")
    migrate_on_renewal = True


FACTORIES[MigrationSchedule] = lambda organization: MigrationScheduleFactory(organization=organization)


class NceSubscriptionChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NceSubscriptionChange

    organization = factory.SubFactory(OrganizationFactory)
    subscription = factory.SubFactory(
        NceSubscriptionFactory, organization=factory.SelfAttribute("..organization")
    )
    kind = "seats_added"
    quantity_before = 10
    quantity_after = 12
    currency = factory.SelfAttribute("subscription.currency")


FACTORIES[NceSubscriptionChange] = lambda organization: NceSubscriptionChangeFactory(
    organization=organization
)


# --- Earnings ------------------------------------------------------------------------------------


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    code = factory.Sequence(lambda n: f"MCI{n}")
    name = factory.Sequence(lambda n: f"Commerce Incentives {n}")
    starts_on = date(2020, 7, 1)
    payment_lag_months = 3


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    program = factory.SubFactory(ProgramFactory)
    engagement_id = factory.Sequence(lambda n: f"ENG-{n:05d}")
    name = factory.Sequence(lambda n: f"CSP Core {n}")
    solution_area = SolutionArea.MODERN_WORK
    starts_on = date(2020, 7, 1)


class LeverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lever

    engagement = factory.SubFactory(EngagementFactory)
    name = "Core"
    partner_role = PartnerRole.TRANSACT
    earning_type = EarningType.REBATE


class EarningRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarningRate

    lever = factory.SubFactory(LeverFactory)
    product_id = "CFQ7TTC0LF8R"
    rate = Decimal("0.04")
    valid_from = date(2020, 7, 1)


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate
        django_get_or_create = ("currency", "rate_date")

    currency = "EUR"
    rate_date = date(2020, 1, 1)
    rate_to_usd = Decimal("1.0850")


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    organization = factory.SubFactory(OrganizationFactory)
    location = factory.SubFactory(
        PartnerLocationFactory, organization=factory.SelfAttribute("..organization")
    )
    program = factory.SubFactory(ProgramFactory)
    participant_id = factory.LazyAttribute(lambda e: e.location.partner_id)
    participant_name = factory.LazyAttribute(lambda e: e.organization.legal_name)
    enrolled_from = date(2020, 7, 1)
    bank_profile_ok = True
    tax_profile_ok = True


class TransactionUploadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransactionUpload

    organization = factory.SubFactory(OrganizationFactory)
    file_name = "usage.csv"


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    organization = factory.SubFactory(OrganizationFactory)
    transaction_id = factory.Sequence(lambda n: f"TX-{n:08d}")
    transaction_date = date(2025, 2, 14)
    source = "upload"
    location = factory.SubFactory(
        PartnerLocationFactory, organization=factory.SelfAttribute("..organization")
    )
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    customer_name = factory.LazyAttribute(lambda t: t.customer.name if t.customer else "Unknown customer")
    product_id = "CFQ7TTC0LF8R"
    product_name = "Microsoft 365 E3"
    invoice_number = factory.Sequence(lambda n: f"INV-{n:06d}")
    solution_area = SolutionArea.MODERN_WORK
    partner_role = PartnerRole.TRANSACT
    quantity = Decimal("100")
    transaction_currency = "EUR"
    transaction_amount = Decimal("3240.00")
    transaction_exchange_rate = Decimal("1.0850")
    transaction_amount_usd = Decimal("3515.40")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    organization = factory.SubFactory(OrganizationFactory)
    enrollment = factory.SubFactory(EnrollmentFactory, organization=factory.SelfAttribute("..organization"))
    program = factory.LazyAttribute(lambda p: p.enrollment.program)
    payment_id = factory.Sequence(lambda n: f"P-{n:06d}")
    payment_month = date(2025, 5, 1)
    currency = "EUR"
    earned = Decimal("129.60")
    earned_usd = Decimal("140.62")
    total_payment = Decimal("129.60")


class EarningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Earning

    organization = factory.SubFactory(OrganizationFactory)
    enrollment = factory.SubFactory(EnrollmentFactory, organization=factory.SelfAttribute("..organization"))
    program = factory.LazyAttribute(lambda e: e.enrollment.program)
    earning_id = factory.Sequence(lambda n: f"E-{n:08d}")
    earning_type = EarningType.REBATE
    earning_rate = Decimal("0.04")
    earning_amount = Decimal("129.60")
    currency = "EUR"
    earning_exchange_rate = Decimal("1.0850")
    exchange_rate_date = date(2025, 2, 28)
    earning_amount_usd = Decimal("140.62")
    earning_date = date(2025, 2, 28)
    calculation_date = date(2025, 3, 18)
    estimated_payment_month = date(2025, 5, 1)
    solution_area = SolutionArea.MODERN_WORK
    partner_role = PartnerRole.TRANSACT
    customer_name = "Fabrikam DE"
    product_id = "CFQ7TTC0LF8R"
    product_name = "Microsoft 365 E3"


class IneligibleTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IneligibleTransaction

    organization = factory.SubFactory(OrganizationFactory)
    transaction = factory.SubFactory(TransactionFactory, organization=factory.SelfAttribute("..organization"))
    engagement = factory.SubFactory(EngagementFactory)
    program = factory.LazyAttribute(lambda i: i.engagement.program)
    reason_code = IneligibleReason.PRODUCT_NOT_ELIGIBLE
    calculation_date = date(2025, 3, 18)


class ExportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportJob

    organization = factory.SubFactory(OrganizationFactory)
    export_id = factory.LazyFunction(uuid.uuid4)
    report = "earnings"


class ReconciliationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reconciliation

    organization = factory.SubFactory(OrganizationFactory)
    file_name = "my-billing.csv"
    column_mapping = factory.LazyFunction(lambda: {"transactionId": "Transaction", "earningAmount": "Amount"})


class ReconciliationLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReconciliationLine

    reconciliation = factory.SubFactory(ReconciliationFactory)
    organization = factory.LazyAttribute(lambda line: line.reconciliation.organization)
    kind = "partner_only"
    row_number = 2
    transaction_id = "TX-MISSING"
    partner_amount = Decimal("10.00")


def earning_summary_factory(organization):
    earning = EarningFactory(organization=organization)
    return EarningSummary.objects.create(
        organization=organization,
        earning_month=date(2025, 2, 1),
        estimated_payment_month=earning.estimated_payment_month,
        program=earning.program,
        enrollment=earning.enrollment,
        earning_type=earning.earning_type,
        payment_status=earning.payment_status,
        earning_count=1,
        earning_amount_usd=earning.earning_amount_usd,
    )


FACTORIES.update(
    {
        Program: lambda organization: ProgramFactory(),
        Engagement: lambda organization: EngagementFactory(),
        Lever: lambda organization: LeverFactory(),
        EarningRate: lambda organization: EarningRateFactory(),
        ExchangeRate: lambda organization: ExchangeRateFactory(),
        Enrollment: lambda organization: EnrollmentFactory(organization=organization),
        TransactionUpload: lambda organization: TransactionUploadFactory(organization=organization),
        Transaction: lambda organization: TransactionFactory(organization=organization),
        Payment: lambda organization: PaymentFactory(organization=organization),
        Earning: lambda organization: EarningFactory(organization=organization),
        EarningSummary: earning_summary_factory,
        IneligibleTransaction: lambda organization: IneligibleTransactionFactory(organization=organization),
        ExportJob: lambda organization: ExportJobFactory(organization=organization),
        Reconciliation: lambda organization: ReconciliationFactory(organization=organization),
        ReconciliationLine: lambda organization: ReconciliationLineFactory(
            reconciliation__organization=organization
        ),
    }
)


# --- Incentives ----------------------------------------------------------------------------------


class ActivityTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityType

    code = factory.Sequence(lambda n: f"MW-WS-{n:04d}")
    name = factory.Sequence(lambda n: f"Copilot readiness workshop {n}")
    engagement = factory.SubFactory(EngagementFactory, solution_area=SolutionArea.MODERN_WORK)
    lever = factory.LazyAttribute(
        lambda a: LeverFactory(engagement=a.engagement, name=a.code, partner_role=PartnerRole.BUILD_INTENT)
    )
    pay_pattern = PayPattern.FIXED
    starts_on = date(2024, 7, 1)
    ends_on = date(2030, 6, 30)
    required_proof = factory.LazyFunction(lambda: [ProofKind.INVOICE, ProofKind.FINDINGS])


class ActivityRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityRate

    activity_type = factory.SubFactory(ActivityTypeFactory)
    fixed_fee_usd = Decimal("5000")
    valid_from = date(2024, 7, 1)


class CountryMarketTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CountryMarketTier
        django_get_or_create = ("country",)

    country = "IN"
    market_tier = "B"


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    organization = factory.SubFactory(OrganizationFactory)
    msx_opportunity_id = factory.Sequence(lambda n: f"7-{n:08d}")
    name = factory.Sequence(lambda n: f"Azure migration {n}")
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    solution_area = SolutionArea.AZURE_INFRA
    estimated_value_usd = Decimal("1200000")
    seller_name = "Sam Seller"


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim

    organization = factory.SubFactory(OrganizationFactory)
    claim_id = factory.Sequence(lambda n: f"CLM-2025-{n:06d}")
    activity_type = factory.SubFactory(ActivityTypeFactory)
    location = factory.SubFactory(
        PartnerLocationFactory, organization=factory.SelfAttribute("..organization")
    )
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    customer_tenant_id = factory.LazyAttribute(lambda c: c.customer.tenant_id)
    friendly_name = "Copilot workshop"
    status = ClaimStatus.DRAFT
    potential_payout_usd = Decimal("5000")


class ProofDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProofDocument

    claim = factory.SubFactory(ClaimFactory)
    organization = factory.LazyAttribute(lambda p: p.claim.organization)
    kind = ProofKind.INVOICE
    file = factory.django.FileField(filename="invoice.pdf", data=b"%PDF-1.4 invoice")
    original_name = "invoice.pdf"
    content_type = "application/pdf"
    size = 16
    sha256 = "0" * 64


class ClaimReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimReview

    claim = factory.SubFactory(ClaimFactory)
    organization = factory.LazyAttribute(lambda r: r.claim.organization)
    decision = ReviewDecision.REQUEST_INFO
    reason_code = "GENERIC_CONTENT"


class OutcomeLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutcomeLink

    claim = factory.SubFactory(ClaimFactory)
    organization = factory.LazyAttribute(lambda o: o.claim.organization)
    transaction = factory.SubFactory(TransactionFactory, organization=factory.SelfAttribute("..organization"))


FACTORIES.update(
    {
        ActivityType: lambda organization: ActivityTypeFactory(),
        ActivityRate: lambda organization: ActivityRateFactory(),
        CountryMarketTier: lambda organization: CountryMarketTierFactory(),
        Opportunity: lambda organization: OpportunityFactory(organization=organization),
        Claim: lambda organization: ClaimFactory(organization=organization),
        ProofDocument: lambda organization: ProofDocumentFactory(claim__organization=organization),
        ClaimReview: lambda organization: ClaimReviewFactory(claim__organization=organization),
        OutcomeLink: lambda organization: OutcomeLinkFactory(claim__organization=organization),
    }
)


# --- Co-sell -------------------------------------------------------------------------------------


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Northwind data platform {n}")
    type = "Shared"
    qualification = "SalesQualified"
    status = "New"
    substatus = "Received"
    is_inbound = True
    customer_name = "Northwind Traders AG"
    customer_country = "DE"
    customer_size = "1001to5000employees"
    customer_profile = factory.LazyFunction(
        lambda: {"name": "Northwind Traders AG", "address": {"country": "DE"}, "size": "1001to5000employees"}
    )
    consent = factory.LazyFunction(lambda: {"consentToToShareInfoWithOthers": True, "consentToContact": True})
    deal_value = Decimal("180000")
    currency = "EUR"
    target = factory.LazyFunction(lambda: [{"type": "SolutionProfile", "id": "SOL-34104-EBB"}])
    expiration_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    priority = factory.Sequence(lambda n: 10 + n)
    match_countries = factory.LazyFunction(lambda: ["DE", "AT"])
    assign_to_team = "DACH Data team"


class CapabilityProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CapabilityProfile
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)
    solution_areas = factory.LazyFunction(lambda: ["Data & AI"])
    industries = factory.LazyFunction(lambda: ["Manufacturing"])
    products = factory.LazyFunction(lambda: ["Azure"])
    countries_served = factory.LazyFunction(lambda: ["DE"])


class CaseStudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseStudy

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Plant analytics {n}")
    customer_name = "Contoso Manufacturing"
    industry = "Manufacturing"
    products = factory.LazyFunction(lambda: ["Azure"])


class SolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Solution

    organization = factory.SubFactory(OrganizationFactory)
    solution_id = factory.Sequence(lambda n: f"SOL-{n:05d}-ABC")
    name = factory.Sequence(lambda n: f"Data Warehouse Accelerator {n}")


FACTORIES.update(
    {
        Referral: lambda organization: ReferralFactory(organization=organization),
        RoutingRule: lambda organization: RoutingRuleFactory(organization=organization),
        CapabilityProfile: lambda organization: CapabilityProfileFactory(organization=organization),
        CaseStudy: lambda organization: CaseStudyFactory(organization=organization),
        Solution: lambda organization: SolutionFactory(organization=organization),
    }
)


# --- Security and compliance ----------------------------------------------------------------------


class SecuritySettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecuritySettings
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)
    security_contact_name = "Security Desk"
    security_contact_email = factory.Sequence(lambda n: f"security{n}@partner.example")


class SecurityAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityAlert

    organization = factory.SubFactory(OrganizationFactory)
    alert_type = AlertType.UNUSUAL_SIGN_IN
    title = factory.Sequence(lambda n: f"Unusual sign-in {n}")
    created_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))


class CustomerMfaStatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerMfaStat

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    admins_with_mfa = 3
    admins_total = 3
    non_admins_with_mfa = 20
    users_total = 40


class CustomerAzureSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAzureSubscription

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    subscription_id = factory.LazyFunction(uuid.uuid4)
    display_name = factory.Sequence(lambda n: f"Azure plan {n}")


class DapRelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DapRelationship

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    established_at = datetime(2021, 3, 1, tzinfo=UTC)


class GdapRelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GdapRelationship
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    display_name = factory.Sequence(lambda n: f"Helpdesk-{n}")
    duration = timedelta(days=730)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        ids = extracted or ["729827e3-9c14-49f7-bb1b-9608f156bbb8", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"]
        self.roles.set(EntraRole.objects.filter(role_definition_id__in=ids))


def active_gdap_relationship(organization, **kwargs) -> GdapRelationship:
    activated = kwargs.pop("activated_at", timezone.now() - timedelta(days=10))
    duration = kwargs.pop("duration", timedelta(days=730))
    return GdapRelationshipFactory(
        organization=organization,
        status=GdapStatus.ACTIVE,
        activated_at=activated,
        duration=duration,
        end_at=activated + duration,
        **kwargs,
    )


class GdapAccessAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GdapAccessAssignment
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    relationship = factory.SubFactory(
        GdapRelationshipFactory, organization=factory.SelfAttribute("..organization")
    )
    security_group_id = factory.LazyFunction(uuid.uuid4)
    security_group_name = factory.Sequence(lambda n: f"Helpdesk-L{n}")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        self.roles.set(extracted or self.relationship.roles.all()[:1])


class SecurityScoreSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityScoreSnapshot

    organization = factory.SubFactory(OrganizationFactory)
    taken_on = factory.Sequence(lambda n: date(2026, 1, 1) + timedelta(days=n))
    score = 80
    earned = 64
    possible = 80
    authorization_ok = True


class ProgramEnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramEnrollment
        django_get_or_create = ("organization", "program")

    organization = factory.SubFactory(OrganizationFactory)
    program = VerifiedProgram.AI_CLOUD_PARTNER_PROGRAM


class VerificationCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VerificationCheck

    organization = factory.SubFactory(OrganizationFactory)
    enrollment = factory.SubFactory(
        ProgramEnrollmentFactory, organization=factory.SelfAttribute("..organization")
    )
    kind = CheckKind.BUSINESS
    status = CheckStatus.ACTION_REQUIRED
    reason = "The legal name could not be matched with the business register."


class VerificationDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VerificationDocument

    organization = factory.SubFactory(OrganizationFactory)
    check_ref = factory.SubFactory(
        VerificationCheckFactory, organization=factory.SelfAttribute("..organization")
    )
    doc_type = DocumentType.REGISTRATION_EXTRACT
    file = factory.django.FileField(filename="extract.pdf", data=b"%PDF-1.4\n%%EOF\n")
    original_name = "extract.pdf"
    file_type = "pdf"
    size = 15
    sha256 = "0" * 64
    assist_score = 70
    assist_band = Likelihood.NEEDS_REVIEW
    assist_findings = factory.LazyFunction(list)


class TrainingAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingAssignment

    organization = factory.SubFactory(OrganizationFactory)
    course = factory.LazyFunction(lambda: TrainingCourse.objects.order_by("code").first())
    user = factory.SubFactory(UserFactory, organization=factory.SelfAttribute("..organization"))
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


FACTORIES.update(
    {
        SecuritySettings: lambda organization: SecuritySettingsFactory(organization=organization),
        SecurityAlert: lambda organization: SecurityAlertFactory(organization=organization),
        CustomerMfaStat: lambda organization: CustomerMfaStatFactory(organization=organization),
        CustomerAzureSubscription: lambda organization: CustomerAzureSubscriptionFactory(
            organization=organization
        ),
        DapRelationship: lambda organization: DapRelationshipFactory(organization=organization),
        GdapRelationship: lambda organization: GdapRelationshipFactory(organization=organization),
        GdapAccessAssignment: lambda organization: GdapAccessAssignmentFactory(organization=organization),
        SecurityScoreSnapshot: lambda organization: SecurityScoreSnapshotFactory(organization=organization),
        ProgramEnrollment: lambda organization: ProgramEnrollmentFactory(organization=organization),
        VerificationCheck: lambda organization: VerificationCheckFactory(organization=organization),
        VerificationDocument: lambda organization: VerificationDocumentFactory(organization=organization),
        TrainingAssignment: lambda organization: TrainingAssignmentFactory(organization=organization),
        TrainingCourse: lambda organization: TrainingCourse.objects.order_by("code").first(),
        EntraRole: lambda organization: EntraRole.objects.order_by("display_name").first(),
    }
)


# --- compliance helper ----------------------------------------------------------------------------


def verification_pdf(lines: list[str] | None = None, *, user_password: str = "") -> bytes:
    """A small one-page PDF with a text layer (fpdf2); `user_password` encrypts it."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines or ["Certificate of Incorporation", "Partner Ltd"]:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    if user_password:
        pdf.set_encryption(owner_password=f"{user_password}-owner", user_password=user_password)
    return bytes(pdf.output())


def compliance_admin(organization, **kwargs):
    """A Compliance admin of `organization` (spec/accounts.md §3.2)."""
    return UserFactory(organization=organization, roles=[Role.COMPLIANCE_ADMIN], **kwargs)


# --- api-admin helper -----------------------------------------------------------------------------


def verification_check_for(organization, **kwargs) -> VerificationCheck:
    """A check of a kind the organization has no check of yet (one check per kind and enrollment):
    `FACTORIES` may make a check and a document's check for the same organization."""
    for program in VerifiedProgram.values:
        enrollment = ProgramEnrollmentFactory(organization=organization, program=program)
        used = set(VerificationCheck.objects.filter(enrollment=enrollment).values_list("kind", flat=True))
        free = [kind for kind in CheckKind.values if kind not in used]
        if free:
            return VerificationCheckFactory(
                organization=organization, enrollment=enrollment, kind=free[0], **kwargs
            )
    raise RuntimeError("Every program of this organization has a check of every kind.")


FACTORIES.update(
    {
        VerificationCheck: verification_check_for,
        VerificationDocument: lambda organization: VerificationDocumentFactory(
            organization=organization, check_ref=verification_check_for(organization)
        ),
    }
)


# --- Membership -------------------------------------------------------------------------------------


def _location_of(organization) -> PartnerLocation:
    return PartnerLocation.objects.filter(organization=organization).first() or PartnerLocationFactory(
        organization=organization
    )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)
    member_since = date(2021, 3, 1)
    anniversary_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=120))


class ScoreSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoreSnapshot

    organization = factory.SubFactory(OrganizationFactory)
    designation = Designation.MODERN_WORK
    track = Track.ENTERPRISE
    taken_on = factory.Sequence(lambda n: date(2026, 7, 1) + timedelta(days=n))
    rule_set = factory.LazyFunction(lambda: ScoreRuleSet.objects.get(fiscal_year="FY27"))
    metrics = factory.LazyFunction(dict)
    total = 0
    qualified = False
    is_best = True


class DesignationEnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DesignationEnrollment
        django_get_or_create = ("organization", "designation")

    organization = factory.SubFactory(OrganizationFactory)
    designation = Designation.MODERN_WORK
    status = EnrollmentStatus.ENROLLED
    last_qualified_on = factory.LazyFunction(timezone.localdate)
    enrolled_on = date(2026, 1, 15)
    renews_on = date(2027, 1, 15)


class PersonCertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonCertification

    organization = factory.SubFactory(OrganizationFactory)
    learner_name = factory.Sequence(lambda n: f"Learner {n}")
    email = factory.Sequence(lambda n: f"learner{n}@partner.example")
    certification = factory.LazyFunction(lambda: Certification.objects.get(code="MS-700"))
    earned_on = date(2025, 9, 1)


class TrainingDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingDelivery

    organization = factory.SubFactory(OrganizationFactory)
    course_name = factory.Sequence(lambda n: f"AZ-104 bootcamp {n}")
    delivered_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    learners = 12
    satisfaction = 88


class IsvSuccessApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IsvSuccessApplication

    organization = factory.SubFactory(OrganizationFactory)
    status = IsvStatus.DRAFT
    app_name = factory.Sequence(lambda n: f"Contoso Insights {n}")
    app_description = "Usage analytics for Microsoft 365 tenants."
    designation = Designation.MODERN_WORK
    expected_release_date = date(2027, 3, 1)


class MarketplaceBilledSaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketplaceBilledSale

    organization = factory.SubFactory(OrganizationFactory)
    billed_on = factory.LazyFunction(lambda: timezone.localdate().replace(day=1) - timedelta(days=40))
    offer_id = "contoso-insights"
    offer_name = "Contoso Insights"
    amount_usd = Decimal("12500.00")


class RewardsYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RewardsYear

    organization = factory.SubFactory(OrganizationFactory)
    anniversary = date(2026, 3, 1)
    mbs_ttm_usd = Decimal("130000.00")
    tier = factory.LazyFunction(lambda: MarketplaceRewardTier.objects.get(tier=2))


class BenefitPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BenefitPackage

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"partner_success_core_{n}")
    name = "Partner Success Core Benefits"
    source = PackageSource.PURCHASE
    start = date(2026, 7, 1)
    end = date(2027, 6, 30)


class BenefitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Benefit

    organization = factory.SubFactory(OrganizationFactory)
    package = factory.SubFactory(BenefitPackageFactory, organization=factory.SelfAttribute("..organization"))
    kind = BenefitKind.AZURE_CREDIT
    product = "Azure credits"
    quantity = Decimal("4000")
    unit = BenefitUnit.USD
    expires_at = date(2027, 6, 30)


class BenefitConsumptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BenefitConsumption

    organization = factory.SubFactory(OrganizationFactory)
    benefit = factory.SubFactory(BenefitFactory, organization=factory.SelfAttribute("..organization"))
    consumed_quantity = Decimal("2950")
    as_of = date(2027, 3, 31)


class MarketplaceLicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketplaceLicense

    organization = factory.SubFactory(OrganizationFactory)
    # Before `date` below, which shadows datetime.date inside this class body.
    term_start = date(2026, 7, 1)
    term_end = date(2027, 6, 30)
    date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=2))
    offer_name = "Contoso Insights"
    offer_id = "contoso-insights"
    plan_name = "Standard"
    plan_id = "standard"
    customer_name = factory.Sequence(lambda n: f"Customer {n}")
    customer_tenant_id = factory.LazyFunction(uuid.uuid4)
    country = "US"
    licenses_purchased = 50
    licenses_assigned = 38
    license_status = LicenseStatus.ACTIVE
    subscription_id = factory.LazyFunction(uuid.uuid4)


class VmImageUsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VmImageUsage

    organization = factory.SubFactory(OrganizationFactory)
    month = date(2026, 10, 1)
    offer_name = "Contoso Hardened Ubuntu"
    plan_sku = "ubuntu-24-04-hardened"
    image_version = factory.Sequence(lambda n: f"1.{n}.0")
    os_type = OsType.LINUX
    customer_count = 14
    deployments = 40
    active_vms = 122
    normalized_usage_hours = Decimal("71200.00")
    raw_usage_hours = Decimal("35600.00")
    country = "US"
    is_latest_version = False


class SurfaceAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurfaceAssessment

    organization = factory.SubFactory(OrganizationFactory)
    location = factory.LazyAttribute(lambda o: _location_of(o.organization))
    learner_name = factory.Sequence(lambda n: f"Surface Learner {n}")
    email = factory.Sequence(lambda n: f"surface{n}@partner.example")
    country = "US"
    assessment_name = "Surface Pro technical fundamentals"
    completed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=3))
    score = 86
    status = SurfaceStatus.PASSED


FACTORIES.update(
    {
        Membership: lambda organization: MembershipFactory(organization=organization),
        ScoreSnapshot: lambda organization: ScoreSnapshotFactory(organization=organization),
        DesignationEnrollment: lambda organization: DesignationEnrollmentFactory(organization=organization),
        PersonCertification: lambda organization: PersonCertificationFactory(organization=organization),
        TrainingDelivery: lambda organization: TrainingDeliveryFactory(organization=organization),
        IsvSuccessApplication: lambda organization: IsvSuccessApplicationFactory(organization=organization),
        MarketplaceBilledSale: lambda organization: MarketplaceBilledSaleFactory(organization=organization),
        RewardsYear: lambda organization: RewardsYearFactory(organization=organization),
        BenefitPackage: lambda organization: BenefitPackageFactory(organization=organization),
        Benefit: lambda organization: BenefitFactory(organization=organization),
        BenefitConsumption: lambda organization: BenefitConsumptionFactory(organization=organization),
        MarketplaceLicense: lambda organization: MarketplaceLicenseFactory(organization=organization),
        VmImageUsage: lambda organization: VmImageUsageFactory(organization=organization),
        SurfaceAssessment: lambda organization: SurfaceAssessmentFactory(organization=organization),
    }
)
