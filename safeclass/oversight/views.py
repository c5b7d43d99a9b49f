"""Views: thin. Parse, call a service, render. (Stubs until built.)"""

from django.http import HttpRequest, HttpResponse


def register(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def audit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
