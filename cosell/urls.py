from django.urls import path

from cosell import views

app_name = "cosell"

urlpatterns = [
    path("", views.index, name="index"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/edit/", views.referral_edit, name="referral-edit"),
    path("referrals/<int:pk>/accept/", views.referral_accept, name="referral-accept"),
    path("referrals/<int:pk>/decline/", views.referral_decline, name="referral-decline"),
    path("referrals/<int:pk>/close/", views.referral_close, name="referral-close"),
    path("deals/new/", views.deal_new, name="deal-new"),
    path("deals/<int:pk>/step/<int:step>/", views.deal_step, name="deal-step"),
    path("routing/", views.routing_rules, name="routing-rules"),
    path("routing/new/", views.routing_rule_new, name="routing-rule-new"),
    path("routing/<int:pk>/", views.routing_rule_edit, name="routing-rule-edit"),
    path("routing/<int:pk>/delete/", views.routing_rule_delete, name="routing-rule-delete"),
    path("routing/test/", views.routing_test, name="routing-test"),
    path("profile/", views.profile, name="profile"),
    path("insights/", views.insights, name="insights"),
    path("insights.csv", views.insights_csv, name="insights.csv"),
    path("matching/", views.matching, name="matching"),
]
