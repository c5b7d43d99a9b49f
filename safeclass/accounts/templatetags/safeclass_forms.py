"""Template helpers for forms we do not render ourselves (allauth's pages)."""

from __future__ import annotations

from django import template
from django.forms import BaseForm

register = template.Library()


@register.filter
def error_summary(form: BaseForm | None) -> list[dict[str, str | None]]:
    """A form's errors in the shape web/form_errors.html links to the fields."""
    if form is None or not hasattr(form, "errors") or not form.is_bound:
        return []
    out: list[dict[str, str | None]] = []
    for name, messages in form.errors.items():
        target = None
        if name != "__all__" and name in form.fields and not form[name].is_hidden:
            target = form.add_prefix(name)
        for message in messages:
            out.append({"field": target, "rule": None, "message": str(message)})
    return out
