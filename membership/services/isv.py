"""ISV Success sign-up (spec/membership.md §3).

A partner admin drafts an application (the app, its target solution area, its release or its
marketplace offer), then submits it, accepting the program agreement, once the organization is
eligible: an active program membership and a verified AI Cloud Partner Program account. Vendor staff
review it: submitted → in review → approved | rejected (`choices.ISV_TRANSITIONS`). Approval grants
the `isv_success` benefit package; a rejection says why, and the partner may reopen it as a draft.
One live (not rejected) application per organization, enforced by the database.

Each status change is audited, appended to the application's history (portal.history, the review
note as its note) and sent as the `membership.isv_application.status_changed` webhook event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date

from accounts.choices import ActionItemCode, Severity
from accounts.models import Organization
from accounts.services.action_center import action_item_raise, action_item_resolve
from membership.choices import ISV_TRANSITIONS, Designation, IsvStatus, PackageSource
from membership.models import IsvSuccessApplication
from membership.selectors.isv import isv_eligibility, live_application
from membership.services.benefits import package_grant
from portal.audit import audit_record
from portal.capabilities import is_vendor_staff
from portal.history import history_record
from portal.locks import lock
from portal.roles import Role
from portal.webhooks import register_event, webhook_emit

__all__ = (
    "APPLICATION_FIELDS",
    "ISV_PACKAGE_CODE",
    "ISV_STATUS_CHANGED",
    "isv_application_reopen",
    "isv_application_review",
    "isv_application_save",
    "isv_application_submit",
)

ISV_STATUS_CHANGED = register_event(
    "membership.isv_application.status_changed",
    "An ISV Success application moved to another status (submitted, in review, approved, rejected, draft).",
)

ISV_PACKAGE_CODE = "isv_success"
#: The fields a partner edits on a draft.
APPLICATION_FIELDS = (
    "app_name",
    "app_description",
    "designation",
    "expected_release_date",
    "is_published",
    "marketplace_offer_id",
)
_REVIEW_TARGETS = frozenset({IsvStatus.IN_REVIEW, IsvStatus.APPROVED, IsvStatus.REJECTED})
_TRUE = {"true", "1", "on", "yes"}
_FALSE = {"false", "0", "off", "no", ""}


# --- Drafts ----------------------------------------------------------------------------------------


def _text(value: Any, field: str, errors: dict[str, str], *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = "Enter text."
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = "This field is required."
    return value


def _release_date(value: Any, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            parsed = parse_date(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    errors["expected_release_date"] = f"{value!r} is not a date (YYYY-MM-DD)."
    return None


def _flag(value: Any, errors: dict[str, str]) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if value is None:
        return False
    errors["is_published"] = f"{value!r} is not yes or no."
    return False


def _clean(data: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The draft's values after `data` (missing keys keep their current value), checked together."""
    unknown = sorted(set(data) - set(APPLICATION_FIELDS))
    if unknown:
        raise ValidationError({NON_FIELD_ERRORS: f"Unknown application fields: {', '.join(unknown)}."})
    merged = {**current, **data}
    errors: dict[str, str] = {}
    values = {
        "app_name": _text(merged.get("app_name"), "app_name", errors, required=True),
        "app_description": _text(merged.get("app_description"), "app_description", errors, required=True),
        "marketplace_offer_id": _text(
            merged.get("marketplace_offer_id"), "marketplace_offer_id", errors, required=False
        ),
        "expected_release_date": _release_date(merged.get("expected_release_date"), errors),
        "is_published": _flag(merged.get("is_published"), errors),
    }
    designation = merged.get("designation") or ""
    if not designation:
        errors["designation"] = "Choose the target solution area."
    elif designation not in Designation.values:
        errors["designation"] = f"{designation!r} is not a solution area."
    values["designation"] = designation
    if values["is_published"]:
        if not values["marketplace_offer_id"] and "marketplace_offer_id" not in errors:
            errors["marketplace_offer_id"] = "A published app needs its marketplace offer ID."
    elif "expected_release_date" not in errors:
        release = values["expected_release_date"]
        if release is None:
            errors["expected_release_date"] = "An app in development needs its expected release date."
        elif release < timezone.localdate():
            errors["expected_release_date"] = (
                f"The expected release date {release.isoformat()} is in the past; "
                "update it, or mark the app as published."
            )
    if errors:
        raise ValidationError(errors)
    return values


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _live_conflict(organization: Organization, exclude_pk: int | None) -> ValidationError | None:
    """The error to give when another live application exists (`exclude_pk`: the one being saved)."""
    others = IsvSuccessApplication.objects.filter(organization=organization).exclude(
        status=IsvStatus.REJECTED
    )
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    other = others.first()
    return _conflict_error(other) if other is not None else None


