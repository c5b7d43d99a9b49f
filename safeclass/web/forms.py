"""Helpers shared by the page forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_action_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show an action function's ValidationError on the form: beside the field it names,
    or at the top when it names no field of this form."""
    for field, field_messages in exc.message_dict.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
