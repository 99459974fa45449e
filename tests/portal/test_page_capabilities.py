"""Every page route names the capability it needs, or is explicitly open.

One check for pages (portal.views: `require_capability`, `@capability_required`,
`CapabilityRequiredMixin`, `@member_page`), read from the views themselves, so a new page that
forgets to say who may see it fails here.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.template import Context, Template
from django.test import RequestFactory

from portal.capabilities import Capability
from portal.middleware import OPEN_ROUTES, SECOND_FACTOR_ROUTES
from portal.views import capability_required, member_page
from tests.contracts.routes import all_routes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def required_of(callback) -> tuple[str, ...] | None:
    view_class = getattr(callback, "view_class", None)
    if view_class is not None and hasattr(view_class, "required"):
        return view_class.required()
    return getattr(callback, "required_capabilities", None)


def test_every_page_route_names_a_capability_or_is_open():
    known = set(vars(Capability).values())
    unnamed, unknown = [], []
    for route in all_routes():
        if route.is_api or route.name in OPEN_ROUTES | SECOND_FACTOR_ROUTES:
            continue
        required = required_of(route.callback)
        if required is None:
            unnamed.append(route.name or route.pattern)
        elif set(required) - known:
            unknown.append(f"{route.name}: {sorted(set(required) - known)}")
    assert unnamed == [], "name a capability (@capability_required / capability) or mark @member_page"
    assert unknown == []


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_the_decorator_refuses_without_the_capability_and_names_it():
    @capability_required(Capability.EARNINGS_VIEW, Capability.INCENTIVES_VIEW)
    def page(request):
        return "shown"

    assert page.required_capabilities == (Capability.EARNINGS_VIEW, Capability.INCENTIVES_VIEW)
    assert page(_request(UserFactory(roles=["incentives_marketer"]))) == "shown"  # one of them is enough
    with pytest.raises(PermissionDenied):
        page(_request(UserFactory(roles=["helpdesk_agent"])))


def test_a_member_page_is_marked_open():
    @member_page
    def page(request):
        return "shown"

    assert page.required_capabilities == ()


def test_the_can_tag_follows_the_same_table():
    template = Template("{% can Cap.EARNINGS_VIEW as may %}{% if may %}yes{% else %}no{% endif %}")
    for roles, shown in ((["billing_admin"], "yes"), (["helpdesk_agent"], "no")):
        request = _request(UserFactory(roles=roles))
        assert template.render(Context({"request": request, "Cap": Capability})) == shown


def test_a_history_download_needs_its_models_capabilities(org_a, verified_client):
    from django.contrib.contenttypes.models import ContentType  # noqa: PLC0415
    from django.urls import reverse  # noqa: PLC0415

    from tests.factories import FACTORIES  # noqa: PLC0415

    claim_model = next(model for model in FACTORIES if model._meta.label == "incentives.Claim")
    claim = FACTORIES[claim_model](org_a)
    url = reverse("history:download", args=[ContentType.objects.get_for_model(claim_model).pk, claim.pk])
    helpdesk = UserFactory(organization=org_a, roles=["helpdesk_agent"])
    incentives_user = UserFactory(organization=org_a, roles=["incentives_user"])
    assert verified_client(helpdesk).get(url).status_code == 403
    response = verified_client(incentives_user).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
