"""The lesson room pages: the staff checklist, the staff room and the pupil room.

The pages are thin shells. Everything live (who is waiting, admitted, muted) arrives over
the WebSocket (consumers.py) and is drawn by static/safeclass/live/room.js. The pages
carry only the WebSocket path and a few labels: never a Janus secret or token.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from safeclass.accounts.access import access_invitation_for_session, access_room_for_staff
from safeclass.accounts.models import StaffUser
from safeclass.invitations import services as invitation_services
from safeclass.lessons.models import Lesson

from . import device
from .checklist import ChecklistRefused, do_confirm_checklist, has_checklist, room_closed_reason
from .consent import has_consent
from .holds import active_hold, removed_from_lesson
from .models import CHECKLIST_ITEMS, LiveRun


def _staff(request: HttpRequest) -> StaffUser:
    user = request.user
    assert isinstance(user, StaffUser)
    return user


def _no_store(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "no-store"
    return response


def _closed_page(request: HttpRequest, lesson: Lesson, reason: str) -> HttpResponse:
    return render(request, "live/room_closed.html", {"lesson": lesson, "reason": reason},
                  status=409)


def _is_host(lesson: Lesson, user: StaffUser) -> bool:
    run = LiveRun.objects.filter(lesson=lesson).only("current_host_id").first()
    host_id = run.current_host_id if run is not None else lesson.host_id
    return bool(host_id == user.pk)


@require_http_methods(["GET", "POST"])
@login_required
def checklist(request: HttpRequest, lesson_id: int) -> HttpResponseBase:
    user = _staff(request)
    lesson = access_room_for_staff(user, lesson_id)
    reason = room_closed_reason(lesson, timezone.now())
    if reason is not None:
        return _closed_page(request, lesson, reason)
    errors: list[dict[str, str]] = []
    ticked: list[str] = []
    if request.method == "POST":
        ticked = request.POST.getlist("items")
        try:
            do_confirm_checklist(lesson, user, ticked)
        except ChecklistRefused as exc:
            if exc.field.startswith("item_"):
                # Name every item still to tick, not only the first.
                errors = [{"field": f"item_{key}",
                           "message": _("Tick to confirm: “{item}”").format(item=label)}
                          for key, label in CHECKLIST_ITEMS if key not in ticked]
            else:
                errors.append({"field": exc.field, "message": exc.message})
        else:
            return redirect("live:staff_room", lesson_id=lesson.pk)
    items = [{"key": key, "label": label, "checked": key in ticked,
              "error": next((e["message"] for e in errors if e["field"] == f"item_{key}"), "")}
             for key, label in CHECKLIST_ITEMS]
    return _no_store(render(request, "live/checklist.html", {
        "lesson": lesson, "items": items, "errors": errors,
        "done_before": has_checklist(lesson, user)}, status=422 if errors else 200))


@require_GET
@login_required
def staff_room(request: HttpRequest, lesson_id: int) -> HttpResponseBase:
    user = _staff(request)
    lesson = access_room_for_staff(user, lesson_id)
    reason = room_closed_reason(lesson, timezone.now())
    if reason is not None:
        return _closed_page(request, lesson, reason)
    if not has_checklist(lesson, user):
        return redirect("live:checklist", lesson_id=lesson.pk)
    is_host = _is_host(lesson, user)
    return _no_store(render(request, "live/staff_room.html", {
        "lesson": lesson,
        "ws_path": f"/ws/lessons/{lesson.pk}/",
        "role_label": _("Host") if is_host else _("Second adult"),
        "is_host": is_host,
    }))


@require_GET
def pupil_room(request: HttpRequest, public_id: str) -> HttpResponseBase:
    invitation = access_invitation_for_session(request.session, public_id)
    if invitation is None:
        response = render(request, "invitations/unknown.html", status=404)
        response["Referrer-Policy"] = "no-referrer"
        return _no_store(response)
    if invitation_services.link_state(invitation, timezone.now()).state != "open":
        return _no_store(redirect("invitations:status", public_id=invitation.public_id))
    raw = device.device_of_request(request)
    # No consent from this device, or removed / on hold: the join pages explain each case.
    if (raw is None or not has_consent(invitation, device.device_hash(raw))
            or removed_from_lesson(invitation.lesson_id, invitation.pupil_id)
            or active_hold(invitation.pupil) is not None):
        return _no_store(redirect("live:join_check", public_id=invitation.public_id))
    response = render(request, "live/pupil_room.html", {
        "invitation": invitation,
        "lesson": invitation.lesson,
        "school": invitation.lesson.school,
        "ws_path": f"/ws/join/{invitation.public_id}/",
    })
    response["Referrer-Policy"] = "no-referrer"
    return _no_store(response)
