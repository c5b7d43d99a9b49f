"""Lesson pages for staff. Thin: fetch through an access helper, call one service action,
render or redirect. Times are shown in the school's time zone (see the web middleware)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from safeclass.accounts import access
from safeclass.accounts.access import access_lesson_for_user, roles_required
from safeclass.accounts.models import StaffUser
from safeclass.invitations import services as invitations
from safeclass.invitations.models import Invitation
from safeclass.policy import RuleId, Violation

from . import services
from .forms import DeclineForm, LessonForm, ReissueForm, form_error_rows, link_errors
from .models import Lesson, LessonStatus
from .services import ActionNotAllowed, LessonRejected


def _user(request: HttpRequest) -> StaffUser:
    return request.user  # type: ignore[return-value]


# Refusals of a link for one pupil (removed, or on a removal hold), not of the lesson.
_LINK_RULES = (RuleId.NO_REJOIN_AFTER_REMOVAL, RuleId.REMOVAL_HOLD)


def _refused(request: HttpRequest, lesson: Lesson, exc: Exception) -> HttpResponse:
    """A page saying why the action was not taken, with every broken rule."""
    violations: list[Violation] = []
    status = 403
    message = str(exc)
    if isinstance(exc, LessonRejected):
        violations, status = exc.violations, 409
        if all(v.rule in _LINK_RULES for v in violations):
            message = _("No new link was made, so nothing was changed.")
        else:
            message = _("The lesson breaks the school's policy as it stands now, so nothing "
                        "was changed.")
    elif isinstance(exc, ActionNotAllowed) and exc.conflict:
        status = 409
    return render(request, "lessons/refused.html", {
        "lesson": lesson, "message": message, "violations": violations}, status=status)


def _no_store(response: HttpResponse) -> HttpResponse:
    # Pages and files holding live join links must not stay in caches or be sent on.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


# ---------------------------------------------------------------------------------------
# Lists


@require_GET
@login_required
def mine(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    theirs = (Lesson.objects.filter(Q(host=user) | Q(second_staff=user), school_id=user.school_id)
              .select_related("group", "host", "second_staff"))
    # A lesson that started within the last day may still be running: split by its end.
    recent = list(theirs.filter(starts_at__gte=now - timedelta(days=1)).order_by("starts_at"))
    upcoming = [lesson for lesson in recent if lesson.ends_at > now]
    past = [lesson for lesson in theirs.filter(starts_at__lt=now).order_by("-starts_at")[:50]
            if lesson.ends_at <= now]
    return render(request, "lessons/mine.html", {"upcoming": upcoming, "past": past})


@require_GET
@roles_required(*access.DECIDE_LESSON)
def approvals(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    pending = (Lesson.objects.filter(school_id=user.school_id,
                                     status=LessonStatus.PENDING_APPROVAL)
               .select_related("host", "second_staff", "group", "requested_by", "school")
               .prefetch_related("pupils").order_by("created_at", "pk"))
    rows = [{"lesson": lesson, "violations": services.check_lesson(lesson),
             "own": user.pk in (lesson.requested_by_id, lesson.host_id),
             "pupil_count": len(lesson.pupils.all())}
            for lesson in pending]
    return render(request, "lessons/approvals.html", {"rows": rows, "form": DeclineForm()})


# ---------------------------------------------------------------------------------------
# Requesting and editing


@require_http_methods(["GET", "POST"])
@roles_required(*access.REQUEST_LESSON)
def request_lesson(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = LessonForm(request.POST or None, user=user)
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        if form.is_valid():
            try:
                lesson = services.do_request_lesson(form.to_draft(), actor=user)
            except LessonRejected as exc:
                errors = form.add_violations(exc.violations)
            except ValidationError as exc:
                form.add_field_errors(exc.message_dict)
            else:
                messages.success(request, _("Your lesson request is saved. It is waiting for "
                                            "an approver."))
                return redirect("lessons:detail", lesson_id=lesson.pk)
        errors = errors or form_error_rows(form)
        link_errors(form)
    return render(request, "lessons/request.html", {"form": form, "errors": errors})


@require_http_methods(["GET", "POST"])
@login_required
def edit(request: HttpRequest, lesson_id: int) -> HttpResponse:
    user = _user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    if not access.may_edit_lesson(user, lesson):
        raise PermissionDenied
    if lesson.status not in (LessonStatus.PENDING_APPROVAL, LessonStatus.APPROVED):
        return _refused(request, lesson, ActionNotAllowed(
            _("This lesson is {status}: it can no longer be changed.").format(
                status=lesson.get_status_display().lower()), conflict=True))
    form = LessonForm(request.POST or None, user=user, host=lesson.host,
                      initial=LessonForm.initial_from(lesson))
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        if form.is_valid():
            was_approved = lesson.status == LessonStatus.APPROVED
            try:
                services.do_edit_lesson(lesson, form.to_draft(), actor=user)
            except LessonRejected as exc:
                errors = form.add_violations(exc.violations)
            except ValidationError as exc:
                form.add_field_errors(exc.message_dict)
            except ActionNotAllowed as exc:
                return _refused(request, lesson, exc)
            else:
                if was_approved and lesson.status == LessonStatus.PENDING_APPROVAL:
                    messages.warning(request, _(
                        "The lesson is saved and waiting for approval again. Every pupil's "
                        "link was withdrawn; new links go out when it is approved."))
                else:
                    messages.success(request, _("The lesson is saved."))
                return redirect("lessons:detail", lesson_id=lesson.pk)
        errors = errors or form_error_rows(form)
        link_errors(form)
    return render(request, "lessons/edit.html", {"form": form, "errors": errors,
                                                 "lesson": lesson})


# ---------------------------------------------------------------------------------------
# One lesson


def _invitation_rows(lesson: Lesson) -> list[dict[str, Any]]:
    live = {i.pupil_id: i for i in Invitation.objects.filter(lesson=lesson,
                                                             revoked_at__isnull=True)}
    names = invitations.lesson_display_names(lesson)
    pupils = sorted(lesson.pupils.select_related("group"), key=lambda p: names[p.pk].casefold())
    return [{"pupil": p, "display_name": names[p.pk], "invitation": live.get(p.pk)}
            for p in pupils]


@require_GET
@login_required
def detail(request: HttpRequest, lesson_id: int) -> HttpResponse:
    user = _user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    pending = lesson.status == LessonStatus.PENDING_APPROVAL
    own = user.pk in (lesson.requested_by_id, lesson.host_id)
    is_approver = user.has_role(*access.DECIDE_LESSON)
    open_statuses = (LessonStatus.PENDING_APPROVAL, LessonStatus.APPROVED)
    return render(request, "lessons/detail.html", {
        "lesson": lesson,
        "rows": _invitation_rows(lesson),
        "ends_at": lesson.ends_at,
        "may_edit": access.may_edit_lesson(user, lesson) and lesson.status in open_statuses,
        "may_decide": is_approver and pending and not own,
        "own_request": is_approver and pending and own,
        "may_manage": (access.may_manage_invitations(user, lesson)
                       and lesson.status == LessonStatus.APPROVED),
        "violations": services.check_lesson(lesson) if pending and is_approver else [],
        "decline_form": DeclineForm(),
        "opens_at": invitations.opens_at(lesson),
    })


@require_http_methods(["GET", "POST"])
@login_required
def cancel(request: HttpRequest, lesson_id: int) -> HttpResponse:
    user = _user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    if not access.may_edit_lesson(user, lesson):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.do_cancel_lesson(lesson, actor=user)
        except ActionNotAllowed as exc:
            return _refused(request, lesson, exc)
        messages.success(request, _("The lesson is cancelled. Every pupil's link has stopped "
                                    "working."))
        return redirect("lessons:detail", lesson_id=lesson.pk)
    return render(request, "lessons/cancel.html", {"lesson": lesson})


@require_POST
@roles_required(*access.DECIDE_LESSON)
def approve(request: HttpRequest, lesson_id: int) -> HttpResponse:
    user = _user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    try:
        links = services.do_approve_lesson(lesson, actor=user)
    except (ActionNotAllowed, LessonRejected) as exc:
        return _refused(request, lesson, exc)
    messages.success(request, _("The lesson is approved. {count} parents are being emailed "
                                "their child's link.").format(count=len(links)))
    skipped = lesson.pupils.count() - len(links)
    if skipped:
        # Pupils on a removal hold get no link (removal-hold); the skip is audited.
        messages.warning(request, ngettext(
            "{count} pupil is on a removal hold and got no link (removal-hold). Re-issue "
            "their link once a senior leader has cleared the hold.",
            "{count} pupils are on a removal hold and got no link (removal-hold). Re-issue "
            "their links once a senior leader has cleared the hold.", skipped).format(
            count=skipped))
    return redirect("lessons:detail", lesson_id=lesson.pk)


@require_POST
@roles_required(*access.DECIDE_LESSON)
def decline(request: HttpRequest, lesson_id: int) -> HttpResponse:
    user = _user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.do_decline_lesson(lesson, form.cleaned_data["reason"], actor=user)
        except ActionNotAllowed as exc:
            return _refused(request, lesson, exc)
        except ValidationError as exc:
            for message in exc.message_dict.get("reason", exc.messages):
                form.add_error("reason", message)
        else:
            messages.success(request, _("The lesson is declined. The teacher can read your "
                                        "reason on the lesson's page."))
            return redirect("lessons:approvals")
    link_errors(form)
    return render(request, "lessons/decline.html", {
        "lesson": lesson, "form": form, "errors": form_error_rows(form)})


# ---------------------------------------------------------------------------------------
# Links


def _managed(request: HttpRequest, lesson_id: int) -> Lesson:
    user = _user(request)
    lesson = access_lesson_for_user(user, lesson_id)
    if not access.may_manage_invitations(user, lesson):
        raise PermissionDenied
    return lesson


@require_POST
@login_required
def reissue(request: HttpRequest, lesson_id: int) -> HttpResponse:
    user = _user(request)
    lesson = _managed(request, lesson_id)
    form = ReissueForm(request.POST)
    if not form.is_valid():
        raise Http404
    pupil = lesson.pupils.filter(pk=form.cleaned_data["pupil"]).first()
    if pupil is None:
        raise Http404
    send_email = request.POST.get("send_email") == "1"
    try:
        (link,) = invitations.do_issue_invitations(lesson, [pupil], actor=user,
                                                   reason="reissued", send_email=send_email)
    except (ActionNotAllowed, LessonRejected) as exc:
        return _refused(request, lesson, exc)
    return _no_store(render(request, "lessons/reissued.html", {
        "lesson": lesson, "link": link, "pupil": pupil, "emailed": send_email}))


# Spreadsheets run a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


@require_http_methods(["GET", "POST"])
@login_required
def export(request: HttpRequest, lesson_id: int) -> HttpResponse:
    user = _user(request)
    lesson = _managed(request, lesson_id)
    with_contact = user.has_role(*access.SEE_PARENT_CONTACT)
    if lesson.status != LessonStatus.APPROVED:
        return _refused(request, lesson, ActionNotAllowed(
            _("Links exist only for approved lessons: this lesson is {status}.").format(
                status=lesson.get_status_display().lower()), conflict=True))
    if request.method == "GET":
        return render(request, "lessons/export.html", {"lesson": lesson,
                                                       "with_contact": with_contact})
    try:
        rows = invitations.export_links(lesson, actor=user)
    except (ActionNotAllowed, LessonRejected) as exc:
        return _refused(request, lesson, exc)
    out = io.StringIO()
    out.write("\ufeff")  # so Excel reads the file as UTF-8 (Zoë, Nguyễn)
    writer = csv.writer(out)
    header = [_("Pupil"), _("Class")]
    if with_contact:
        header += [_("Parent or carer"), _("Parent or carer email")]
    header += [_("Name shown in the lesson"), _("Personal link")]
    writer.writerow(header)
    for row in rows:
        cells = [row.pupil_name, row.class_name]
        if with_contact:
            cells += [row.parent_name, row.parent_email]
        cells += [row.display_name, row.join_url]
        writer.writerow([_cell(c) for c in cells])
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="lesson-{lesson.pk}-links.csv"'
    return _no_store(response)
