"""One migration at a time: Partner Center's Create call, and the retry of a failed one."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commerce.choices import MigrationInitiator, MigrationStatus
from commerce.eligibility import MigrationRequest, migration_validate_assessment
from commerce.models import LegacySubscription, Migration, MigrationBatch
from commerce.services.engine import Plan, Run, eligibility_error, execute_plans, lock_subscriptions
from portal.audit import audit_record
from portal.locks import lock


@transaction.atomic
def migration_create(
    *,
    actor: Any,
    subscription: LegacySubscription,
    term_duration: str | None = None,
    billing_cycle: str | None = None,
    quantity: int | None = None,
    purchase_full_term: bool = False,
    custom_term_end_date: date | None = None,
    external_reference_id: str = "",
    initiated_by: str = MigrationInitiator.PARTNER,
    batch: MigrationBatch | None = None,
) -> Migration:
    """Partner Center's Create call: validate, then migrate the subscription and its add-ons.

    Raises ValidationError with every reason when the subscription is not eligible; nothing is
    written then. A failing order returns a Failed migration (retry it with `migration_retry`).
    """
    request = MigrationRequest(
        term_duration=term_duration or None,
        billing_cycle=billing_cycle or None,
        quantity=quantity,
        purchase_full_term=purchase_full_term,
        custom_term_end_date=custom_term_end_date,
        at_renewal=initiated_by == MigrationInitiator.MICROSOFT,
    )
    lock_subscriptions([subscription.pk])
    assessment = migration_validate_assessment(
        subscription=subscription, request=request, on=timezone.localdate()
    )
    if not assessment.is_eligible:
        raise eligibility_error(assessment)
    run = Run(
        actor=actor,
        initiated_by=initiated_by,
        batch=batch,
        external_reference_id=external_reference_id or (batch.external_reference_id if batch else ""),
        now=timezone.now(),
    )
    [migration_id] = execute_plans([Plan(assessment, request)], run)
    migration = Migration.objects.get(pk=migration_id)
    audit_record(
        actor=actor,
        action="commerce.migration.created",
        organization_id=migration.organization_id,
        target=migration,
        changes={
            "status": [None, migration.status],
            "currentSubscriptionId": str(assessment.subscription.subscription_id),
            "catalogItemId": migration.catalog_item_id,
            "termDuration": migration.term_duration,
            "billingCycle": migration.billing_cycle,
            "quantity": migration.quantity,
            "purchaseFullTerm": migration.purchase_full_term,
        },
    )
    return migration


@transaction.atomic
def migration_retry(*, actor: Any, migration: Migration) -> Migration:
    """Run a Failed migration again with its request (Failed → Processing → Completed or Failed)."""
    migration = lock(migration)
    if migration.parent_migration_id:
        raise ValidationError({"migration": "An add-on migration is retried with its base migration."})
    if migration.status != MigrationStatus.FAILED:
        status = migration.get_status_display()
        raise ValidationError({"status": f"Only failed migrations can be retried; this one is {status}."})
    lock_subscriptions([migration.current_subscription_id])
    request = MigrationRequest(
        term_duration=migration.term_duration,
        billing_cycle=migration.billing_cycle,
        quantity=migration.quantity,
        purchase_full_term=migration.purchase_full_term,
        custom_term_end_date=migration.custom_term_end_date,
        at_renewal=migration.initiated_by == MigrationInitiator.MICROSOFT,
    )
    assessment = migration_validate_assessment(
        subscription=migration.current_subscription, request=request, on=timezone.localdate()
    )
    if not assessment.is_eligible:
        raise eligibility_error(assessment)
    existing = {migration.current_subscription_id: migration}
    for child in migration.add_on_migrations.filter(status=MigrationStatus.FAILED):
        existing[child.current_subscription_id] = child
    before = migration.status
    run = Run(
        actor=actor,
        initiated_by=migration.initiated_by,
        batch=migration.batch,
        external_reference_id=migration.external_reference_id,
        now=timezone.now(),
    )
    execute_plans([Plan(assessment, request, existing=existing)], run)
    migration.refresh_from_db()
    audit_record(
        actor=actor,
        action="commerce.migration.retried",
        organization_id=migration.organization_id,
        target=migration,
        changes={"status": [before, migration.status]},
    )
    return migration
