from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


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
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def clear_sign_in_pause(self, request: HttpRequest, email: str) -> None:
        """End the failed-password pause for an address (after a password reset: the
        person has just proved they read that mailbox)."""
        self._delete_login_attempts_cached_email(request, email=email)
