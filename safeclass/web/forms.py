"""Helpers shared by the page forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def add_action_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show an action function's ValidationError on the form: beside the field it names,
    or at the top when it names no field of this form."""
    for field, field_messages in exc.message_dict.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)


def required_message(field: forms.Field, name: str) -> str:
    """What to say when a required field is left empty, naming the field."""
    label = str(field.label or name)
    if isinstance(field, forms.FileField):
        return _("Choose a file for “{label}”.").format(label=label)
    if isinstance(field, forms.ChoiceField):  # ModelChoiceField is one too
        return _("Choose “{label}”.").format(label=label)
    return _("Fill in “{label}”.").format(label=label)


class PlainRequiredMessages:
    """A form whose empty required fields each say which field they are ("Fill in
    “Title”."), instead of Django's "This field is required." four times over in the
    error summary, where each line is a link to its field (WCAG 2.4.4 and 3.3.3). A
    field with a message of its own keeps it. Put it before ``forms.Form``."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = str(forms.Field.default_error_messages["required"])
        for name, field in self.fields.items():
            if str(field.error_messages.get("required", "")) == default:
                field.error_messages["required"] = required_message(field, name)
