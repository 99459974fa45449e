"""`/api/v1/alert-rules/`: mounted on its own prefix (see `portal.notifications.api`)."""

from rest_framework.routers import SimpleRouter

from portal.notifications.api import AlertRuleViewSet

router = SimpleRouter()
router.register("", AlertRuleViewSet, basename="alert-rule")
urlpatterns = router.urls
