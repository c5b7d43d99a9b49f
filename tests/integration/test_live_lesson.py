"""The live lesson over its WebSockets, against a real Janus (in its own network
namespace) and a real database: who may connect, admission with two adults
(second-adult-or-recording; one adult and recording: test_live_recording.py), what
pupils may not do, removal (no-rejoin-after-removal, removal-hold), the end of the
lesson, one device at a time, and the lesson clock.

Participants' media is played by a raw Janus client, as a browser would do it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from importlib import import_module
from typing import Any, TypeVar

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.layers import channel_layers
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from safeclass.asgi import application
from safeclass.audit.models import AuditEvent
from safeclass.invitations.models import Invitation
from safeclass.lessons.models import Lesson, LessonStatus
from safeclass.lessons.services import do_approve_lesson
from safeclass.live.consent import do_give_consent
from safeclass.live.device import device_hash
from safeclass.live.holds import place_removal_hold
from safeclass.live.models import (
    CHECKLIST_KEYS,
    CONSENT_KEYS,
    Incident,
    IncidentKind,
    LiveRun,
    Presence,
    PresenceState,
    StaffChecklist,
)
from safeclass.live.services import database_sync_to_async
from safeclass.live.state import snapshot
from safeclass.media.adapter import new_room_id
from safeclass.media.node import media_server
from safeclass.schools.models import School
from tests import factories
from tests.integration.janus_harness import JanusInstance, fake_publisher_offer, janus_fixture

pytestmark = [pytest.mark.janus, pytest.mark.django_db(transaction=True)]

janus = janus_fixture(scope="module")

ORIGIN = (b"origin", b"http://localhost")
T = TypeVar("T")


class WebsocketCommunicator(ApplicationCommunicator):  # type: ignore[misc]
    """A WebSocket client for the ASGI app, in process. (Channels ships one, but its
    testing package imports Daphne, which SafeClass does not use.)"""

    def __init__(self, app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        super().__init__(app, {"type": "websocket", "path": path, "query_string": b"",
                               "headers": headers, "subprotocols": []})

    async def connect(self, timeout: float = 5) -> bool:
        await self.send_input({"type": "websocket.connect"})
        output = await self.receive_output(timeout)
        assert output["type"] == "websocket.accept", output
        return True

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data: Any) -> None:
        await self.send_to(json.dumps(data))

    async def receive_json_from(self, timeout: float = 5) -> dict[str, Any]:
        output = await self.receive_output(timeout)
        assert output["type"] == "websocket.send", output
        result: dict[str, Any] = json.loads(output["text"])
        return result

    async def disconnect(self, code: int = 1000) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(5)


@pytest.fixture
def live_settings(settings, janus: JanusInstance, tmp_path):
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps({
        "api_secret": janus.api_secret, "admin_secret": janus.admin_secret,
        "videoroom_admin_key": janus.admin_key,
        "event_password": janus.config.event_password}))
    settings.JANUS_API_URL = janus.http_url
    settings.JANUS_ADMIN_URL = janus.admin_url
    settings.JANUS_SECRETS_FILE = secrets_file
    settings.JANUS_RECORD_DIR = janus.record_dir
    settings.JANUS_EVENT_USER = "janus-events"
    settings.LESSON_MINUTE_SECONDS = 60
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()  # a fresh layer for this test's event loop
    yield settings
    channel_layers.backends.clear()


@pytest.fixture
def lesson(live_settings, teacher, ta, group, head) -> Lesson:
    lesson = factories.make_requested_lesson(teacher, group, second_staff=ta)
    do_approve_lesson(lesson, actor=head)
    # Now is lesson time.
    Lesson.objects.filter(pk=lesson.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    for staff in (teacher, ta):
        StaffChecklist.objects.create(lesson=lesson, staff=staff, items=list(CHECKLIST_KEYS))
    lesson.refresh_from_db()
    return lesson


@pytest.fixture
def invitations(lesson) -> list[Invitation]:
    return list(Invitation.objects.filter(lesson=lesson, revoked_at__isnull=True)
                .select_related("lesson", "pupil").order_by("pupil_id"))


def staff_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())]


def pupil_headers(invitation: Invitation, device: str | None = None,
                  consent: bool = True) -> list[tuple[bytes, bytes]]:
    """A parent's browser that opened the link, on a device (cookie) that consented."""
    device = device or secrets.token_urlsafe(16)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["join.invitations"] = [invitation.public_id]
    store.save()
    if consent:
        do_give_consent(invitation, device_hash=device_hash(device), parent_name="A Parent",
                        items=list(CONSENT_KEYS), pupil_promise=True)
    cookie = f"{settings.SESSION_COOKIE_NAME}={store.session_key}; sc_device={device}"
    return [ORIGIN, (b"cookie", cookie.encode())]


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await asyncio.wait_for(scenario(), timeout=30)
        finally:
            await media_server().close()

    return asyncio.run(main())


