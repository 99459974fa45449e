from portal.views import workspace_coming

TITLE = "Co-sell"
SUMMARY = (
    "Referrals and deals with their history, inbound routing rules, the partner capability "
    "profile, matching and co-sell insights."
)


def index(request):
    """The workspace's landing page until its issue lands."""
    return workspace_coming(request, workspace="cosell", title=TITLE, summary=SUMMARY)
