"""Placeholder: being written (see /work/briefs/live-contract.md)."""

from django.http import HttpRequest, HttpResponse


def check(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def rules(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def consent(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
