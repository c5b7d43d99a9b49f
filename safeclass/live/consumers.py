"""The live lesson's WebSockets: ``ws/lessons/<id>/`` for staff, ``ws/join/<public_id>/``
for pupils. Thin: parse the frame → check who may do it → call one service → the service
broadcasts. Access is checked on connect and, through the services, on every intent.

Group messages each consumer handles:
``live.refresh`` — re-render this connection's own state snapshot and send it;
``live.send`` — send ``payload`` (and close afterwards if ``close``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from safeclass.accounts.access import access_invitation_for_session, access_room_for_staff
from safeclass.audit.services import record
from safeclass.invitations.services import link_state
from safeclass.lessons.models import LessonStatus
from safeclass.live import clock, services, state
from safeclass.live.checklist import has_checklist
from safeclass.live.consent import has_consent
from safeclass.live.device import DEVICE_COOKIE, device_hash
from safeclass.live.holds import active_hold, removed_from_lesson
from safeclass.live.models import Presence
from safeclass.live.services import LiveRefused, database_sync_to_async
from safeclass.media.errors import JanusError
from safeclass.web.middleware import parent_language

log = logging.getLogger(__name__)

MAX_FRAME = 4096
# Frames one connection may send: a burst of INTENT_BURST, then INTENT_RATE a second. A
# person clicking never comes near it; a script flooding the server (each intent may
# cost a Janus call and an audit row) does. Frames over the limit are dropped.
INTENT_BURST = 30
INTENT_RATE = 5.0
REFUSED_CLOSE = 4403

# What a pupil may not do, with the rule that says so (design.md).
PUPIL_FORBIDDEN_RULES = {"chat": "no-attendee-chat", "annotate": "no-annotation",
                         "file": "no-file-transfer"}


class LiveConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """What staff and pupil connections share: framing, errors, group messages."""

    presence_id: int | None = None
    lesson_id: int | None = None
    # Channels runs no Django middleware, so each connection keeps its own language (the
    # school's; on a pupil's page the parent's English | Cymraeg choice wins) and every
    # message it handles runs in it.
    language: str = settings.LANGUAGE_CODE
    # Token bucket of the intent rate limit (per connection).
    _tokens: float = INTENT_BURST
    _refilled_at: float = 0.0
    _limited_reported: bool = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        with translation.override(self.language):
            await super().dispatch(message)

    def use_language(self, language: str | None) -> None:
        if language and language in dict(settings.LANGUAGES):
            self.language = language
            translation.activate(language)

    # -------------------------------------------------------------- lifecycle

    async def refuse(self, reason: str, message: str) -> None:
        await self.audit_refused_connection(reason)
        await self.accept()
        await self.send_json({"type": "refused", "reason": reason, "message": message})
        await self.close(code=REFUSED_CLOSE)

    async def join(self, joining: Awaitable[Presence]) -> None:
        """Finish connecting: the service's join (which may still refuse), then state."""
        try:
            presence = await joining
        except LiveRefused as refused:
            await self.send_json({"type": "refused", "reason": refused.code,
                                  "message": refused.message})
            await self.close(code=REFUSED_CLOSE)
            return
        except JanusError:
            await self.media_down()
            return
        await self.joined(presence)

    async def joined(self, presence: Presence) -> None:
        self.presence_id, self.lesson_id = presence.pk, presence.lesson_id
        await self.channel_layer.group_add(services.group_name(presence.lesson_id),
                                           self.channel_name)
        clock.ensure_clock(presence.lesson_id)
        await self.send_state()

    async def media_down(self) -> None:
        """Janus did not answer while joining: say so and close; the client retries."""
        log.exception("Janus failed while a connection joined")
        await self.send_json({"type": "error", "code": "media", "rule": None,
                              "message": _("The video server did not answer. "
                                           "Trying again…")})
        await self.close(code=1011)

    async def disconnect(self, code: int) -> None:
        if self.lesson_id is not None:
            await self.channel_layer.group_discard(services.group_name(self.lesson_id),
                                                   self.channel_name)
        if self.presence_id is not None:
            await services.leave(self.presence_id, self.channel_name)

    # ---------------------------------------------------------------- frames

    def _take_token(self) -> bool:
        now = time.monotonic()
        if self._refilled_at:
            self._tokens = min(INTENT_BURST,
                               self._tokens + (now - self._refilled_at) * INTENT_RATE)
        self._refilled_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def receive(self, text_data: str | None = None,
                      bytes_data: bytes | None = None) -> None:
        if not self._take_token():
            # Told (and audited) once per connection; further frames are dropped quietly
            # so the flood cannot fill the audit log either.
            if not self._limited_reported:
                self._limited_reported = True
                await self.send_json({"type": "error", "code": "slow_down", "rule": None,
                                      "message": _("Too many messages at once. Please wait "
                                                   "a moment.")})
                await self.audit_refusal("rate_limited", None)
            return
        raw = text_data.encode() if text_data is not None else bytes_data
        if raw is None or len(raw) > MAX_FRAME:
            await self.bad_message(_("Messages must be at most 4096 bytes."))
            return
        try:
            content = json.loads(raw)
        except ValueError:
            content = None
        if not isinstance(content, dict) or not isinstance(content.get("intent"), str):
            await self.bad_message(_("Messages must be JSON objects with an intent."))
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        if self.presence_id is None:
            return
        intent = content["intent"]
        if intent == "ping":
            await self.send_json({"type": "pong"})
            return
        try:
            await self.handle(intent, content)
        except LiveRefused as refused:
            await self.send_json({"type": "error", "code": refused.code, "rule": refused.rule,
                                  "message": refused.message})
            if refused.rule is not None:
                await self.audit_refusal(intent, refused.rule)
        except JanusError:
            log.exception("Janus refused %s in lesson %s", intent, self.lesson_id)
            await self.send_json({"type": "error", "code": "media", "rule": None,
                                  "message": _("The video server did not answer. "
                                               "Please try again.")})

    async def handle(self, intent: str, content: dict[str, Any]) -> None:
        raise NotImplementedError

    async def bad_message(self, message: str) -> None:
        await self.send_json({"type": "error", "code": "bad_message", "rule": None,
                              "message": message})
        await self.audit_refusal("bad_message", None)

    @database_sync_to_async
    def audit_refused_connection(self, reason: str) -> None:
        """A refused connection (stale, re-issued or other lesson's link, no consent,
        removed, on hold, not this lesson's staff) goes into the audit log of the school
        whose lesson it asked for. A link nobody knows names no school: logged only."""
        from safeclass.invitations.models import Invitation
        from safeclass.lessons.models import Lesson

        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        user = self.scope.get("user")
        lesson: Lesson | None = None
        label, data = "unknown", {"reason": reason[:40]}
        if "lesson_id" in kwargs:
            lesson = Lesson.objects.select_related("school").filter(
                pk=kwargs["lesson_id"]).first()
            if user is not None and user.is_authenticated:
                label = f"staff {user.email}"
        elif "public_id" in kwargs:
            invitation = (Invitation.objects.select_related("lesson", "lesson__school")
                          .filter(public_id=str(kwargs["public_id"])[:16]).first())
            if invitation is not None:
                lesson = invitation.lesson
                label = f"parent link ({invitation.display_name})"
                data["invitation"] = invitation.public_id
        if lesson is None:
            log.info("live connection refused (%s) for an unknown lesson or link", reason)
            return
        with transaction.atomic():
            record("live.connection_refused", actor_label=label, school=lesson.school,
                   obj=lesson, data={**data, "lesson": lesson.pk})

    @database_sync_to_async
    def audit_refusal(self, intent: str, rule: str | None) -> None:
        if self.presence_id is None:
            return
        presence = Presence.objects.select_related("lesson", "lesson__school", "staff").filter(
            pk=self.presence_id).first()
        if presence is None:
            return
        with transaction.atomic():
            data = {"lesson": presence.lesson_id, "presence": presence.pk,
                    "intent": intent[:40], "rule": rule}
            if presence.staff is not None:
                record("live.intent_refused", actor=presence.staff,
                       school=presence.lesson.school, obj=presence, data=data)
            else:
                record("live.intent_refused",
                       actor_label=f"pupil link ({presence.display_name})",
                       school=presence.lesson.school, obj=presence, data=data)

    # --------------------------------------------------------- group messages

    async def send_state(self) -> None:
        if self.presence_id is not None:
            await self.send_json(await database_sync_to_async(state.snapshot)(self.presence_id))

    async def live_refresh(self, event: dict[str, Any]) -> None:
        await self.send_state()

    async def live_send(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])
        if event.get("close"):
            # Settled by the service (removed, replaced, ended): leaving changes nothing.
            self.presence_id = None
            # 4403 also for a replaced connection: if the old tab reconnected, two tabs
            # on one device would keep replacing each other.
            await self.close(code=REFUSED_CLOSE)


