from django.urls import path  # noqa: F401 - used by the sections below

from security.views import compliance, gdap, posture  # noqa: F401

app_name = "security"

urlpatterns = [
    # --- posture: score, MFA, customers, settings, alerts, Azure budgets (pages-posture helper) ---
    path("", posture.index, name="index"),
    path("mfa/", posture.mfa, name="mfa"),
    path("mfa/download/", posture.mfa_download, name="mfa-download"),
    path("customers/", posture.customers_mfa, name="customers-mfa"),
    path("customers/download/", posture.customers_mfa_download, name="customers-mfa-download"),
    path("customers/import/", posture.customers_mfa_import, name="customers-mfa-import"),
    path("customers/azure-budgets/", posture.azure_budgets, name="azure-budgets"),
    path("customers/azure-budgets/import/", posture.azure_budgets_import, name="azure-budgets-import"),
    path("customers/azure-budgets/<int:pk>/budget/", posture.azure_budget_set, name="azure-budget-set"),
    path("settings/", posture.settings_page, name="settings"),
    path("alerts/", posture.alerts, name="alerts"),
    path("alerts/<int:pk>/", posture.alert_detail, name="alert-detail"),
    # --- gdap: relationships, assignments, invitation, legacy DAP (pages-posture helper) ---
    path("gdap/", gdap.gdap_list, name="gdap-list"),
    path("gdap/new/", gdap.gdap_create, name="gdap-create"),
    path("gdap/<int:pk>/", gdap.gdap_detail, name="gdap-detail"),
    path("gdap/<int:pk>/lock/", gdap.gdap_lock, name="gdap-lock"),
    path("gdap/<int:pk>/auto-extend/", gdap.gdap_auto_extend, name="gdap-auto-extend"),
    path("gdap/<int:pk>/remove-ga/", gdap.gdap_remove_global_admin, name="gdap-remove-global-admin"),
    path("gdap/<int:pk>/renew/", gdap.gdap_renew, name="gdap-renew"),
    path("gdap/<int:pk>/terminate/", gdap.gdap_terminate, name="gdap-terminate"),
    path("gdap/<int:pk>/assignments/", gdap.gdap_assignment_add, name="gdap-assignment-add"),
    path("gdap/assignments/<int:pk>/delete/", gdap.gdap_assignment_delete, name="gdap-assignment-delete"),
    path("gdap/invitation/<str:token>/", gdap.gdap_invitation, name="gdap-invitation"),
    path("dap/", gdap.dap_list, name="dap-list"),
    path("dap/<int:pk>/remove/", gdap.dap_remove, name="dap-remove"),
    # --- compliance: verification, documents, legal profile, training (pages-compliance helper) ---
    path("compliance/", compliance.compliance, name="compliance"),
    path("compliance/enroll/", compliance.compliance_enroll, name="compliance-enroll"),
    path("compliance/checks/<int:pk>/", compliance.check_detail, name="check-detail"),
    path("compliance/checks/<int:pk>/upload/", compliance.check_upload, name="check-upload"),
    path("compliance/checks/<int:pk>/appeal/", compliance.check_appeal, name="check-appeal"),
    path("compliance/documents/<int:pk>/", compliance.document_detail, name="document-detail"),
    path("compliance/documents/<int:pk>/file/", compliance.document_download, name="document-download"),
    path("compliance/legal-profile/", compliance.legal_profile, name="legal-profile"),
    path("compliance/training/", compliance.training, name="training"),
    path("compliance/training/<int:pk>/complete/", compliance.training_complete, name="training-complete"),
    path("compliance/training/<int:pk>/cancel/", compliance.training_cancel, name="training-cancel"),
]
