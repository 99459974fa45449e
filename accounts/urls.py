from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path(
        "action-items/<int:pk>/<str:transition>/", views.action_item_transition, name="action-item-transition"
    ),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/mfa/verify/", views.mfa_verify, name="mfa-verify"),
    path("accounts/mfa/setup/", views.mfa_setup, name="mfa-setup"),
    path("accounts/mfa/confirm/", views.mfa_confirm, name="mfa-confirm"),
    path("accounts/mfa/backup-codes/", views.mfa_backup_codes_regenerate, name="mfa-backup-codes"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password-reset-done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password-reset-complete",
    ),
    path("accounts/invitation/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("organization/", views.organization_detail, name="organization"),
    path("users/", views.UserListView.as_view(), name="user-list"),
    path("users/invite/", views.user_invite, name="user-invite"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user-detail"),
    path("users/<int:pk>/transfer-ownership/", views.user_transfer_ownership, name="user-transfer-ownership"),
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/new/", views.customer_create, name="customer-create"),
    path("customers/import/", views.customer_import, name="customer-import"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer-edit"),
    path("audit/", views.AuditEventListView.as_view(), name="audit-list"),
    path("api-clients/", views.ApiClientListView.as_view(), name="api-client-list"),
    path("api-clients/new/", views.api_client_create, name="api-client-create"),
    path("api-clients/<int:pk>/revoke/", views.api_client_revoke, name="api-client-revoke"),
]
