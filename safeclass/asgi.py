"""ASGI entry point: pages and /api/v1 over HTTP, the live lesson over WebSocket.

WebSockets get the signed-in staff user and the session (AuthMiddlewareStack, which also
parses cookies: the pupil's device cookie) and are refused from other origins
(AllowedHostsOriginValidator), so another site cannot open a lesson socket with our
cookies.

Recordings are post-processed by a worker thread in this process unless
``RECORDING_WORKER_IN_APP`` is off (separate ``manage.py db_worker`` processes) or this is
a pytest run (integration tests call the pipeline themselves; the browser tests' app
server is a separate process and does run the worker).
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safeclass.settings")

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402

from safeclass.live.routing import websocket_urlpatterns  # noqa: E402 (needs apps ready)

if settings.RECORDING_WORKER_IN_APP and "pytest" not in sys.modules:
    from safeclass.recordings.worker import start_in_app

    start_in_app()

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(
        websocket_urlpatterns))),
})
