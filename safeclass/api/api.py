"""The /api/v1 JSON API (Django Ninja). OpenAPI at /api/v1/openapi.json."""

from ninja import NinjaAPI

api = NinjaAPI(title="SafeClass API", version="1", urls_namespace="api")
