"""Lesson actions: request, edit, approve, decline, cancel.

Each state change is one ``do_*`` function: atomic, the acting staff member as a
keyword-only argument, the audit event written in the same transaction. Every request and
every approval is checked against the school's current policy by the pure policy core;
every broken rule comes back at once in ``LessonRejected``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from safeclass.accounts import access
from safeclass.audit.services import record
from safeclass.policy import (
    Conflicts,
    LessonRequest,
    Person,
    PolicyError,
    RuleId,
    Violation,
    check_lesson_request,
)
from safeclass.schools.models import Pupil
from safeclass.schools.services import current_policy, policy_settings, school_facts
from safeclass.schools.validators import name_problem

from .models import BOOKED_STATUSES, Lesson, LessonStatus

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.invitations.services import IssuedLink
    from safeclass.schools.models import Group

TITLE_MAX_LENGTH = 200
DECLINE_REASON_MAX_LENGTH = 2000
# No lesson may be longer than the policy's upper limit (240 minutes), so a lesson that
# started more than a day before cannot overlap: this bounds the double-booking query.
_LONGEST_POSSIBLE_LESSON = timedelta(days=1)


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
    """A state change this actor or this lesson's status does not allow (403/409).

    ``conflict`` is true when the refusal is because of the lesson's state (409), false
    when this person may not act at all (403)."""

    def __init__(self, message: str = "", *, conflict: bool = False) -> None:
        super().__init__(message)
        self.conflict = conflict


# ---------------------------------------------------------------------------------------
# Checking a lesson against the policy


def _person(user: StaffUser) -> Person:
    return Person(email=user.email, roles=frozenset(user.roles), active=user.is_active)


def _resolve_pupils(draft: LessonDraft, school_id: int) -> tuple[list[Pupil], list[Violation]]:
    """The pupils the draft invites, and a violation if any is not the school's own."""
    if draft.group is not None and draft.group.school_id != school_id:
        return [], [Violation(RuleId.INVITED_PUPILS_ONLY, _(
            "Only your school's own classes can be invited ({rule}).").format(
            rule=RuleId.INVITED_PUPILS_ONLY), "group")]
    if draft.group is not None and not draft.pupils:
        return list(Pupil.objects.filter(group=draft.group, school_id=school_id)
                    .order_by("pk")), []
    pupils = list({p.pk: p for p in draft.pupils}.values())  # without repeats
    strangers = [p for p in pupils if p.school_id != school_id]
    if strangers:
        return pupils, [Violation(RuleId.INVITED_PUPILS_ONLY, _(
            "Only your school's own pupils can be invited ({rule}): {count} of the chosen "
            "pupils are not on your school's roster.").format(
            rule=RuleId.INVITED_PUPILS_ONLY, count=len(strangers)), "pupils")]
    return pupils, []


def _overlapping(starts_at: datetime, duration_minutes: int,
                 exclude: Lesson | None) -> list[Lesson]:
    """Booked lessons that overlap [starts_at, starts_at + duration)."""
    ends_at = starts_at + timedelta(minutes=max(duration_minutes, 0))
    candidates = (Lesson.objects.filter(status__in=BOOKED_STATUSES, starts_at__lt=ends_at,
                                        starts_at__gt=starts_at - _LONGEST_POSSIBLE_LESSON)
                  .prefetch_related("pupils"))
    if exclude is not None and exclude.pk is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    # other.start < end is in the query; other.end > start needs the other's duration.
    return [other for other in candidates if other.ends_at > starts_at]


def _conflicts(draft: LessonDraft, pupils: list[Pupil], exclude: Lesson | None) -> Conflicts:
    if draft.duration_minutes < 1:
        return Conflicts()
    others = _overlapping(draft.starts_at, draft.duration_minutes, exclude)

    def busy(user: StaffUser) -> bool:
        return any(user.pk in (o.host_id, o.second_staff_id) for o in others)

    wanted = {p.pk for p in pupils}
    taken: set[int] = set()
    for other in others:
        taken.update(p.pk for p in other.pupils.all() if p.pk in wanted)
    names = tuple(p.full_name for p in pupils if p.pk in taken)
    return Conflicts(host=busy(draft.host),
                     second_staff=draft.second_staff is not None and busy(draft.second_staff),
                     pupils=names)


