"""Audit sign-ins, failed sign-ins, sign-outs and two-factor changes.

allauth (and Django's auth) announce these through signals; each handler writes one
audit event in its own transaction. Connected in AccountsConfig.ready().
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.signals import password_changed, password_reset, user_logged_in
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import (
    authentication_failed,
    authenticator_added,
    authenticator_removed,
    authenticator_reset,
)
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.db import transaction
from django.http import HttpRequest

from safeclass.audit.services import record

from .models import StaffUser

# Enough to recognise who was tried, not enough to fill the log with an attacker's text.
ATTEMPTED_EMAIL_MAX = 120


def _client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


def on_signed_in(sender: Any, request: HttpRequest, user: StaffUser, **kwargs: Any) -> None:
    with transaction.atomic():
        record("staff.signed_in", actor=user, school=user.school, obj=user,
               data={"ip": _client_ip(request)})


def on_sign_in_failed(sender: Any, credentials: dict[str, Any],
                      request: HttpRequest | None = None, **kwargs: Any) -> None:
    attempted = str(credentials.get("email") or credentials.get("username") or "")
    attempted = attempted.strip().lower()[:ATTEMPTED_EMAIL_MAX]
    # If the address belongs to an account, the event is filed under its school so that
    # school's leaders see attempts on their staff's accounts. No actor: nobody signed in.
    target = StaffUser.objects.select_related("school").filter(email__iexact=attempted).first()
    with transaction.atomic():
        record("staff.sign_in_failed", actor=None,
               actor_label=attempted or "(no email given)",
               school=target.school if target else None, obj=target,
               data={"email": attempted, "ip": _client_ip(request)})


def on_code_refused(sender: Any, request: HttpRequest, user: StaffUser,
                    authenticator: Authenticator | None = None, **kwargs: Any) -> None:
    # The password was right but the authenticator code was not: nobody is signed in yet,
    # so there is no actor, but we know whose account it was.
    with transaction.atomic():
        record("staff.sign_in_failed", actor=None, actor_label=user.email,
               school=user.school, obj=user,
               data={"email": user.email, "step": "authenticator code",
                     "reauthentication": bool(kwargs.get("reauthentication")),
                     "ip": _client_ip(request)})


def on_signed_out(sender: Any, request: HttpRequest, user: StaffUser | None,
                  **kwargs: Any) -> None:
    if user is None or not user.is_authenticated:
        return
    with transaction.atomic():
        record("staff.signed_out", actor=user, school=user.school, obj=user)


def on_password_reset(sender: Any, request: HttpRequest, user: StaffUser,
                      **kwargs: Any) -> None:
    # allauth clears the failed-password pause only for addresses in its own EmailAddress
    # table; our accounts keep their address on the user, so clear that one too.
    adapter = get_adapter(request)
    if hasattr(adapter, "clear_sign_in_pause"):
        adapter.clear_sign_in_pause(request, user.email)
    with transaction.atomic():
        record("staff.password_reset", actor=user, school=user.school, obj=user)


def on_password_changed(sender: Any, request: HttpRequest, user: StaffUser,
                        **kwargs: Any) -> None:
    with transaction.atomic():
        record("staff.password_changed", actor=user, school=user.school, obj=user)


_ADDED_ACTIONS = {Authenticator.Type.TOTP: "mfa.activated",
                  Authenticator.Type.RECOVERY_CODES: "mfa.recovery_codes_created"}


def on_authenticator_added(sender: Any, request: HttpRequest, user: StaffUser,
                           authenticator: Authenticator, **kwargs: Any) -> None:
    action = _ADDED_ACTIONS.get(authenticator.type, "mfa.activated")
    with transaction.atomic():
        record(action, actor=user, school=user.school, obj=user,
               data={"type": str(authenticator.type)})


def on_authenticator_removed(sender: Any, request: HttpRequest, user: StaffUser,
                             authenticator: Authenticator, **kwargs: Any) -> None:
    with transaction.atomic():
        record("mfa.deactivated", actor=user, school=user.school, obj=user,
               data={"type": str(authenticator.type)})


def on_authenticator_reset(sender: Any, request: HttpRequest, user: StaffUser,
                           authenticator: Authenticator, **kwargs: Any) -> None:
    with transaction.atomic():
        record("mfa.recovery_codes_regenerated", actor=user, school=user.school, obj=user,
               data={"type": str(authenticator.type)})


def connect() -> None:
    user_logged_in.connect(on_signed_in, dispatch_uid="safeclass.audit.signed_in")
    user_login_failed.connect(on_sign_in_failed, dispatch_uid="safeclass.audit.sign_in_failed")
    password_reset.connect(on_password_reset, dispatch_uid="safeclass.audit.password_reset")
    password_changed.connect(on_password_changed,
                             dispatch_uid="safeclass.audit.password_changed")
    user_logged_out.connect(on_signed_out, dispatch_uid="safeclass.audit.signed_out")
    authentication_failed.connect(on_code_refused, dispatch_uid="safeclass.audit.mfa_failed")
    authenticator_added.connect(on_authenticator_added, dispatch_uid="safeclass.audit.mfa_added")
    authenticator_removed.connect(on_authenticator_removed,
                                  dispatch_uid="safeclass.audit.mfa_removed")
    authenticator_reset.connect(on_authenticator_reset, dispatch_uid="safeclass.audit.mfa_reset")
