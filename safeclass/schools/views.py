"""Views: thin. Parse, call a service, render. (Stubs until built.)"""

from django.http import HttpRequest, HttpResponse


def settings(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def policy(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def policy_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def policy_history(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def roster(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def roster_import(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def roster_import_confirm(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
