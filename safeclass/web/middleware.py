from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


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
