"""Views: thin. Parse, call a service, render. (Stubs until built.)"""

from django.http import HttpRequest, HttpResponse


def mine(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def request(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def approvals(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def cancel(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def approve(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def decline(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def reissue(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def export(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
