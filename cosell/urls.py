from django.urls import path

from cosell.views import deals, insights, profile, referrals, routing

app_name = "cosell"

urlpatterns = [
    path("", referrals.index, name="index"),
    path("referrals/<int:pk>/", referrals.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/edit/", referrals.referral_edit, name="referral-edit"),
    path("referrals/<int:pk>/routing/", referrals.referral_routing, name="referral-routing"),
    path("referrals/<int:pk>/accept/", referrals.referral_accept, name="referral-accept"),
    path("referrals/<int:pk>/decline/", referrals.referral_decline, name="referral-decline"),
    path("referrals/<int:pk>/close/", referrals.referral_close, name="referral-close"),
    path("deals/new/", deals.deal_new, name="deal-new"),
    path("deals/<int:pk>/step/<int:step>/", deals.deal_step, name="deal-step"),
    path("routing/", routing.routing_rules, name="routing-rules"),
    path("routing/new/", routing.routing_rule_new, name="routing-rule-new"),
    path("routing/<int:pk>/", routing.routing_rule_edit, name="routing-rule-edit"),
    path("routing/<int:pk>/delete/", routing.routing_rule_delete, name="routing-rule-delete"),
    path("routing/test/", routing.routing_test, name="routing-test"),
    path("profile/", profile.profile, name="profile"),
    path("profile/references/new/", profile.case_study_new, name="case-study-new"),
    path("profile/references/<int:pk>/", profile.case_study_edit, name="case-study-edit"),
    path("profile/references/<int:pk>/delete/", profile.case_study_delete, name="case-study-delete"),
    path("profile/solutions/new/", profile.solution_new, name="solution-new"),
    path("profile/solutions/<int:pk>/", profile.solution_edit, name="solution-edit"),
    path("profile/solutions/<int:pk>/delete/", profile.solution_delete, name="solution-delete"),
    path("insights/", insights.insights, name="insights"),
    path("insights.csv", insights.insights_csv, name="insights.csv"),
    path("matching/", profile.matching, name="matching"),
]