def db(func: Callable[[], T]) -> Awaitable[T]:
    return database_sync_to_async(func)()


async def connect(path: str, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, path, headers=headers)
    assert await comm.connect(timeout=5)
    return comm


async def until(comm: WebsocketCommunicator, kind: str,
                where: Callable[[dict[str, Any]], bool] = lambda m: True) -> dict[str, Any]:
    """The next message of this type (matching ``where``), skipping others."""
    while True:
        message = await comm.receive_json_from(timeout=5)
        if message["type"] == kind and where(message):
            return message


async def closed(comm: WebsocketCommunicator) -> int:
    while True:
        output = await comm.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return int(output.get("code", 1000))


def post_janus_events(client: Any, janus: JanusInstance, events: list[dict[str, Any]]) -> int:
    """POST events to our endpoint as Janus' event handler does (basic auth)."""
    right = base64.b64encode(f"janus-events:{janus.config.event_password}".encode()).decode()
    return int(client.post(reverse("live:janus_events"), json.dumps(events),
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Basic {right}").status_code)


def staff_path(lesson: Lesson) -> str:
    return f"/ws/lessons/{lesson.pk}/"


def pupil_path(invitation: Invitation) -> str:
    return f"/ws/join/{invitation.public_id}/"


async def allowed_tokens(lesson: Lesson) -> list[str]:
    run_ = await db(lambda: LiveRun.objects.get(lesson=lesson))
    return await media_server().allow(lesson.room_id, run_.room_secret, [])


def two_video_offer() -> dict[str, Any]:
    """The fake offer plus a second video stream (mid "2"): a second camera or a screen."""
    offer = fake_publisher_offer()
    sdp = offer["sdp"].replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 2")
    video = sdp[sdp.index("m=video"):].rstrip("\r\n")
    extra = video.replace("a=mid:1", "a=mid:2").replace("a=ssrc:2222", "a=ssrc:3333")
    return {"type": "offer", "sdp": sdp.rstrip("\r\n") + "\r\n" + extra + "\r\n"}


async def publish(janus: JanusInstance, lesson: Lesson, media: dict[str, Any],
                  offer: dict[str, Any] | None = None) -> None:
    """Join the room and publish, exactly as the media message says (a fake SDP)."""
    async with janus.raw_client() as raw:
        _s, _h, joined = await raw.join_publisher(
            lesson.room_id, media["display"], media["token"],
            jsep=offer or fake_publisher_offer(),
            request="joinandconfigure", extra={"id": media["publisher_id"]})
        assert joined.get("videoroom") == "joined", joined


async def two_staff_and_pupil(lesson, teacher, ta, invitation):
    host = await connect(staff_path(lesson), await db(lambda: staff_headers(teacher)))
    await until(host, "media")
    second = await connect(staff_path(lesson), await db(lambda: staff_headers(ta)))
    await until(second, "media")
    pupil = await connect(pupil_path(invitation), await db(lambda: pupil_headers(invitation)))
    me = await until(pupil, "state")
    return host, second, pupil, me["me"]["presence"]


# ----------------------------------------------------------------------------- tests


def test_it_admits_with_two_adults_and_then_grants_media(lesson, invitations, teacher, ta,
                                                          janus):
    # (With one adult, admission needs a running recording: test_live_recording.py.)
    invitation = invitations[0]

    async def scenario():
        host = await connect(staff_path(lesson), await db(lambda: staff_headers(teacher)))
        media = await until(host, "media")
        assert media["room"] == lesson.room_id and "secret" not in json.dumps(media)
        pupil = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation)))
        waiting = await until(pupil, "state")
        assert waiting["me"]["state"] == "waiting" and waiting["feeds"] == []
        presence = waiting["me"]["presence"]

        second = await connect(staff_path(lesson), await db(lambda: staff_headers(ta)))
        await until(second, "media")
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        assert granted["publisher_id"] and granted["display"] == invitation.display_name
        assert granted["token"] in await allowed_tokens(lesson)
        admitted = await until(pupil, "state", lambda m: m["me"]["state"] == "admitted")
        assert admitted["pupils"] == []  # the school does not show classmates

        # Its feed is named only after the server muted its audio at Janus.
        state = await until(host, "state")
        assert granted["publisher_id"] not in state["feeds"]
        await publish(janus, lesson, granted)
        await pupil.send_json_to({"intent": "published", "audio_mid": "0", "video_mid": "1"})
        state = await until(host, "state", lambda m: granted["publisher_id"] in m["feeds"])
        (row,) = state["pupils"]
        assert row["feed"] == granted["publisher_id"] and row["muted"]
        for comm in (host, second, pupil):
            await comm.disconnect()

    run(scenario)
    assert Lesson.objects.get(pk=lesson.pk).status == LessonStatus.LIVE
    assert AuditEvent.objects.filter(action="live.admitted").count() == 1
    assert AuditEvent.objects.filter(action="live.published").exists()


