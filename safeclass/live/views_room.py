"""Placeholder: being written (see /work/briefs/live-contract.md)."""

from django.http import HttpRequest, HttpResponse


def pupil_room(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def checklist(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def staff_room(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
