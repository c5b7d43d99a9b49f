"""Senior leaders' pages for the live lesson: removal holds (see and clear) and incidents.

Each page is scoped to the signed-in person's school. A hold of another school, or one
that does not exist, gives the same 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from safeclass.accounts.access import (
    CLEAR_HOLDS,
    SEE_HOLDS,
    SEE_INCIDENTS,
    access_hold_for_user,
    roles_required,
)
from safeclass.accounts.models import StaffUser
from safeclass.lessons.forms import form_error_rows, link_errors
from safeclass.lessons.services import ActionNotAllowed
from safeclass.web.forms import add_action_errors

from .forms_oversight import ClearHoldForm
from .holds import do_clear_hold
from .models import Incident, RemovalHold

PAGE_SIZE = 50


def _staff(request: HttpRequest) -> StaffUser:
    # roles_required has already made sure this is a signed-in staff member.
    user = request.user
    assert isinstance(user, StaffUser)
    return user


@require_safe
@roles_required(*SEE_HOLDS)
def holds(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    held = (RemovalHold.objects.filter(school_id=user.school_id)
            .select_related("pupil", "pupil__group", "lesson", "placed_by", "cleared_by"))
    active = held.filter(cleared_at__isnull=True).order_by("-placed_at", "-pk")
    cleared = held.filter(cleared_at__isnull=False).order_by("-cleared_at", "-pk")
    return render(request, "live/holds.html", {
        "active": list(active),
        "page": Paginator(cleared, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": "",
        "may_clear": user.has_role(*CLEAR_HOLDS),
    })


@require_http_methods(["GET", "POST"])
@roles_required(*CLEAR_HOLDS)
def clear_hold(request: HttpRequest, hold_id: int) -> HttpResponse:
    user = _staff(request)
    hold = access_hold_for_user(user, hold_id)
    if not hold.is_active:
        messages.info(request, _("That hold was already cleared."))
        return redirect("live:holds")
    form = ClearHoldForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            do_clear_hold(hold, actor=user, follow_up_with=data["follow_up_with"],
                          follow_up_on=data["follow_up_on"], outcome=data["outcome"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        except ActionNotAllowed as exc:
            if not exc.conflict:
                raise PermissionDenied(str(exc)) from exc
            # Cleared by a colleague meanwhile.
            messages.info(request, str(exc))
            return redirect("live:holds")
        else:
            messages.success(request, _("The hold on {name} is cleared: they can join later "
                                        "lessons again.").format(name=hold.pupil.full_name))
            return redirect("live:holds")
    link_errors(form)
    return render(request, "live/clear_hold.html", {
        "hold": hold, "form": form, "errors": form_error_rows(form) if form.is_bound else []})


@require_safe
@roles_required(*SEE_INCIDENTS)
def incidents(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    found = (Incident.objects.filter(school_id=user.school_id)
             .select_related("lesson", "created_by").order_by("-created_at", "-pk"))
    return render(request, "live/incidents.html", {
        "page": Paginator(found, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": "",
    })
