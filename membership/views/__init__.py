"""Membership workspace pages; each module owns one area of the workspace."""

#: The refusal of a Membership page (`portal.views.capability_required(..., message=DENIED)`).
DENIED = "Your roles don't allow this in the Membership workspace."