def _check(draft: LessonDraft, school_id: int, *, exclude: Lesson | None = None
           ) -> tuple[list[Pupil], list[Violation]]:
    """The draft's pupils and every way it breaks the policy (empty list: it passes)."""
    host = draft.host
    school = host.school
    problem = name_problem(draft.title, TITLE_MAX_LENGTH)
    if problem is not None:
        raise ValidationError({"title": [problem]})
    pupils, violations = _resolve_pupils(draft, school_id)
    extra: list[Violation] = []
    if host.school_id != school_id:
        extra.append(Violation(RuleId.STAFF_HOST_ONLY, _(
            "{email} is not a member of staff at this school ({rule}).").format(
            email=host.email, rule=RuleId.STAFF_HOST_ONLY), "host"))
    if draft.second_staff is not None and draft.second_staff.school_id != school_id:
        extra.append(Violation(RuleId.SCHOOL_ACCOUNT, _(
            "{email} is not a member of staff at this school ({rule}). Choose a second adult "
            "from your own school.").format(email=draft.second_staff.email,
                                           rule=RuleId.SCHOOL_ACCOUNT), "second_staff"))
    version = current_policy(school)
    req = LessonRequest(
        host=_person(host),
        second_staff=_person(draft.second_staff) if draft.second_staff is not None else None,
        pupil_count=len(pupils), starts_at=draft.starts_at,
        duration_minutes=draft.duration_minutes, recorded=draft.recorded)
    try:
        found = check_lesson_request(req, policy_settings(version), school_facts(school),
                                     timezone.now(), _conflicts(draft, pupils, exclude))
    except PolicyError as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc
    # One message per (rule, field): the policy core's own wording wins over ours.
    seen = {(v.rule, v.field) for v in found}
    merged = list(found)
    for v in [*violations, *extra]:
        if (v.rule, v.field) not in seen:
            seen.add((v.rule, v.field))
            merged.append(v)
    return pupils, merged


def check_lesson(lesson: Lesson) -> list[Violation]:
    """Every rule the lesson breaks if it were approved now (for the approvals queue)."""
    try:
        return _check(_draft_of(lesson), lesson.school_id, exclude=lesson)[1]
    except ValidationError as exc:
        return [Violation("", m) for m in exc.messages]


def _draft_of(lesson: Lesson) -> LessonDraft:
    return LessonDraft(title=lesson.title, host=lesson.host, second_staff=lesson.second_staff,
                       group=None, pupils=tuple(lesson.pupils.all()),
                       starts_at=lesson.starts_at, duration_minutes=lesson.duration_minutes,
                       recorded=lesson.recorded)


def _snapshot(lesson: Lesson, pupil_ids: list[int] | None = None) -> dict[str, Any]:
    """The lesson's safeguarding-relevant fields, for audit events (no room id)."""
    if pupil_ids is None:
        pupil_ids = sorted(lesson.pupils.values_list("pk", flat=True))
    return {
        "title": lesson.title,
        "starts_at": lesson.starts_at.isoformat(),
        "duration_minutes": lesson.duration_minutes,
        "host": lesson.host.email,
        "second_staff": lesson.second_staff.email if lesson.second_staff else None,
        "group": lesson.group.name if lesson.group else None,
        "pupils": pupil_ids,
        "recorded": lesson.recorded,
        "status": lesson.status,
    }


def _lock(lesson: Lesson) -> Lesson:
    """Re-read the lesson under a row lock, so two people cannot decide it at once."""
    locked = (Lesson.objects.select_for_update(of=("self",))
              .select_related("school", "host", "second_staff", "group", "policy_version")
              .get(pk=lesson.pk))
    return locked


def _refresh_from(lesson: Lesson, source: Lesson) -> None:
    # Callers keep their own object; give it what was saved.
    for f in Lesson._meta.concrete_fields:
        setattr(lesson, f.attname, getattr(source, f.attname))


