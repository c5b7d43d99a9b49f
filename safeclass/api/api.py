"""The /api/v1 JSON API (Django Ninja). OpenAPI at /api/v1/openapi.json; see docs/api.md.

Every error has one shape, `{"errors": [{"rule", "message", "field"}]}`, produced here
from the exceptions that handlers and services raise:

- no token, an unknown or revoked one → 401
- a role that may not act (PermissionDenied, ActionNotAllowed) → 403
- another school's object, or none at all (Http404) → 404, the same answer for both
- a lesson in a state the action does not apply to (ActionNotAllowed with conflict) → 409
- bad input (request validation errors, a service's ValidationError naming the field) and
  broken policy rules (LessonRejected) → 422
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from safeclass.lessons.services import ActionNotAllowed, LessonRejected

from . import lessons, policy, roster
from .auth import BearerToken
from .errors import ApiError, body, error, from_validation_errors

api = NinjaAPI(
    title="SafeClass API",
    version="1",
    description="Lessons, approval and pupils' links for one school. Authenticate with "
                "`Authorization: Bearer <token>` (a personal API token). Errors are always "
                '`{"errors": [{"rule", "message", "field"}]}`.',
    urls_namespace="api",
    auth=BearerToken(),
    # The interactive docs page loads scripts from a CDN, which our Content Security
    # Policy forbids; docs/api.md documents the API and links this OpenAPI document.
    docs_url=None,
)

api.add_router("", policy.router)
api.add_router("", roster.router)
api.add_router("", lessons.router)


def _respond(request: HttpRequest, status: int, errors: list[dict[str, str | None]]
             ) -> HttpResponse:
    return api.create_response(request, body(errors), status=status)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _respond(request, 401, [error(_(
        "Sign in with a personal API token: send the header Authorization: Bearer <token>. "
        "The token may be missing, mistyped or revoked."))])
    response["WWW-Authenticate"] = 'Bearer realm="SafeClass"'
    return response


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    message = str(exc) or _("Your role does not allow this.")
    return _respond(request, 403, [error(message)])


@api.exception_handler(ActionNotAllowed)
def action_not_allowed(request: HttpRequest, exc: ActionNotAllowed) -> HttpResponse:
    # 403: this person may not take this action (approving their own lesson, for one).
    # 409: nobody may, because of the lesson's state (the service marks those `conflict`).
    status = 409 if exc.conflict else 403
    return _respond(request, status, [error(str(exc) or _("This action is not allowed."))])


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # The same words whether the object does not exist or belongs to another school.
    return _respond(request, 404, [error(_("Not found."))])


@api.exception_handler(LessonRejected)
def lesson_rejected(request: HttpRequest, exc: LessonRejected) -> HttpResponse:
    return _respond(request, 422, [error(v.message, rule=str(v.rule), field=v.field)
                                   for v in exc.violations])


@api.exception_handler(DjangoValidationError)
def rejected_by_service(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    # Services name the field at fault (a title with control characters, an empty reason).
    if hasattr(exc, "error_dict"):
        errors = [error(message, field=None if field == "__all__" else field)
                  for field, messages in exc.message_dict.items() for message in messages]
    else:
        errors = [error(message) for message in exc.messages]
    return _respond(request, 422, errors)


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _respond(request, 422, from_validation_errors(exc.errors))


@api.exception_handler(ApiError)
def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _respond(request, exc.status, exc.errors)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja's own errors; the only one our routes can meet is a body that is not JSON.
    message = exc.message
    if exc.status_code == 400:
        message = _("The request body must be a JSON object.")
    return _respond(request, exc.status_code, [error(message)])
