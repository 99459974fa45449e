from portal.views import workspace_coming

TITLE = "Earnings"
SUMMARY = (
    "Earnings, revenue, payments and reports: what was earned, what will be paid and when, what "
    "was not eligible and why, with downloads for reconciliation."
)


def index(request):
    """The workspace's landing page until its issue lands."""
    return workspace_coming(request, workspace="earnings", title=TITLE, summary=SUMMARY)