def test_a_pupil_cannot_use_staff_intents_and_bad_frames_keep_the_connection(
        lesson, invitations, teacher):
    invitation = invitations[0]

    async def scenario():
        host = await connect(staff_path(lesson), await db(lambda: staff_headers(teacher)))
        pupil = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation)))
        presence = (await until(pupil, "state"))["me"]["presence"]
        for intent, rule in (("admit", "staff-host-only"), ("remove", "staff-host-only"),
                             ("chat", "no-attendee-chat"), ("annotate", "no-annotation"),
                             ("file", "no-file-transfer")):
            await pupil.send_json_to({"intent": intent, "presence": presence})
            error = await until(pupil, "error")
            assert error["rule"] == rule, intent
        await pupil.send_to(text_data=json.dumps({"intent": "ping", "pad": "x" * 5000}))
        assert (await until(pupil, "error"))["code"] == "bad_message"
        await pupil.send_to(text_data="[1, 2]")
        assert (await until(pupil, "error"))["code"] == "bad_message"
        await pupil.send_to(text_data="not json")
        assert (await until(pupil, "error"))["code"] == "bad_message"
        await pupil.send_json_to({"intent": "ping"})
        assert (await until(pupil, "pong"))["type"] == "pong"
        await pupil.disconnect()
        await host.disconnect()

    run(scenario)
    refused = AuditEvent.objects.filter(action="live.intent_refused")
    assert refused.count() == 8
    assert Presence.objects.get(pupil=invitation.pupil).state == PresenceState.LEFT


