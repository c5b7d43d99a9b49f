"""Bearer-token authentication for /api/v1.

A personal API token (created on the account page or by `manage.py create_api_token`)
is sent as `Authorization: Bearer <token>`. The accounts service checks it against the
stored hash and refuses revoked tokens and inactive accounts. Session cookies are not
accepted here, so the API needs no CSRF protection: a browser never sends the token on
its own.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from safeclass.accounts.models import StaffUser


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> StaffUser | None:
        # Imported here so the API module can be loaded before the accounts app is ready.
        from safeclass.accounts.services import authenticate_api_token

        token = token.strip()
        if not token:
            return None
        user = authenticate_api_token(token)
        if user is None or not user.is_active:
            return None
        return user


def staff_user(request: HttpRequest) -> StaffUser:
    """The staff member the request's token belongs to (set by BearerToken)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, StaffUser):
        # Every route requires the token, so this is a programming error, not a 401.
        raise RuntimeError("API route reached without an authenticated staff member")
    return user
