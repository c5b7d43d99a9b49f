"""Lessons: request, list, read, approve, decline, cancel, and (re)issue pupils' links.

Handlers are thin: they check who may act with the helpers in accounts/access.py, turn
JSON into the same LessonDraft the request form builds, and call the same do_* service
functions as the pages. Service exceptions become responses in api.py, in one place.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import P, QueryEx, Router, Status

from safeclass.accounts.access import (
    REQUEST_LESSON,
    SEE_ALL_LESSONS,
    access_lesson_for_user,
    may_manage_invitations,
    require_role,
)
from safeclass.accounts.models import StaffUser
from safeclass.invitations.services import do_issue_invitations
from safeclass.lessons.models import Lesson
from safeclass.lessons.services import (
    LessonDraft,
    do_approve_lesson,
    do_cancel_lesson,
    do_decline_lesson,
    do_request_lesson,
)
from safeclass.oversight.forms import local_day_end, local_day_start
from safeclass.policy import RuleId, is_school_email
from safeclass.schools.models import Group, Pupil

from .auth import staff_user
from .errors import ApiError, error
from .errors_doc import ACTION_ERRORS, OBJECT_ERRORS, READ_ERRORS
from .schemas import DeclineIn, InvitationsIn, IssuedLinkOut, LessonIn, LessonOut
from .schemas import Status as LessonStatusName
from .serializers import lesson_out

router = Router(tags=["lessons"])


def _lessons() -> QuerySet[Lesson]:
    return (Lesson.objects
            .select_related("school", "host", "second_staff", "group", "policy_version",
                            "requested_by", "decided_by")
            .prefetch_related("pupils"))


def _reloaded(lesson: Lesson) -> dict[str, Any]:
    # Read back from the database, so the answer shows exactly what was stored.
    return lesson_out(_lessons().get(pk=lesson.pk))


def _ids(values: list[int]) -> list[int]:
    return list(dict.fromkeys(values))  # without repeats, in the order given


def _listed(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)


def _draft(user: StaffUser, payload: LessonIn) -> LessonDraft:
    """The request form's LessonDraft from JSON; every input problem at once (422)."""
    errors = []
    group: Group | None = None
    pupils: tuple[Pupil, ...] = ()
    if payload.group is not None and payload.pupils is not None:
        errors.append(error(_("Give either a class (group) or a list of pupils, not both."),
                            field="group"))
    elif payload.group is None and payload.pupils is None:
        errors.append(error(_("Choose who the lesson is for: a class (group) or a list of "
                              "pupils."), field="group"))
    elif payload.group is not None:
        group = Group.objects.filter(pk=payload.group, school_id=user.school_id).first()
        if group is None:
            errors.append(error(_("There is no class {id} at your school.").format(
                id=payload.group), field="group"))
    else:
        wanted = _ids(payload.pupils or [])
        found = {p.pk: p for p in Pupil.objects.filter(pk__in=wanted, school_id=user.school_id)}
        unknown = [i for i in wanted if i not in found]
        if unknown:
            errors.append(error(
                _("Only your school's own pupils can be invited ({rule}): there is no pupil "
                  "{ids} at your school.").format(rule=RuleId.INVITED_PUPILS_ONLY,
                                                  ids=_listed(unknown)),
                rule=str(RuleId.INVITED_PUPILS_ONLY), field="pupils"))
        pupils = tuple(found[i] for i in wanted if i in found)

    second: StaffUser | None = None
    if payload.second_staff is not None and payload.second_staff.strip():
        email = payload.second_staff.strip()
        second = StaffUser.objects.filter(email__iexact=email, school_id=user.school_id).first()
        if second is None and not is_school_email(email, user.school.email_domains):
            errors.append(error(
                _("{email} is not a school email account ({rule}). The second adult must be a "
                  "member of staff with a school address ending {domains}.").format(
                    email=email, rule=RuleId.SCHOOL_ACCOUNT,
                    domains=", ".join(f"@{d}" for d in user.school.email_domains)),
                rule=str(RuleId.SCHOOL_ACCOUNT), field="second_staff"))
        elif second is None:
            errors.append(error(
                _("No member of staff at your school has the email address {email}.").format(
                    email=email), field="second_staff"))
    if errors:
        raise ApiError(422, errors)
    return LessonDraft(title=payload.title, host=user, second_staff=second, group=group,
                       pupils=pupils, starts_at=payload.starts_at,
                       duration_minutes=payload.duration_minutes, recorded=payload.recorded)


@router.get("/lessons", response={200: list[LessonOut], **READ_ERRORS},
            summary="Lessons: your own, or every lesson of the school for senior roles")
