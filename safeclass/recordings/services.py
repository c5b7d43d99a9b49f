"""Recording actions after the lesson: holds, retention, and noting who watched.

Each state change is one function: atomic, audited in the same transaction (the audit log
is kept in English). Who may act is checked here as well as in the views, so the
management command and the worker cannot step around it by accident.

Retention (``recording-retention``): a recording is deleted, with every derived file, when
the school's *current* policy ``retention_days`` have passed since its lesson ended. The
one exception is a DSL hold (child-protection records must outlive the policy's 12 months):
a held recording is kept until the DSL releases the hold.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from safeclass.accounts import access
from safeclass.audit.services import record
from safeclass.lessons.services import ActionNotAllowed
from safeclass.policy import RuleId
from safeclass.schools.services import current_policy, policy_settings

from . import paths
from .models import Recording, RecordingStatus

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.schools.models import School

logger = logging.getLogger(__name__)

HOLD_REASON_MAX_LENGTH = 2000
# The job is still writing these: never delete under its feet (the next run will).
BUSY_STATUSES = (RecordingStatus.PROCESSING,)


# ---------------------------------------------------------------------------- retention


def retention_days(school: School) -> int:
    """The school's current retention (the policy version in force now, not the one the
    lesson was approved under: a school that shortens retention means it for all)."""
    return policy_settings(current_policy(school)).retention_days


def retention_start(recording: Recording) -> datetime:
    # Counted from the lesson's end; a recording whose lesson never ended properly (the
    # app stopped mid-lesson) counts from its start, so it cannot be kept for ever.
    return recording.lesson_ended_at or recording.started_at


def expires_at(recording: Recording, days: int | None = None) -> datetime:
    """When retention ends for this recording (it is deleted at the next hourly run)."""
    if days is None:
        days = retention_days(recording.school)
    return retention_start(recording) + timedelta(days=days)


@dataclass
class RetentionPlan:
    """What a purge run finds past retention."""

    due: list[Recording] = field(default_factory=list)    # deleted (or would be)
    held: list[Recording] = field(default_factory=list)   # kept: a DSL hold
    busy: list[Recording] = field(default_factory=list)   # kept: being prepared right now


def retention_plan(now: datetime | None = None) -> RetentionPlan:
    """Every recording past its school's retention, sorted into due, held and busy."""
    from safeclass.schools.models import School

    now = now or timezone.now()
    plan = RetentionPlan()
    school_ids = (Recording.objects.exclude(status=RecordingStatus.PURGED)
                  .values_list("school_id", flat=True).distinct())
    for school in School.objects.filter(pk__in=list(school_ids)).order_by("pk"):
        cutoff = now - timedelta(days=retention_days(school))
        candidates = (Recording.objects.filter(school=school)
                      .exclude(status=RecordingStatus.PURGED)
                      .select_related("school", "lesson", "held_by")
                      .order_by("started_at", "pk"))
        for recording in candidates:
            if retention_start(recording) > cutoff:
                continue
            if recording.on_hold:
                plan.held.append(recording)
            elif recording.status in BUSY_STATUSES:
                plan.busy.append(recording)
            else:
                plan.due.append(recording)
    return plan


def purge_expired(now: datetime | None = None, *, dry_run: bool = False) -> list[Recording]:
    """Delete every recording past retention that is not on hold; return those deleted
    (with ``dry_run``, those that would be, deleting nothing). Held recordings are kept
    and logged. One failure (a folder that cannot be removed) does not stop the rest:
    it is logged and retried at the next run."""
    plan = retention_plan(now)
    for recording in plan.held:
        logger.info("recording %s of lesson %s is past retention but kept: on hold until "
                    "the DSL releases it (review date %s)", recording.public_id,
                    recording.lesson_id, recording.hold_review_date)
    for recording in plan.busy:
        logger.info("recording %s is past retention but being prepared: next run",
                    recording.public_id)
    if dry_run:
        return plan.due
    purged: list[Recording] = []
    for recording in plan.due:
        try:
            purged.append(purge_recording(recording, why="retention"))
        except ActionNotAllowed as exc:
            # Held, or picked up by the job, between the plan and now.
            logger.info("recording %s not deleted: %s", recording.public_id, exc)
        except OSError:
            logger.exception("recording %s could not be deleted; will try again",
                             recording.public_id)
    return purged


def _remove_folder(path: Path) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass


def purge_recording(recording: Recording, *, actor: StaffUser | None = None,
                    why: str = "retention") -> Recording:
    """Delete the recording's files (the encrypted store, Janus' raw files, any work
    folder) and their rows; keep the Recording row, PURGED, as the record that it existed.

    Refuses a held recording, and one the job is preparing (ActionNotAllowed, conflict).
    The folders are removed inside the transaction: if removing fails, nothing is marked
    deleted and the next run tries again."""
    with transaction.atomic():
        locked = (Recording.objects.select_for_update()
                  .select_related("school", "lesson").get(pk=recording.pk))
        if locked.status == RecordingStatus.PURGED:
            return locked
        if locked.on_hold:
            raise ActionNotAllowed(_("This recording is on hold: it is kept until the DSL "
                                     "releases the hold."), conflict=True)
        if locked.status in BUSY_STATUSES:
            raise ActionNotAllowed(_("This recording is being prepared: try again when it "
                                     "is finished."), conflict=True)
        files = list(locked.files.order_by("pk").values_list("label", flat=True))
        for folder in (paths.store_dir(locked), paths.raw_dir(locked),
                       paths.work_dir(locked)):
            _remove_folder(folder)
        locked.files.all().delete()
        locked.status = RecordingStatus.PURGED
        locked.purged_at = timezone.now()
        locked.progress_step = ""
        locked.save(update_fields=["status", "purged_at", "progress_step"])
        record("recording.purged", actor=actor,
               actor_label=None if actor else "SafeClass (retention)",
               school=locked.school, obj=locked, data={
                   "lesson": locked.lesson_id, "files": len(files), "labels": files,
                   "why": why, "rule": str(RuleId.RECORDING_RETENTION)})
    recording.status, recording.purged_at = locked.status, locked.purged_at
    return locked