Handler = Callable[[int, dict[str, Any]], Awaitable[None]]


def _staff_intents() -> dict[str, Handler]:
    s = services
    return {
        "admit": lambda a, c: s.admit(a, c.get("presence")),
        "admit_all": lambda a, c: s.admit_all(a),
        "parent_seen": lambda a, c: s.parent_seen(a, c.get("presence"), c.get("seen")),
        "mute": lambda a, c: s.mute(a, c.get("presence")),
        "allow_speak": lambda a, c: s.allow_speak(a, c.get("presence")),
        "stop_video": lambda a, c: s.stop_video(a, c.get("presence")),
        "allow_video": lambda a, c: s.allow_video(a, c.get("presence")),
        "warn": lambda a, c: s.warn(a, c.get("presence"), c.get("text")),
        "remove": lambda a, c: s.remove(a, c.get("presence")),
        "remove_and_end": lambda a, c: s.remove_and_end(a, c.get("presence")),
        "pause_all": lambda a, c: s.pause_all(a, True),
        "resume_all": lambda a, c: s.pause_all(a, False),
        "end": lambda a, c: s.end(a),
        "hand_over": lambda a, c: s.hand_over(a, c.get("presence")),
        "notice": lambda a, c: s.notice(a, c.get("text")),
        "show_rules": lambda a, c: s.show_rules(a),
        "lower_hand": lambda a, c: s.lower_hand_for(a, c.get("presence")),
        "published": lambda a, c: s.published(a, c.get("audio_mid"), c.get("video_mid")),
        "recording": lambda a, c: s.set_recording(a, c.get("on")),
    }


