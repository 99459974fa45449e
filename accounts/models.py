from __future__ import annotations

import uuid
from functools import cached_property

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.choices import ActionItemCode, ActionItemStatus, CustomerSegment, PartnerType, Severity
from portal.capabilities import capabilities_of_roles
from portal.files import FORMULA_TRIGGERS
from portal.roles import Role
from portal.tenancy import TenantManager, TenantModel, TenantQuerySet

partner_id_validator = RegexValidator(r"^\d{7}$", "A partner ID is seven digits.")
country_validator = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 country code.")
INVISIBLE_NAMES = {"\t": "a tab", "\r": "a carriage return"}


def customer_name_validator(value: str) -> None:
    """Refuse a name a spreadsheet would run as a formula: names come back in every download."""
    if value and value[0] in FORMULA_TRIGGERS:
        first = INVISIBLE_NAMES.get(value[0], f'"{value[0]}"')
        raise ValidationError(
            f"A name can't start with {first}: spreadsheets would run it as a formula.", code="formula"
        )


class Organization(models.Model):
    """A partner global account (PGA): the tenant every partner-owned row belongs to."""

    legal_name = models.CharField(max_length=200)
    doing_business_as = models.CharField(max_length=200, blank=True)
    partner_global_id = models.CharField(max_length=7, unique=True, validators=[partner_id_validator])
    country = models.CharField(max_length=2, validators=[country_validator])
    partner_types = ArrayField(
        models.CharField(max_length=32, choices=PartnerType.choices), default=list, blank=True
    )
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    company_registration_number = models.CharField(max_length=60, blank=True)
    tax_id = models.CharField(max_length=60, blank=True)
    company_size = models.CharField(max_length=40, blank=True)
    primary_contact_first_name = models.CharField(max_length=100, blank=True)
    primary_contact_last_name = models.CharField(max_length=100, blank=True)
    primary_contact_email = models.EmailField(blank=True)
    primary_contact_phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_path = "self"
    objects = TenantManager()

    class Meta:
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.partner_global_id})"


class PartnerLocation(TenantModel):
    """A partner location account (PLA): one per country, with its own PartnerID."""

    partner_id = models.CharField(max_length=7, unique=True, validators=[partner_id_validator])
    country = models.CharField(max_length=2, validators=[country_validator])
    name = models.CharField(max_length=200, blank=True)
    is_headquarters = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_headquarters", "country"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_headquarters=True),
                name="one_headquarters_per_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} ({self.country})"


class UserQuerySet(TenantQuerySet):
    pass


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields):
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person (or an API client's service identity) who signs in with an email address.

    Partner users belong to one organization; vendor-side staff have none and work in the admin.
    """

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="users"
    )
    is_staff = models.BooleanField(default=False, help_text="Vendor-side staff who may sign in to the admin.")
    is_active = models.BooleanField(default=True)
    is_service_account = models.BooleanField(
        default=False, help_text="The identity of an API client; cannot sign in to pages."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    tenant_path = "organization"
    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name.split(" ")[0] if self.display_name else self.email

    @cached_property
    def role_codes(self) -> frozenset[str]:
        if self.pk is None:
            return frozenset()
        return frozenset(self.role_assignments.values_list("role", flat=True))

    @cached_property
    def role_locations(self) -> tuple[tuple[str, int | None], ...]:
        """(role, location id or None for organization-wide) of every assignment."""
        if self.pk is None:
            return ()
        return tuple(self.role_assignments.values_list("role", "location_id"))

    @cached_property
    def capabilities(self) -> frozenset[str]:
        return capabilities_of_roles(self.role_codes)


class RoleAssignment(TenantModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=40, choices=Role.choices)
    location = models.ForeignKey(
        PartnerLocation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "location"],
                name="unique_role_assignment",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


class Customer(TenantModel):
    """A customer tenant of a partner."""

    name = models.CharField(max_length=200, validators=[customer_name_validator])
    domain = models.CharField(max_length=253, help_text="Primary domain, e.g. contoso.onmicrosoft.com")
    #: The customer's Microsoft Entra directory (tenant) ID, as the partner or the vendor's feed
    #: gives it; generated only for a customer added without one (Partner Center would create the
    #: tenant). Unique per organization, not portal-wide: an indirect provider and its reseller
    #: serve the same tenant, and a customer moves between partners.
    tenant_id = models.UUIDField(default=uuid.uuid4, verbose_name="Tenant ID")
    country = models.CharField(max_length=2, validators=[country_validator])
    segment = models.CharField(
        max_length=20, choices=CustomerSegment.choices, default=CustomerSegment.COMMERCIAL
    )
    location = models.ForeignKey(
        PartnerLocation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "domain"], name="unique_customer_domain_per_organization"
            ),
            models.UniqueConstraint(
                fields=["organization", "tenant_id"], name="unique_customer_tenant_per_organization"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "country"]),
            # The customer list's order, read from the index at any size.
            models.Index(fields=["organization", "name", "id"], name="accounts_customer_list_order"),
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(TenantModel):
    email = models.EmailField()
    display_name = models.CharField(max_length=150, blank=True)
    roles = ArrayField(models.CharField(max_length=40, choices=Role.choices))
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True),
                name="one_open_invitation_per_email",
            ),
        ]

    def __str__(self) -> str:
        return self.email


class ActionItem(TenantModel):
    """One entry in an organization's Action Center."""

    location = models.ForeignKey(
        PartnerLocation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    code = models.CharField(max_length=60, choices=ActionItemCode.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    target_url = models.CharField(max_length=500, blank=True)
    audience_roles = ArrayField(
        models.CharField(max_length=40, choices=Role.choices), default=list, blank=True
    )
    #: One person the item is for (beside, or instead of, the roles it addresses).
    assignee = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=12, choices=ActionItemStatus.choices, default=ActionItemStatus.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["due_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedupe_key"], name="unique_action_item_per_subject"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.status in (ActionItemStatus.RESOLVED, ActionItemStatus.DISMISSED)


class ApiClient(TenantModel):
    """An OAuth2 client-credentials application bound to one organization and a set of scopes."""

    name = models.CharField(max_length=100)
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="api_client"
    )
    service_user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_client")
    scopes = ArrayField(models.CharField(max_length=40))
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VendorClient(models.Model):
    """An OAuth2 client-credentials application of the vendor's own systems (billing, seller CRM,
    security signals…): created by vendor staff in the admin, bound to no organization, granted
    scopes per vendor feed (`vendor.<feed>:read|write`). Its tokens reach only `/api/v1/vendor/`;
    partner routes refuse them, and partner clients' tokens never reach a vendor feed."""

    name = models.CharField(max_length=100, unique=True)
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="vendor_client"
    )
    service_user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="vendor_client")
    scopes = ArrayField(models.CharField(max_length=40))
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
