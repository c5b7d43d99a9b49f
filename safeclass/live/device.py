"""The device cookie: tells a pupil's reconnect from a second device, and ties a parent's
consent to the device it was given on (consent-each-session).

The cookie holds 128 random bits and says nothing about who the pupil is. Only its
SHA-256 hash is stored (on consents and presences), never the raw value.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

DEVICE_COOKIE = "sc_device"
_MAX_AGE = 365 * 24 * 3600  # one year
# secrets.token_urlsafe(16) gives 22 characters; anything else is not ours.
_VALID = re.compile(r"[A-Za-z0-9_-]{22,64}")


def device_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def device_of_request(request: HttpRequest) -> str | None:
    """The raw device cookie this browser sent, or None if absent or not one of ours."""
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw or not _VALID.fullmatch(raw):
        return None
    return raw


def ensure_device_cookie(request: HttpRequest, response: HttpResponseBase) -> str:
    """The browser's device cookie; a new one is set on ``response`` if it has none."""
    raw = device_of_request(request)
    if raw is not None:
        return raw
    raw = secrets.token_urlsafe(16)
    response.set_cookie(DEVICE_COOKIE, raw, max_age=_MAX_AGE, path="/", httponly=True,
                        samesite="Lax",
                        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE)
    return raw


# ------------------------------------------------------------- how old a browser may be
# The check page tells a browser older than about two years that it is out of date. The
# oldest versions are worked out from the server's date (a wrong clock in the browser must
# not change the answer) and the browsers' release rhythms: Chromium and Firefox publish a
# major version every four weeks; Safari once a year in September (18 in 2024, then named
# after the coming year: 26 in 2025).
_CHROMIUM_120 = date(2023, 12, 5)
_FIREFOX_121 = date(2023, 12, 19)
_RELEASE_DAYS = 28
_TWO_YEARS = timedelta(days=730)


def _safari_released_by(day: date) -> int:
    year = day.year if (day.month, day.day) >= (9, 15) else day.year - 1
    if year <= 2023:
        return 17
    if year == 2024:
        return 18
    return year + 1 - 2000


def oldest_supported_versions(today: date) -> dict[str, int]:
    """The oldest major version of each browser engine that is not yet out of date."""
    then = today - _TWO_YEARS
    return {
        "chromium": 120 + max(0, (then - _CHROMIUM_120).days // _RELEASE_DAYS),
        "firefox": 121 + max(0, (then - _FIREFOX_121).days // _RELEASE_DAYS),
        "safari": _safari_released_by(then),
    }