def test_a_flood_of_frames_is_cut_off_and_audited_once(lesson, invitations, teacher):
    invitation = invitations[0]

    async def scenario():
        pupil = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation)))
        await until(pupil, "state")
        for _ in range(80):
            await pupil.send_json_to({"intent": "ping"})
        pongs, errors = 0, []
        while not await pupil.receive_nothing(timeout=1):
            message = await pupil.receive_json_from()
            if message["type"] == "pong":
                pongs += 1
            elif message["type"] == "error":
                errors.append(message)
        # The burst is answered; the rest is dropped, with one error saying why.
        assert 30 <= pongs < 80, pongs
        assert [e["code"] for e in errors] == ["slow_down"]
        await pupil.disconnect()

    run(scenario)
    limited = AuditEvent.objects.filter(action="live.intent_refused",
                                        data__intent="rate_limited")
    assert limited.count() == 1


def test_it_refuses_strangers_and_pupils_without_consent(lesson, invitations, outsider,
                                                       slt):
    invitation = invitations[0]

    async def scenario():
        for user in (outsider, slt):
            comm = await connect(staff_path(lesson), await db(lambda u=user: staff_headers(u)))
            assert (await until(comm, "refused"))["reason"] == "not_allowed"
            assert await closed(comm) == 4403
        comm = await connect(pupil_path(invitation),
                             await db(lambda: pupil_headers(invitation, consent=False)))
        assert (await until(comm, "refused"))["reason"] == "no_consent"
        assert await closed(comm) == 4403
        comm = await connect(pupil_path(invitation), [ORIGIN])  # no session
        assert (await until(comm, "refused"))["reason"] == "not_allowed"

    run(scenario)
    assert not Presence.objects.exists()
    # Each refusal is in the lesson's school's audit log, with its reason.
    reasons = sorted(e.data["reason"] for e in
                     AuditEvent.objects.filter(action="live.connection_refused"))
    assert reasons == ["no_consent", "not_allowed", "not_allowed", "not_allowed"]


def test_remove_revokes_at_janus_and_no_rejoin(lesson, invitations, teacher, ta, janus):
    invitation = invitations[0]

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        await publish(janus, lesson, granted)

        await host.send_json_to({"intent": "remove", "presence": presence})
        # A key, not words: the pupil's page says it in the pupil's language.
        assert (await until(pupil, "removed")) == {"type": "removed"}
        assert await closed(pupil) == 4403
        assert granted["token"] not in await allowed_tokens(lesson)
        participants = await media_server().list_participants(lesson.room_id)
        assert granted["publisher_id"] not in [p.id for p in participants]

        again = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation)))
        assert (await until(again, "refused"))["reason"] == "removed"
        for comm in (host, second):
            await comm.disconnect()

    run(scenario)
    removed = Presence.objects.get(pupil=invitation.pupil, state=PresenceState.REMOVED)
    assert removed.left_at is not None
    assert AuditEvent.objects.filter(action="live.removed").count() == 1
    assert AuditEvent.objects.filter(action="live.hold_placed").count() == 1


def test_a_pupil_on_hold_is_refused(lesson, invitations, teacher):
    invitation = invitations[1]
    with transaction.atomic():
        place_removal_hold(lesson=lesson, pupil=invitation.pupil, actor=teacher,
                           reason="Earlier lesson")

    async def scenario():
        comm = await connect(pupil_path(invitation),
                             await db(lambda: pupil_headers(invitation)))
        assert (await until(comm, "refused"))["reason"] == "hold"
        assert await closed(comm) == 4403

    run(scenario)


def test_end_tells_everybody_and_closes_the_room(lesson, invitations, teacher, ta):
    invitation = invitations[0]

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        await host.send_json_to({"intent": "admit", "presence": presence})
        await until(pupil, "media")
        await host.send_json_to({"intent": "end"})
        for comm in (host, second, pupil):
            assert (await until(comm, "ended")) == {"type": "ended"}
            assert await closed(comm) == 4403
        assert not await media_server().exists(lesson.room_id)

    run(scenario)
    assert Lesson.objects.get(pk=lesson.pk).status == LessonStatus.ENDED
    assert not Presence.objects.filter(state__in=("waiting", "admitted")).exists()
    assert LiveRun.objects.get(lesson=lesson).end_reason == "host"