STAFF_INTENTS = _staff_intents()


@database_sync_to_async
def _staff_language(user: Any) -> str | None:
    if user is None or not user.is_authenticated:
        return None
    return str(user.school.language)


@database_sync_to_async
def _invitation_language(public_id: str) -> str | None:
    from safeclass.invitations.models import Invitation

    found = (Invitation.objects.filter(public_id=str(public_id)[:16])
             .values_list("lesson__school__language", flat=True).first())
    return str(found) if found else None


class StaffConsumer(LiveConsumer):
    """``ws/lessons/<lesson_id>/``: the lesson's host or second adult, checklist done."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        lesson_id = self.scope["url_route"]["kwargs"]["lesson_id"]
        self.use_language(await _staff_language(user))
        refusal = await self.check_staff(user, lesson_id)
        if refusal is not None:
            await self.refuse(*refusal)
            return
        await self.accept()
        await self.join(services.staff_join(lesson_id, user.pk, self.channel_name))

    @database_sync_to_async
    def check_staff(self, user: Any, lesson_id: int) -> tuple[str, str] | None:
        if user is None or not user.is_authenticated:
            return "not_allowed", _("Please sign in first.")
        try:
            lesson = access_room_for_staff(user, lesson_id)
        except (Http404, PermissionDenied):
            return "not_allowed", _("You are not staff for this lesson.")
        if lesson.status == LessonStatus.ENDED:
            return "ended", _("This lesson has ended.")
        if lesson.status not in (LessonStatus.APPROVED, LessonStatus.LIVE):
            return "closed", _("This lesson is not open.")
        if not has_checklist(lesson, user):
            return "not_allowed", _("Please finish the checklist before you start.")
        return None

    async def handle(self, intent: str, content: dict[str, Any]) -> None:
        handler = STAFF_INTENTS.get(intent)
        if handler is None:
            raise LiveRefused("unknown_intent", None, _("That is not something you can do."))
        assert self.presence_id is not None
        await handler(self.presence_id, content)


class PupilConsumer(LiveConsumer):
    """``ws/join/<public_id>/``: a pupil whose parent consented on this device."""

    async def connect(self) -> None:
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        raw_device = (self.scope.get("cookies") or {}).get(DEVICE_COOKIE) or ""
        device = device_hash(raw_device) if raw_device else ""
        self.use_language(parent_language(self.scope.get("cookies") or {})
                          or await _invitation_language(public_id))
        result = await self.check_pupil(public_id, device)
        if isinstance(result, tuple):
            await self.refuse(*result)
            return
        await self.accept()
        await self.join(services.pupil_join(result, device, self.channel_name))

    @database_sync_to_async
    def check_pupil(self, public_id: str, device: str) -> int | tuple[str, str]:
        session = self.scope.get("session")
        invitation = access_invitation_for_session(session, public_id) if session else None
        if invitation is None:
            return "not_allowed", _("This link does not work. Please ask the school.")
        link = link_state(invitation, timezone.now()).state
        if link == "ended":
            return "ended", _("This lesson has ended.")
        if link != "open":
            return "closed", _("This lesson is not open right now.")
        if removed_from_lesson(invitation.lesson_id, invitation.pupil_id):
            return "removed", _("You were removed from this lesson, so you cannot join again.")
        if active_hold(invitation.pupil) is not None:
            return "hold", _("Please ask the school before joining lessons again.")
        if not device or not has_consent(invitation, device):
            return "no_consent", _("A parent or carer needs to agree first on this device.")
        return int(invitation.pk)

    async def handle(self, intent: str, content: dict[str, Any]) -> None:
        assert self.presence_id is not None
        if intent in ("raise_hand", "lower_hand"):
            await services.raise_hand(self.presence_id, intent == "raise_hand")
        elif intent == "published":
            await services.published(self.presence_id, content.get("audio_mid"),
                                     content.get("video_mid"))
        elif intent == "recording":
            # Only the host starts or stops recording (host-only-recording): refused and
            # audited like every other forbidden pupil intent.
            raise LiveRefused("not_allowed", services.RULE_HOST_ONLY_RECORDING,
                              _("Only the host can start or stop recording."))
        elif intent in PUPIL_FORBIDDEN_RULES:
            raise LiveRefused("not_allowed", PUPIL_FORBIDDEN_RULES[intent],
                              _("Pupils cannot do that in a lesson."))
        else:
            # Every other intent is staff's (staff-host-only).
            raise LiveRefused("not_allowed", services.RULE_STAFF_ONLY,
                              _("Only staff can do that."))

