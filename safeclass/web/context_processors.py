from __future__ import annotations

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
    current = request.path
    return {"nav_links": [
        {"label": label, "url": url,
         "current": current == url or (url != "/" and current.startswith(url))}
        for label, url in links]}