def _conflict_error(other: IsvSuccessApplication | None) -> ValidationError:
    if other is None:
        return ValidationError(
            "The organization already has an ISV Success application.", code="one_live_isv_application"
        )
    return ValidationError(
        f"The organization already has an ISV Success application: “{other.app_name}” "
        f"({other.get_status_display().lower()}). Edit that one instead.",
        code="one_live_isv_application",
    )


@transaction.atomic
def isv_application_save(
    *,
    actor: Any,
    organization: Organization,
    data: dict[str, Any],
    application: IsvSuccessApplication | None = None,
) -> IsvSuccessApplication:
    """Create the organization's draft, or update it (only drafts are edited)."""
    if application is None:
        values = _clean(data, {})
        conflict = _live_conflict(organization, None)
        if conflict is not None:
            raise conflict
        application = IsvSuccessApplication(organization=organization, created_by=actor, **values)
        application.full_clean(exclude=["created_by"], validate_constraints=False)
        try:
            with transaction.atomic():
                application.save(force_insert=True)
        except IntegrityError as exc:
            # Another request created one a moment ago.
            raise _conflict_error(live_application(organization)) from exc
        history_record(subject=application, actor=actor, to_status=application.status)
        audit_record(
            actor=actor,
            action="membership.isv.created",
            organization_id=organization.pk,
            target=application,
            changes={name: _json(value) for name, value in values.items()},
        )
        return application

    if application.organization_id != organization.pk:
        raise PermissionDenied("This application belongs to another organization.")
    application = lock(application)
    if application.status != IsvStatus.DRAFT:
        raise ValidationError(
            {
                "status": (
                    f"Only a draft can be edited; this application is "
                    f"{application.get_status_display().lower()}."
                )
            }
        )
    values = _clean(data, {name: getattr(application, name) for name in APPLICATION_FIELDS})
    changes = {
        name: [_json(getattr(application, name)), _json(value)]
        for name, value in values.items()
        if getattr(application, name) != value
    }
    for name, value in values.items():
        setattr(application, name, value)
    application.full_clean(exclude=["created_by"], validate_constraints=False)
    if changes:
        application.save()
        audit_record(
            actor=actor,
            action="membership.isv.updated",
            organization_id=organization.pk,
            target=application,
            changes=changes,
        )
    return application


# --- Status changes --------------------------------------------------------------------------------


def _check_transition(application: IsvSuccessApplication, to_status: str) -> None:
    allowed = ISV_TRANSITIONS.get(application.status, set())
    if to_status not in allowed:
        names = ", ".join(sorted(IsvStatus(s).label.lower() for s in allowed)) or "none"
        raise ValidationError(
            {
                "status": ValidationError(
                    f"An application that is {application.get_status_display().lower()} cannot become "
                    f"{IsvStatus(to_status).label.lower()}; allowed: {names}.",
                    code="transition",
                )
            }
        )


def _move(
    application: IsvSuccessApplication,
    *,
    to_status: str,
    actor: Any,
    fields: dict[str, Any],
    action: str,
    note: str = "",
) -> IsvSuccessApplication:
    from_status = application.status
    application.status = to_status
    for name, value in fields.items():
        setattr(application, name, value)
    application.save(update_fields=["status", *fields, "updated_at"])
    history_record(subject=application, actor=actor, from_status=from_status, to_status=to_status, note=note)
    changes: dict[str, Any] = {"status": [from_status, to_status]}
    if note:
        changes["note"] = note
    audit_record(
        actor=actor,
        action=action,
        organization_id=application.organization_id,
        target=application,
        changes=changes,
    )
    webhook_emit(
        organization_id=application.organization_id,
        event=ISV_STATUS_CHANGED,
        data={
            "applicationId": application.pk,
            "appName": application.app_name,
            "fromStatus": from_status,
            "status": to_status,
            "note": note,
        },
    )
    return application


