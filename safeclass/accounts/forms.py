"""Forms for staff management, activation, API tokens.

Forms only parse and check shapes; the rules (school email domain, name characters,
password validators) live in services.py and are applied there again, so the API and
management commands get the same answers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from safeclass.schools.models import School

from . import services
from .models import Role, StaffUser


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Role.choices, label=_("Roles"), required=False, **kwargs)


ROLE_HINT = _("Approvers agree lessons and edit the policy; senior leaders and safeguarding "
              "leads see every lesson and the audit log; teachers request and host lessons; "
              "staff can be the second adult; admins manage the school and its staff.")


def _apply(form: forms.Form, exc: services.AccountError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class _StaffDetailsForm(forms.Form):
    """Name and roles, cleaned by the same account rules for inviting and editing."""

    full_name = forms.CharField(label=_("Full name"), max_length=services.FULL_NAME_MAX_LENGTH,
                                strip=False)
    roles = RolesField(help_text=ROLE_HINT)

    def clean_full_name(self) -> str:
        try:
            return services.clean_full_name(self.cleaned_data["full_name"])
        except services.AccountError as exc:
            raise ValidationError(exc.message) from None

    def clean_roles(self) -> list[str]:
        try:
            return services.clean_roles(self.cleaned_data["roles"])
        except services.AccountError as exc:
            raise ValidationError(exc.message) from None

    def apply_error(self, exc: services.AccountError) -> None:
        _apply(self, exc)


class StaffInviteForm(_StaffDetailsForm):
    email = forms.CharField(label=_("School email address"), max_length=254)
    field_order = ["full_name", "email", "roles"]

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.school = school
        self.fields["email"].widget = forms.EmailInput(attrs={"autocomplete": "off"})
        domains = " " + str(_("or")) + " "
        ending = domains.join(f"@{d}" for d in school.email_domains)
        self.fields["email"].help_text = _(
            "Must end {domains}. We email an activation link to this address; the account "
            "works only once its owner follows the link.").format(
                domains=ending or _("with one of the school's email domains"))

    def clean_email(self) -> str:
        try:
            return services.clean_staff_email(self.school, self.cleaned_data["email"])
        except services.AccountError as exc:
            raise ValidationError(exc.message) from None


class StaffEditForm(_StaffDetailsForm):
    def __init__(self, *args: Any, staff: StaffUser, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"full_name": staff.full_name,
                                      "roles": sorted(staff.roles)})
        super().__init__(*args, **kwargs)


class ChoosePasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("New password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, user: StaffUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["password1"].help_text = " ".join(
            str(t) for t in password_validation.password_validators_help_texts())

    def clean_password1(self) -> str:
        password: str = self.cleaned_data["password1"]
        try:
            password_validation.validate_password(password, self.user)
        except ValidationError as exc:
            # One line per broken rule, so each reads as its own clear error.
            raise ValidationError(exc.messages) from None
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("password1") and data.get("password2")
                and data["password1"] != data["password2"]):
            self.add_error("password2", _("The two passwords are different. Type the same "
                                          "password in both boxes."))
        return data

    def apply_error(self, exc: services.AccountError) -> None:
        _apply(self, exc)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=services.API_TOKEN_NAME_MAX_LENGTH,
        help_text=_("Something that says what the token is for, such as “Timetable sync”."))

    def clean_name(self) -> str:
        try:
            return services.clean_token_name(self.cleaned_data["name"])
        except services.AccountError as exc:
            raise ValidationError(exc.message) from None

    def apply_error(self, exc: services.AccountError) -> None:
        _apply(self, exc)


def summary_errors(form: forms.Form) -> list[dict[str, str | None]]:
    """The form's errors in the shape web/form_errors.html links to the fields."""
    out: list[dict[str, str | None]] = []
    for field, messages in form.errors.items():
        for message in messages:
            target = None if field == "__all__" else field
            # Roles are a group of checkboxes: link to the first one.
            if target == "roles":
                target = "roles_0"
            out.append({"field": target, "rule": None, "message": str(message)})
    return out
