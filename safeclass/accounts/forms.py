"""Forms for staff management, activation, API tokens, and SafeClass's versions of
allauth's forms (ACCOUNT_FORMS, MFA_FORMS in settings.py).

Forms only parse and check shapes; the rules (school email domain, name characters,
password validators) live in services.py and are applied there again, so the API and
management commands get the same answers.
"""

from __future__ import annotations

from typing import Any

from allauth.account import forms as account_forms
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.totp import forms as totp_forms
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext_lazy

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


def password_rules_hint() -> str:
    """The password rules (AUTH_PASSWORD_VALIDATORS) as one hint, in the active language."""
    return " ".join(str(t) for t in password_validation.password_validators_help_texts())


# Django's password validators word their rules and errors themselves, and Django's Welsh
# catalogue leaves them untranslated. The same msgids here bring them into SafeClass's
# catalogue, which Django reads before its own (LOCALE_PATHS), so a Welsh school's staff
# read them in Welsh on every page that checks a password (activation, changing and
# resetting it). Keep them word for word as django/contrib/auth/password_validation.py
# has them; tests/integration/test_accounts_welsh.py fails if they drift apart.
DJANGO_PASSWORD_WORDS = (
    gettext_noop("Your password can’t be too similar to your other personal information."),
    ngettext_lazy("Your password must contain at least %(min_length)d character.",
                  "Your password must contain at least %(min_length)d characters.",
                  "min_length"),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    ngettext_lazy("This password is too short. It must contain at least %d character.",
                  "This password is too short. It must contain at least %d characters.",
                  "min_length"),
    gettext_noop("This password is too common."),
    gettext_noop("This password is entirely numeric."),
)


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


# --- allauth's forms in SafeClass's words ----------------------------------------------------
# allauth has no Welsh catalogue and words things its own way ("Current Password",
# placeholders repeating the labels). These subclasses keep allauth's fields, names and
# behaviour and change only the words a person reads: labels, hints and errors, all
# marked for translation. No placeholders: a hint that vanishes when typing helps nobody.

SAME_PASSWORD_TWICE = _("The two passwords are different. Type the same password in both "
                        "boxes.")


def _words(form: forms.Form, **labels: Any) -> None:
    for name, label in labels.items():
        field = form.fields[name]
        field.label = label
        field.widget.attrs.pop("placeholder", None)


class _NewPasswordTwice(forms.Form):
    """password1 and password2: our labels, the password rules as the hint, our message
    when the two differ. allauth's PasswordVerificationMixin.clean is left out on purpose
    (it would add its own English message); Form.clean is the rest of that chain."""

    def _new_password_words(self) -> None:
        _words(self, password1=_("New password"), password2=_("New password again"))
        self.fields["password1"].help_text = password_rules_hint()

    def clean(self) -> dict[str, Any]:
        data = forms.Form.clean(self) or {}
        if (data.get("password1") and data.get("password2")
                and data["password1"] != data["password2"]):
            self.add_error("password2", SAME_PASSWORD_TWICE)
        return data


class SchoolLoginForm(account_forms.LoginForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _words(self, login=_("Email address"), password=_("Password"))


class SchoolChangePasswordForm(
        _NewPasswordTwice, account_forms.ChangePasswordForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _words(self, oldpassword=_("Current password"))
        self._new_password_words()


class SchoolSetPasswordForm(
        _NewPasswordTwice, account_forms.SetPasswordForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._new_password_words()


class SchoolResetPasswordForm(account_forms.ResetPasswordForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _words(self, email=_("School email address"))


class SchoolResetPasswordKeyForm(
        _NewPasswordTwice, account_forms.ResetPasswordKeyForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._new_password_words()


class SchoolReauthenticateForm(account_forms.ReauthenticateForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _words(self, password=_("Password"))


SIGN_IN_CODE_LABEL = _("Code")


class SchoolAuthenticateForm(mfa_forms.AuthenticateForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _words(self, code=SIGN_IN_CODE_LABEL)


class SchoolMFAReauthenticateForm(mfa_forms.ReauthenticateForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _words(self, code=SIGN_IN_CODE_LABEL)


class SchoolActivateTOTPForm(totp_forms.ActivateTOTPForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _words(self, code=_("Code from your authenticator app"))
