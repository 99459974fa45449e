from portal.views import workspace_coming

TITLE = "Incentives"
SUMMARY = (
    "Partner activities with fixed and variable pay: discover vendor-seller opportunities, "
    "claim one-on-one activities, attach proof of execution, and follow each claim to payment."
)


def index(request):
    """The workspace's landing page until its issue lands."""
    return workspace_coming(request, workspace="incentives", title=TITLE, summary=SUMMARY)
