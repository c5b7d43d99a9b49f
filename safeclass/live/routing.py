"""WebSocket routes of the live lesson (see safeclass.live.consumers)."""

from django.urls import path

from safeclass.live.consumers import PupilConsumer, StaffConsumer

websocket_urlpatterns = [
    path("ws/lessons/<int:lesson_id>/", StaffConsumer.as_asgi()),
    path("ws/join/<str:public_id>/", PupilConsumer.as_asgi()),
]