def _require_same_school(actor: StaffUser, lesson: Lesson) -> None:
    if actor.school_id != lesson.school_id:
        raise ActionNotAllowed(_("This lesson belongs to another school."))


# ---------------------------------------------------------------------------------------
# Actions


@transaction.atomic
def do_request_lesson(draft: LessonDraft, *, actor: StaffUser) -> Lesson:
    """A teacher asks for a lesson of their own (or an approver asks on a teacher's
    behalf). Raises LessonRejected listing every broken rule; nothing is saved then."""
    if actor.school_id != draft.host.school_id:
        raise ActionNotAllowed(_("You can only request lessons for staff of your own school."))
    if actor.pk != draft.host.pk and not actor.has_role(*access.DECIDE_LESSON):
        raise ActionNotAllowed(_("Teachers request their own lessons: you cannot request one "
                                 "for someone else."))
    if actor.pk == draft.host.pk and not actor.has_role(*access.REQUEST_LESSON):
        raise ActionNotAllowed(_("Only teachers can request lessons."))
    pupils, violations = _check(draft, actor.school_id)
    if violations:
        raise LessonRejected(violations)
    version = current_policy(actor.school)
    lesson = Lesson.objects.create(
        school_id=actor.school_id, title=draft.title, host=draft.host,
        second_staff=draft.second_staff, group=draft.group, starts_at=draft.starts_at,
        duration_minutes=draft.duration_minutes, recorded=draft.recorded,
        status=LessonStatus.PENDING_APPROVAL, policy_version=version, requested_by=actor)
    lesson.pupils.set(pupils)
    record("lesson.requested", actor=actor, school=lesson.school, obj=lesson,
           data={**_snapshot(lesson, sorted(p.pk for p in pupils)),
                 "policy_version": version.number})
    return lesson


_EDITABLE = (LessonStatus.PENDING_APPROVAL, LessonStatus.APPROVED)


@transaction.atomic
def do_edit_lesson(lesson: Lesson, draft: LessonDraft, *, actor: StaffUser) -> Lesson:
    """Change a lesson. Changing the time, pupils, staff or recording of an approved
    lesson sends it back for approval and withdraws every link; a new title does not."""
    from safeclass.invitations.models import RevokeReason
    from safeclass.invitations.services import revoke_invitations

    _require_same_school(actor, lesson)
    if not access.may_edit_lesson(actor, lesson):
        raise ActionNotAllowed(_("Only the lesson's teacher or an approver can change it."))
    locked = _lock(lesson)
    if locked.status not in _EDITABLE:
        raise ActionNotAllowed(_("This lesson is {status}: it can no longer be changed.").format(
            status=locked.get_status_display().lower()), conflict=True)
    before = _snapshot(locked)
    pupils, violations = _check(draft, locked.school_id, exclude=locked)
    if violations:
        raise LessonRejected(violations)
    material = (
        draft.starts_at != locked.starts_at
        or draft.duration_minutes != locked.duration_minutes
        or draft.host.pk != locked.host_id
        or (draft.second_staff.pk if draft.second_staff else None) != locked.second_staff_id
        or sorted(p.pk for p in pupils) != before["pupils"]
        # Recording stands in for the second adult: the approver agreed to it as it was.
        or draft.recorded != locked.recorded
    )
    sent_back = material and locked.status == LessonStatus.APPROVED
    locked.title = draft.title
    locked.host = draft.host
    locked.second_staff = draft.second_staff
    locked.group = draft.group
    locked.starts_at = draft.starts_at
    locked.duration_minutes = draft.duration_minutes
    locked.recorded = draft.recorded
    if material:
        locked.policy_version = current_policy(locked.school)
    revoked = 0
    if sent_back:
        locked.status = LessonStatus.PENDING_APPROVAL
        locked.decided_by = None
        locked.decided_at = None
        revoked = revoke_invitations(locked, RevokeReason.LESSON_EDITED)
    locked.save()
    locked.pupils.set(pupils)
    after = _snapshot(locked, sorted(p.pk for p in pupils))
    record("lesson.edited", actor=actor, school=locked.school, obj=locked, data={
        "before": before, "after": after, "sent_back_for_approval": sent_back,
        "links_withdrawn": revoked, "policy_version": locked.policy_version.number})
    _refresh_from(lesson, locked)
    return lesson


