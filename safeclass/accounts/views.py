"""Views: thin. Parse, call a service, render. (Stubs until built.)"""

from django.http import HttpRequest, HttpResponse


def security(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def token_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def token_revoke(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def calendar_new(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def calendar_feed(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def activate(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def activate_set_password(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def staff_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def staff_new(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def staff_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def staff_resend(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
