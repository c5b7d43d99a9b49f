"""Pages of the live lesson. The WebSocket routes are in routing.py."""

from django.urls import path

from . import events_view, views_join, views_oversight, views_room

app_name = "live"

urlpatterns = [
    # Pupil and parent, by the session cookie their join link gave them (no account).
    path("join/lesson/<str:public_id>/check/", views_join.check, name="join_check"),
    path("join/lesson/<str:public_id>/rules/", views_join.rules, name="join_rules"),
    path("join/lesson/<str:public_id>/consent/", views_join.consent, name="join_consent"),
    path("join/lesson/<str:public_id>/room/", views_room.pupil_room, name="pupil_room"),
    # Staff.
    path("lessons/<int:lesson_id>/room/checklist/", views_room.checklist, name="checklist"),
    path("lessons/<int:lesson_id>/room/", views_room.staff_room, name="staff_room"),
    # Senior leaders: removal holds and incidents.
    path("oversight/holds/", views_oversight.holds, name="holds"),
    path("oversight/holds/<int:hold_id>/clear/", views_oversight.clear_hold, name="clear_hold"),
    path("oversight/incidents/", views_oversight.incidents, name="incidents"),
    # Janus' HTTP event handler (HTTP basic auth with the event password).
    path("janus/events/", events_view.janus_events, name="janus_events"),
]
