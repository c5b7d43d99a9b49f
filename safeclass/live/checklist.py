"""The "before you start" checklist each member of staff confirms before they open the
lesson room: the policy's reminders about what the camera sees and what is on screen.

Software cannot see a teacher's background; it can make sure the teacher was asked, and
record what they confirmed (audit ``live.checklist_confirmed``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from safeclass.audit.services import record
from safeclass.invitations.services import opens_at
from safeclass.lessons.models import LessonStatus

from .models import CHECKLIST_ITEMS, CHECKLIST_KEYS, StaffChecklist

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.lessons.models import Lesson

ROOM_STATUSES = (LessonStatus.APPROVED, LessonStatus.LIVE)


class ChecklistRefused(Exception):
    """Bad input: ``field`` names the form field (``item_<key>``) or "lesson"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def room_closed_reason(lesson: Lesson, now: datetime) -> str | None:
    """Why the lesson room cannot be opened at ``now``, in plain words, or None if it can.
    The room opens when the pupils' links do and closes when the lesson ends."""
    if lesson.status == LessonStatus.ENDED:
        return _("This lesson has ended.")
    if lesson.status not in ROOM_STATUSES:
        return _("This lesson has not been approved, so its room cannot be opened. "
                 "(Status: {status}.)").format(status=lesson.get_status_display())
    if now >= lesson.ends_at:
        return _("This lesson's time is over, so its room cannot be opened.")
    opening = opens_at(lesson)
    if now < opening:
        return _("The lesson room opens at {time}, when the pupils' links start working."
                 ).format(time=_local_time(opening, lesson))
    return None


def _local_time(moment: datetime, lesson: Lesson) -> str:
    from django.utils import formats, timezone

    return formats.time_format(timezone.localtime(moment, lesson.school.zone), "H:i")


def do_confirm_checklist(lesson: Lesson, staff: StaffUser, items: list[str]) -> StaffChecklist:
    """Record that ``staff`` confirmed every checklist item for ``lesson``.

    Every item of CHECKLIST_ITEMS is required; a missing one raises ChecklistRefused
    naming it, and nothing is written. The caller has checked that ``staff`` may be in
    this lesson's room."""
    if lesson.status not in ROOM_STATUSES:
        raise ChecklistRefused("lesson", _("This lesson's room cannot be opened now."))
    unknown = [item for item in items if item not in CHECKLIST_KEYS]
    if unknown:
        raise ChecklistRefused("items", _("Something was ticked that is not on this list."))
    labels = dict(CHECKLIST_ITEMS)
    for key in CHECKLIST_KEYS:
        if key not in items:
            raise ChecklistRefused(f"item_{key}", _(
                "Tick to confirm: “{item}”").format(item=labels[key]))
    with transaction.atomic():
        checklist = StaffChecklist.objects.create(lesson=lesson, staff=staff,
                                                  items=list(CHECKLIST_KEYS))
        record("live.checklist_confirmed", actor=staff, school=lesson.school, obj=lesson,
               data={"items": list(CHECKLIST_KEYS), "checklist": checklist.pk})
    return checklist


def has_checklist(lesson: Lesson, staff: StaffUser) -> bool:
    """Whether ``staff`` confirmed the checklist for this lesson."""
    return StaffChecklist.objects.filter(lesson=lesson, staff=staff).exists()