# -------------------------------------------------------------------------------- holds


def _require_dsl(recording: Recording, actor: StaffUser) -> None:
    if recording.school_id != actor.school_id:
        raise ActionNotAllowed(_("This recording belongs to another school."))
    if not actor.has_role(*access.HOLD_RECORDINGS):
        raise ActionNotAllowed(_("Only the designated safeguarding lead (DSL) can place or "
                                 "release a hold on a recording."))


def _clean_hold(recording: Recording, reason: str, review_date: date | None) -> tuple[str, date]:
    errors: dict[str, list[str]] = {}
    why = (reason or "").strip()
    if not why:
        errors["reason"] = [_("Enter why the recording must be kept.")]
    elif len(why) > HOLD_REASON_MAX_LENGTH:
        errors["reason"] = [_("The reason is too long: at most {limit} characters.").format(
            limit=HOLD_REASON_MAX_LENGTH)]
    today = timezone.localdate(timezone.now(), recording.school.zone)
    if review_date is None:
        errors["review_date"] = [_("Enter the date by which the hold will be reviewed.")]
    elif review_date <= today:
        errors["review_date"] = [_("The review date must be in the future.")]
    if errors:
        raise ValidationError(errors)
    assert review_date is not None
    return why, review_date


def place_hold(recording: Recording, *, actor: StaffUser, reason: str,
               review_date: date | None) -> Recording:
    """Keep the recording past retention until released (the DSL only). On a recording
    already held, changes the reason and review date. Raises ActionNotAllowed (403, or
    409 for a deleted recording) and ValidationError naming the fields at fault."""
    _require_dsl(recording, actor)
    why, review = _clean_hold(recording, reason, review_date)
    with transaction.atomic():
        locked = (Recording.objects.select_for_update()
                  .select_related("school").get(pk=recording.pk))
        if locked.status == RecordingStatus.PURGED:
            raise ActionNotAllowed(_("This recording has already been deleted: there is "
                                     "nothing left to keep."), conflict=True)
        changed = locked.on_hold
        locked.hold_reason, locked.hold_review_date = why, review
        locked.held_by, locked.held_at = actor, timezone.now()
        locked.save(update_fields=["hold_reason", "hold_review_date", "held_by", "held_at"])
        record("recording.held", actor=actor, school=locked.school, obj=locked, data={
            "lesson": locked.lesson_id, "reason": why, "review_date": review.isoformat(),
            "changed": changed})
    _copy_hold(locked, recording)
    return locked


def release_hold(recording: Recording, *, actor: StaffUser) -> Recording:
    """Release a hold (the DSL only): retention applies again, so a recording already
    past retention is deleted at the next run."""
    _require_dsl(recording, actor)
    with transaction.atomic():
        locked = (Recording.objects.select_for_update()
                  .select_related("school").get(pk=recording.pk))
        if not locked.on_hold:
            raise ActionNotAllowed(_("This recording is not on hold."), conflict=True)
        data = {"lesson": locked.lesson_id, "reason": locked.hold_reason,
                "review_date": (locked.hold_review_date.isoformat()
                                if locked.hold_review_date else None)}
        locked.hold_reason, locked.hold_review_date = "", None
        locked.held_by, locked.held_at = None, None
        locked.save(update_fields=["hold_reason", "hold_review_date", "held_by", "held_at"])
        record("recording.hold_released", actor=actor, school=locked.school, obj=locked,
               data=data)
    _copy_hold(locked, recording)
    return locked


def _copy_hold(source: Recording, target: Recording) -> None:
    # The caller's object shows the new state too.
    target.hold_reason, target.hold_review_date = source.hold_reason, source.hold_review_date
    target.held_by, target.held_at = source.held_by, source.held_at


# ------------------------------------------------------------------ who watched and when


def note_viewed(recording: Recording, user: StaffUser) -> None:
    """Audit one viewing (a page view of the player, not each range request)."""
    with transaction.atomic():
        record("recording.viewed", actor=user, school=recording.school, obj=recording,
               data={"lesson": recording.lesson_id})


def note_downloaded(recording: Recording, user: StaffUser, *, file_label: str = "") -> None:
    """Audit one download (a copy with the viewer's name burned into the picture)."""
    with transaction.atomic():
        record("recording.downloaded", actor=user, school=recording.school, obj=recording,
               data={"lesson": recording.lesson_id, "file": file_label})