@transaction.atomic
def isv_application_submit(
    *, actor: Any, application: IsvSuccessApplication, accept_agreement: bool
) -> IsvSuccessApplication:
    """Draft → submitted: the organization must be eligible and the agreement accepted."""
    application = lock(application, "organization")
    _check_transition(application, IsvStatus.SUBMITTED)
    if accept_agreement is not True:
        raise ValidationError(
            {"accept_agreement": "Accept the ISV Success program agreement to submit the application."}
        )
    # The draft was valid when saved; a release date may have passed since.
    _clean({}, {name: getattr(application, name) for name in APPLICATION_FIELDS})
    eligibility = isv_eligibility(application.organization)
    if not eligibility.eligible:
        raise ValidationError(
            [
                ValidationError(f"{check.label}: {check.detail}", code=f"not_eligible_{check.code}")
                for check in eligibility.failed
            ]
        )
    now = timezone.now()
    return _move(
        application,
        to_status=IsvStatus.SUBMITTED,
        actor=actor,
        fields={"agreement_accepted_at": now, "submitted_at": now},
        action="membership.isv.submitted",
    )


@transaction.atomic
def isv_application_review(
    *, actor: Any, application: IsvSuccessApplication, to_status: str, note: str = ""
) -> IsvSuccessApplication:
    """The vendor's review: submitted → in review → approved | rejected. A rejection says why;
    approval grants the ISV Success benefit package from today."""
    if not is_vendor_staff(actor):
        raise PermissionDenied("ISV Success applications are reviewed by the vendor's staff.")
    if to_status not in IsvStatus.values:
        raise ValidationError({"to_status": f"Unknown status {to_status!r}."})
    if to_status not in _REVIEW_TARGETS:
        raise ValidationError(
            {"to_status": "A review moves an application to in review, approved or rejected."}
        )
    note = (note or "").strip()
    if to_status == IsvStatus.REJECTED and not note:
        raise ValidationError({"note": "Say why the application is rejected: the partner reads the note."})
    application = lock(application, "organization")
    _check_transition(application, to_status)
    fields: dict[str, Any] = {"reviewed_by": actor, "reviewed_at": timezone.now()}
    if note or to_status != IsvStatus.IN_REVIEW:
        fields["review_note"] = note
    application = _move(
        application,
        to_status=to_status,
        actor=actor,
        fields=fields,
        action=f"membership.isv.{to_status}",
        note=note,
    )
    if to_status == IsvStatus.APPROVED:
        package_grant(
            organization=application.organization,
            code=ISV_PACKAGE_CODE,
            source=PackageSource.ISV_SUCCESS,
            start=timezone.localdate(),
            actor=actor,
        )
    if to_status in (IsvStatus.APPROVED, IsvStatus.REJECTED):
        _decision_item(application)
    return application


def _decision_key(application: IsvSuccessApplication) -> str:
    return f"isv-application-{application.pk}"


def _decision_item(application: IsvSuccessApplication) -> None:
    """Tell the partner's membership managers about the vendor's decision in the Action Center."""
    approved = application.status == IsvStatus.APPROVED
    action_item_raise(
        organization_id=application.organization_id,
        code=ActionItemCode.ISV_APPLICATION_DECIDED,
        dedupe_key=_decision_key(application),
        title=(
            f"ISV Success approved for {application.app_name}: activate your benefits"
            if approved
            else f"ISV Success application for {application.app_name} was rejected"
        ),
        body="" if approved else application.review_note,
        severity=Severity.LOW if approved else Severity.MEDIUM,
        target_url=reverse("membership:benefits" if approved else "membership:isv"),
        audience_roles=[Role.PARTNER_ADMIN, Role.GLOBAL_ADMIN],
    )


@transaction.atomic
def isv_application_reopen(*, actor: Any, application: IsvSuccessApplication) -> IsvSuccessApplication:
    """Rejected → draft, to correct and submit again; the agreement is accepted again on submit."""
    application = lock(application, "organization")
    _check_transition(application, IsvStatus.DRAFT)
    conflict = _live_conflict(application.organization, application.pk)
    if conflict is not None:
        raise conflict
    try:
        with transaction.atomic():
            application = _move(
                application,
                to_status=IsvStatus.DRAFT,
                actor=actor,
                fields={"agreement_accepted_at": None, "submitted_at": None},
                action="membership.isv.reopened",
            )
    except IntegrityError as exc:
        raise _conflict_error(live_application(application.organization)) from exc
    action_item_resolve(
        organization_id=application.organization_id, dedupe_key=_decision_key(application), actor=actor
    )
    return application
