from portal.views import workspace_coming

TITLE = "Commerce"
SUMMARY = "Catalog and price lists, customers' subscriptions, and the legacy to new commerce migration."


def index(request):
    """The workspace's landing page until its issue lands."""
    return workspace_coming(request, workspace="commerce", title=TITLE, summary=SUMMARY)
