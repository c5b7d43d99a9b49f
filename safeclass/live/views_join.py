"""Joining a live lesson from a parent's link: camera check, the rules and the pupil's
promise, then the parent's consent. No account: the browser's session holds the link.

Every page checks afresh that the session holds this link, that the link works now,
that the pupil was not removed from this lesson and is under no removal hold. The room
page (views_room) checks it all again, and the camera too: nothing here is trusted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from safeclass.accounts.access import access_invitation_for_session
from safeclass.invitations import services as invitation_services
from safeclass.policy import RuleId

from . import device
from .consent import ConsentRefused, do_give_consent
from .forms import ConsentForm, PromiseForm, error_rows
from .holds import active_hold, removed_from_lesson

if TYPE_CHECKING:
    from safeclass.invitations.models import Invitation

# The links whose pupil has promised to follow the rules, in this browser's session.
PROMISE_SESSION_KEY = "live.promised"
_MAX_IN_SESSION = 20


def _private(response: HttpResponseBase, *, has_post_form: bool = False) -> HttpResponseBase:
    # A page with a POST form cannot say "no-referrer": browsers then send "Origin: null"
    # with the form, and CSRF protection rightly refuses it. "same-origin" still tells
    # other sites nothing (these addresses hold no secret: the session must hold the link).
    response["Referrer-Policy"] = "same-origin" if has_post_form else "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _held_page(request: HttpRequest, invitation: Invitation, kind: str) -> HttpResponseBase:
    rule = RuleId.NO_REJOIN_AFTER_REMOVAL if kind == "removed" else RuleId.REMOVAL_HOLD
    return _private(render(request, "live/join_held.html", {
        "invitation": invitation, "lesson": invitation.lesson,
        "school": invitation.lesson.school, "held_kind": kind, "rule": rule}, status=403))


def held_response(request: HttpRequest, invitation: Invitation) -> HttpResponseBase | None:
    """The kind "you cannot join" page for a pupil removed from this lesson or on a
    removal hold, or None. The link's own status page uses it too, so a removed pupil's
    link never says "the lesson is open"."""
    if removed_from_lesson(invitation.lesson_id, invitation.pupil_id):
        return _held_page(request, invitation, "removed")
    if active_hold(invitation.pupil) is not None:
        return _held_page(request, invitation, "hold")
    return None


def _guard(request: HttpRequest, public_id: str) -> Invitation | HttpResponseBase:
    """The invitation, or the response that stops this request."""
    invitation = access_invitation_for_session(request.session, public_id)
    if invitation is None:
        return _private(render(request, "invitations/unknown.html", status=404))
    if invitation_services.link_state(invitation, timezone.now()).state != "open":
        return _private(redirect("invitations:status", public_id=invitation.public_id))
    return held_response(request, invitation) or invitation


def _context(invitation: Invitation, **extra: object) -> dict[str, object]:
    return {"invitation": invitation, "lesson": invitation.lesson,
            "school": invitation.lesson.school, **extra}


def _promised(request: HttpRequest, public_id: str) -> bool:
    return public_id in request.session.get(PROMISE_SESSION_KEY, [])


@require_GET
def check(request: HttpRequest, public_id: str) -> HttpResponseBase:
    invitation = _guard(request, public_id)
    if isinstance(invitation, HttpResponseBase):
        return invitation
    oldest = device.oldest_supported_versions(timezone.now().date())
    response = render(request, "live/join_check.html", _context(invitation, oldest=oldest))
    device.ensure_device_cookie(request, response)
    return _private(response)


@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest, public_id: str) -> HttpResponseBase:
    invitation = _guard(request, public_id)
    if isinstance(invitation, HttpResponseBase):
        return invitation
    form = PromiseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        held = [p for p in request.session.get(PROMISE_SESSION_KEY, [])
                if p != invitation.public_id]
        held.append(invitation.public_id)
        request.session[PROMISE_SESSION_KEY] = held[-_MAX_IN_SESSION:]
        return _private(redirect("live:join_consent", public_id=invitation.public_id))
    return _private(render(request, "live/join_rules.html", _context(
        invitation, form=form, errors=error_rows(form))), has_post_form=True)


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, public_id: str) -> HttpResponseBase:
    invitation = _guard(request, public_id)
    if isinstance(invitation, HttpResponseBase):
        return invitation
    if not _promised(request, invitation.public_id):
        return _private(redirect("live:join_rules", public_id=invitation.public_id))
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        response: HttpResponseBase = redirect("live:pupil_room", public_id=invitation.public_id)
        # Cookies cleared since the check page: the consent goes with the new cookie.
        raw = device.ensure_device_cookie(request, response)
        try:
            do_give_consent(invitation, device_hash=device.device_hash(raw),
                            parent_name=form.cleaned_data["parent_name"],
                            items=form.ticked(), pupil_promise=True)
        except ConsentRefused as refused:
            field = refused.field if refused.field in form.fields else None
            form.add_error(field, refused.message)
        else:
            return _private(response)
    return _private(render(request, "live/join_consent.html", _context(
        invitation, form=form, errors=error_rows(form),
        consent_fields=form.consent_fields())), has_post_form=True)

