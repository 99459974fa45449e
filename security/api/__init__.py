"""REST resources of the security workspace: /api/v1/security/…

Field names are Microsoft Graph's and Partner Center's where they publish one (camelCase):

- `score/` (partnerSecurityScore: securityScore, authorizationOk, the requirement counts,
  requirements[] and the daily history) and `requirements/` (the rows alone).
- `mfa/users/` (the partner's people and their MFA, filters registered, admin, mechanism, search),
  `mfa/customers/` (customer tenants' MFA statistics; POST upserts by customer tenant ID, and
  `mfa/customers/{customerTenantId}/` reads or PUTs one).
- `gdap/relationships/` (delegatedAdminRelationship: POST creates, PATCH updates, and the actions
  `lockForApproval`, `terminate`, `renew`, `autoExtend`, `removeGlobalAdministrator`, `history`),
  with `gdap/relationships/{id}/accessAssignments/[{assignmentId}/]` (delegatedAdminAccessAssignment).
  Durations are ISO 8601 both ways: "P730D", "PT0S", "P180D".
- `dap/`: legacy DAP links, read and DELETE (= remove) only. Nothing here creates a DAP: POST, PUT
  and PATCH answer 405.
- `alerts/` (+ `respond`), `verification/enrollments/`, `verification/checks/` (+ `appeal`,
  `history`), `verification/documents/` (POST multipart upload → 201 with the instant assessment;
  a refused file is a problem+json 400 whose `detail` says why), `trainings/` (+ `complete`, `cancel`).

Every write goes through security.services / security.verification; their ValidationErrors are
problem+json 400 answers with the fields named as the API names them.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from security.api.compliance import (
    CheckViewSet,
    DocumentViewSet,
    EnrollmentViewSet,
    TrainingViewSet,
)
from security.api.gdap import (
    AccessAssignmentViewSet,
    DapViewSet,
    GdapRelationshipViewSet,
)
from security.api.posture import (
    AlertViewSet,
    CustomerMfaViewSet,
    MfaUserViewSet,
    ScoreViewSet,
)

# --- Routes ---------------------------------------------------------------------------------------

router = SimpleRouter()
router.register("gdap/relationships", GdapRelationshipViewSet, basename="security-gdap-relationship")
router.register("dap", DapViewSet, basename="security-dap")
router.register("alerts", AlertViewSet, basename="security-alert")
router.register("verification/enrollments", EnrollmentViewSet, basename="security-enrollment")
router.register("verification/checks", CheckViewSet, basename="security-check")
router.register("verification/documents", DocumentViewSet, basename="security-document")
router.register("trainings", TrainingViewSet, basename="security-training")

_assignments = AccessAssignmentViewSet.as_view({"get": "list", "post": "create"})
_assignment = AccessAssignmentViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path("score/", ScoreViewSet.as_view({"get": "score"}), name="security-score"),
    path("requirements/", ScoreViewSet.as_view({"get": "requirements"}), name="security-requirements"),
    path("mfa/users/", MfaUserViewSet.as_view({"get": "users"}), name="security-mfa-users"),
    path(
        "mfa/customers/",
        CustomerMfaViewSet.as_view({"get": "list", "post": "create"}),
        name="security-mfa-customer-list",
    ),
    path(
        "mfa/customers/<uuid:customerTenantId>/",
        CustomerMfaViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="security-mfa-customer-detail",
    ),
    path(
        "gdap/relationships/<str:id>/accessAssignments/",
        _assignments,
        name="security-gdap-assignment-list",
    ),
    path(
        "gdap/relationships/<str:id>/accessAssignments/<str:assignmentId>/",
        _assignment,
        name="security-gdap-assignment-detail",
    ),
    path("", include(router.urls)),
]
