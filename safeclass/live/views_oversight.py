"""Placeholder: being written (see /work/briefs/live-contract.md)."""

from django.http import HttpRequest, HttpResponse


def holds(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def clear_hold(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def incidents(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
