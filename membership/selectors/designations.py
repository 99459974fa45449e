"""Solutions Partner designations as pages and the API read them: the organization's enrollments."""

from __future__ import annotations

from membership.models import DesignationEnrollment

__all__ = ("enrollments_by_designation",)


def enrollments_by_designation(user) -> dict[str, DesignationEnrollment]:
    """The viewer's organization's enrollment of each designation it has one of."""
    return {row.designation: row for row in DesignationEnrollment.objects.visible_to(user)}
