"""REST resources of the Membership workspace: /api/v1/membership/… (field names camelCase).

- `membership/`: partnerGlobalId, status, memberSince, anniversaryDate, offers.
- `benefits/`: the packages held (current first), each benefit with entitled, activated, consumed,
  remaining and expiresAt; `benefits/{id}/activate/` and `benefits/{id}/consumption/` (POST
  consumedQuantity + asOf) need MEMBERSHIP_MANAGE.
- `designations/`: the current score of each designation on its best track, with the metric
  breakdown (achieved, threshold, weight, points, gap) and the enrollment;
  `designations/{slug}/` adds the qualification window, suggestions and the daily history;
  `designations/{slug}/whatIf/` (POST deltas per metric → predicted score, nothing stored) and
  `designations/{slug}/enroll/` (POST, MEMBERSHIP_MANAGE).
- `isvSuccess/applications/` (list, POST a draft, GET, PATCH the draft, `submit` with
  acceptAgreement, `reopen` after a rejection) and `isvSuccess/eligibility/`.
- `rewards/` (tier, mbsTtm, nextTier, amountToNext, progressPercent, benefits) and `rewards/years/`.
- `reports/marketplaceLicenses/` (+ `summary/`), `reports/vmImages/` (+ `summary/`),
  `reports/surface/` (+ `kpis/`), `reports/skilling/` (+ `people/`, `byDesignation/`): the
  insights pages' rows and filters (INSIGHTS_VIEW).

Every write goes through membership.services; their ValidationErrors are problem+json 400 answers
with the fields named as the API names them.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from membership.api.designations import DesignationViewSet
from membership.api.program import (
    BenefitPackageViewSet,
    BenefitViewSet,
    IsvApplicationViewSet,
    IsvEligibilityViewSet,
    MembershipViewSet,
    RewardsStatusViewSet,
    RewardsYearViewSet,
)
from membership.api.reports import (
    LicenseReportViewSet,
    SkillingPeopleViewSet,
    SkillingReportViewSet,
    SurfaceReportViewSet,
    VmImageReportViewSet,
)

router = SimpleRouter()
router.register("isvSuccess/applications", IsvApplicationViewSet, basename="membership-isv-application")


def _report(prefix: str, viewset, name: str, extra: tuple[str, str] | None = None) -> list:
    routes = [path(f"reports/{prefix}/", viewset.as_view({"get": "list"}), name=f"membership-{name}-list")]
    if extra is not None:
        segment, handler = extra
        routes.append(
            path(
                f"reports/{prefix}/{segment}/",
                viewset.as_view({"get": handler}),
                name=f"membership-{name}-{handler.replace('_', '-')}",
            )
        )
    return routes


urlpatterns = [
    path("membership/", MembershipViewSet.as_view({"get": "membership"}), name="membership-membership"),
    path("benefits/", BenefitPackageViewSet.as_view({"get": "list"}), name="membership-benefit-list"),
    path(
        "benefits/<int:pk>/activate/",
        BenefitViewSet.as_view({"post": "activate"}),
        name="membership-benefit-activate",
    ),
    path(
        "benefits/<int:pk>/consumption/",
        BenefitViewSet.as_view({"post": "consumption"}),
        name="membership-benefit-consumption",
    ),
    path(
        "designations/",
        DesignationViewSet.as_view({"get": "designations"}),
        name="membership-designation-list",
    ),
    path(
        "designations/<slug:slug>/",
        DesignationViewSet.as_view({"get": "retrieve"}),
        name="membership-designation-detail",
    ),
    path(
        "designations/<slug:slug>/whatIf/",
        DesignationViewSet.as_view({"post": "what_if"}),
        name="membership-designation-what-if",
    ),
    path(
        "designations/<slug:slug>/enroll/",
        DesignationViewSet.as_view({"post": "enroll"}),
        name="membership-designation-enroll",
    ),
    path(
        "isvSuccess/eligibility/",
        IsvEligibilityViewSet.as_view({"get": "eligibility"}),
        name="membership-isv-eligibility",
    ),
    path("rewards/", RewardsStatusViewSet.as_view({"get": "status"}), name="membership-rewards"),
    path("rewards/years/", RewardsYearViewSet.as_view({"get": "list"}), name="membership-rewards-year-list"),
    *_report("marketplaceLicenses", LicenseReportViewSet, "license-report", ("summary", "summary")),
    *_report("vmImages", VmImageReportViewSet, "vm-image-report", ("summary", "summary")),
    *_report("surface", SurfaceReportViewSet, "surface-report", ("kpis", "kpis")),
    *_report("skilling", SkillingReportViewSet, "skilling-report"),
    *_report("skilling/people", SkillingPeopleViewSet, "skilling-people"),
    path(
        "reports/skilling/byDesignation/",
        SkillingPeopleViewSet.as_view({"get": "by_designation"}),
        name="membership-skilling-by-designation",
    ),
    path("", include(router.urls)),
]
