"""ASGI entry point: pages and /api/v1 over HTTP, the live lesson over WebSocket.

WebSockets get the signed-in staff user and the session (AuthMiddlewareStack, which also
parses cookies: the pupil's device cookie) and are refused from other origins
(AllowedHostsOriginValidator), so another site cannot open a lesson socket with our
cookies.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safeclass.settings")

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from safeclass.live.routing import websocket_urlpatterns  # noqa: E402 (needs apps ready)

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(
        websocket_urlpatterns))),
})
