"""Staff management, account activation, the security page and the calendar feed.

Thin views: decorators check sign-in and role, objects come through the access helpers,
one service action makes each change.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import services
from .access import (
    MANAGE_STAFF,
    access_api_token_for_user,
    access_staff_for_user,
    roles_required,
)
from .forms import (
    ApiTokenForm,
    ChoosePasswordForm,
    StaffEditForm,
    StaffInviteForm,
    summary_errors,
)
from .ical import calendar_for
from .models import ApiToken, CalendarFeed, Role, StaffUser, hash_secret

# The session key holding the hash of the activation token being used, so the token
# itself leaves the address bar (and the browser history) after the first request.
ACTIVATION_SESSION_KEY = "accounts.activation_token_hash"


def _staff(request: HttpRequest) -> StaffUser:
    # login_required / roles_required have made sure this is a signed-in staff member.
    user = request.user
    assert isinstance(user, StaffUser)
    return user


def _role_labels(user: StaffUser) -> list[str]:
    labels = dict(Role.choices)
    return [str(labels[r]) for r in Role.values if r in user.roles]


# --- staff management (admins) ----------------------------------------------------------

@require_safe
@roles_required(*MANAGE_STAFF)
def staff_list(request: HttpRequest) -> HttpResponse:
    me = _staff(request)
    members = list(StaffUser.objects.filter(school_id=me.school_id)
                   .prefetch_related("role_grants").order_by("full_name", "email"))
    rows = []
    for member in members:
        grants = {g.role for g in member.role_grants.all()}
        rows.append({"member": member,
                     "roles": [str(label) for value, label in Role.choices if value in grants]})
    return render(request, "accounts/staff_list.html", {"rows": rows})


@require_http_methods(["GET", "HEAD", "POST"])
@roles_required(*MANAGE_STAFF)
def staff_new(request: HttpRequest) -> HttpResponse:
    me = _staff(request)
    form = StaffInviteForm(request.POST or None, school=me.school)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.do_invite_staff(
                me.school, full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"], roles=form.cleaned_data["roles"], actor=me)
        except services.AccountError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, _(
                "Account created for {name}. We have emailed an activation link to {email}; "
                "the account works once they follow it.").format(
                    name=member.full_name, email=member.email))
            return redirect("accounts:staff_list")
    return render(request, "accounts/staff_new.html",
                  {"form": form, "errors": summary_errors(form)})


@require_http_methods(["GET", "HEAD", "POST"])
@roles_required(*MANAGE_STAFF)
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    me = _staff(request)
    member = access_staff_for_user(me, user_id)
    form = StaffEditForm(request.POST if request.method == "POST" and
                         request.POST.get("action") != "deactivate" else None, staff=member)
    action_error = None
    if request.method == "POST":
        if request.POST.get("action") == "deactivate":
            try:
                services.do_deactivate_staff(member, actor=me)
            except services.AccountError as exc:
                action_error = exc.message
            else:
                messages.success(request, _("{name}'s account is deactivated. They can no "
                                            "longer sign in.").format(name=member.full_name))
                return redirect("accounts:staff_list")
        elif form.is_valid():
            try:
                services.do_edit_staff(member, full_name=form.cleaned_data["full_name"],
                                       roles=form.cleaned_data["roles"], actor=me)
            except services.AccountError as exc:
                form.apply_error(exc)
            else:
                messages.success(request, _("Saved the changes to {name}'s account.").format(
                    name=member.full_name))
                return redirect("accounts:staff_list")
    errors = summary_errors(form)
    if action_error:
        errors.append({"field": None, "rule": None, "message": action_error})
    return render(request, "accounts/staff_edit.html", {
        "member": member, "form": form, "errors": errors, "is_me": member.pk == me.pk,
        "roles": _role_labels(member)})


@require_POST
@roles_required(*MANAGE_STAFF)
def staff_resend(request: HttpRequest, user_id: int) -> HttpResponse:
    me = _staff(request)
    member = access_staff_for_user(me, user_id)
    try:
        services.do_resend_activation(member, actor=me)
    except services.AccountError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("We have emailed a new activation link to {email}. Any "
                                    "earlier link no longer works.").format(email=member.email))
    return redirect("accounts:staff_edit", user_id=member.pk)


# --- activation (the person whose mailbox got the link; not signed in) -------------------

def _activation_failed(request: HttpRequest) -> HttpResponse:
    # One plain answer for unknown, expired and used links: no oracle.
    return render(request, "accounts/activation_failed.html",
                  {"message": services.activation_failed_message()}, status=404)


@never_cache
@require_safe
def activate(request: HttpRequest, token: str) -> HttpResponse:
    token_hash = hash_secret(token)
    if services.valid_activation_token(token_hash) is None:
        return _activation_failed(request)
    request.session[ACTIVATION_SESSION_KEY] = token_hash
    return redirect("accounts:activate_set_password")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def activate_set_password(request: HttpRequest) -> HttpResponse:
    token_hash = request.session.get(ACTIVATION_SESSION_KEY)
    token = services.valid_activation_token(token_hash) if token_hash else None
    if token is None:
        request.session.pop(ACTIVATION_SESSION_KEY, None)
        return _activation_failed(request)
    form = ChoosePasswordForm(request.POST or None, user=token.user)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.do_activate_account(token, form.cleaned_data["password1"])
        except services.AccountError as exc:
            if exc.field is None:
                request.session.pop(ACTIVATION_SESSION_KEY, None)
                return _activation_failed(request)
            form.apply_error(exc)
        else:
            request.session.pop(ACTIVATION_SESSION_KEY, None)
            messages.success(request, _("Your account is active. Sign in with {email} and "
                                        "your new password.").format(email=member.email))
            return redirect("account_login")
    return render(request, "accounts/activate_set_password.html",
                  {"form": form, "errors": summary_errors(form), "member": token.user})


# --- the staff member's own account --------------------------------------------------------

def _render_security(request: HttpRequest, *, token_form: ApiTokenForm | None = None,
                     new_token: tuple[ApiToken, str] | None = None,
                     new_calendar_url: str | None = None) -> HttpResponse:
    me = _staff(request)
    token_form = token_form or ApiTokenForm()
    context: dict[str, Any] = {
        "has_totp": Authenticator.objects.filter(
            user=me, type=Authenticator.Type.TOTP).exists(),
        "tokens": ApiToken.objects.filter(user=me).order_by("-created_at", "-pk"),
        "token_form": token_form,
        "errors": summary_errors(token_form),
        "new_token": new_token[1] if new_token else None,
        "new_token_name": new_token[0].name if new_token else None,
        "calendar_feed": CalendarFeed.objects.filter(user=me).first(),
        "new_calendar_url": new_calendar_url,
    }
    return render(request, "accounts/security.html", context)


@never_cache
@require_safe
@login_required
def security(request: HttpRequest) -> HttpResponse:
    return _render_security(request)


@never_cache
@require_POST
@login_required
def token_create(request: HttpRequest) -> HttpResponse:
    me = _staff(request)
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            created = services.do_create_api_token(me, form.cleaned_data["name"], actor=me)
        except services.AccountError as exc:
            form.apply_error(exc)
        else:
            # Shown in this response only: it is stored hashed and cannot be shown again.
            return _render_security(request, new_token=created)
    return _render_security(request, token_form=form)


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    me = _staff(request)
    token = access_api_token_for_user(me, token_id)
    services.do_revoke_api_token(token, actor=me)
    messages.success(request, _("The token “{name}” is revoked: it no longer works.").format(
        name=token.name))
    return redirect("accounts:security")


@never_cache
@require_POST
@login_required
def calendar_new(request: HttpRequest) -> HttpResponse:
    me = _staff(request)
    raw = services.do_create_calendar_link(me, actor=me)
    return _render_security(request, new_calendar_url=services.calendar_url(raw))


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    user = services.calendar_user_for(token)
    if user is None:
        raise Http404
    response = HttpResponse(calendar_for(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="safeclass-lessons.ics"'
    # The address is a secret: no shared cache may keep a copy, nor any index list it.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
@login_required
def email_managed(request: HttpRequest) -> HttpResponse:
    """Stands in for allauth's "manage email addresses" page.

    A staff member's address is their school mailbox, set by the school's admin; adding
    or switching addresses here would let someone hold an account tied to a mailbox
    they do not control (school-account).
    """
    return render(request, "accounts/email_managed.html")


# --- the session timeout warning (WCAG 2.2.1) --------------------------------------------

@never_cache
@require_POST
def keep_alive(request: HttpRequest) -> HttpResponse:
    """The "Stay signed in" button of the warning before a staff session times out.

    The request itself is what extends the session: SESSION_SAVE_EVERY_REQUEST saves it,
    moving its end SESSION_COOKIE_AGE on; marking it modified keeps that true should the
    setting ever change. Not audited: staying signed in is not a safeguarding step.
    Someone no longer signed in gets 403 and JSON, not a redirect to the sign-in page,
    which a script cannot follow; the CSRF middleware has already refused a forged POST.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False}, status=403)
    request.session.modified = True
    return HttpResponse(status=204)
