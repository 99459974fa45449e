from portal.views import workspace_coming

TITLE = "Membership"
SUMMARY = (
    "Membership overview and benefits, Solutions Partner designation scores with what-if, ISV "
    "Success, Marketplace Rewards and insights reports."
)


def index(request):
    """The workspace's landing page until its issue lands."""
    return workspace_coming(request, workspace="membership", title=TITLE, summary=SUMMARY)
