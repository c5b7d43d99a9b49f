"""The lesson clock: warns everyone 5 and 1 minute before the end, and ends the lesson.

One asyncio task per live lesson in the ASGI process, started when the room opens and
again whenever a consumer connects and none runs (e.g. after a server restart). The end
is the lesson's ``ends_at``, but never later than ``started_at`` + the policy's longest
lesson (max-duration). Warnings already sent (``LiveRun.warned_5_at``/``warned_1_at``)
are not sent again by a restarted clock.

Tests shorten minutes: with ``LESSON_MINUTE_SECONDS`` below 60, a lesson of D minutes
runs D × LESSON_MINUTE_SECONDS seconds from when it started, and the warnings come 5 and
1 "minutes" (of that length) before its end.

With several ASGI processes each may run a clock for the same lesson; ending is
idempotent and the warnings are claimed with a compare-and-set update, so that is safe.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from safeclass.lessons.models import LessonStatus
from safeclass.live.models import LiveRun
from safeclass.live.services import database_sync_to_async

log = logging.getLogger(__name__)

_tasks: dict[tuple[int, int], asyncio.Task[None]] = {}

WARNINGS = ((5, "warned_5_at"), (1, "warned_1_at"))


def end_time(run: LiveRun) -> datetime:
    """When this lesson must end."""
    from safeclass.schools.services import policy_settings

    lesson = run.lesson
    started = run.started_at or timezone.now()
    limit = policy_settings(lesson.policy_version).max_duration_minutes
    minute = float(settings.LESSON_MINUTE_SECONDS)
    if minute < 60:  # test-only short minutes
        return started + timedelta(seconds=min(lesson.duration_minutes, limit) * minute)
    # A room opened early (up to LESSON_OPENS_MINUTES_BEFORE) does not eat into the lesson:
    # the longest-lesson cap counts from the scheduled start or a late opening, whichever
    # is later. Pupils admitted early therefore see at most that many extra minutes.
    return min(lesson.ends_at, max(started, lesson.starts_at) + timedelta(minutes=limit))


def minute_length() -> timedelta:
    return timedelta(seconds=float(settings.LESSON_MINUTE_SECONDS))


def ensure_clock(lesson_id: int) -> None:
    """Start the lesson's clock in this event loop unless one runs already."""
    loop = asyncio.get_running_loop()
    key = (id(loop), lesson_id)
    task = _tasks.get(key)
    if task is not None and not task.done():
        return
    task = loop.create_task(_run_clock(lesson_id), name=f"lesson-clock-{lesson_id}")
    _tasks[key] = task
    task.add_done_callback(lambda t: _tasks.pop(key, None) if _tasks.get(key) is t else None)


@database_sync_to_async
def _load(lesson_id: int) -> LiveRun | None:
    run = LiveRun.objects.select_related("lesson", "lesson__policy_version").filter(
        lesson_id=lesson_id).first()
    if run is None or run.started_at is None or run.ended_at is not None:
        return None
    if run.lesson.status != LessonStatus.LIVE:
        return None
    return run


@database_sync_to_async
def _claim_warning(lesson_id: int, field: str) -> bool:
    # Compare-and-set: only one clock (process) sends each warning.
    return LiveRun.objects.filter(lesson_id=lesson_id, ended_at__isnull=True,
                                  **{f"{field}__isnull": True}).update(
        **{field: timezone.now()}) == 1


async def _sleep_until(when: datetime) -> None:
    delay = (when - timezone.now()).total_seconds()
    if delay > 0:
        await asyncio.sleep(delay)


async def _run_clock(lesson_id: int) -> None:
    from safeclass.live import services

    try:
        run = await _load(lesson_id)
        if run is None:
            return  # not open yet, or over: nothing to time
        ends = await database_sync_to_async(end_time)(run)
        for minutes, field in WARNINGS:
            at = ends - minute_length() * minutes
            next_event = ends - minute_length() if minutes > 1 else ends
            if timezone.now() >= next_event:
                continue  # a restarted clock: too late for this warning
            await _sleep_until(at)
            if await _claim_warning(lesson_id, field):
                await services.send_all(lesson_id, {"type": "time", "minutes_left": minutes})
        await _sleep_until(ends)
        await services.end(None, reason="time", lesson_id=lesson_id)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("the clock of lesson %s failed", lesson_id)
