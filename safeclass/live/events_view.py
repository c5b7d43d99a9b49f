"""Where Janus' HTTP event handler (sampleevh) posts what happens in the rooms.

Janus signs in with HTTP basic auth: user ``settings.JANUS_EVENT_USER``, password the
``event_password`` from the Janus secrets file. Events are mapped to presences:

- VideoRoom ``joined``: remember the publisher's Janus session and handle ids (media
  events name only those);
- ``published``/``configured`` with more than one video stream from a pupil, or a media
  event saying a pupil's video stopped arriving: the pupil goes back to the waiting room
  with its media revoked, and staff are alerted (camera-required);
- ``leaving``/``unpublished``/``kicked``: the feed is gone.

Events naming a room or participant we do not know are audited
(``live.janus_event_unexpected``): nobody but our server should be able to make them.
Pages learn of changes through the channel layer (services.refresh).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from safeclass.audit.services import record
from safeclass.live import services
from safeclass.live.models import LiveRun, Presence, PresenceRole, PresenceState
from safeclass.live.services import database_sync_to_async
from safeclass.media.events import JanusEvent, MediaEvent, PluginEvent, parse_batch
from safeclass.media.janus_config import VIDEOROOM_PLUGIN
from safeclass.media.node import event_password

MAX_BODY = 1024 * 1024


def _authorised(request: HttpRequest) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _sep, password = base64.b64decode(header[6:], validate=True).decode().partition(
            ":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    # Both compared in constant time, and both always compared.
    user_ok = hmac.compare_digest(user.encode(), str(settings.JANUS_EVENT_USER).encode())
    password_ok = hmac.compare_digest(password.encode(), event_password().encode())
    return user_ok and password_ok


@dataclass
class Effects:
    """What the events ask of the live services, done after the database work."""

    camera_stopped: list[tuple[int, str]] = field(default_factory=list)
    # Pupils who (re)configured their publish: their streams are checked at Janus.
    verify: set[int] = field(default_factory=set)
    refresh: set[int] = field(default_factory=set)


def _video_streams(data: dict[str, Any]) -> int:
    streams = data.get("streams")
    if not isinstance(streams, list):
        return 0
    return sum(1 for s in streams if isinstance(s, dict) and s.get("type") == "video"
               and not s.get("disabled"))


def _unexpected(event: PluginEvent, run: LiveRun | None) -> None:
    with transaction.atomic():
        record("live.janus_event_unexpected", actor_label="Janus",
               school=run.lesson.school if run is not None else None,
               obj=run.lesson if run is not None else None,
               data={"event": event.event, "room": (event.room or "")[:40],
                     "participant": (event.participant_id or "")[:40]})


# A subscriber's own events: Janus 1.1.2 reports them with no usable room (room "0"
# under string_ids) and they change nothing we track; what a subscriber may see is
# decided when it is allowed into the room (require_pvtid).
SUBSCRIBER_EVENTS = frozenset({"subscribing", "subscribed", "updated", "unsubscribed"})


def _plugin_event(event: PluginEvent, effects: Effects) -> None:
    if event.plugin != VIDEOROOM_PLUGIN or event.room is None:
        return
    if event.event in SUBSCRIBER_EVENTS:
        return
    run = LiveRun.objects.select_related("lesson", "lesson__school").filter(
        lesson__room_id=event.room).first()
    if run is None:
        _unexpected(event, None)
        return
    if event.participant_id is None:
        return  # about the room itself (created, destroyed)
    presence = (Presence.objects.filter(lesson=run.lesson, publisher_id=event.participant_id)
                .first() or Presence.objects.filter(
                    lesson=run.lesson, screen_publisher_id=event.participant_id).first())
    if presence is None:
        _unexpected(event, run)
        return
    is_screen = presence.screen_publisher_id == event.participant_id
    if event.event == "joined" and not is_screen:
        Presence.objects.filter(pk=presence.pk).update(janus_session_id=event.session_id,
                                                       janus_handle_id=event.handle_id)
    elif is_screen and event.event in ("published", "unpublished", "leaving", "kicked"):
        # The host's screen feed is named to pages only while Janus says it is published.
        Presence.objects.filter(pk=presence.pk).update(
            screen_published=event.event == "published")
        effects.refresh.add(presence.lesson_id)
    elif event.event in ("published", "configured"):
        if (presence.role == PresenceRole.PUPIL and presence.state == PresenceState.ADMITTED
                and presence.published):
            effects.verify.add(presence.pk)
        if (presence.role == PresenceRole.PUPIL and presence.state == PresenceState.ADMITTED
                and _video_streams(event.data) > 1):
            effects.camera_stopped.append((presence.pk, "two_videos"))
    elif event.event in ("leaving", "unpublished", "kicked") and not is_screen:
        if presence.published:
            Presence.objects.filter(pk=presence.pk).update(published=False)
            effects.refresh.add(presence.lesson_id)


def _media_event(event: MediaEvent, effects: Effects) -> None:
    if event.receiving is not False or event.media != "video" or event.session_id is None:
        return
    presence = Presence.objects.filter(
        janus_session_id=event.session_id, janus_handle_id=event.handle_id,
        role=PresenceRole.PUPIL, state=PresenceState.ADMITTED).first()
    if presence is not None:
        effects.camera_stopped.append((presence.pk, "camera"))


@database_sync_to_async
def _apply(events: list[JanusEvent]) -> Effects:
    effects = Effects()
    for event in events:
        if isinstance(event, PluginEvent):
            _plugin_event(event, effects)
        elif isinstance(event, MediaEvent):
            _media_event(event, effects)
    return effects


@csrf_exempt
@require_POST
async def janus_events(request: HttpRequest) -> HttpResponse:
    if not await database_sync_to_async(_authorised)(request):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Basic realm="janus-events"'
        return response
    length = request.headers.get("Content-Length", "")
    if (length.isdigit() and int(length) > MAX_BODY) or len(request.body) > MAX_BODY:
        return HttpResponse(status=413)
    try:
        events = parse_batch(request.body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse(status=400)
    effects = await _apply(events)
    for presence_id, why in effects.camera_stopped:
        await services.camera_stopped(presence_id, why)
    for presence_id in effects.verify:
        await services.verify_streams(presence_id)
    for lesson_id in effects.refresh:
        await services.refresh(lesson_id)
    return HttpResponse(status=204)
