"""REST resources of the Commerce workspace: /api/v1/commerce/…"""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
