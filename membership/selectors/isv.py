"""ISV Success as pages and the API read it (spec/membership.md §3): who may apply (the
eligibility checks) and the organization's application."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Organization
from membership.choices import IsvStatus, MembershipStatus
from membership.models import IsvSuccessApplication, Membership
from security.choices import CheckStatus, Program
from security.models import ProgramEnrollment
from security.services.compliance import verification_status

__all__ = ("Eligibility", "EligibilityCheck", "current_application", "isv_eligibility", "live_application")


@dataclass
class EligibilityCheck:
    code: str
    label: str
    ok: bool
    detail: str


@dataclass
class Eligibility:
    eligible: bool
    checks: list[EligibilityCheck]

    @property
    def failed(self) -> list[EligibilityCheck]:
        return [check for check in self.checks if not check.ok]


def live_application(organization: Organization) -> IsvSuccessApplication | None:
    """The organization's application that is not rejected, if any (at most one exists)."""
    return (
        IsvSuccessApplication.objects.filter(organization=organization)
        .exclude(status=IsvStatus.REJECTED)
        .first()
    )


def isv_eligibility(organization: Organization) -> Eligibility:
    """Who may submit (spec §3): a program member with a verified AI Cloud Partner Program account
    and no approved application yet."""
    membership = Membership.objects.filter(organization=organization).first()
    if membership is None:
        member = EligibilityCheck(
            "membership", "AI Cloud Partner Program membership", False, "The organization is not a member."
        )
    elif membership.status != MembershipStatus.ACTIVE:
        member = EligibilityCheck(
            "membership",
            "AI Cloud Partner Program membership",
            False,
            f"The membership is {membership.get_status_display().lower()}; it must be active.",
        )
    else:
        member = EligibilityCheck(
            "membership",
            "AI Cloud Partner Program membership",
            True,
            f"Active member since {membership.member_since.isoformat()}.",
        )

    enrollment = (
        ProgramEnrollment.objects.filter(organization=organization, program=Program.AI_CLOUD_PARTNER_PROGRAM)
        .prefetch_related("checks")
        .first()
    )
    label = "Verified AI Cloud Partner Program account"
    if enrollment is None:
        verified = EligibilityCheck(
            "verification", label, False, "The organization is not enrolled in the AI Cloud Partner Program."
        )
    else:
        status = verification_status(enrollment)
        verified = EligibilityCheck(
            "verification",
            label,
            status == CheckStatus.VERIFIED,
            "The account is verified."
            if status == CheckStatus.VERIFIED
            else f"Account verification is {CheckStatus(status).label.lower()}; it must be verified.",
        )

    approved = (
        IsvSuccessApplication.objects.filter(organization=organization, status=IsvStatus.APPROVED)
        .only("reviewed_at", "app_name")
        .first()
    )
    not_yet = EligibilityCheck(
        "not_approved",
        "No approved ISV Success application",
        approved is None,
        "No application has been approved yet."
        if approved is None
        else f"“{approved.app_name}” is already approved: the organization takes part in ISV Success.",
    )
    checks = [member, verified, not_yet]
    return Eligibility(eligible=all(check.ok for check in checks), checks=checks)


def current_application(user) -> IsvSuccessApplication | None:
    """The viewer's organization's live application (at most one is not rejected), else its latest
    rejected one."""
    applications = IsvSuccessApplication.objects.visible_to(user).select_related("reviewed_by")
    return (
        applications.exclude(status=IsvStatus.REJECTED).first()
        or applications.filter(status=IsvStatus.REJECTED).first()
    )
