"""Views: thin. Parse, call a service, render. (Stubs until built.)"""

from django.http import HttpRequest, HttpResponse


def open(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def status(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
