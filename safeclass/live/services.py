"""The live lesson's actions: one function per change of state, each checked, audited and
broadcast (design: "role check → policy → Janus → audit → broadcast").

Every action is a coroutine, because most of them talk to Janus. The database work is in
small synchronous helpers run with ``database_sync_to_async``, each one atomic; Janus is
never called inside a transaction (a slow Janus must not hold database locks). Where the
order matters for safety, access is revoked at Janus FIRST and recorded after: if the
recording step fails, the pupil is out of the room anyway; the reverse could leave a
removed pupil with working media.

Who may ask for what is checked here, on every intent (the consumers are thin). A refused
intent raises :class:`LiveRefused`; the consumer turns it into an ``error`` message.

Messages reach browsers through the channel layer: :func:`refresh` makes every consumer
of the lesson re-render its own ``state`` snapshot (see :mod:`safeclass.live.state`), and
:func:`send_to` sends one message to one connection (by its channel name).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

from channels.db import database_sync_to_async as _channels_db
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from safeclass.accounts.access import may_staff_lesson
from safeclass.accounts.models import StaffUser
from safeclass.audit.services import record
from safeclass.invitations.models import Invitation
from safeclass.lessons.models import Lesson, LessonStatus
from safeclass.live import holds, incidents
from safeclass.live.models import (
    ACTIVE_STATES,
    IncidentKind,
    LiveRun,
    Notice,
    Presence,
    PresenceRole,
    PresenceState,
)
from safeclass.media import errors as media_errors
from safeclass.media.adapter import close_sessions, new_participant_token, remove_participant
from safeclass.media.node import media_server
from safeclass.policy.recording import may_admit_pupils

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def database_sync_to_async(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Channels' ORM-in-a-thread wrapper (closes stale connections), with its types kept."""
    return cast(Callable[P, Awaitable[R]], _channels_db(func))

NOTICE_MAX = 500
WARNING_MAX = 200
MID_MAX = 16

# Rule ids (design.md) named in refusals.
RULE_SECOND_ADULT = "second-adult-or-recording"
RULE_STAFF_ONLY = "staff-host-only"
RULE_NO_REJOIN = "no-rejoin-after-removal"
RULE_CAMERA = "camera-required"
RULE_HOST_ONLY_RECORDING = "host-only-recording"