def test_same_device_replaces_and_a_second_device_is_flagged(lesson, invitations, teacher,
                                                             ta):
    invitation = invitations[0]
    device = secrets.token_urlsafe(16)

    async def scenario():
        host = await connect(staff_path(lesson), await db(lambda: staff_headers(teacher)))
        first = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation, device)))
        await until(first, "state")
        again = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation, device)))
        await until(again, "state")
        assert (await until(first, "media_revoked"))["reason"] == "replaced"
        await closed(first)
        active = await db(lambda: Presence.objects.filter(
            pupil=invitation.pupil, state__in=("waiting", "admitted")).count())
        assert active == 1

        other = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation)))
        flagged = await until(other, "state")
        assert flagged["me"]["second_device"]
        state = await until(host, "state", lambda m: any(
            a["kind"] == "second_device" for a in m["alerts"]))
        assert len(state["pupils"]) == 2

        # Admitting the second device disconnects the first.
        second = await connect(staff_path(lesson), await db(lambda: staff_headers(ta)))
        await second.send_json_to({"intent": "admit",
                                   "presence": flagged["me"]["presence"]})
        await until(other, "media")
        assert (await until(again, "media_revoked"))["reason"] == "replaced"
        assert await closed(again) == 4403
        for comm in (host, second, other):
            await comm.disconnect()

    run(scenario)
    assert Presence.objects.filter(pupil=invitation.pupil, state="replaced").count() == 2


def test_when_all_staff_leave_admitted_pupils_go_back_to_waiting(lesson, invitations,
                                                                 teacher, ta):
    invitation = invitations[0]

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        await second.disconnect()
        await host.disconnect()
        assert (await until(pupil, "media_revoked"))["reason"] == "staff_absent"
        state = await until(pupil, "state", lambda m: m["me"]["state"] == "waiting")
        assert state["lesson"]["staff_present"] == 0
        assert granted["token"] not in await allowed_tokens(lesson)
        await pupil.disconnect()

    run(scenario)
    assert LiveRun.objects.get(lesson=lesson).staff_absent_since is not None
    assert Incident.objects.get(lesson=lesson).kind == IncidentKind.STAFF_DROPPED


def test_the_clock_warns_and_ends_the_lesson(lesson, invitations, teacher, live_settings):
    live_settings.LESSON_MINUTE_SECONDS = 0.05  # 30 "minutes" = 1.5 s

    async def scenario():
        host = await connect(staff_path(lesson), await db(lambda: staff_headers(teacher)))
        assert (await until(host, "time"))["minutes_left"] == 5
        assert (await until(host, "time"))["minutes_left"] == 1
        await until(host, "ended")

    run(scenario)
    assert LiveRun.objects.get(lesson=lesson).end_reason == "time"


