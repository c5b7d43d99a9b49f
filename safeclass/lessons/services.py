"""Lesson actions: request, edit, approve, decline, cancel. (Contract stubs: being built.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.invitations.services import IssuedLink
    from safeclass.lessons.models import Lesson
    from safeclass.policy import Violation
    from safeclass.schools.models import Group, Pupil


@dataclass(frozen=True)
class LessonDraft:
    title: str
    host: StaffUser
    second_staff: StaffUser | None
    group: Group | None
    pupils: tuple[Pupil, ...]  # empty with a group: the whole group
    starts_at: datetime
    duration_minutes: int
    recorded: bool


class LessonRejected(Exception):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.rule}: {v.message}" for v in violations))
        self.violations = violations


class ActionNotAllowed(Exception):
    """A state change this actor or this lesson's status does not allow (403/409)."""


def do_request_lesson(draft: LessonDraft, *, actor: StaffUser) -> Lesson:
    raise NotImplementedError


def do_edit_lesson(lesson: Lesson, draft: LessonDraft, *, actor: StaffUser) -> Lesson:
    raise NotImplementedError


def do_approve_lesson(lesson: Lesson, *, actor: StaffUser) -> list[IssuedLink]:
    raise NotImplementedError


def do_decline_lesson(lesson: Lesson, reason: str, *, actor: StaffUser) -> Lesson:
    raise NotImplementedError


def do_cancel_lesson(lesson: Lesson, *, actor: StaffUser) -> Lesson:
    raise NotImplementedError
