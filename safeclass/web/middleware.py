from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping
from typing import Literal, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone, translation


class PermissionsPolicyMiddleware:
    """Camera and microphone only for our own pages; everything else powerful is off."""

    POLICY = ("camera=(self), microphone=(self), display-capture=(self), geolocation=(), "
              "payment=(), usb=(), interest-cohort=()")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.POLICY)
        return response


class SchoolTimezoneMiddleware:
    """Show times in the signed-in staff member's school time zone (stored in UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(zoneinfo.ZoneInfo(user.school.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)


SWITCH_PARAMETER = "language"


class SchoolLanguageMiddleware:
    """Pages in the language the school chose (School.language); after LocaleMiddleware,
    which has already picked one from the language cookie or the browser.

    - Signed-in staff: always their school's language.
    - Join pages (/join/...) for parents and pupils: the language of the school whose
      invitation this browser holds, unless the parent chose one with the English |
      Cymraeg switch (links that set Django's language cookie).
    - Anyone else (the sign-in page): LocaleMiddleware's choice stands.
    """

    JOIN_PREFIX = "/join/"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            _use_language(request, user.school.language)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., HttpResponse],
                     view_args: tuple[object, ...], view_kwargs: dict[str, object]
                     ) -> HttpResponse | None:
        if not request.path_info.startswith(self.JOIN_PREFIX):
            return None
        chosen = request.GET.get(SWITCH_PARAMETER)
        if chosen is not None:
            return _switch_language(request, chosen)
        request.language_switch = True  # type: ignore[attr-defined]  # base.html shows it
        school_language = _join_school_language(request, view_kwargs.get("public_id"))
        language = parent_language(request.COOKIES) or school_language
        if language:
            _use_language(request, language)
        return None


def _switch_language(request: HttpRequest, chosen: str) -> HttpResponse:
    """The English | Cymraeg switch: links (``?language=cy``) rather than a POST form, as the
    join pages send "Referrer-Policy: no-referrer", under which browsers post forms with
    "Origin: null" and CSRF protection refuses them. Choosing a language changes nothing
    but how pages are shown, so a link from elsewhere can do no harm. Keep the choice in
    Django's language cookie, then show the same page without the parameter."""
    rest = request.GET.copy()
    del rest[SWITCH_PARAMETER]
    response = HttpResponseRedirect(request.path + (f"?{rest.urlencode()}" if rest else ""))
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    if chosen in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, chosen, max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=cast(Literal["Lax", "Strict", "None"], settings.LANGUAGE_COOKIE_SAMESITE))
    return response


def parent_language(cookies: Mapping[str, str]) -> str | None:
    """The language a parent chose with the English | Cymraeg switch, if any (a supported
    one). The live lesson's WebSocket can call this with the scope's cookies, then fall back
    to the school's language: `translation.override(parent_language(cookies) or
    school.language)`."""
    chosen = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen if chosen and chosen in dict(settings.LANGUAGES) else None


def _use_language(request: HttpRequest, language: str) -> None:
    if language in dict(settings.LANGUAGES):
        translation.activate(language)
        request.LANGUAGE_CODE = language


def _join_school_language(request: HttpRequest, public_id: object) -> str | None:
    """The language of the school of an invitation this browser holds: the one named in
    the URL, or else the one it opened last (for the "link does not work" page)."""
    from safeclass.accounts.access import JOIN_SESSION_KEY
    from safeclass.invitations.models import Invitation

    held = request.session.get(JOIN_SESSION_KEY, [])
    if not isinstance(held, list) or not held:
        return None
    wanted = public_id if isinstance(public_id, str) and public_id in held else held[-1]
    language = (Invitation.objects.filter(public_id=wanted)
                .values_list("lesson__school__language", flat=True).first())
    return str(language) if language else None
