"""How drf-spectacular describes our authentication in /api/schema/."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class OrganizationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api_auth.OrganizationTokenAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema):
        from django.conf import settings  # noqa: PLC0415 - read when the schema is built

        return {
            "type": "oauth2",
            "description": "Client credentials of an API client created by an account admin; "
            "the token is bound to that organization.",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/o/token/",
                    "scopes": settings.OAUTH2_PROVIDER["SCOPES"],
                }
            },
        }


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api_policy.VerifiedSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The pages' own calls: a signed-in person who passed the second factor.",
        }


class VendorTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.vendor_api.VendorTokenAuthentication"
    name = "vendorOAuth2"

    def get_security_definition(self, auto_schema):
        from django.conf import settings  # noqa: PLC0415 - read when the schema is built

        return {
            "type": "oauth2",
            "description": "Client credentials of a vendor client created by the vendor's staff in the "
            "admin; bound to no organization, scoped per vendor feed.",
            "flows": {"clientCredentials": {"tokenUrl": "/o/token/", "scopes": settings.VENDOR_SCOPES}},
        }
