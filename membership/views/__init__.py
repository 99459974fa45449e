"""Membership workspace pages; each module owns one area of the workspace."""

from portal.views import require_capability

DENIED = "Your roles don't allow this in the Membership workspace."


def require(request, capability: str) -> None:
    """403 unless the person's roles grant `capability` in the Membership workspace."""
    require_capability(request, capability, message=DENIED)
