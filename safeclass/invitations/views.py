"""The pages a parent reaches from an emailed link. No account, no sign-in.

The token in the emailed address is swapped at once for a session cookie and the browser
is sent to an address without it, so the token stays out of server logs, browser history
and Referer headers. Every later request checks the link afresh: a link withdrawn after
the swap stops working at once.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import services
from .models import Invitation

SESSION_KEY = "join.invitations"
# A family with several children keeps each child's lesson in the same browser; the cap
# only stops a session growing without end.
_MAX_IN_SESSION = 20


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client says unless a proxy we
    # trust rewrites it, and a limit the client can choose is no limit.
    return str(request.META.get("REMOTE_ADDR", ""))


def _misses_key(address: str) -> str:
    return f"join-misses:{address}:{int(time.time() // 60)}"


def _over_limit(address: str) -> bool:
    misses = cache.get(_misses_key(address)) or 0
    return bool(misses >= settings.JOIN_RATE_LIMIT_PER_MINUTE)


def _count_miss(address: str) -> None:
    key = _misses_key(address)
    cache.add(key, 0, timeout=120)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)


def _unknown(request: HttpRequest) -> HttpResponse:
    # One page, one status, for every link that does not work: nothing to tell a guessed
    # token from an old one.
    return _private(render(request, "invitations/unknown.html", status=404))


@require_GET
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    address = _client_address(request)
    if _over_limit(address):
        return _private(render(request, "invitations/too_many.html", status=429))
    invitation = services.resolve_token(token)
    if invitation is None:
        _count_miss(address)
        return _unknown(request)
    services.do_open_invitation(invitation, now=timezone.now())
    held = [p for p in request.session.get(SESSION_KEY, []) if p != invitation.public_id]
    held.append(invitation.public_id)
    request.session[SESSION_KEY] = held[-_MAX_IN_SESSION:]
    return _private(redirect("invitations:status", public_id=invitation.public_id))


@require_GET
def status(request: HttpRequest, public_id: str) -> HttpResponseBase:
    if public_id not in request.session.get(SESSION_KEY, []):
        return _unknown(request)
    invitation = (Invitation.objects.select_related("lesson", "lesson__school")
                  .filter(public_id=public_id).first())
    if invitation is None:
        return _unknown(request)
    school = invitation.lesson.school
    state = services.link_state(invitation, timezone.now())
    consented = False
    if state.state == "open":
        from safeclass.live import device
        from safeclass.live.consent import has_consent
        from safeclass.live.views_join import held_response

        held = held_response(request, invitation)  # removed, or on a removal hold
        if held is not None:
            return held
        # Back on the same phone or computer during the same lesson (a closed tab, a
        # dropped connection): the parent gave permission here already, so they can go
        # straight back in rather than type it all again (WCAG 3.3.7 redundant entry).
        raw = device.device_of_request(request)
        consented = raw is not None and has_consent(invitation, device.device_hash(raw))
    return _private(render(request, "invitations/status.html", {
        "invitation": invitation, "lesson": invitation.lesson, "school": school,
        "state": state.state, "consented": consented,
        "opens": services.local_when(state.opens_at, school),
        "starts": services.local_when(invitation.lesson.starts_at, school),
    }))
