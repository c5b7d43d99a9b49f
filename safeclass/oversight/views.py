"""Oversight pages for senior leaders: the lesson register and the audit log.

Both only read. Each is scoped to the signed-in person's school; the filter forms use GET
so a filtered view can be bookmarked or shared with a colleague who may see it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from safeclass.accounts.access import READ_AUDIT, SEE_ALL_LESSONS, roles_required
from safeclass.accounts.models import StaffUser
from safeclass.audit.models import AuditEvent
from safeclass.lessons.models import Lesson

from .forms import AuditFilterForm, RegisterFilterForm, local_day_end, local_day_start

PAGE_SIZE = 50


def _staff(request: HttpRequest) -> StaffUser:
    # roles_required has already made sure this is a signed-in staff member.
    user = request.user
    assert isinstance(user, StaffUser)
    return user


def _summary_errors(form: Form) -> list[dict[str, str | None]]:
    """The form's errors in the shape web/form_errors.html links to the fields."""
    out: list[dict[str, str | None]] = []
    for field, messages in form.errors.items():
        for message in messages:
            out.append({"field": None if field == "__all__" else field, "rule": None,
                        "message": str(message)})
    return out


def _page(request: HttpRequest, items: QuerySet[Any]) -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_safe
@roles_required(*SEE_ALL_LESSONS)
def register(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    school = user.school
    form = RegisterFilterForm(request.GET or None, school=school)
    lessons = (Lesson.objects.filter(school=school)
               .select_related("host", "second_staff", "group")
               .annotate(pupil_count=Count("pupils"))
               .order_by("-starts_at", "-pk"))
    filtered = True
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            if data["date_from"]:
                lessons = lessons.filter(starts_at__gte=local_day_start(data["date_from"], school))
            if data["date_to"]:
                lessons = lessons.filter(starts_at__lt=local_day_end(data["date_to"], school))
            if data["teacher"]:
                lessons = lessons.filter(host=data["teacher"])
            if data["group"]:
                lessons = lessons.filter(group=data["group"])
            if data["status"]:
                lessons = lessons.filter(status=data["status"])
        else:
            # Showing every lesson under filters that did not apply would mislead.
            filtered = False
            lessons = lessons.none()
    return render(request, "oversight/register.html", {
        "form": form,
        "errors": _summary_errors(form) if form.is_bound else [],
        "filters_valid": filtered,
        "page": _page(request, lessons),
        "query": _query_without_page(request),
    })


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    details: list[tuple[str, str, bool]]  # (key, value as text, spans several lines)


def _readable(value: object) -> tuple[str, bool]:
    if isinstance(value, dict | list):
        text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
        return text, True
    if value is None:
        return "—", False
    return str(value), "\n" in str(value)


def _audit_row(event: AuditEvent) -> AuditRow:
    data = event.data if isinstance(event.data, dict) else {"data": event.data}
    details = [(str(key), *_readable(value)) for key, value in sorted(data.items())]
    return AuditRow(event, details)


@require_safe
@roles_required(*READ_AUDIT)
def audit(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    school = user.school
    events = AuditEvent.objects.filter(school=school)
    actions = list(events.order_by("action").values_list("action", flat=True).distinct())
    object_types = list(events.exclude(object_type="").order_by("object_type")
                        .values_list("object_type", flat=True).distinct())
    form = AuditFilterForm(request.GET or None, actions=actions, object_types=object_types)
    shown = events.order_by("-seq")
    filtered = True
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            if data["action"]:
                shown = shown.filter(action=data["action"])
            if data["actor"].strip():
                shown = shown.filter(actor_label__icontains=data["actor"].strip())
            if data["date_from"]:
                shown = shown.filter(at__gte=local_day_start(data["date_from"], school))
            if data["date_to"]:
                shown = shown.filter(at__lt=local_day_end(data["date_to"], school))
            if data["object_type"]:
                shown = shown.filter(object_type=data["object_type"])
            if data["object_id"].strip():
                shown = shown.filter(object_id=data["object_id"].strip())
        else:
            filtered = False
            shown = shown.none()
    page = _page(request, shown)
    return render(request, "oversight/audit.html", {
        "form": form,
        "errors": _summary_errors(form) if form.is_bound else [],
        "filters_valid": filtered,
        "page": page,
        "rows": [_audit_row(event) for event in page.object_list],
        "query": _query_without_page(request),
    })
