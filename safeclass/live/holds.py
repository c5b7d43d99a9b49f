"""Removal holds (`removal-hold`): a pupil removed from a lesson may join no later lesson
until a senior leader has spoken to the parents and recorded that follow-up here.

A hold is placed by the removal itself (inside the removal's own transaction) and cleared
only by :func:`do_clear_hold`. While a hold is active the join pages and the WebSocket
refuse the pupil, and no new link is issued for them (see invitations.services).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from safeclass.accounts import access
from safeclass.audit.services import record
from safeclass.lessons.services import ActionNotAllowed
from safeclass.policy import RuleId
from safeclass.schools.models import Pupil

from .models import Presence, PresenceState, RemovalHold

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.lessons.models import Lesson

FOLLOW_UP_WITH_MAX_LENGTH = 200  # RemovalHold.follow_up_with
OUTCOME_MAX_LENGTH = 2000


def active_hold(pupil: Pupil) -> RemovalHold | None:
    """The pupil's hold that SLT have not cleared yet, or None."""
    return (RemovalHold.objects.filter(pupil_id=pupil.pk, cleared_at__isnull=True)
            .order_by("-placed_at", "-pk").first())


def removed_from_lesson(lesson_id: int, pupil_id: int) -> bool:
    """Whether staff removed this pupil from this lesson (no-rejoin-after-removal)."""
    return Presence.objects.filter(lesson_id=lesson_id, pupil_id=pupil_id,
                                   state=PresenceState.REMOVED).exists()


def place_removal_hold(*, lesson: Lesson, pupil: Pupil, actor: StaffUser,
                       reason: str) -> RemovalHold:
    """Hold the pupil back from later lessons after their removal from ``lesson``.

    Runs inside the caller's transaction (the removal's), so the hold exists if and only if
    the removal does. Idempotent: a pupil already on hold keeps the hold they have (the
    first removal is the one SLT follow up), and nothing new is written."""
    if not connection.in_atomic_block:
        raise RuntimeError("place_removal_hold() must be called inside transaction.atomic()")
    if pupil.school_id != lesson.school_id:
        raise ValueError("the pupil is not a pupil of the lesson's school")
    # Lock the pupil so two removals at once cannot place two holds.
    Pupil.objects.select_for_update().filter(pk=pupil.pk).first()
    existing = active_hold(pupil)
    if existing is not None:
        return existing
    hold = RemovalHold.objects.create(school_id=lesson.school_id, pupil=pupil, lesson=lesson,
                                      placed_by=actor, reason=reason or "")
    # The audit log is kept in English, whatever the school's language.
    record("live.hold_placed", actor=actor, school=lesson.school, obj=hold, data={
        "pupil": pupil.pk, "lesson": lesson.pk, "reason": hold.reason,
        "rule": str(RuleId.REMOVAL_HOLD)})
    return hold


def _clean_follow_up(hold: RemovalHold, follow_up_with: str, follow_up_on: date | None,
                     outcome: str) -> tuple[str, date, str]:
    """Every field required; the date is neither in the future nor before the removal.
    Raises ValidationError naming each field at fault."""
    errors: dict[str, list[str]] = {}
    who = (follow_up_with or "").strip()
    said = (outcome or "").strip()
    if not who:
        errors["follow_up_with"] = [_("Enter who you spoke to, for example the pupil's "
                                      "parent or carer.")]
    elif len(who) > FOLLOW_UP_WITH_MAX_LENGTH:
        errors["follow_up_with"] = [_("Who you spoke to is too long: at most {limit} "
                                      "characters.").format(limit=FOLLOW_UP_WITH_MAX_LENGTH)]
    zone = hold.school.zone
    if follow_up_on is None:
        errors["follow_up_on"] = [_("Enter the date you spoke to them.")]
    elif follow_up_on > timezone.localdate(timezone.now(), zone):
        errors["follow_up_on"] = [_("The date you spoke to them cannot be in the future.")]
    elif follow_up_on < timezone.localdate(hold.placed_at, zone):
        errors["follow_up_on"] = [_("The date you spoke to them cannot be before the pupil "
                                    "was removed.")]
    if not said:
        errors["outcome"] = [_("Enter the outcome of the conversation.")]
    elif len(said) > OUTCOME_MAX_LENGTH:
        errors["outcome"] = [_("The outcome is too long: at most {limit} characters.").format(
            limit=OUTCOME_MAX_LENGTH)]
    if errors:
        raise ValidationError(errors)
    assert follow_up_on is not None
    return who, follow_up_on, said


def do_clear_hold(hold: RemovalHold, *, actor: StaffUser, follow_up_with: str,
                  follow_up_on: date | None, outcome: str) -> RemovalHold:
    """Clear a hold by recording the follow-up with the parents (who, when, outcome).

    Only a senior leader of the pupil's school may; a hold is cleared once. Raises
    ActionNotAllowed (403, or 409 when already cleared) and ValidationError naming the
    fields at fault; nothing is written unless everything is right."""
    if hold.school_id != actor.school_id:
        raise ActionNotAllowed(_("This hold belongs to another school."))
    if not actor.has_role(*access.CLEAR_HOLDS):
        raise ActionNotAllowed(_("Only a senior leader can clear a removal hold."))
    with transaction.atomic():
        # Lock the hold row only (no join: the school's row must stay free).
        locked = RemovalHold.objects.select_for_update().get(pk=hold.pk)
        if locked.cleared_at is not None:
            raise ActionNotAllowed(_("This hold was already cleared: there is nothing more "
                                     "to do."), conflict=True)
        who, on, said = _clean_follow_up(locked, follow_up_with, follow_up_on, outcome)
        locked.cleared_by = actor
        locked.cleared_at = timezone.now()
        locked.follow_up_with = who
        locked.follow_up_on = on
        locked.outcome = said
        locked.save(update_fields=["cleared_by", "cleared_at", "follow_up_with",
                                   "follow_up_on", "outcome"])
        record("live.hold_cleared", actor=actor, school=locked.school, obj=locked, data={
            "pupil": locked.pupil_id, "lesson": locked.lesson_id,
            "placed_at": locked.placed_at.isoformat(),
            "cleared_at": locked.cleared_at.isoformat(),
            "follow_up_with": who, "follow_up_on": on.isoformat(), "outcome": said,
            "rule": str(RuleId.REMOVAL_HOLD)})
    for name in ("cleared_by", "cleared_at", "follow_up_with", "follow_up_on", "outcome"):
        setattr(hold, name, getattr(locked, name))
    return hold
