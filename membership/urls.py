from django.urls import path

from membership.views import designations, insights, isv, overview, rewards

app_name = "membership"

urlpatterns = [
    # --- overview and benefits (pages-overview helper) ---
    path("", overview.index, name="index"),
    path("benefits/", overview.benefits, name="benefits"),
    path("benefits/<int:pk>/activate/", overview.benefit_activate, name="benefit-activate"),
    # --- designations, scores, what-if, training services (pages-overview helper) ---
    path("designations/", designations.designation_list, name="designations"),
    path("designations/<slug:slug>/", designations.designation_detail, name="designation"),
    path("designations/<slug:slug>/enroll/", designations.designation_enroll, name="designation-enroll"),
    # --- ISV Success and Marketplace Rewards (pages-isv helper) ---
    path("isv-success/", isv.isv_success, name="isv"),
    path("isv-success/application/", isv.isv_application, name="isv-application"),
    path("isv-success/application/submit/", isv.isv_submit, name="isv-submit"),
    path("marketplace-rewards/", rewards.rewards, name="rewards"),
    # --- insights reports (insights helper) ---
    path("insights/marketplace-licenses/", insights.license_report, name="license-report"),
    path(
        "insights/marketplace-licenses/download/",
        insights.license_report_download,
        name="license-report-download",
    ),
    path("insights/vm-images/", insights.vm_image_report, name="vm-image-report"),
    path("insights/vm-images/download/", insights.vm_image_report_download, name="vm-image-report-download"),
    path("insights/surface/", insights.surface_insights, name="surface-insights"),
    path("insights/surface/download/", insights.surface_insights_download, name="surface-insights-download"),
    path("insights/skilling/", insights.skilling_insights, name="skilling-insights"),
    path(
        "insights/skilling/download/", insights.skilling_insights_download, name="skilling-insights-download"
    ),
]
