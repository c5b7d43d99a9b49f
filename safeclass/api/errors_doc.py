"""Error responses each kind of route can give, for the OpenAPI document."""

from __future__ import annotations

from .schemas import ErrorsOut

READ_ERRORS: dict[int, type] = {401: ErrorsOut, 403: ErrorsOut, 422: ErrorsOut}
OBJECT_ERRORS: dict[int, type] = {401: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut,
                                  422: ErrorsOut}
ACTION_ERRORS: dict[int, type] = {**OBJECT_ERRORS, 409: ErrorsOut}
