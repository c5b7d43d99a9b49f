"""ASGI entry point: pages and /api/v1 over HTTP; the live lesson WebSocket comes later."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safeclass.settings")

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

application = ProtocolTypeRouter({"http": django_asgi_app})
