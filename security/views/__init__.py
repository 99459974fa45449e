"""Pages of the Security workspace: posture (score, MFA, alerts), delegated access, compliance."""

from portal.paging import LIST_PAGE_SIZE as PAGE_SIZE  # noqa: F401 - the workspace's lists page by it
