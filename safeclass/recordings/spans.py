"""The stretches of a lesson that were recorded, as the live side starts and stops Janus.

Synchronous, each function atomic and audited; called by :mod:`safeclass.live.recording`
after Janus did what the span says (a span never claims recording Janus refused).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from safeclass.audit.services import record
from safeclass.recordings.models import Recording, RecordingSpan, RecordingStatus, SpanReason

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.lessons.models import Lesson

log = logging.getLogger(__name__)


def _audit(action: str, lesson: Lesson, rec: Recording, actor: StaffUser | None,
           **data: object) -> None:
    if actor is not None:
        record(action, actor=actor, school=lesson.school, obj=rec,
               data={"lesson": lesson.pk, **data})
    else:
        record(action, actor_label="SafeClass", school=lesson.school, obj=rec,
               data={"lesson": lesson.pk, **data})


def recording_of(lesson: Lesson) -> Recording | None:
    return Recording.objects.filter(lesson_id=lesson.pk).first()


def open_span(rec: Recording) -> RecordingSpan | None:
    return rec.spans.filter(stopped_at__isnull=True).order_by("-started_at").first()


def recording_for(lesson: Lesson) -> Recording:
    """The lesson's Recording, made if needed (so its raw folder has a name before Janus
    is asked to record into it). Not audited: nothing is recorded until a span begins."""
    with transaction.atomic():
        rec, _created = Recording.objects.get_or_create(
            lesson_id=lesson.pk,
            defaults={"school_id": lesson.school_id, "started_at": timezone.now(),
                      "status": RecordingStatus.RECORDING})
        return rec


def begin_span(lesson: Lesson, *, reason: SpanReason | str,
               actor: StaffUser | None) -> Recording:
    """Recording started (or carries on for a new reason): the lesson's Recording (made
    the first time) gets an open span."""
    with transaction.atomic():
        now = timezone.now()
        rec, _created = Recording.objects.select_for_update().get_or_create(
            lesson_id=lesson.pk,
            defaults={"school_id": lesson.school_id, "started_at": now,
                      "status": RecordingStatus.RECORDING})
        span = open_span(rec)
        if span is None:
            if not rec.spans.exists() and rec.started_at != now:
                rec.started_at = now  # made ahead by recording_for(): starts now
                rec.save(update_fields=["started_at"])
            span = RecordingSpan.objects.create(recording=rec, started_at=now,
                                                reason=str(reason), started_by=actor)
            _audit("recording.started", lesson, rec, actor, reason=str(reason), span=span.pk)
        return rec


def end_span(lesson: Lesson, *, actor: StaffUser | None, reason: str) -> None:
    """Recording stopped: close the open span (if any)."""
    with transaction.atomic():
        rec = Recording.objects.select_for_update().filter(lesson_id=lesson.pk).first()
        if rec is None:
            return
        span = open_span(rec)
        if span is None:
            return
        span.stopped_at, span.stopped_by, span.stop_reason = (
            timezone.now(), actor, reason[:40])
        span.save(update_fields=["stopped_at", "stopped_by", "stop_reason"])
        _audit("recording.stopped", lesson, rec, actor, reason=reason[:40], span=span.pk)


def _enqueue(recording_id: int) -> None:
    try:
        from safeclass.recordings.tasks import enqueue_processing
    except ModuleNotFoundError as exc:
        if exc.name != "safeclass.recordings.tasks":
            raise
        # The processing queue is not installed (yet): the recording stays queued (status
        # QUEUED) for `manage.py process_recording`.
        log.warning("recording %s queued, but no processing queue is installed",
                    recording_id)
        return
    enqueue_processing(recording_id)


def lesson_ended(lesson: Lesson) -> Recording | None:
    """The lesson is over: close any open span and queue the post-processing job."""
    with transaction.atomic():
        rec = Recording.objects.select_for_update().filter(lesson_id=lesson.pk).first()
        if rec is None:
            return None  # never recorded
        if rec.status != RecordingStatus.RECORDING:
            return rec  # already queued (a second end)
        span = open_span(rec)
        now = timezone.now()
        if span is not None:
            span.stopped_at, span.stop_reason = now, "lesson_ended"
            span.save(update_fields=["stopped_at", "stop_reason"])
            _audit("recording.stopped", lesson, rec, None, reason="lesson_ended",
                   span=span.pk)
        rec.lesson_ended_at, rec.status = now, RecordingStatus.QUEUED
        rec.save(update_fields=["lesson_ended_at", "status"])
        _audit("recording.queued", lesson, rec, None)
        rec_id = rec.pk
        transaction.on_commit(lambda: _enqueue(rec_id))
        return rec
