"""The API's one error shape, and the mapping from exceptions to it.

Every error, whatever its status, is `{"errors": [{"rule", "message", "field"}]}`:
`rule` is a policy rule id (or another stable check id such as `start-in-past`) when a
rule was broken, else null; `field` names the request field at fault, else null.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _


class ApiError(Exception):
    """An error found by an API handler itself (bad ids in the input, a lesson in the
    wrong state), raised so that it is turned into a response in one place."""

    def __init__(self, status: int, errors: Sequence[dict[str, str | None]]) -> None:
        super().__init__("; ".join(str(e["message"]) for e in errors))
        self.status = status
        self.errors = list(errors)


def error(message: str, *, rule: str | None = None, field: str | None = None
          ) -> dict[str, str | None]:
    return {"rule": rule, "message": message, "field": field}


def body(errors: Iterable[dict[str, str | None]]) -> dict[str, Any]:
    return {"errors": list(errors)}


def field_name(loc: Sequence[object]) -> str | None:
    """`["body", "payload", "pupils", 2]` → `"pupils.2"`; `["query", "from"]` → `"from"`."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        source = parts.pop(0)
        # A JSON body is nested under the handler's parameter name (always "payload").
        if source == "body" and parts and parts[0] == "payload":
            parts.pop(0)
    return ".".join(parts) or None


def _message(err: dict[str, Any], field: str | None) -> str:
    kind = str(err.get("type", ""))
    name = field or _("the request")
    if kind == "missing":
        return _("{field} is required.").format(field=name)
    if kind in {"timezone_aware", "datetime_from_date_parsing", "datetime_parsing",
                "datetime_type"}:
        return _("{field} must be an ISO 8601 date and time with a UTC offset, for example "
                 "2030-03-04T10:00:00+00:00 or 2030-03-04T10:00:00Z.").format(field=name)
    if kind in {"date_from_datetime_parsing", "date_parsing", "date_type"}:
        return _("{field} must be a date such as 2030-03-04.").format(field=name)
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return _("{field} must be a whole number.").format(field=name)
    if kind in {"bool_type", "bool_parsing"}:
        return _("{field} must be true or false.").format(field=name)
    if kind == "extra_forbidden":
        return _("{field} is not a field this request takes.").format(field=name)
    msg = str(err.get("msg", _("is not valid")))
    if kind == "value_error":
        # Our own validators' messages are whole sentences already.
        return msg.removeprefix("Value error, ")
    return f"{name}: {msg}"


def from_validation_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, str | None]]:
    out = []
    for err in errors:
        field = field_name(err.get("loc", ()))
        out.append(error(_message(err, field), field=field))
    return out
