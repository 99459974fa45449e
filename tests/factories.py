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
from oauth2_provider.models import Application

from accounts.choices import ActionItemCode, CustomerSegment, Severity
from accounts.models import (
    ActionItem,
    ApiClient,
    AuditEvent,
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
    NceSubscription,
    PriceList,
    PriceListRow,
    Product,
    Sku,
)
from portal.models import HistoryEvent, JobRun, WebhookDelivery, WebhookEndpoint

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
    class Meta:
        model = HistoryEvent

    organization = factory.SubFactory(OrganizationFactory)
    content_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(Organization))
    object_id = "1"
    actor_label = "system"
    to_status = "done"


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
