from portal.capabilities import Capability

# (app, landing URL name, label): the navigation of the seven workspaces.
WORKSPACES = (
    ("accounts", "home:index", "Home"),
    ("incentives", "incentives:index", "Incentives"),
    ("earnings", "earnings:index", "Earnings"),
    ("membership", "membership:index", "Membership"),
    ("cosell", "cosell:index", "Co-sell"),
    ("security", "security:index", "Security"),
    ("commerce", "commerce:index", "Commerce"),
)


def portal(request):
    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    match = getattr(request, "resolver_match", None)
    return {
        "workspaces": WORKSPACES,
        "active_workspace": match.app_name if match else "",
        "caps": user.capabilities if authenticated else frozenset(),
        "Cap": Capability,
    }