def list_lessons(
    request: HttpRequest,
    status: QueryEx[LessonStatusName | None, P(description="Only lessons in this status")] = None,
    date_from: QueryEx[date | None, P(alias="from", description="Starting on or after this "
                                                                "day (school time)")] = None,
    date_to: QueryEx[date | None, P(alias="to", description="Starting on or before this day "
                                                            "(school time)")] = None,
    teacher: QueryEx[int | None, P(description="Hosted by this staff member (id)")] = None,
    group: QueryEx[int | None, P(description="For this class (id)")] = None,
) -> list[dict[str, Any]]:
    user = staff_user(request)
    school = user.school
    lessons = _lessons().filter(school_id=user.school_id)
    if not user.has_role(*SEE_ALL_LESSONS):
        # The same people access.may_see_lesson lets see one lesson.
        lessons = lessons.filter(Q(host=user) | Q(second_staff=user) | Q(requested_by=user))
    if status is not None:
        lessons = lessons.filter(status=status)
    if date_from is not None:
        lessons = lessons.filter(starts_at__gte=local_day_start(date_from, school))
    if date_to is not None:
        lessons = lessons.filter(starts_at__lt=local_day_end(date_to, school))
    if teacher is not None:
        lessons = lessons.filter(host_id=teacher)
    if group is not None:
        lessons = lessons.filter(group_id=group)
    return [lesson_out(lesson) for lesson in lessons.order_by("starts_at", "pk")]


@router.post("/lessons", response={201: LessonOut, **ACTION_ERRORS},
             summary="Request a lesson (teachers); 422 lists every rule it breaks")
def request_lesson(request: HttpRequest, payload: LessonIn) -> Status[dict[str, Any]]:
    user = staff_user(request)
    require_role(user, REQUEST_LESSON)
    lesson = do_request_lesson(_draft(user, payload), actor=user)
    return Status(201, _reloaded(lesson))


@router.get("/lessons/{lesson_id}", response={200: LessonOut, **OBJECT_ERRORS},
            summary="One lesson")
def get_lesson(request: HttpRequest, lesson_id: int) -> dict[str, Any]:
    return _reloaded(access_lesson_for_user(staff_user(request), lesson_id))


@router.post("/lessons/{lesson_id}/approve", response={200: LessonOut, **ACTION_ERRORS},
             summary="Approve a lesson (approvers; never their own)")
def approve_lesson(request: HttpRequest, lesson_id: int) -> dict[str, Any]:
    user = staff_user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    # The service refuses non-approvers and approving one's own lesson (403), and a
    # lesson that is not waiting (409).
    do_approve_lesson(lesson, actor=user)
    return _reloaded(lesson)


@router.post("/lessons/{lesson_id}/decline", response={200: LessonOut, **ACTION_ERRORS},
             summary="Decline a lesson with a reason (approvers)")
def decline_lesson(request: HttpRequest, lesson_id: int, payload: DeclineIn) -> dict[str, Any]:
    user = staff_user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    # The service checks the role, the lesson's state and that the reason is not empty.
    do_decline_lesson(lesson, payload.reason, actor=user)
    return _reloaded(lesson)


@router.post("/lessons/{lesson_id}/cancel", response={200: LessonOut, **ACTION_ERRORS},
             summary="Cancel a lesson: every pupil's link stops working")
def cancel_lesson(request: HttpRequest, lesson_id: int) -> dict[str, Any]:
    user = staff_user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    # The service lets only the lesson's teacher or an approver cancel, and only a lesson
    # that is still waiting or approved.
    do_cancel_lesson(lesson, actor=user)
    return _reloaded(lesson)


@router.post("/lessons/{lesson_id}/invitations",
             response={200: list[IssuedLinkOut], **ACTION_ERRORS},
             summary="(Re)issue pupils' links; the only time they are shown")
def issue_invitations(request: HttpRequest, response: HttpResponse, lesson_id: int,
                      payload: InvitationsIn | None = None) -> list[dict[str, Any]]:
    # The links are secrets shown once: no cache along the way may keep a copy.
    response["Cache-Control"] = "no-store"
    user = staff_user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    if not may_manage_invitations(user, lesson):
        raise ApiError(403, [error(_("You cannot issue links for this lesson."))])
    payload = payload or InvitationsIn(pupils=None, send_email=False)
    chosen: list[Pupil] | None = None
    if payload.pupils:
        wanted = _ids(payload.pupils)
        found = {p.pk: p for p in Pupil.objects.filter(pk__in=wanted, school_id=user.school_id)}
        unknown = [i for i in wanted if i not in found]
        if unknown:
            # Ids that are not even our school's pupils; the service checks that the rest
            # are invited to this lesson.
            raise ApiError(422, [error(
                _("Links go only to pupils invited to this lesson ({rule}): pupil {ids} is "
                  "not invited.").format(rule=RuleId.INVITED_PUPILS_ONLY, ids=_listed(unknown)),
                rule=str(RuleId.INVITED_PUPILS_ONLY), field="pupils")])
        chosen = [found[i] for i in wanted]
    # The service refuses a lesson that is not approved (409) and pupils not invited (422).
    links = do_issue_invitations(lesson, chosen, actor=user, reason="reissued",
                                 send_email=payload.send_email)
    return [{"pupil": link.pupil_id, "display_name": link.display_name,
             "join_url": link.join_url} for link in links]
