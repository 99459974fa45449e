from django.urls import path

from incentives import views

app_name = "incentives"

urlpatterns = [
    path("", views.index, name="index"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<int:pk>/", views.activity_detail, name="activity-detail"),
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("claims/", views.claim_list, name="claim-list"),
    path("claims/new/", views.claim_new, name="claim-new"),
    path("claims/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("claims/<int:pk>/consent-request/", views.claim_consent_request, name="claim-consent-request"),
    path("claims/<int:pk>/proof/", views.claim_proof, name="claim-proof"),
    path("claims/proof/<int:pk>/remove/", views.claim_proof_remove, name="claim-proof-remove"),
    path("claims/<int:pk>/submit/", views.claim_submit, name="claim-submit"),
    path("claims/<int:pk>/respond/", views.claim_respond, name="claim-respond"),
    path("claims/<int:pk>/cancel/", views.claim_cancel, name="claim-cancel"),
    path("claims/<int:pk>/outcomes/", views.claim_outcomes, name="claim-outcomes"),
    # The customer's side: a signed link, no sign-in (portal.middleware lets /incentives/consent/ through).
    path("consent/<str:token>/", views.consent, name="consent"),
]
