"""Recording the live lesson (second-adult-or-recording, host-only-recording).

Whether Janus records is decided from who is actually present
(:func:`safeclass.policy.recording.recording_decision`), and :func:`reconcile_recording`
makes Janus match after every change of who is present or admitted (staff join or leave,
an admission, a pupil leaving, removed or sent back, the host's choice). A pupil is let in
with one adult only once Janus records (:func:`ensure_for_admission` runs before the
pupil's token is allowed), so the recording covers the pupil from the first admission.

Never silently unrecorded: before the room opens the disk is checked for the whole
lesson; while recording runs a watchdog (one asyncio task per lesson, every
``WATCH_INTERVAL`` seconds) checks that the raw files grow while someone publishes (Janus
may answer "ok" and write nothing) and that the disk has room. A failure while recording
is required sends every admitted pupil back to the waiting room (media revoked at Janus),
alerts staff, records an incident and audits ``recording.failed``; pupils then come in
again only with two adults, or once recording works again.

Pages show the recording indicator from each ``state`` snapshot and announce "Recording
started" / "Recording stopped" themselves when it changes (in each viewer's language).

Changes for one lesson are serialised by an asyncio lock (one app process holds a
lesson's connections; see docs/live-lesson.md).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import weakref
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from safeclass.audit.services import record
from safeclass.lessons.models import Lesson, LessonStatus
from safeclass.live import incidents
from safeclass.live.models import (
    IncidentKind,
    LiveRun,
    Presence,
    PresenceRole,
    PresenceState,
    RecordingProblem,
)
from safeclass.live.services import (
    RULE_HOST_ONLY_RECORDING,
    RULE_SECOND_ADULT,
    LiveRefused,
    Revoke,
    _revoke_at_janus,
    _send_pupils_back,
    _staff_connected,
    database_sync_to_async,
    refresh,
    send_to,
)
from safeclass.media import errors as media_errors
from safeclass.media.node import media_server
from safeclass.policy.recording import (
    Decision,
    StallWatch,
    disk_needed,
    recording_decision,
)
from safeclass.recordings import paths, spans

log = logging.getLogger(__name__)

WATCH_INTERVAL = 2.0  # seconds between watchdog checks

# Per event loop (a lock belongs to one loop; tests run many loops one after another).
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary())
_watchdogs: dict[tuple[int, int], asyncio.Task[None]] = {}
_generation: dict[int, int] = {}


def _lock(lesson_id: int) -> asyncio.Lock:
    locks = _locks.setdefault(asyncio.get_running_loop(), {})
    lock = locks.get(lesson_id)
    if lock is None:
        lock = locks[lesson_id] = asyncio.Lock()
    return lock


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Situation:
    lesson: Lesson
    run: LiveRun
    staff_present: int
    pupils_admitted: int

    def decide(self) -> Decision:
        return recording_decision(staff_present=self.staff_present,
                                  pupils_admitted=self.pupils_admitted,
                                  booked_recorded=self.lesson.recorded,
                                  host_wants=self.run.host_wants_recording)


def _admitted_pupils(lesson_id: int) -> int:
    return Presence.objects.filter(lesson_id=lesson_id, role=PresenceRole.PUPIL,
                                   state=PresenceState.ADMITTED).count()


@database_sync_to_async
def _situation(lesson_id: int) -> Situation | None:
    run = LiveRun.objects.select_related("lesson", "lesson__school").filter(
        lesson_id=lesson_id).first()
    if (run is None or run.ended_at is not None or run.room_created_at is None
            or run.lesson.status != LessonStatus.LIVE):
        return None
    return Situation(run.lesson, run, _staff_connected(lesson_id), _admitted_pupils(lesson_id))


def _free_bytes(path: Path) -> int:
    # The raw folder may not exist yet: measure the nearest folder that does.
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def _raw_bytes(path: Path) -> int:
    """Bytes Janus has written so far: finished and in-progress .mjr files."""
    total = 0
    try:
        for item in path.iterdir():
            if item.name.endswith((".mjr", ".mjr.tmp")):
                try:
                    total += item.stat().st_size
                except FileNotFoundError:
                    continue  # renamed from .tmp meanwhile: counted next time
    except FileNotFoundError:
        return 0
    return total


def expected_publishers(lesson: Lesson) -> int:
    # Every invited pupil and each named member of staff (their camera).
    return 1 + (1 if lesson.second_staff_id else 0) + lesson.pupils.count()


def _lesson_minutes_left(run: LiveRun) -> float:
    from safeclass.live.clock import end_time, minute_length

    left = (end_time(run) - timezone.now()) / minute_length()
    return max(1.0, min(float(run.lesson.duration_minutes), left))


def _raw_folder_of(lesson: Lesson) -> Path:
    rec = spans.recording_of(lesson)
    return paths.raw_dir(rec) if rec is not None else Path(settings.JANUS_RECORD_DIR)


def _disk_short(lesson: Lesson, minutes: float) -> tuple[int, int] | None:
    """(needed, free) if the recording disk cannot hold ``minutes`` of this lesson."""
    need = disk_needed(bytes_per_publisher_minute=settings.RECORDING_BYTES_PER_PUBLISHER_MINUTE,
                       publishers=expected_publishers(lesson), minutes=minutes)
    free = _free_bytes(_raw_folder_of(lesson))
    return (need, free) if free < need else None


# ------------------------------------------------------------- before opening


@database_sync_to_async
def _check_disk_at_open(lesson_id: int) -> bool:
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(pk=lesson_id)
        run = LiveRun.objects.get(lesson=lesson)
        short = _disk_short(lesson, float(lesson.duration_minutes))
        if short is None:
            if run.recording_problem == RecordingProblem.DISK_SHORT:
                run.recording_problem, run.recording_problem_at = "", None
                run.save(update_fields=["recording_problem", "recording_problem_at"])
            return False
        _note_disk_short(lesson, run, *short)
        return True


def _note_disk_short(lesson: Lesson, run: LiveRun, need: int, free: int) -> None:
    if run.recording_problem == RecordingProblem.DISK_SHORT:
        return  # staff were told already
    run.recording_problem, run.recording_problem_at = RecordingProblem.DISK_SHORT, timezone.now()
    run.save(update_fields=["recording_problem", "recording_problem_at"])
    record("recording.disk_short", actor_label="SafeClass", school=lesson.school, obj=lesson,
           data={"lesson": lesson.pk, "needed": need, "free": free})
    # For the head too: a lesson that may need recording cannot have it (once per
    # occurrence: the early return above keeps repeated checks quiet).
    # In the school's language, so its head reads it; stored as written (a record).
    with translation.override(lesson.school.language):
        summary = _("There is not enough disk space to record this lesson (needed {needed} MB, "
                    "free {free} MB); pupils can come in only while two staff are present."
                    ).format(needed=need // 1_000_000, free=free // 1_000_000)
    incidents.record_incident(
        lesson=lesson, kind=IncidentKind.RECORDING_FAILED, actor=None, summary=summary)


async def check_disk_at_open(lesson_id: int) -> None:
    """Before the room opens: is there room on disk to record the whole lesson? If not,
    staff are alerted at once, and pupils come in only while two staff are present."""
    await _check_disk_at_open(lesson_id)


# ------------------------------------------------------------ start and stop


@database_sync_to_async
def _prepare_start(lesson_id: int) -> tuple[Path | None, str]:
    """The raw folder to record into, or the problem that prevents recording."""
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(pk=lesson_id)
        run = LiveRun.objects.select_related("lesson").get(lesson=lesson)
        run.lesson = lesson
        short = _disk_short(lesson, _lesson_minutes_left(run))
        if short is not None:
            _note_disk_short(lesson, run, *short)
            return None, RecordingProblem.DISK_SHORT
        rec = spans.recording_for(lesson)
        return paths.raw_dir(rec), ""


@database_sync_to_async
def _record_started(lesson_id: int, reason: str, actor_id: int | None) -> None:
    from safeclass.accounts.models import StaffUser

    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(pk=lesson_id)
        LiveRun.objects.filter(lesson=lesson).update(
            recording_on=True, recording_problem="", recording_problem_at=None)
        actor = StaffUser.objects.get(pk=actor_id) if actor_id is not None else None
        spans.begin_span(lesson, reason=reason, actor=actor)


@database_sync_to_async
def _record_stopped(lesson_id: int, reason: str, actor_id: int | None,
                    forget_wish: bool) -> None:
    from safeclass.accounts.models import StaffUser

    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(pk=lesson_id)
        fields: dict[str, object] = {"recording_on": False}
        if forget_wish:
            fields["host_wants_recording"] = False
        LiveRun.objects.filter(lesson=lesson).update(**fields)
        actor = StaffUser.objects.get(pk=actor_id) if actor_id is not None else None
        spans.end_span(lesson, actor=actor, reason=reason)


async def _start(sit: Situation, reason: str, actor_id: int | None) -> str:
    """Start Janus recording; "" when it runs, else the RecordingProblem."""
    lesson_id = sit.lesson.pk
    folder, problem = await _prepare_start(lesson_id)
    if folder is None:
        return problem
    try:
        await asyncio.to_thread(paths.make_private_dir, folder)
        await media_server().start_recording(sit.lesson.room_id, sit.run.room_secret,
                                              record_dir=str(folder))
    except (OSError, media_errors.JanusError):
        log.exception("lesson %s: recording did not start", lesson_id)
        return RecordingProblem.START_FAILED
    await _record_started(lesson_id, reason, actor_id)
    _generation[lesson_id] = _generation.get(lesson_id, 0) + 1
    ensure_watchdog(lesson_id)
    return ""


async def _stop_at_janus(lesson: Lesson, secret: str) -> None:
    try:
        await media_server().stop_recording(lesson.room_id, secret)
    except media_errors.RoomNotFound:
        pass
    except media_errors.JanusError:
        # Recorded as stopped anyway: the room's rec_dir stays where it was, and a lesson
        # end destroys the room. Logged for the operator.
        log.exception("lesson %s: Janus did not stop recording", lesson.pk)


async def _stop(sit: Situation, reason: str, actor_id: int | None, *,
                forget_wish: bool = False) -> None:
    await _stop_at_janus(sit.lesson, sit.run.room_secret)
    await _record_stopped(sit.lesson.pk, reason, actor_id, forget_wish)


# ------------------------------------------------------------------- failure


@database_sync_to_async
def _record_failure(lesson_id: int, why: str) -> list[tuple[str, Revoke | None]] | None:
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().select_related("school").get(pk=lesson_id)
        run = LiveRun.objects.get(lesson=lesson)
        if run.ended_at is not None:
            return None
        now = timezone.now()
        run.recording_on, run.recording_problem, run.recording_problem_at = False, why, now
        run.save(update_fields=["recording_on", "recording_problem", "recording_problem_at"])
        spans.end_span(lesson, actor=None, reason=f"failed: {why}")
        staff = _staff_connected(lesson_id)
        back = _send_pupils_back(lesson_id) if staff < 2 else []
        record("recording.failed", actor_label="SafeClass", school=lesson.school, obj=lesson,
               data={"lesson": lesson.pk, "why": why, "pupils_back": len(back)})
        # In the school's language; stored as written (a record). `why` is the problem's
        # code (RecordingProblem), kept as it is, like a rule id.
        with translation.override(lesson.school.language):
            if staff < 2:
                summary = ngettext(
                    "Recording failed ({why}) while fewer than two staff were present; {count} "
                    "pupil went back to the waiting room.",
                    "Recording failed ({why}) while fewer than two staff were present; {count} "
                    "pupils went back to the waiting room.", len(back)
                ).format(why=why, count=len(back))
            else:
                summary = _("Recording failed ({why}); two staff were present.").format(why=why)
        incidents.record_incident(
            lesson=lesson, kind=IncidentKind.RECORDING_FAILED, actor=None, summary=summary)
        return back


async def _fail(lesson_id: int, why: str, *, was_on: bool, room: str, secret: str) -> None:
    if was_on:
        # Park the room's rec_dir again, so a restart later starts cleanly.
        try:
            await media_server().stop_recording(room, secret)
        except media_errors.JanusError:
            log.warning("lesson %s: could not stop a failed recording at Janus", lesson_id)
    back = await _record_failure(lesson_id, why)
    if back is None:
        return
    # Recorded first (so nobody is admitted on the strength of a recording that is not
    # running), then each pupil's media stopped at Janus, as when all staff drop out.
    for channel, revoke in back:
        await _revoke_at_janus(revoke)
        await send_to(channel, {"type": "media_revoked", "reason": "recording_failed"})
    await refresh(lesson_id)


async def recording_failed(lesson_id: int, why: str) -> None:
    """The watchdog found recording not working: see the module docstring."""
    async with _lock(lesson_id):
        sit = await _situation(lesson_id)
        if sit is None or not sit.run.recording_on:
            return
        await _fail(lesson_id, why, was_on=True, room=sit.lesson.room_id,
                    secret=sit.run.room_secret)


# ----------------------------------------------------------------- reconcile


@database_sync_to_async
def _carry_on(lesson_id: int) -> None:
    # Recording that was required carries on when a second adult arrives (or the pupils
    # leave), now as the host's choice: it stops when the host says, not by surprise.
    LiveRun.objects.filter(lesson_id=lesson_id).update(host_wants_recording=True)


async def _reconcile(lesson_id: int, actor_id: int | None) -> None:
    sit = await _situation(lesson_id)
    if sit is None:
        return
    decision = sit.decide()
    on = sit.run.recording_on
    nobody = sit.staff_present == 0 and sit.pupils_admitted == 0
    if on and not decision.should_record and not nobody and not sit.run.host_wants_recording \
            and actor_id is None:
        await _carry_on(lesson_id)
        on, decision = True, Decision(False, True, decision.host_may_toggle, "host")
    if (decision.should_record and not on and sit.run.recording_problem
            and not decision.required and actor_id is None):
        # Not needed for safety and it failed before: retried when the host asks (or
        # when it becomes required), not on every join and leave.
        pass
    elif decision.should_record and not on:
        assert decision.reason is not None
        problem = await _start(sit, decision.reason, actor_id)
        if problem:
            await _fail(lesson_id, problem, was_on=False, room=sit.lesson.room_id,
                        secret=sit.run.room_secret)
    elif on and not decision.should_record:
        await _stop(sit, "nobody_present" if nobody else "host" if actor_id else "not_needed",
                    actor_id, forget_wish=nobody)
    elif on:
        ensure_watchdog(lesson_id)
    await refresh(lesson_id)


async def reconcile_recording(lesson_id: int, *, actor_id: int | None = None) -> None:
    """Make Janus record, or not, as the people present now require. ``actor_id``: the
    staff user whose choice this is (the host's button), else None (SafeClass)."""
    try:
        async with _lock(lesson_id):
            await _reconcile(lesson_id, actor_id)
    except Exception:
        # Never let a recording problem break a join or a leave; the watchdog and the
        # next change try again, and admission checks recording itself.
        log.exception("lesson %s: reconciling recording failed", lesson_id)


async def ensure_for_admission(lesson_id: int, actor_id: int | None) -> None:
    """Before a pupil's token is allowed: with fewer than two staff present, recording
    must be running (started now if needed). Raises LiveRefused if it cannot."""
    async with _lock(lesson_id):
        sit = await _situation(lesson_id)
        if sit is None:
            raise LiveRefused("closed", None, _("This lesson is not open."))
        if sit.staff_present >= 2 or (sit.run.recording_on and not sit.run.recording_problem):
            return
        problem = await _start(sit, "required", actor_id)
        if not problem:
            await refresh(lesson_id)
            return
        if problem != RecordingProblem.DISK_SHORT:
            await _fail(lesson_id, problem, was_on=False, room=sit.lesson.room_id,
                        secret=sit.run.room_secret)
        else:
            await refresh(lesson_id)
    raise LiveRefused("not_allowed", RULE_SECOND_ADULT, _(
        "The lesson cannot be recorded right now, so pupils can come in only while a "
        "second adult is here."))


@database_sync_to_async
def _check_toggle(actor_id: int) -> tuple[int, int]:
    from safeclass.live.services import _staff_actor

    actor = _staff_actor(actor_id)
    run = LiveRun.objects.select_related("lesson").get(lesson_id=actor.lesson_id)
    if run.current_host_id != actor.staff_id:
        raise LiveRefused("not_allowed", RULE_HOST_ONLY_RECORDING,
                          _("Only the host can start or stop recording."))
    assert actor.staff_id is not None
    return actor.lesson_id, actor.staff_id


async def set_recording(actor_id: int, on: object) -> None:
    """The host's Start / Stop recording button (host-only-recording)."""
    if not isinstance(on, bool):
        raise LiveRefused("bad_message", None, _("Say whether to start or stop recording."))
    lesson_id, staff_id = await _check_toggle(actor_id)
    async with _lock(lesson_id):
        sit = await _situation(lesson_id)
        if sit is None:
            raise LiveRefused("closed", None, _("This lesson is not open."))
        decision = sit.decide()
        if not on and decision.required:
            raise LiveRefused("not_allowed", RULE_SECOND_ADULT, _(
                "Recording must carry on while fewer than two adults are in the lesson."))
        if not on and sit.lesson.recorded:
            raise LiveRefused("not_allowed", RULE_SECOND_ADULT, _(
                "This lesson was booked as recorded, so it is recorded until the end."))
        await database_sync_to_async(
            lambda: LiveRun.objects.filter(lesson_id=lesson_id).update(
                host_wants_recording=on))()
        await _reconcile(lesson_id, staff_id)


async def lesson_over(lesson_id: int, run: LiveRun | None) -> None:
    """The lesson ended: stop recording at Janus (before the room is destroyed), then
    close the recording and queue its processing."""
    if run is None:
        return
    async with _lock(lesson_id):
        if run.recording_on:
            await _stop_at_janus(run.lesson, run.room_secret)

        @database_sync_to_async
        def finish() -> None:
            with transaction.atomic():
                lesson = Lesson.objects.select_related("school").get(pk=lesson_id)
                LiveRun.objects.filter(lesson=lesson).update(recording_on=False)
                spans.lesson_ended(lesson)

        await finish()


# ------------------------------------------------------------------ watchdog


def ensure_watchdog(lesson_id: int) -> None:
    loop = asyncio.get_running_loop()
    key = (id(loop), lesson_id)
    task = _watchdogs.get(key)
    if task is not None and not task.done():
        return
    task = loop.create_task(_watch(lesson_id), name=f"recording-watch-{lesson_id}")
    _watchdogs[key] = task
    task.add_done_callback(
        lambda t: _watchdogs.pop(key, None) if _watchdogs.get(key) is t else None)


@dataclass(frozen=True)
class _Watch:
    folder: Path
    publishing: bool
    minimum_free: int


@database_sync_to_async
def _watch_info(lesson_id: int) -> _Watch | None:
    run = LiveRun.objects.select_related("lesson").filter(lesson_id=lesson_id).first()
    if run is None or run.ended_at is not None or not run.recording_on:
        return None
    rec = spans.recording_of(run.lesson)
    if rec is None:
        return None
    publishing = Presence.objects.filter(lesson_id=lesson_id, state=PresenceState.ADMITTED,
                                         connected=True, published=True)
    publishers = publishing.count()
    # Room for at least one more minute of everyone publishing now.
    need = disk_needed(bytes_per_publisher_minute=settings.RECORDING_BYTES_PER_PUBLISHER_MINUTE,
                       publishers=publishers, minutes=1)
    # Files that stop growing matter only while a pupil is in the lesson with media: the
    # recording is there to protect them. With no pupil publishing (they left, or a lone
    # teacher's browser closed before the server noticed), nothing needs to grow, and
    # calling that a failure would give the head a false incident.
    pupils = publishing.filter(role=PresenceRole.PUPIL).exists()
    return _Watch(paths.raw_dir(rec), pupils, need)


def _measure(folder: Path) -> tuple[int, int]:
    return _raw_bytes(folder), _free_bytes(folder)


async def _watch(lesson_id: int) -> None:
    loop = asyncio.get_running_loop()
    generation = -1
    stall = StallWatch(limit=float(settings.RECORDING_STALL_SECONDS))
    try:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            info = await _watch_info(lesson_id)
            if info is None:
                return  # not recording any more
            if _generation.get(lesson_id, 0) != generation:
                # Recording (re)started: the stall clock starts again.
                generation = _generation.get(lesson_id, 0)
                stall = StallWatch(limit=float(settings.RECORDING_STALL_SECONDS))
            size, free = await asyncio.to_thread(_measure, info.folder)
            if free < info.minimum_free:
                await recording_failed(lesson_id, RecordingProblem.DISK_FULL)
                return
            if stall.observe(size=size, publishing=info.publishing, now=loop.time()):
                await recording_failed(lesson_id, RecordingProblem.STALLED)
                return
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("the recording watchdog of lesson %s failed", lesson_id)

