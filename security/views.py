from portal.views import workspace_coming

TITLE = "Security"
SUMMARY = (
    "The security requirements score, the MFA dashboard for your users and customers, GDAP "
    "relationships and the Compliance workspace."
)


def index(request):
    """The workspace's landing page until its issue lands."""
    return workspace_coming(request, workspace="security", title=TITLE, summary=SUMMARY)