def test_janus_events_need_the_password_and_unknown_rooms_are_audited(lesson, client,
                                                                       janus):
    url = reverse("live:janus_events")
    body = json.dumps([{"type": 64, "event": {"plugin": "janus.plugin.videoroom", "data": {
        "event": "joined", "room": "f" * 32, "id": "abc"}}}])
    assert client.post(url, body, content_type="application/json").status_code == 401
    wrong = base64.b64encode(b"janus-events:wrong").decode()
    assert client.post(url, body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Basic {wrong}").status_code == 401
    right = base64.b64encode(f"janus-events:{janus.config.event_password}".encode()).decode()
    response = client.post(url, body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Basic {right}")
    assert response.status_code == 204
    assert AuditEvent.objects.filter(action="live.janus_event_unexpected").count() == 1
    # A subscriber's own events carry no usable room: not news, not audited.
    subscribed = json.dumps([{"type": 64, "event": {"plugin": "janus.plugin.videoroom",
                                                    "data": {"event": "subscribed",
                                                             "room": "0"}}}])
    assert client.post(url, subscribed, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Basic {right}").status_code == 204
    assert AuditEvent.objects.filter(action="live.janus_event_unexpected").count() == 1
    too_big = "[" + " " * (1024 * 1024) + "]"
    assert client.post(url, too_big, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Basic {right}").status_code == 413


def test_a_stopped_camera_sends_the_pupil_back_to_waiting(lesson, invitations, teacher, ta,
                                                          janus, client):
    """Janus' events (posted to our endpoint) tie a publisher to its session and handle;
    a media event saying its video stopped revokes its media (camera-required)."""
    invitation = invitations[0]

    def post(events: list[dict[str, Any]]) -> int:
        return post_janus_events(client, janus, events)

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        joined = {"type": 64, "session_id": 111, "handle_id": 222, "event": {
            "plugin": "janus.plugin.videoroom", "data": {
                "event": "joined", "room": lesson.room_id, "id": granted["publisher_id"]}}}
        stopped = {"type": 32, "session_id": 111, "handle_id": 222,
                   "event": {"media": "video", "mid": "1", "receiving": False}}
        assert await database_sync_to_async(post)([joined, stopped]) == 204
        assert (await until(pupil, "media_revoked"))["reason"] == "camera"
        # Admitted again, it publishes two videos (a second camera or a screen): same.
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        two = {"type": 64, "event": {"plugin": "janus.plugin.videoroom", "data": {
            "event": "published", "room": lesson.room_id, "id": granted["publisher_id"],
            "streams": [{"type": "audio", "mid": "0"}, {"type": "video", "mid": "1"},
                        {"type": "video", "mid": "2"}]}}}
        assert await database_sync_to_async(post)([two]) == 204
        assert (await until(pupil, "media_revoked"))["reason"] == "camera"
        state = await until(host, "state", lambda m: any(
            a["kind"] == "camera_stopped" for a in m["alerts"]))
        assert state["pupils"][0]["state"] == "waiting"
        assert granted["token"] not in await allowed_tokens(lesson)
        for comm in (host, second, pupil):
            await comm.disconnect()

    run(scenario)
    assert AuditEvent.objects.filter(action="live.camera_stopped").count() == 2


def test_staff_moderate_at_janus_and_everyone_hears_of_it(lesson, invitations, teacher, ta,
                                                          janus):
    invitation = invitations[0]

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        await publish(janus, lesson, granted)
        await pupil.send_json_to({"intent": "published", "audio_mid": "0", "video_mid": "1"})
        await until(host, "state", lambda m: granted["publisher_id"] in m["feeds"])

        await host.send_json_to({"intent": "allow_speak", "presence": presence})
        assert (await until(pupil, "announce"))["say"] == "may_speak_now"
        await until(pupil, "state", lambda m: m["me"]["may_speak"])
        for intent in ("mute", "stop_video", "allow_video", "pause_all", "resume_all"):
            await host.send_json_to({"intent": intent, "presence": presence})
        await until(host, "state", lambda m: not m["lesson"]["paused"]
                    and not m["pupils"][0]["may_speak"])
        await pupil.send_json_to({"intent": "raise_hand"})
        await until(host, "state", lambda m: m["pupils"][0]["hand_raised"])
        await host.send_json_to({"intent": "warn", "presence": presence, "text": "Listen"})
        assert (await until(pupil, "warning"))["text"] == "Listen"
        await host.send_json_to({"intent": "notice", "text": "Page 12"})
        state = await until(pupil, "state", lambda m: bool(m["notices"]))
        assert state["notices"][0]["text"] == "Page 12" and state["me"]["warnings"] == 1
        await host.send_json_to({"intent": "notice", "text": "x" * 501})
        assert (await until(host, "error"))["code"] == "bad_notice"
        await host.send_json_to({"intent": "show_rules"})
        await until(pupil, "rules")
        # Only the host hands over, and only to staff in the room.
        await second.send_json_to({"intent": "hand_over", "presence": presence})
        assert (await until(second, "error"))["rule"] == "staff-host-only"
        ta_presence = await db(lambda: Presence.objects.get(staff=ta, state="admitted").pk)
        await host.send_json_to({"intent": "hand_over", "presence": ta_presence})
        await until(second, "state", lambda m: m["me"]["is_host"])
        told = await until(host, "host_changed")
        assert told["name"] == await db(lambda: Presence.objects.get(pk=ta_presence).display_name)
        for comm in (host, second, pupil):
            await comm.disconnect()

    run(scenario)
    run_ = LiveRun.objects.get(lesson=lesson)
    assert run_.current_host == ta and not run_.pupils_paused
    for action in ("live.allowed_speak", "live.muted", "live.video_stopped", "live.paused",
                   "live.resumed", "live.warned", "live.notice", "live.handed_over"):
        assert AuditEvent.objects.filter(action=action).exists(), action


def test_the_media_server_is_shared_and_survives_a_lost_janus_session(live_settings):
    async def scenario():
        media = media_server()
        assert media is media_server()
        assert not await media.exists(new_room_id())
        # As if Janus timed the session out (idle > 60 s): the next call gets a new one.
        await media._core(f"{media.http_url}/{media._session_id}", {"janus": "destroy"})
        assert not await media.exists(new_room_id())

    run(scenario)


def test_a_staff_reconnect_replaces_the_old_connection(lesson, teacher):
    async def scenario():
        headers = await db(lambda: staff_headers(teacher))
        first = await connect(staff_path(lesson), headers)
        old = await until(first, "media")
        again = await connect(staff_path(lesson), headers)
        new = await until(again, "media")
        assert (await until(first, "media_revoked"))["reason"] == "replaced"
        assert await closed(first) == 4403
        allowed = await allowed_tokens(lesson)
        assert new["token"] in allowed and old["token"] not in allowed
        await again.send_json_to({"intent": "show_rules"})  # any change sends a state
        state = await until(again, "state", lambda m: m["lesson"]["rules_shown_at"])
        assert state["lesson"]["staff_present"] == 1 and state["me"]["is_host"]
        await again.disconnect()

    run(scenario)
    assert Presence.objects.filter(staff=teacher, state="replaced").count() == 1
    assert Presence.objects.filter(staff=teacher, state="left").count() == 1


def test_the_snapshot_names_a_pupil_feed_only_once_muted_and_classmates_if_allowed(
        lesson, invitations, teacher, school):
    staff = Presence.objects.create(lesson=lesson, role="staff", staff=teacher,
                                    display_name="Tess", state="admitted", published=True)
    ann, ben, cat = (
        Presence.objects.create(lesson=lesson, role="pupil", pupil=inv.pupil, invitation=inv,
                                display_name=inv.display_name, state=state,
                                published=published, audio_muted=muted)
        for inv, state, published, muted in ((invitations[0], "admitted", True, True),
                                             (invitations[1], "admitted", True, False),
                                             (invitations[2], "waiting", False, False)))
    as_staff = snapshot(staff.pk)
    assert as_staff["feeds"] == [ann.publisher_id]  # Ben's audio is not muted yet
    assert {row["presence"] for row in as_staff["pupils"]} == {ann.pk, ben.pk, cat.pk}
    as_ann = snapshot(ann.pk)
    assert as_ann["pupils"] == [] and as_ann["feeds"] == [staff.publisher_id]
    assert as_ann["alerts"] == [] and as_ann["me"]["muted"]
    assert snapshot(cat.pk)["feeds"] == []  # waiting: nothing to watch

    school.pupils_see_classmates = True
    school.save(update_fields=["pupils_see_classmates"])
    as_ben = snapshot(ben.pk)
    assert [row["presence"] for row in as_ben["pupils"]] == [ann.pk]
    assert set(as_ben["feeds"]) == {staff.publisher_id, ann.publisher_id}
    assert "token" not in json.dumps(as_ben) and "secret" not in json.dumps(as_ben)


def test_remove_and_end_records_an_incident_and_ends_for_everyone(lesson, invitations,
                                                                    teacher, ta):
    invitation = invitations[0]

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        # Not in the room at Janus yet: its feed is not named (invariant 4).
        await host.send_json_to({"intent": "admit", "presence": presence})
        await until(pupil, "media")
        await pupil.send_json_to({"intent": "published", "audio_mid": "0", "video_mid": "1"})
        assert (await until(pupil, "error"))["code"] == "not_published"

        await second.send_json_to({"intent": "remove_and_end", "presence": presence})
        await until(pupil, "removed")
        for comm in (host, second):
            await until(comm, "ended")

    run(scenario)
    assert Incident.objects.filter(lesson=lesson, kind=IncidentKind.OUTSIDER_REMOVED).exists()
    assert Lesson.objects.get(pk=lesson.pk).status == LessonStatus.ENDED
    assert LiveRun.objects.get(lesson=lesson).end_reason == "outsider_removed"


def test_messages_come_in_the_schools_language_or_the_parents_choice(lesson, invitations):
    # Channels runs no Django middleware: the consumer itself picks the language.
    invitation = invitations[0]
    School.objects.filter(pk=lesson.school_id).update(language="cy")

    async def refusal(headers: list[tuple[bytes, bytes]]) -> str:
        comm = await connect(pupil_path(invitation), headers)
        message = (await until(comm, "refused"))["message"]
        await closed(comm)
        return str(message)

    async def scenario() -> tuple[str, str]:
        headers = await db(lambda: pupil_headers(invitation, consent=False))
        welsh = await refusal(headers)
        cookie = headers[1][1] + f"; {settings.LANGUAGE_COOKIE_NAME}=en-gb".encode()
        english = await refusal([headers[0], (b"cookie", cookie)])
        return welsh, english

    welsh, english = run(scenario)
    assert english == "A parent or carer needs to agree first on this device."
    assert welsh != english and welsh.strip()


def test_a_pupil_publishing_two_videos_is_sent_back_whatever_its_page_says(
        lesson, invitations, teacher, ta, janus):
    """The server reads the pupil's streams from Janus (admin handle_info), not from the
    page's `published` message: a second video stream sends it back (camera-required)."""
    invitation = invitations[0]

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        await publish(janus, lesson, granted, offer=two_video_offer())
        # The page claims one audio and one video stream.
        await pupil.send_json_to({"intent": "published", "audio_mid": "0", "video_mid": "1"})
        assert (await until(pupil, "media_revoked"))["reason"] == "camera"
        state = await until(host, "state", lambda m: any(
            a["kind"] == "camera_stopped" for a in m["alerts"]))
        assert state["pupils"][0]["state"] == "waiting"
        assert granted["publisher_id"] not in state["feeds"]
        for comm in (host, second, pupil):
            await comm.disconnect()

    run(scenario)


def test_a_second_video_added_later_is_caught_from_the_janus_event(
        lesson, invitations, teacher, ta, janus, client):
    """A pupil already in the lesson re-configures with a second video: Janus' event makes
    the server look again at Janus' own stream list and send the pupil back."""
    invitation = invitations[0]

    def post(events: list[dict[str, Any]]) -> int:
        return post_janus_events(client, janus, events)

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        await publish(janus, lesson, granted, offer=two_video_offer())
        # As if its first publish had been one video, later re-configured with two.
        await db(lambda: Presence.objects.filter(pk=presence).update(
            published=True, audio_mid="0", video_mid="1"))
        configured = {"type": 64, "event": {"plugin": "janus.plugin.videoroom", "data": {
            "event": "configured", "room": lesson.room_id, "id": granted["publisher_id"]}}}
        assert await database_sync_to_async(post)([configured]) == 204
        assert (await until(pupil, "media_revoked"))["reason"] == "camera"
        for comm in (host, second, pupil):
            await comm.disconnect()

    run(scenario)
