"""The pupil's promise and the parent's consent, as forms a phone can fill in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .consent import PARENT_NAME_MAX_LENGTH
from .models import CONSENT_ITEMS


def consent_field(key: str) -> str:
    return f"consent_{key}"


def error_rows(form: forms.Form) -> list[dict[str, str]]:
    """Errors in the order of the form, for web/form_errors.html (links to #id_<field>)."""
    rows = [{"field": "", "rule": "", "message": str(m)} for m in form.non_field_errors()]
    for name in form.fields:
        for message in form.errors.get(name, []):
            rows.append({"field": name, "rule": "", "message": str(message)})
    return rows


def _describe_errors(form: forms.Form) -> None:
    # Screen readers read each field's error with it.
    for name in form.errors:
        if name in form.fields:
            field = form.fields[name]
            ids = [f"id_{name}_helptext"] if field.help_text else []
            field.widget.attrs["aria-describedby"] = " ".join([*ids, f"id_{name}_error"])
            field.widget.attrs["aria-invalid"] = "true"


class PromiseForm(forms.Form):
    promise = forms.BooleanField(
        label=gettext_lazy("I will follow these rules"),
        error_messages={"required": gettext_lazy(
            "Tick “I will follow these rules” to go on.")})

    def full_clean(self) -> None:
        super().full_clean()
        _describe_errors(self)


class ConsentForm(forms.Form):
    parent_name = forms.CharField(
        label=gettext_lazy("Your name"), max_length=PARENT_NAME_MAX_LENGTH,
        help_text=gettext_lazy("The parent or carer who is giving permission."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={
            "required": gettext_lazy("Enter your name (parent or carer)."),
            "max_length": gettext_lazy(
                "Your name must be %(limit_value)d characters or fewer."),
        })

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in CONSENT_ITEMS:
            self.fields[consent_field(key)] = forms.BooleanField(
                label=label,
                error_messages={"required": _("Tick to agree: “%(item)s”") % {"item": label}})

    def full_clean(self) -> None:
        super().full_clean()
        _describe_errors(self)

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[consent_field(key)] for key, _label in CONSENT_ITEMS]

    def ticked(self) -> list[str]:
        return [key for key, _label in CONSENT_ITEMS
                if self.cleaned_data.get(consent_field(key))]