class LiveRefused(Exception):
    """An intent the server refuses: ``code`` for the client, ``rule`` a design rule id."""

    def __init__(self, code: str, rule: str | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.rule = rule
        self.message = message


# ------------------------------------------------------------------- messaging


def group_name(lesson_id: int) -> str:
    return f"live.lesson.{lesson_id}"


async def refresh(lesson_id: int) -> None:
    """Every connection of the lesson re-renders its own snapshot."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group_name(lesson_id), {"type": "live.refresh"})


async def send_to(channel_name: str, payload: dict[str, Any], *, close: bool = False) -> None:
    """One message to one connection; ``close`` ends that connection afterwards."""
    layer = get_channel_layer()
    if layer is not None and channel_name:
        await layer.send(channel_name, {"type": "live.send", "payload": payload,
                                        "close": close})


async def send_all(lesson_id: int, payload: dict[str, Any], *, close: bool = False) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group_name(lesson_id), {"type": "live.send", "payload": payload,
                                                       "close": close})


def media_message(presence: Presence, room: str) -> dict[str, Any]:
    """This presence's own Janus credentials (never the room secret: invariant 2)."""
    return {"type": "media", "janus_url": settings.JANUS_PUBLIC_URL,
            "token": presence.janus_token, "room": room,
            "publisher_id": presence.publisher_id, "display": presence.display_name,
            "screen_publisher_id": presence.screen_publisher_id or None}


# ------------------------------------------------------------------ small helpers


def _now() -> Any:
    return timezone.now()


def _staff_connected(lesson_id: int) -> int:
    return Presence.objects.filter(lesson_id=lesson_id, role=PresenceRole.STAFF,
                                   state=PresenceState.ADMITTED, connected=True).count()


def _actor_label(presence: Presence) -> str:
    return f"pupil link ({presence.display_name})"


def _lesson(lesson_id: int) -> Lesson:
    return Lesson.objects.select_related("school", "live_run").get(pk=lesson_id)


def _run(lesson_id: int) -> LiveRun:
    return LiveRun.objects.select_related("lesson", "lesson__school").get(lesson_id=lesson_id)


@dataclass(frozen=True)
class Revoke:
    """What revoking one presence's media at Janus needs (read before it changes)."""

    room: str
    secret: str
    publisher_id: str
    token: str
    session_id: int | None = None  # the Janus session from the "joined" event, if any


def _revoke_of(presence: Presence) -> Revoke | None:
    if not presence.janus_token:
        return None
    run = LiveRun.objects.select_related("lesson").filter(lesson_id=presence.lesson_id).first()
    if run is None:
        return None
    return Revoke(run.lesson.room_id, run.room_secret, presence.publisher_id,
                  presence.janus_token, presence.janus_session_id)


async def _revoke_at_janus(revoke: Revoke | None) -> None:
    """Disallow the token, kick the publisher, revoke the core token (not a ban: the
    presence may be admitted again with a new token)."""
    if revoke is None:
        return
    try:
        await remove_participant(media_server(), revoke.room, revoke.secret,
                                 revoke.publisher_id, revoke.token, [revoke.session_id])
    except media_errors.RoomNotFound:
        pass  # the room is gone: nobody is in it


def _staff_actor(presence_id: int) -> Presence:
    """The acting staff presence, still in the lesson."""
    actor = Presence.objects.select_related("staff", "lesson", "lesson__school").get(
        pk=presence_id)
    # Checked on every intent: still staff in the room, and still the lesson's host or
    # second adult (the lesson may have been changed meanwhile).
    if (actor.role != PresenceRole.STAFF or actor.state != PresenceState.ADMITTED
            or actor.staff is None or not may_staff_lesson(actor.staff, actor.lesson)):
        raise LiveRefused("not_allowed", RULE_STAFF_ONLY,
                          _("Only staff in the lesson can do that."))
    return actor


def _target(actor: Presence, target_id: Any, role: str = PresenceRole.PUPIL) -> Presence:
    if not isinstance(target_id, int) or isinstance(target_id, bool):
        raise LiveRefused("bad_message", None, _("Say which person you mean."))
    target = Presence.objects.select_related("pupil", "invitation", "staff").filter(
        pk=target_id, lesson_id=actor.lesson_id, role=role).first()
    if target is None or not target.is_active:
        raise LiveRefused("not_found", None, _("That person is not in the lesson any more."))
    return target


@database_sync_to_async
def _actor_and_target(actor_id: int, target_id: Any) -> tuple[Presence, Presence]:
    actor = _staff_actor(actor_id)
    return actor, _target(actor, target_id)


def _audit(action: str, actor: Presence | None, lesson: Lesson, obj: Any = None,
           **data: Any) -> None:
    if actor is not None and actor.role == PresenceRole.STAFF:
        record(action, actor=actor.staff, school=lesson.school, obj=obj or lesson,
               data={"lesson": lesson.pk, **data})
    elif actor is not None:
        record(action, actor_label=_actor_label(actor), school=lesson.school,
               obj=obj or lesson, data={"lesson": lesson.pk, **data})
    else:
        record(action, actor_label="SafeClass", school=lesson.school, obj=obj or lesson,
               data={"lesson": lesson.pk, **data})


# ------------------------------------------------------------------- opening


def publishers_for(lesson: Lesson) -> int:
    # Two staff (camera + screen each), every invited pupil, and room for replaced
    # connections whose old feed Janus has not dropped yet.
    return 4 + 2 * lesson.pupils.count() + 4


@database_sync_to_async
def _prepare_open(lesson_id: int, user_id: int) -> tuple[LiveRun, bool]:
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().get(pk=lesson_id)
        if lesson.status not in (LessonStatus.APPROVED, LessonStatus.LIVE):
            raise LiveRefused("ended" if lesson.status == LessonStatus.ENDED else "closed",
                              None, _("This lesson is not open."))
        run, _created = LiveRun.objects.get_or_create(
            lesson=lesson, defaults={"current_host_id": lesson.host_id})
        if run.ended_at is not None:
            raise LiveRefused("ended", None, _("This lesson has ended."))
        run.lesson = lesson  # read outside this thread: no lazy loading there
        return run, run.room_created_at is None


@database_sync_to_async
def _record_open(lesson_id: int, user_id: int) -> None:
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(pk=lesson_id)
        run = LiveRun.objects.select_for_update().get(lesson=lesson)
        now = _now()
        first = run.room_created_at is None
        run.room_created_at = run.room_created_at or now
        run.opened_at = run.opened_at or now
        run.started_at = run.started_at or now
        run.save(update_fields=["room_created_at", "opened_at", "started_at"])
        if lesson.status != LessonStatus.LIVE:
            lesson.status = LessonStatus.LIVE
            lesson.save(update_fields=["status", "updated_at"])
        if first:
            record("live.room_opened", actor=StaffUser.objects.get(pk=user_id),
                   school=lesson.school, obj=lesson, data={"lesson": lesson.pk})


async def open_room(lesson_id: int, user_id: int) -> LiveRun:
    """Create the lesson's Janus room (once) and make the lesson live.

    Called when a staff member who passed the checklist connects. The room lets nobody in
    (``allowed=[]``) until the server adds each admitted person's token."""
    run, needs_room = await _prepare_open(lesson_id, user_id)
    lesson = run.lesson
    media = media_server()
    # Also when Janus restarted since (its rooms and tokens live in memory only): the
    # room is made again, and everyone gets a new token as they reconnect.
    if needs_room or not await media.exists(lesson.room_id):
        count = await database_sync_to_async(publishers_for)(lesson)
        try:
            await media.create_room(lesson.room_id, secret=run.room_secret,
                                    description=f"lesson {lesson.pk}",
                                    publishers=count, allowed=[])
        except media_errors.RoomExists:
            pass  # a colleague connecting at the same moment created it
    await _record_open(lesson_id, user_id)
    if needs_room:
        from safeclass.live import recording  # it imports this module

        # Room on disk to record the whole lesson? Staff are alerted now if not.
        await recording.check_disk_at_open(lesson_id)
    from safeclass.live import clock  # the clock imports this module

    clock.ensure_clock(lesson_id)
    return await database_sync_to_async(_run)(lesson_id)


# ---------------------------------------------------------------------- joining


@database_sync_to_async
def _create_staff_presence(lesson_id: int, user_id: int, channel_name: str,
                           token: str) -> tuple[Presence, list[tuple[str, Revoke | None]]]:
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(pk=lesson_id)
        user = StaffUser.objects.get(pk=user_id)
        old = list(Presence.objects.filter(lesson=lesson, staff=user, state__in=ACTIVE_STATES))
        now = _now()
        for presence in old:
            presence.state, presence.connected, presence.left_at = (
                PresenceState.REPLACED, False, now)
            presence.save(update_fields=["state", "connected", "left_at"])
        presence = Presence.objects.create(
            lesson=lesson, role=PresenceRole.STAFF, staff=user, display_name=user.full_name,
            state=PresenceState.ADMITTED, connected=True, channel_name=channel_name,
            janus_token=token, admitted_at=now, audio_muted=False, may_speak=True)
        presence.screen_publisher_id = Presence._meta.get_field("publisher_id").get_default()
        presence.save(update_fields=["screen_publisher_id"])
        LiveRun.objects.filter(lesson=lesson).update(staff_absent_since=None)
        _audit("live.staff_joined", presence, lesson, obj=presence,
               presence=presence.pk, replaced=[p.pk for p in old])
        return presence, [(p.channel_name, _revoke_of(p)) for p in old]


async def staff_join(lesson_id: int, user_id: int, channel_name: str) -> Presence:
    """A host or second adult connects (access and checklist checked by the caller)."""
    run = await open_room(lesson_id, user_id)
    media = media_server()
    token = new_participant_token()
    await media.add_token(token)
    await media.allow(run.lesson.room_id, run.room_secret, [token])
    presence, old_channels = await _create_staff_presence(lesson_id, user_id, channel_name,
                                                          token)
    for channel, revoke in old_channels:
        # The same member of staff reconnected: the old connection's media goes.
        await _revoke_at_janus(revoke)
        await send_to(channel, {"type": "media_revoked", "reason": "replaced"}, close=True)
    await send_to(channel_name, media_message(presence, run.lesson.room_id))
    await refresh(lesson_id)
    await _reconcile_recording(lesson_id)
    return presence


@database_sync_to_async
def _create_pupil_presence(invitation_id: int, device: str,
                           channel_name: str) -> tuple[Presence, list[tuple[str, Revoke | None]]]:
    with transaction.atomic():
        invitation = Invitation.objects.select_related("lesson", "lesson__school", "pupil").get(
            pk=invitation_id)
        lesson = Lesson.objects.select_for_update().get(pk=invitation.lesson_id)
        if holds.removed_from_lesson(lesson.pk, invitation.pupil_id):
            raise LiveRefused("removed", RULE_NO_REJOIN,
                              _("You were removed from this lesson, so you cannot join again."))
        active = list(Presence.objects.filter(lesson=lesson, pupil=invitation.pupil,
                                              state__in=ACTIVE_STATES))
        same = [p for p in active if p.device_hash == device]
        other = [p for p in active if p.device_hash != device]
        now = _now()
        replaced: list[tuple[str, Revoke | None]] = []
        for presence in same:
            replaced.append((presence.channel_name, _revoke_of(presence)))
            presence.state, presence.connected, presence.left_at = (
                PresenceState.REPLACED, False, now)
            presence.save(update_fields=["state", "connected", "left_at"])
        # A reconnect keeps what staff decided about this pupil (warnings, parent seen);
        # it goes back to the waiting room: staff admit it again.
        carried = same[-1] if same else None
        presence = Presence.objects.create(
            lesson=lesson, role=PresenceRole.PUPIL, pupil=invitation.pupil,
            invitation=invitation, display_name=invitation.display_name, device_hash=device,
            second_device=bool(other), state=PresenceState.WAITING, connected=True,
            channel_name=channel_name, audio_muted=False,
            warnings=carried.warnings if carried else 0,
            parent_seen=carried.parent_seen if carried else False)
        _audit("live.pupil_joined", presence, lesson, obj=presence, presence=presence.pk,
               pupil=invitation.pupil_id, second_device=presence.second_device,
               replaced=[p.pk for p in same], device=device[:12])
        return presence, replaced


async def pupil_join(invitation_id: int, device: str, channel_name: str) -> Presence:
    """A pupil connects to the waiting room (access, consent and hold checked by the
    caller). The same device again replaces its old connection; another device while one
    is active waits flagged ``second_device`` for staff to decide."""
    presence, replaced = await _create_pupil_presence(invitation_id, device, channel_name)
    for channel, revoke in replaced:
        await _revoke_at_janus(revoke)
        await send_to(channel, {"type": "media_revoked", "reason": "replaced"}, close=True)
    await refresh(presence.lesson_id)
    return presence


# ------------------------------------------------------------------- admitting


@database_sync_to_async
def _check_admit(actor_id: int, target_id: Any) -> tuple[Presence, Presence, LiveRun,
                                                          list[Presence]]:
    actor = _staff_actor(actor_id)
    target = _target(actor, target_id)
    if target.state != PresenceState.WAITING:
        raise LiveRefused("not_waiting", None, _("That pupil is already in the lesson."))
    if _staff_connected(actor.lesson_id) < 1:
        raise LiveRefused("not_allowed", RULE_SECOND_ADULT,
                          _("A second adult must be in the lesson before pupils come in."))
    run = _run(actor.lesson_id)
    others = []
    if target.second_device:
        others = list(Presence.objects.filter(lesson_id=actor.lesson_id, pupil=target.pupil,
                                              state__in=ACTIVE_STATES).exclude(pk=target.pk))
    return actor, target, run, others


@database_sync_to_async
def _record_admit(actor: Presence, target_id: int, token: str,
                  others: list[int]) -> tuple[Presence | None, list[str]]:
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(
            pk=actor.lesson_id)
        target = Presence.objects.get(pk=target_id)
        if target.state != PresenceState.WAITING:
            return None, []
        # Checked again here, where admissions are serialised: two adults, or a recording
        # that is running (second-adult-or-recording, invariant 5).
        run = LiveRun.objects.get(lesson=lesson)
        if not may_admit_pupils(staff_present=_staff_connected(lesson.pk),
                                recording_works=run.recording_on
                                and not run.recording_problem):
            raise LiveRefused("not_allowed", RULE_SECOND_ADULT, _(
                "A second adult must be in the lesson, or the lesson must be recorded, "
                "before pupils come in."))
        now = _now()
        closed = []
        for other in Presence.objects.filter(pk__in=others, state__in=ACTIVE_STATES):
            other.state, other.connected, other.left_at = PresenceState.REPLACED, False, now
            other.save(update_fields=["state", "connected", "left_at"])
            closed.append(other.channel_name)
        target.state, target.admitted_at, target.janus_token = (
            PresenceState.ADMITTED, now, token)
        target.second_device, target.camera_ok = False, True
        target.published = target.audio_muted = target.may_speak = False
        target.save(update_fields=["state", "admitted_at", "janus_token", "second_device",
                                   "camera_ok",
                                   "published", "audio_muted", "may_speak"])
        _audit("live.admitted", actor, lesson, obj=target, presence=target.pk,
               pupil=target.pupil_id, replaced=others)
        return target, closed


async def admit(actor_id: int, target_id: Any) -> None:
    actor, target, run, others = await _check_admit(actor_id, target_id)
    from safeclass.live import recording  # it imports this module

    # With one adult, recording must run BEFORE the pupil's token is allowed, so the
    # recording covers the pupil from the first moment (refused if it cannot start).
    await recording.ensure_for_admission(actor.lesson_id, actor.staff_id)
    for other in others:
        # Admitting a second device disconnects the first one, at Janus first.
        await _revoke_at_janus(await database_sync_to_async(_revoke_of)(other))
    media = media_server()
    token = new_participant_token()
    await media.add_token(token)
    await media.allow(run.lesson.room_id, run.room_secret, [token])
    unused = Revoke(run.lesson.room_id, run.room_secret, target.publisher_id, token)
    try:
        admitted, closed = await _record_admit(actor, target.pk, token,
                                               [o.pk for o in others])
    except LiveRefused:
        await _revoke_at_janus(unused)  # recording stopped meanwhile: no way in
        await _reconcile_recording(actor.lesson_id)
        raise
    if admitted is None:  # a colleague admitted or removed it meanwhile
        await _revoke_at_janus(unused)
        await _reconcile_recording(actor.lesson_id)
        return
    for channel in closed:
        await send_to(channel, {"type": "media_revoked", "reason": "replaced"}, close=True)
    await send_to(admitted.channel_name, media_message(admitted, run.lesson.room_id))
    await refresh(actor.lesson_id)
    await _reconcile_recording(actor.lesson_id)


async def admit_all(actor_id: int) -> None:
    waiting = await database_sync_to_async(lambda: list(
        Presence.objects.filter(lesson_id=_staff_actor(actor_id).lesson_id,
                                role=PresenceRole.PUPIL, state=PresenceState.WAITING,
                                second_device=False).values_list("pk", flat=True)))()
    if not waiting:
        await _check_second_adult(actor_id)
    for presence_id in waiting:
        await admit(actor_id, presence_id)


@database_sync_to_async
def _check_second_adult(actor_id: int) -> None:
    # "Admit all" with nobody waiting: say so only if pupils could not come in anyway.
    actor = _staff_actor(actor_id)
    run = _run(actor.lesson_id)
    if (_staff_connected(actor.lesson_id) < 2 and run.recording_problem
            and not run.recording_on):
        raise LiveRefused("not_allowed", RULE_SECOND_ADULT, _(
            "The lesson cannot be recorded right now, so pupils can come in only while a "
            "second adult is here."))


async def _reconcile_recording(lesson_id: int) -> None:
    from safeclass.live import recording  # it imports this module

    await recording.reconcile_recording(lesson_id)


async def set_recording(actor_id: int, on: Any) -> None:
    """The host's Start / Stop recording button (host-only-recording)."""
    from safeclass.live import recording  # it imports this module

    await recording.set_recording(actor_id, on)


# -------------------------------------------------------------------- publishing


@database_sync_to_async
def _check_published(presence_id: int, audio_mid: Any, video_mid: Any) -> tuple[Presence,
                                                                               LiveRun]:
    presence = Presence.objects.get(pk=presence_id)
    if presence.state != PresenceState.ADMITTED:
        raise LiveRefused("not_admitted", None, _("You are not in the lesson yet."))
    for mid in (audio_mid, video_mid):
        if not isinstance(mid, str) or not mid or len(mid) > MID_MAX:
            raise LiveRefused("bad_message", None, _("The media description is not valid."))
    return presence, _run(presence.lesson_id)


@database_sync_to_async
def _record_published(presence_id: int, audio_mid: str, video_mid: str) -> None:
    with transaction.atomic():
        presence = Presence.objects.select_related("lesson", "lesson__school", "staff").get(
            pk=presence_id)
        presence.audio_mid, presence.video_mid, presence.published = audio_mid, video_mid, True
        if presence.role == PresenceRole.PUPIL:
            presence.audio_muted = True  # confirmed by Janus just now
        presence.save(update_fields=["audio_mid", "video_mid", "published", "audio_muted"])
        _audit("live.published", presence, presence.lesson, obj=presence,
               presence=presence.pk)


async def published(presence_id: int, audio_mid: Any, video_mid: Any) -> None:
    """The client says its publish succeeded. For a pupil, check at Janus that it is in
    the room and mute its audio there (mute-on-entry) BEFORE its feed is named to anyone."""
    presence, run = await _check_published(presence_id, audio_mid, video_mid)
    room = run.lesson.room_id
    if presence.role == PresenceRole.PUPIL:
        media = media_server()
        # In the room under the id we gave it? ("publisher" in the list turns true only
        # once media flows, which may be after the client's publish succeeded.)
        participants = await media.list_participants(room)
        if not any(p.id == presence.publisher_id for p in participants):
            raise LiveRefused("not_published", None,
                              _("The media server does not see your camera yet."))
        # Janus' own list of the pupil's streams, not the page's word for it: every audio
        # stream is muted, and more than one video stream is refused (camera-required).
        streams = await media.publisher_streams(presence.janus_token, presence.publisher_id)
        if streams is None:
            raise LiveRefused("not_published", None,
                              _("The media server does not see your camera yet."))
        audio = [str(st.get("mid")) for st in streams if st.get("type") == "audio"]
        video = [str(st.get("mid")) for st in streams if st.get("type") == "video"]
        if len(video) != 1:
            await camera_stopped(presence_id, "two_videos" if video else "camera")
            return
        try:
            for mid in audio:
                await media.mute(room, run.room_secret, presence.publisher_id, mid, True)
        except media_errors.ParticipantNotFound:
            raise LiveRefused("not_published", None,
                              _("The media server does not see your camera yet.")) from None
        if presence.video_stopped or run.pupils_paused:
            await media.mute(room, run.room_secret, presence.publisher_id, video[0], True)
        audio_mid, video_mid = (audio[0] if audio else audio_mid), video[0]
    await _record_published(presence_id, audio_mid, video_mid)
    await refresh(presence.lesson_id)


async def verify_streams(presence_id: int) -> None:
    """After a pupil re-configures its publish (a Janus event), check its streams again at
    Janus: a second video sends it back, and every audio stream but the one staff let
    speak stays muted."""
    presence = await database_sync_to_async(
        lambda: Presence.objects.select_related("lesson").get(pk=presence_id))()
    if presence.state != PresenceState.ADMITTED or not presence.published:
        return
    run = await database_sync_to_async(_run)(presence.lesson_id)
    media = media_server()
    streams = await media.publisher_streams(presence.janus_token, presence.publisher_id)
    if streams is None:
        return
    video = [st for st in streams if st.get("type") == "video"]
    if len(video) > 1:
        await camera_stopped(presence_id, "two_videos")
        return
    for st in streams:
        mid = str(st.get("mid"))
        if st.get("type") == "audio" and not (presence.may_speak and mid == presence.audio_mid):
            try:
                await media.mute(presence.lesson.room_id, run.room_secret, presence.publisher_id,
                                 mid, True)
            except media_errors.ParticipantNotFound:
                return


# ------------------------------------------------------------------- moderation


@database_sync_to_async
def _check_moderate(actor_id: int, target_id: Any) -> tuple[Presence, Presence, LiveRun]:
    actor = _staff_actor(actor_id)
    target = _target(actor, target_id)
    if target.state != PresenceState.ADMITTED or not target.published:
        raise LiveRefused("not_published", None, _("That pupil has no camera in the lesson."))
    return actor, target, _run(actor.lesson_id)


@database_sync_to_async
def _record_fields(actor: Presence | None, target_id: int, action: str,
                   **fields: Any) -> Presence:
    with transaction.atomic():
        target = Presence.objects.select_related("lesson", "lesson__school").get(pk=target_id)
        for name, value in fields.items():
            setattr(target, name, value)
        target.save(update_fields=list(fields))
        _audit(action, actor, target.lesson, obj=target, presence=target.pk, **{
            k: v for k, v in fields.items() if isinstance(v, bool | int | str)})
        return target


async def _moderate(actor_id: int, target_id: Any, stream: str, mute: bool, action: str,
                    **fields: Any) -> Presence:
    actor, target, run = await _check_moderate(actor_id, target_id)
    mid = target.audio_mid if stream == "audio" else target.video_mid
    await media_server().mute(run.lesson.room_id, run.room_secret, target.publisher_id, mid,
                              mute)
    return await _record_fields(actor, target.pk, action, **fields)


async def mute(actor_id: int, target_id: Any) -> None:
    target = await _moderate(actor_id, target_id, "audio", True, "live.muted",
                             may_speak=False, audio_muted=True)
    # Messages to a pupil carry a key, not words: the page says them in the pupil's own
    # language (the parent's choice), which may not be the teacher's.
    await send_to(target.channel_name, {"type": "announce", "say": "muted_you"})
    await refresh(target.lesson_id)


async def allow_speak(actor_id: int, target_id: Any) -> None:
    target = await _moderate(actor_id, target_id, "audio", False, "live.allowed_speak",
                             may_speak=True, hand_raised=False)
    await send_to(target.channel_name, {"type": "announce", "say": "may_speak_now"})
    await refresh(target.lesson_id)


async def stop_video(actor_id: int, target_id: Any) -> None:
    target = await _moderate(actor_id, target_id, "video", True, "live.video_stopped",
                             video_stopped=True)
    await refresh(target.lesson_id)


async def allow_video(actor_id: int, target_id: Any) -> None:
    target = await _moderate(actor_id, target_id, "video", False, "live.video_allowed",
                             video_stopped=False)
    await refresh(target.lesson_id)


async def raise_hand(presence_id: int, raised: bool) -> None:
    presence = await database_sync_to_async(Presence.objects.get)(pk=presence_id)
    if presence.state != PresenceState.ADMITTED:
        raise LiveRefused("not_admitted", None, _("You are not in the lesson yet."))
    await _record_fields(presence, presence_id,
                         "live.hand_raised" if raised else "live.hand_lowered",
                         hand_raised=raised)
    await refresh(presence.lesson_id)


async def lower_hand_for(actor_id: int, target_id: Any) -> None:
    actor, target = await _actor_and_target(actor_id, target_id)
    await _record_fields(actor, target.pk, "live.hand_lowered", hand_raised=False)
    await refresh(actor.lesson_id)


async def parent_seen(actor_id: int, target_id: Any, seen: Any) -> None:
    actor, target = await _actor_and_target(actor_id, target_id)
    await _record_fields(actor, target.pk, "live.parent_seen", parent_seen=bool(seen))
    await refresh(actor.lesson_id)


async def warn(actor_id: int, target_id: Any, text: Any = None) -> None:
    actor, target = await _actor_and_target(actor_id, target_id)
    # Words typed by staff are sent as typed; without them the pupil's page says the
    # usual warning in the pupil's own language.
    typed = text.strip()[:WARNING_MAX] if isinstance(text, str) else ""
    updated = await _record_fields(actor, target.pk, "live.warned",
                                   warnings=target.warnings + 1)
    await send_to(updated.channel_name, {"type": "warning", "text": typed})
    await refresh(actor.lesson_id)


# --------------------------------------------------------------------- removal


@database_sync_to_async
def _record_removal(actor: Presence, target_id: int, *, outsider: bool) -> Presence:
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(
            pk=actor.lesson_id)
        target = Presence.objects.select_related("pupil").get(pk=target_id)
        target.state, target.connected, target.left_at = PresenceState.REMOVED, False, _now()
        target.save(update_fields=["state", "connected", "left_at"])
        assert actor.staff is not None and target.pupil is not None
        # In the school's language, so its head reads them; stored as written (a record).
        with translation.override(lesson.school.language):
            reason = _("Removed from the live lesson")
            summary = _("{pupil} was removed from the live lesson by {staff}.").format(
                pupil=target.display_name, staff=actor.display_name)
        holds.place_removal_hold(lesson=lesson, pupil=target.pupil, actor=actor.staff,
                                 reason=reason)
        _audit("live.removed", actor, lesson, obj=target, presence=target.pk,
               pupil=target.pupil_id, outsider=outsider)
        incidents.record_incident(
            lesson=lesson,
            kind=IncidentKind.OUTSIDER_REMOVED if outsider else IncidentKind.PUPIL_REMOVED,
            summary=summary, actor=actor.staff)
        return target


async def remove(actor_id: int, target_id: Any, *, outsider: bool = False) -> None:
    """Remove a pupil: out of the room at Janus first (disallow → kick → revoke token),
    then recorded with a removal hold, then told (no-rejoin-after-removal)."""
    actor, target = await _actor_and_target(actor_id, target_id)
    await _revoke_at_janus(await database_sync_to_async(_revoke_of)(target))
    removed = await _record_removal(actor, target.pk, outsider=outsider)
    await send_to(removed.channel_name, {"type": "removed"}, close=True)
    await refresh(actor.lesson_id)
    await _reconcile_recording(actor.lesson_id)


async def remove_and_end(actor_id: int, target_id: Any) -> None:
    await remove(actor_id, target_id, outsider=True)
    await end(actor_id, reason="outsider_removed")


# ---------------------------------------------------------------- whole lesson


@database_sync_to_async
def _check_pause(actor_id: int) -> tuple[Presence, LiveRun, list[Presence]]:
    actor = _staff_actor(actor_id)
    pupils = list(Presence.objects.filter(lesson_id=actor.lesson_id, role=PresenceRole.PUPIL,
                                          state=PresenceState.ADMITTED, published=True))
    return actor, _run(actor.lesson_id), pupils


@database_sync_to_async
def _record_pause(actor: Presence, paused: bool) -> None:
    with transaction.atomic():
        lesson = Lesson.objects.select_related("school").get(pk=actor.lesson_id)
        LiveRun.objects.filter(lesson=lesson).update(pupils_paused=paused)
        if paused:
            Presence.objects.filter(lesson=lesson, role=PresenceRole.PUPIL,
                                    state=PresenceState.ADMITTED).update(may_speak=False,
                                                                         audio_muted=True)
        _audit("live.paused" if paused else "live.resumed", actor, lesson)


async def pause_all(actor_id: int, paused: bool = True) -> None:
    """Stop (or restart) every pupil's audio and video at Janus. Resuming gives video
    back; audio stays muted until staff let someone speak."""
    actor, run, pupils = await _check_pause(actor_id)
    media = media_server()
    for pupil in pupils:
        try:
            if paused:
                await media.mute(run.lesson.room_id, run.room_secret, pupil.publisher_id,
                                 pupil.audio_mid, True)
            if paused or not pupil.video_stopped:
                await media.mute(run.lesson.room_id, run.room_secret, pupil.publisher_id,
                                 pupil.video_mid, paused)
        except media_errors.ParticipantNotFound:
            continue  # left meanwhile
    await _record_pause(actor, paused)
    await refresh(actor.lesson_id)


@database_sync_to_async
def _record_end(actor_id: int | None, lesson_id: int,
                reason: str) -> tuple[LiveRun | None, list[Revoke], bool]:
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(pk=lesson_id)
        actor = _staff_actor(actor_id) if actor_id is not None else None
        run = LiveRun.objects.filter(lesson=lesson).first()
        if run is not None:
            run.lesson = lesson  # read outside this thread: no lazy loading there
        if lesson.status == LessonStatus.ENDED:
            return run, [], False
        now = _now()
        presences = list(Presence.objects.filter(lesson=lesson, state__in=ACTIVE_STATES))
        revokes = [r for p in presences if (r := _revoke_of(p)) is not None]
        Presence.objects.filter(pk__in=[p.pk for p in presences]).update(
            state=PresenceState.ENDED, connected=False, left_at=now)
        lesson.status = LessonStatus.ENDED
        lesson.save(update_fields=["status", "updated_at"])
        if run is not None:
            run.ended_at, run.end_reason = now, reason
            run.save(update_fields=["ended_at", "end_reason"])
        _audit("live.ended", actor, lesson, reason=reason)
        return run, revokes, True


async def _close_at_janus(run: LiveRun | None, revokes: list[Revoke]) -> None:
    media = media_server()
    for revoke in revokes:
        try:
            await media.remove_token(revoke.token)
        except media_errors.TokenNotFound:
            pass
    # Raw clients' subscriber handles outlive the tokens: destroy their Janus sessions.
    await close_sessions(media, [r.token for r in revokes], [r.session_id for r in revokes])
    if run is not None and run.room_created_at is not None:
        try:
            await media.destroy_room(run.lesson.room_id, run.room_secret)
        except media_errors.RoomNotFound:
            pass


async def end(actor_id: int | None, *, reason: str = "host", lesson_id: int | None = None) -> None:
    """End the lesson: everyone out (tokens revoked, room destroyed), everyone told.
    ``actor_id`` None means SafeClass ended it (the clock)."""
    if lesson_id is None:
        assert actor_id is not None
        lesson_id = (await database_sync_to_async(_staff_actor)(actor_id)).lesson_id
    run, revokes, ended = await _record_end(actor_id, lesson_id, reason)
    if not ended:
        return
    from safeclass.live import recording  # it imports this module

    # Recording stops at Janus before the room goes, then is queued for processing.
    try:
        await recording.lesson_over(lesson_id, run)
    except Exception:
        log.exception("ending lesson %s: closing the recording failed", lesson_id)
    # The lesson has ended in our records whatever Janus says next; a Janus failure here
    # is logged and the pages are still told (destroying the room ends all media anyway).
    try:
        await _close_at_janus(run, revokes)
    except media_errors.JanusError:
        log.exception("ending lesson %s: Janus clean-up failed", lesson_id)
    await send_all(lesson_id, {"type": "ended"}, close=True)


@database_sync_to_async
def _hand_over(actor_id: int, target_id: Any) -> tuple[int, str]:
    with transaction.atomic():
        actor = _staff_actor(actor_id)
        run = LiveRun.objects.select_for_update().get(lesson_id=actor.lesson_id)
        if run.current_host_id != actor.staff_id:
            raise LiveRefused("not_allowed", RULE_STAFF_ONLY,
                              _("Only the host can hand over the lesson."))
        target = _target(actor, target_id, PresenceRole.STAFF)
        if (not target.connected or target.staff_id is None
                or target.staff_id == actor.staff_id):
            raise LiveRefused("not_found", None, _("That colleague is not in the lesson."))
        run.current_host_id = target.staff_id
        run.save(update_fields=["current_host"])
        _audit("live.handed_over", actor, actor.lesson, to=target.staff_id)
        return actor.lesson_id, target.display_name


async def hand_over(actor_id: int, target_id: Any) -> None:
    lesson_id, name = await _hand_over(actor_id, target_id)
    await refresh(lesson_id)
    # Said out loud, so neither adult has to spot the change in the page (pupils' pages
    # ignore it: it is staff news). Each page says it in its own language.
    await send_all(lesson_id, {"type": "host_changed", "name": name})


@database_sync_to_async
def _notice(actor_id: int, text: Any) -> int:
    if not isinstance(text, str) or not text.strip() or len(text) > NOTICE_MAX:
        raise LiveRefused("bad_notice", None,
                          _("A notice needs some text, at most 500 characters."))
    with transaction.atomic():
        actor = _staff_actor(actor_id)
        assert actor.staff is not None
        notice = Notice.objects.create(lesson=actor.lesson, author=actor.staff,
                                       text=text.strip())
        _audit("live.notice", actor, actor.lesson, obj=notice, text=notice.text)
        return actor.lesson_id


async def notice(actor_id: int, text: Any) -> None:
    await refresh(await _notice(actor_id, text))


@database_sync_to_async
def _show_rules(actor_id: int) -> int:
    with transaction.atomic():
        actor = _staff_actor(actor_id)
        LiveRun.objects.filter(lesson_id=actor.lesson_id).update(rules_shown_at=_now())
        _audit("live.rules_shown", actor, actor.lesson)
        return actor.lesson_id


async def show_rules(actor_id: int) -> None:
    lesson_id = await _show_rules(actor_id)
    await send_all(lesson_id, {"type": "rules"})
    await refresh(lesson_id)


# ------------------------------------------------------------------- leaving


def _send_pupils_back(lesson_id: int) -> list[tuple[str, Revoke | None]]:
    """Every admitted pupil back to the waiting room (inside the caller's transaction);
    returns what to revoke at Janus and whom to tell, for the caller to do next."""
    back: list[tuple[str, Revoke | None]] = []
    for pupil in Presence.objects.filter(lesson_id=lesson_id, role=PresenceRole.PUPIL,
                                         state=PresenceState.ADMITTED):
        back.append((pupil.channel_name, _revoke_of(pupil)))
        pupil.state, pupil.janus_token, pupil.published = PresenceState.WAITING, "", False
        pupil.audio_muted = pupil.may_speak = False
        pupil.save(update_fields=["state", "janus_token", "published", "audio_muted",
                                  "may_speak"])
    return back


@database_sync_to_async
def _record_leave(presence_id: int, channel_name: str) -> tuple[Presence | None, Revoke | None,
                                                                 list[tuple[str, Revoke | None]]]:
    with transaction.atomic():
        presence = Presence.objects.select_related("lesson", "lesson__school").filter(
            pk=presence_id).first()
        # A replaced, removed or ended presence is already settled.
        if presence is None or not presence.is_active or presence.channel_name != channel_name:
            return None, None, []
        Lesson.objects.select_for_update().get(pk=presence.lesson_id)
        revoke = _revoke_of(presence)
        now = _now()
        presence.state, presence.connected, presence.left_at = PresenceState.LEFT, False, now
        presence.save(update_fields=["state", "connected", "left_at"])
        _audit("live.left", presence, presence.lesson, obj=presence, presence=presence.pk)
        back: list[tuple[str, Revoke | None]] = []
        if presence.role == PresenceRole.STAFF and _staff_connected(presence.lesson_id) == 0:
            # No adult is left: every admitted pupil goes back to the waiting room, media
            # stopped at Janus, until staff admit them again.
            back = _send_pupils_back(presence.lesson_id)
            LiveRun.objects.filter(lesson_id=presence.lesson_id).update(staff_absent_since=now)
            if back:
                _audit("live.staff_absent", None, presence.lesson, pupils_back=len(back))
                # In the school's language; stored as written (a record).
                with translation.override(presence.lesson.school.language):
                    summary = ngettext(
                        "Every staff member left the live lesson; {count} pupil went back to "
                        "the waiting room.",
                        "Every staff member left the live lesson; {count} pupils went back to "
                        "the waiting room.", len(back)).format(count=len(back))
                incidents.record_incident(
                    lesson=presence.lesson, kind=IncidentKind.STAFF_DROPPED, actor=None,
                    summary=summary)
        return presence, revoke, back


async def leave(presence_id: int, channel_name: str) -> None:
    """A connection closed. Its token dies with its presence (invariant 3)."""
    began = time.monotonic()
    presence, revoke, back = await _record_leave(presence_id, channel_name)
    if presence is None:
        return
    # Recorded first here: the pupils must not be admitted while this runs, and the
    # database is what admission checks. Janus follows straight after.
    if presence.role == PresenceRole.STAFF and not back:
        # The second adult leaving with pupils in starts recording now, before anything
        # else (not on a timer, and not after Janus clean-up that might fail).
        await _reconcile_recording(presence.lesson_id)
        # Timed in the log: a browser test once saw recording resume late on a very
        # busy machine, and this tells a slow leave from a disconnect never seen.
        log.info("lesson %s: staff presence %s left; recording reconciled %.2f s after "
                 "the disconnect", presence.lesson_id, presence_id, time.monotonic() - began)
    try:
        await _revoke_at_janus(revoke)
        for channel, pupil_revoke in back:
            await _revoke_at_janus(pupil_revoke)
            await send_to(channel, {"type": "media_revoked", "reason": "staff_absent"})
    finally:
        await refresh(presence.lesson_id)
        if presence.role != PresenceRole.STAFF or back:
            await _reconcile_recording(presence.lesson_id)


# -------------------------------------------------------------- camera stopped


@database_sync_to_async
def _camera_check(presence_id: int) -> tuple[Presence | None, Revoke | None]:
    presence = Presence.objects.get(pk=presence_id)
    if presence.role != PresenceRole.PUPIL or presence.state != PresenceState.ADMITTED:
        return None, None
    return presence, _revoke_of(presence)


@database_sync_to_async
def _camera_stopped(presence_id: int, token: str, why: str) -> Presence | None:
    with transaction.atomic():
        presence = Presence.objects.select_related("lesson", "lesson__school").get(
            pk=presence_id)
        # Still the same admission (not re-admitted with a new token meanwhile)?
        if presence.state != PresenceState.ADMITTED or presence.janus_token != token:
            return None
        presence.state, presence.camera_ok = PresenceState.WAITING, False
        presence.janus_token, presence.published = "", False
        presence.audio_muted = presence.may_speak = False
        presence.save(update_fields=["state", "camera_ok", "janus_token", "published",
                                     "audio_muted", "may_speak"])
        _audit("live.camera_stopped", None, presence.lesson, obj=presence,
               presence=presence.pk, why=why, rule=RULE_CAMERA)
        return presence


async def camera_stopped(presence_id: int, why: str) -> None:
    """A pupil's camera stopped (or it sent more than one video): media revoked at Janus
    first, then back to the waiting room, staff alerted (camera-required)."""
    presence, revoke = await _camera_check(presence_id)
    if presence is None:
        return
    await _revoke_at_janus(revoke)
    if await _camera_stopped(presence_id, presence.janus_token, why) is None:
        return
    await send_to(presence.channel_name, {"type": "media_revoked", "reason": "camera"})
    await refresh(presence.lesson_id)
    await _reconcile_recording(presence.lesson_id)