def _require_decider(actor: StaffUser, lesson: Lesson) -> None:
    _require_same_school(actor, lesson)
    if not actor.has_role(*access.DECIDE_LESSON):
        raise ActionNotAllowed(_("Only an approver can approve or decline lessons."))
    if actor.pk in (lesson.requested_by_id, lesson.host_id):
        raise ActionNotAllowed(_("Nobody approves their own lesson: another approver must "
                                 "decide this one."))


def _require_pending(lesson: Lesson) -> None:
    if lesson.status != LessonStatus.PENDING_APPROVAL:
        raise ActionNotAllowed(_("This lesson is not waiting for approval: it is {status}.")
                               .format(status=lesson.get_status_display().lower()),
                               conflict=True)


@transaction.atomic
def do_approve_lesson(lesson: Lesson, *, actor: StaffUser) -> list[IssuedLink]:
    """Approve, after checking the policy again as it stands now, then issue every
    invited pupil their link (emailed to the parent). Returns the links issued."""
    from safeclass.invitations.services import do_issue_invitations

    _require_decider(actor, lesson)
    locked = _lock(lesson)
    _require_pending(locked)
    _pupils, violations = _check(_draft_of(locked), locked.school_id, exclude=locked)
    if violations:
        raise LessonRejected(violations)
    locked.status = LessonStatus.APPROVED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.policy_version = current_policy(locked.school)
    locked.save()
    record("lesson.approved", actor=actor, school=locked.school, obj=locked, data={
        **_snapshot(locked), "policy_version": locked.policy_version.number})
    links = do_issue_invitations(locked, None, actor=actor, reason="issued", send_email=True)
    _refresh_from(lesson, locked)
    return links


@transaction.atomic
def do_decline_lesson(lesson: Lesson, reason: str, *, actor: StaffUser) -> Lesson:
    """Decline with a reason the teacher will read."""
    _require_decider(actor, lesson)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give a reason for declining: the teacher will "
                                            "read it.")]})
    if len(reason) > DECLINE_REASON_MAX_LENGTH:
        raise ValidationError({"reason": [_("The reason is too long: at most {limit} "
                                            "characters.").format(
                                                limit=DECLINE_REASON_MAX_LENGTH)]})
    locked = _lock(lesson)
    _require_pending(locked)
    locked.status = LessonStatus.DECLINED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decline_reason = reason
    locked.save()
    record("lesson.declined", actor=actor, school=locked.school, obj=locked,
           data={"reason": reason, "title": locked.title})
    _refresh_from(lesson, locked)
    return lesson


@transaction.atomic
def do_cancel_lesson(lesson: Lesson, *, actor: StaffUser) -> Lesson:
    """Cancel: every pupil's link stops working at once."""
    from safeclass.invitations.models import RevokeReason
    from safeclass.invitations.services import revoke_invitations

    _require_same_school(actor, lesson)
    if not access.may_edit_lesson(actor, lesson):
        raise ActionNotAllowed(_("Only the lesson's teacher or an approver can cancel it."))
    locked = _lock(lesson)
    if locked.status not in _EDITABLE:
        raise ActionNotAllowed(_("This lesson is {status}: it cannot be cancelled.").format(
            status=locked.get_status_display().lower()), conflict=True)
    previous = locked.status
    locked.status = LessonStatus.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.save()
    revoked = revoke_invitations(locked, RevokeReason.LESSON_CANCELLED)
    record("lesson.cancelled", actor=actor, school=locked.school, obj=locked, data={
        "title": locked.title, "previous_status": previous, "links_withdrawn": revoked})
    _refresh_from(lesson, locked)
    return lesson


def lessons_of(user: StaffUser) -> Q:
    """A filter for the lessons a staff member is part of (host, second adult, requester)."""
    return Q(host=user) | Q(second_staff=user) | Q(requested_by=user)
