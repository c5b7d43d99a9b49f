"""Placeholder: being written (see /work/briefs/live-contract.md)."""

from django.http import HttpRequest, HttpResponse


def janus_events(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
