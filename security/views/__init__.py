"""Pages of the Security workspace: posture (score, MFA, alerts), delegated access, compliance."""

#: Rows per page of the workspace's lists. Their rows carry forms, badges and links, so a page of a
#: large partner renders in about the time of a small partner's whole list.
PAGE_SIZE = 25
