"""SafeClass's allauth adapters: nobody signs themselves up, and every message allauth
writes itself (errors, the "use your password" choices, notices) is in SafeClass's words,
marked for translation (allauth ships no Welsh). The pages' words are in SafeClass's own
templates (safeclass/templates/account/, mfa/)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# allauth's message templates (account/messages/, mfa/messages/) for a notice shown on the
# sign-in page, which is in the browser's language rather than the school's.
_SHOWN_SIGNED_OUT = {"account/messages/logged_out.txt"}


class SchoolAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """Nobody signs themselves up: accounts are made by the school and activated by email."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": _(
            "The email address or the password is not right. Check both and try again."),
        "too_many_login_attempts": _(
            "Signing in to this account is paused after too many wrong passwords. Try again "
            "in 15 minutes, or reset your password by email."),
        "account_inactive": _(
            "This account is not active. Ask your school's SafeClass admin for a new "
            "activation link."),
        "enter_current_password": _(
            "That is not your current password. Type the password you sign in with now."),
        "incorrect_password": _("That password is not right. Check it and try again."),
        "incorrect_code": _("That code is not right. Check it and try again."),
        "invalid_password_reset": _(
            "This password reset link does not work. It may have been used already."),
        "invalid_or_expired_key": _(
            "This link does not work. It may have been used already, or be too old."),
        "rate_limited": _("Too many tries in a short time. Wait a few minutes, then try "
                          "again."),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def clear_sign_in_pause(self, request: HttpRequest, email: str) -> None:
        """End the failed-password pause for an address (after a password reset: the
        person has just proved they read that mailbox)."""
        self._delete_login_attempts_cached_email(request, email=email)

    def get_reauthentication_methods(self, user: Any) -> list[dict[str, Any]]:
        """The ways to confirm it is you, named in SafeClass's words (the page lists the
        ones not in use as links)."""
        descriptions = {
            "reauthenticate": _("Enter your password instead"),
            "mfa_reauthenticate": _("Enter a code from your authenticator app instead"),
        }
        methods: list[dict[str, Any]] = super().get_reauthentication_methods(user)
        for method in methods:
            method["description"] = descriptions.get(method["id"], method["description"])
        return methods

    def add_message(self, request: HttpRequest, level: int,
                    message_template: str | None = None,
                    message_context: dict[str, Any] | None = None,
                    extra_tags: str = "", message: str | None = None) -> None:
        """allauth writes a notice as the request ends, but it is read on the next page:
        write it in that page's language. After signing in that is the school's language
        (this request began signed out, in the browser's); after signing out it is the
        sign-in page's, the browser's (this request began in the school's)."""
        user = getattr(request, "user", None)
        if message_template in _SHOWN_SIGNED_OUT:
            language = translation.get_language_from_request(request)
        elif user is not None and user.is_authenticated and getattr(user, "school", None):
            language = user.school.language
        else:
            language = translation.get_language()
        with translation.override(language):
            super().add_message(request, level, message_template, message_context,
                                extra_tags, message)

    def format_email_subject(self, subject: str) -> str:
        # No "[site name]" prefix: our subjects name SafeClass themselves, like the
        # activation email's.
        return str(subject)


class SchoolMFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]
    """Two-step sign-in's errors in SafeClass's words."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _("You cannot turn off two-step sign-in."),
        "cannot_generate_recovery_codes": _(
            "Set up two-step sign-in first: recovery codes are for when you cannot use "
            "your authenticator app."),
        "incorrect_code": _(
            "That code is not right. Check it and try again: an authenticator app's code "
            "changes every 30 seconds."),
    }
