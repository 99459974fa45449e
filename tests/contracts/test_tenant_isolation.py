"""A user of organization B can neither read nor change organization A's rows, on any route.

The routes come from the URLconf itself, so a workspace is covered the moment it registers a
route: a new object route whose model has no factory in tests.factories.FACTORIES fails here.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.forms.models import model_to_dict
from django.urls import reverse

from portal.api import TenantViewSet
from portal.roles import Role
from tests.contracts.routes import api_list_routes, object_routes, vendor_routes
from tests.factories import FACTORIES, UserFactory

pytestmark = pytest.mark.django_db

OBJECT_ROUTES = object_routes()
LIST_ROUTES = api_list_routes()
_METHODS = ("get", "post", "put", "patch", "delete")


def _id(route) -> str:
    return route.name or route.pattern


def _vendor_data(model) -> bool:
    return getattr(model.objects.all(), "vendor_data", False)


def _snapshot(obj):
    obj.refresh_from_db()
    return model_to_dict(obj)


@pytest.fixture
def outsider(org_b):
    return UserFactory(organization=org_b, roles=[Role.OWNER, Role.GLOBAL_ADMIN, Role.ADMIN_AGENT])


def test_the_walk_finds_the_routes():
    names = {route.name for route in OBJECT_ROUTES}
    assert {"accounts:user-detail", "accounts:customer-detail", "portal:job-detail"} <= names
    assert any(route.is_api for route in OBJECT_ROUTES)


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=_id)
def test_every_object_route_names_a_model_with_a_factory(route):
    assert route.model is not None, f"{route.pattern}: declare `model` (or @tenant_route) on the view"
    assert route.model in FACTORIES, f"add {route.model.__name__} to tests.factories.FACTORIES"


@pytest.mark.parametrize("route", [r for r in OBJECT_ROUTES if r.is_api], ids=_id)
def test_every_api_route_reads_through_the_tenant_viewset(route):
    viewset = route.viewset
    assert issubclass(viewset, TenantViewSet)
    assert getattr(viewset, "queryset", None) is None, "use `model`, never `queryset`"


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=_id)
def test_another_organizations_object_is_a_404_for_every_method(
    route, org_a, outsider, verified_client, api_for
):
    if _vendor_data(route.model):
        pytest.skip("vendor data, shared with every partner (tests/commerce/test_price_lists.py)")
    target = FACTORIES[route.model](org_a)
    before = _snapshot(target)
    path = route.path_for(**route.url_kwargs_for(target))
    if route.is_api:
        client = api_for(
            outsider.organization, scopes=_all_scopes(), roles=(Role.GLOBAL_ADMIN, Role.ADMIN_AGENT)
        )
        methods = [m for m in route.callback.actions]
    else:
        client = verified_client(outsider)
        methods = ["get", "post"]
    statuses = {}
    for method in methods:
        response = getattr(client, method)(path, {} if method == "get" else None)
        statuses[method] = response.status_code
    # 405 means the route has no such method at all; every method it has must answer 404.
    assert set(statuses.values()) <= {404, 405}, f"{path}: {statuses}"
    assert 404 in statuses.values(), f"{path}: {statuses}"
    assert _snapshot(target) == before, f"{path}: organization A's row changed"


@pytest.mark.parametrize("route", LIST_ROUTES, ids=_id)
def test_lists_never_include_another_organizations_rows(route, org_a, org_b, api_for):
    model = route.model
    if model is None:
        pytest.skip("not a model list (a published reference table)")
    assert model in FACTORIES, f"add {model.__name__} to tests.factories.FACTORIES"
    if _vendor_data(model):
        pytest.skip("vendor data, shared with every partner (tests/commerce/test_price_lists.py)")
    viewset = route.viewset
    # Viewsets whose rows show another identifier than the pk, or whose list needs a query,
    # say so with `tenant_row_id(obj)` / `tenant_list_params(obj)`.
    row_id = getattr(viewset, "tenant_row_id", lambda obj: obj.pk)
    params = getattr(viewset, "tenant_list_params", lambda obj: {})
    theirs = FACTORIES[model](org_a)
    mine = FACTORIES[model](org_b)
    api = api_for(org_b, scopes=_all_scopes(), roles=(Role.GLOBAL_ADMIN, Role.ADMIN_AGENT))
    # A person's own rows (their notifications, their alert rules): the caller's are listed.
    person_field = getattr(viewset, "person_field", None)
    if person_field:
        setattr(mine, person_field, api.user)
        mine.save()

    def listed(obj) -> tuple[set, int]:
        response = api.get(route.path_for(), params(obj))
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        # DRF lists page under "results"; the OData lists that mirror Partner Center under "value".
        rows = (body["results"] if "results" in body else body["value"]) if isinstance(body, dict) else body
        return {str(row.get("id")) for row in rows}, len(rows)

    assert str(row_id(theirs)) not in listed(theirs)[0]
    if model is not type(org_b):
        ids, count = listed(mine)
        assert str(row_id(mine)) in ids or count == 50


def _all_scopes():
    from django.conf import settings  # noqa: PLC0415

    return tuple(settings.OAUTH2_PROVIDER["SCOPES"])


HISTORY_MODELS = sorted(
    (model for model in apps.get_models() if getattr(model, "history_capabilities", None)),
    key=lambda model: model._meta.label,
)


def test_the_history_walk_finds_the_tracked_models():
    labels = {model._meta.label for model in HISTORY_MODELS}
    assert {
        "incentives.Claim",
        "cosell.Referral",
        "security.GdapRelationship",
        "commerce.Migration",
    } <= labels


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda model: model._meta.label)
def test_another_organizations_history_download_is_a_404(model, org_a, org_b, outsider, verified_client):
    """/history/<type>/<id>/download/ answers only for the object's own organization."""
    assert model in FACTORIES, f"add {model.__name__} to tests.factories.FACTORIES"
    theirs = FACTORIES[model](org_a)
    mine = FACTORIES[model](org_b)
    content_type = ContentType.objects.get_for_model(model)
    client = verified_client(outsider)

    def download(obj):
        return client.get(reverse("history:download", args=[content_type.pk, obj.pk]))

    assert download(theirs).status_code == 404
    assert download(mine).status_code == 200


def test_an_object_page_links_its_history_download(org_a, verified_client):
    import re  # noqa: PLC0415

    claim_model = apps.get_model("incentives", "Claim")
    claim = FACTORIES[claim_model](org_a)
    owner = UserFactory(organization=org_a, roles=[Role.OWNER, Role.GLOBAL_ADMIN])
    client = verified_client(owner)
    page = client.get(reverse("incentives:claim-detail", args=[claim.pk])).content.decode()
    link = re.search(r'href="([^"]+)" download data-testid="history-download"', page)
    assert link, "the claim page offers its history"
    download = client.get(link.group(1))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize("route", vendor_routes(), ids=_id)
def test_no_partner_reaches_a_vendor_route(route, org_b, api_for, verified_client):
    """The vendor's API serves vendor clients only: a partner's token or signed-in session is refused."""
    path = route.path_for(**dict.fromkeys(route.kwargs, 1))
    partner_token = api_for(org_b, scopes=("accounts:read", "accounts:write"))
    session = verified_client(UserFactory(organization=org_b, roles=[Role.GLOBAL_ADMIN]))
    for client in (partner_token, session):
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code in (401, 403), (path, method, response.status_code)
