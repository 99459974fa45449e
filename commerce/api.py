"""REST resources of the Commerce workspace: /api/v1/commerce/…"""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

# --- Price lists ---------------------------------------------------------------------------------
from commerce.api_pricing import PriceListViewSet  # noqa: E402

router.register("price-lists", PriceListViewSet, basename="price-list")
# --- End of price lists --------------------------------------------------------------------------

from commerce.api_migrations import migration_urlpatterns  # noqa: E402
from commerce.api_nce import nce_urlpatterns  # noqa: E402
from commerce.api_schedules import schedule_urlpatterns  # noqa: E402

urlpatterns = [*router.urls, *migration_urlpatterns, *nce_urlpatterns, *schedule_urlpatterns]
