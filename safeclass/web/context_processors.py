from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from safeclass.accounts import access


def navigation(request: HttpRequest) -> dict[str, object]:
    """The links a signed-in staff member may follow, by role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [(_("Home"), reverse("web:home")), (_("My lessons"), reverse("lessons:mine"))]
    if user.has_role("teacher"):
        links.append((_("Request a lesson"), reverse("lessons:request")))
    if user.has_role("approver"):
        links.append((_("Approvals"), reverse("lessons:approvals")))
    if user.has_role("slt", "admin", "approver", "dsl"):
        links.append((_("Register"), reverse("oversight:register")))
    if user.has_role("slt", "dsl"):
        links.append((_("Audit log"), reverse("oversight:audit")))
    if user.has_role(*access.SEE_HOLDS):
        links.append((_("Removal holds"), reverse("live:holds")))
    if user.has_role(*access.SEE_INCIDENTS):
        links.append((_("Incidents"), reverse("live:incidents")))
    if access.may_list_recordings(user):
        links.append((_("Recordings"), reverse("recordings:list")))
    links.append((_("Policy"), reverse("schools:policy")))
    if user.has_role("admin"):
        links.append((_("School"), reverse("schools:settings")))
    links.append((_("Account"), reverse("accounts:security")))
    # Only one link is current: the page itself ("page"), or else the section whose
    # address is the longest start of this one ("true"), so "Request a lesson" is not
    # marked together with "My lessons".
    path = request.path
    section = max((url for _label, url in links if url != "/" and path.startswith(url)),
                  key=len, default=None)
    return {"nav_links": [
        {"label": label, "url": url,
         "current": "page" if path == url else ("true" if url == section else "")}
        for label, url in links]}


#: The live lesson room: its WebSocket does not need the HTTP session once open, and a
#: lesson is far shorter than a session, so the room shows no timeout warning.
_NO_SESSION_WARNING = frozenset({"live:staff_room", "live:pupil_room"})


def session_timeout(request: HttpRequest) -> dict[str, object]:
    """``session_seconds``: how long a signed-in staff member's session lasts without a
    request, for the warning before it ends (session.js, WCAG 2.2.1); None for anyone
    not signed in and in the lesson room, where base.html then leaves the warning out."""
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    if (user is None or not user.is_authenticated
            or (match is not None and match.view_name in _NO_SESSION_WARNING)):
        return {"session_seconds": None}
    return {"session_seconds": settings.SESSION_COOKIE_AGE}
