"""Forms for the school's settings, its policy, the roster upload, and one class or pupil.

Forms only parse and check the shape of input; the rules (what may be loosened, which
domains staff still use) are in services.py, whose errors the views attach to fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from safeclass.policy import RULES, SWITCHABLE, PolicySettings, Rule, RuleId
from safeclass.web.forms import PlainRequiredMessages

from .models import Group, Pupil, School
from .roster_csv import MAX_BYTES
from .schedule_text import (
    ClosureSpec,
    TermSpec,
    WindowSpec,
    format_closures,
    format_terms,
    format_windows,
    parse_closures,
    parse_terms,
    parse_windows,
)
from .services import time_zone_names
from .validators import name_problem, parse_email_domains

# The policy's numbers, each with the rule it belongs to.
NUMBER_FIELDS: dict[str, RuleId] = {
    "max_duration_minutes": RuleId.MAX_DURATION,
    "min_group_size": RuleId.GROUP_ONLY,
    "retention_days": RuleId.RECORDING_RETENTION,
}
_SWITCHABLE_IDS = frozenset(str(r) for r in SWITCHABLE)


def error_list(form: forms.Form, rules: dict[str, str] | None = None) -> list[dict[str, str]]:
    """Every error in the order of the form, for web/form_errors.html. Field errors link
    to their field; ``rules`` maps field names to the rule id shown beside the message."""
    rules = rules or {}
    out: list[dict[str, str]] = []
    for message in form.non_field_errors():
        out.append({"field": "", "message": str(message), "rule": ""})
    for name in form.fields:
        for message in form.errors.get(name, []):
            out.append({"field": name, "message": str(message), "rule": rules.get(name, "")})
    return out


class PolicyEditForm(PlainRequiredMessages, forms.Form):
    """A switch per rule that can be switched off, the three numbers, and a reason."""

    max_duration_minutes = forms.IntegerField(
        label=gettext_lazy("Longest lesson, in minutes"),
        help_text=gettext_lazy("The policy document says 30. A longer limit loosens the "
                               "policy."))
    min_group_size = forms.IntegerField(
        label=gettext_lazy("Smallest group, in pupils"),
        help_text=gettext_lazy("At least 2: lessons are never one to one. A smaller number "
                               "loosens the policy."))
    retention_days = forms.IntegerField(
        label=gettext_lazy("Keep recordings for at most, in days"),
        help_text=gettext_lazy("The policy document says 12 months (365 days). Keeping them "
                               "longer loosens the policy."))
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Required when a rule is switched off or a limit raised, and "
                               "shown wherever the policy is shown."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        switches: dict[str, forms.Field] = {}
        for rule in RULES:
            if str(rule.id) in _SWITCHABLE_IDS:
                # The rule's words come from the policy core in English (gettext_noop).
                switches[str(rule.id)] = forms.BooleanField(
                    required=False, label=f"{_(rule.title)} ({rule.id})",
                    help_text=_(rule.plain))
        # Switches first, in the policy table's order, then the numbers and the reason.
        self.fields = {**switches, **self.fields}

    @staticmethod
    def initial_from(settings: PolicySettings) -> dict[str, object]:
        return {**dict(settings.switches), "max_duration_minutes": settings.max_duration_minutes,
                "min_group_size": settings.min_group_size,
                "retention_days": settings.retention_days}

    def switch_fields(self) -> list[tuple[Rule, forms.BoundField]]:
        return [(rule, self[str(rule.id)]) for rule in RULES if str(rule.id) in _SWITCHABLE_IDS]

    def number_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in NUMBER_FIELDS]

    def to_settings(self) -> PolicySettings:
        data = self.cleaned_data
        return PolicySettings(
            switches={rule_id: bool(data[rule_id]) for rule_id in _SWITCHABLE_IDS},
            max_duration_minutes=data["max_duration_minutes"],
            min_group_size=data["min_group_size"],
            retention_days=data["retention_days"])

    @staticmethod
    def rule_of_field(name: str) -> str:
        if name in _SWITCHABLE_IDS:
            return name
        rule = NUMBER_FIELDS.get(name)
        return str(rule) if rule else ""


def _line_errors(errors: list[Any]) -> ValidationError:
    return ValidationError([str(e) for e in errors])


class SchoolSettingsForm(PlainRequiredMessages, forms.Form):
    name = forms.CharField(label=gettext_lazy("School name"), max_length=200)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"))
    email_domains = forms.CharField(
        label=gettext_lazy("Staff email domains"), max_length=500,
        help_text=gettext_lazy("The part after the @ in staff email addresses, such as "
                               "oakfield.sch.uk. Separate several with commas."))
    windows = forms.CharField(
        label=gettext_lazy("Weekly lesson times"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One line per set of days, 24-hour clock, times separated by "
                               "commas. For example: Mon-Fri 09:00-12:00, 13:00-15:15"))
    terms = forms.CharField(
        label=gettext_lazy("Term dates (optional)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One term a line, then a name if you like. For example: "
                               "2027-01-04 to 2027-03-26 Spring term. Leave empty if lessons "
                               "can run in any week."))
    closures = forms.CharField(
        label=gettext_lazy("Closure days (optional)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One day a line, then the reason if you like. For example: "
                               "2027-02-15 INSET day"))
    language = forms.ChoiceField(label=gettext_lazy("Language"))
    pupils_see_classmates = forms.BooleanField(
        label=gettext_lazy("Pupils see their classmates' video in lessons"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        time_zone = self.fields["time_zone"]
        assert isinstance(time_zone, forms.ChoiceField)
        time_zone.choices = [(z, z) for z in time_zone_names()]
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = list(School._meta.get_field("language").choices or [])

    @staticmethod
    def initial_from(school: School, windows: list[WindowSpec], terms: list[TermSpec],
                     closures: list[ClosureSpec]) -> dict[str, object]:
        return {"name": school.name, "time_zone": school.time_zone,
                "email_domains": ", ".join(school.email_domains),
                "windows": format_windows(windows), "terms": format_terms(terms),
                "closures": format_closures(closures), "language": school.language,
                "pupils_see_classmates": school.pupils_see_classmates}

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        problem = name_problem(name, 200)
        if problem:
            raise ValidationError(problem)
        return name

    def clean_email_domains(self) -> tuple[str, ...]:
        return parse_email_domains(self.cleaned_data["email_domains"])

    def clean_windows(self) -> list[WindowSpec]:
        windows, errors = parse_windows(self.cleaned_data["windows"])
        if errors:
            raise _line_errors(errors)
        if not windows:
            raise ValidationError(_("Enter at least one weekly lesson time."))
        return windows

    def clean_terms(self) -> list[TermSpec]:
        terms, errors = parse_terms(self.cleaned_data["terms"])
        if errors:
            raise _line_errors(errors)
        return terms

    def clean_closures(self) -> list[ClosureSpec]:
        closures, errors = parse_closures(self.cleaned_data["closures"])
        if errors:
            raise _line_errors(errors)
        return closures


class RosterUploadForm(PlainRequiredMessages, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Roster file (CSV)"),
        help_text=gettext_lazy("A CSV file with the header first_name,last_name,class,"
                               "parent_name,parent_email and, if you have them, "
                               "pupil_reference."))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("The file is too large: at most {limit} MB.").format(
                limit=MAX_BYTES // (1024 * 1024)))
        return upload


def _text(label: Any, max_length: int, missing: Any = "", help_text: Any = "") -> forms.CharField:
    """A one-line text box; ``missing`` is the message when it is left empty (no message:
    optional)."""
    # Staff type other people's details here: the browser should not offer their own.
    return forms.CharField(label=label, max_length=max_length, help_text=help_text,
                           required=bool(missing), error_messages={"required": missing},
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))


class GroupForm(PlainRequiredMessages, forms.Form):
    """A new class. The name rules (no hidden characters, not a repeat) are the
    service's."""

    name = _text(gettext_lazy("Class name"), 100, gettext_lazy("Enter the class's name."),
                 gettext_lazy("As parents and staff know it, such as Year 4 Oak."))


class PupilForm(PlainRequiredMessages, forms.Form):
    """One pupil: the service checks the names, the email address and the reference."""

    first_name = _text(gettext_lazy("First name"), 100,
                       gettext_lazy("Enter the pupil's first name."))
    last_name = _text(gettext_lazy("Last name"), 100,
                      gettext_lazy("Enter the pupil's last name."))
    group = forms.ModelChoiceField(
        label=gettext_lazy("Class"), queryset=Group.objects.none(),
        empty_label=gettext_lazy("Choose a class"),
        error_messages={"required": gettext_lazy("Choose the pupil's class."),
                        "invalid_choice": gettext_lazy("Choose one of the classes in the "
                                                       "list.")})
    parent_name = _text(gettext_lazy("Parent or carer's name"), 200,
                        gettext_lazy("Enter the parent or carer's name."))
    # Checked here as well as by the service, so that a bad address is listed with the
    # other problems the first time; the same words as the service's.
    parent_email = forms.EmailField(
        label=gettext_lazy("Parent or carer's email address"), max_length=254,
        help_text=gettext_lazy("Lesson links for this pupil are sent here."),
        error_messages={
            "required": gettext_lazy("Enter the parent or carer's email address."),
            "invalid": gettext_lazy("Enter the parent or carer's email address, such as "
                                    "name@example.com.")},
        widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    reference = _text(gettext_lazy("Pupil reference (optional)"), 64,
                      help_text=gettext_lazy("Your school's own reference, such as the UPN. "
                                             "A roster file imported later matches pupils "
                                             "by it."))

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group = self.fields["group"]
        assert isinstance(group, forms.ModelChoiceField)
        # Only this school's classes: another school's id is "not one of the choices".
        group.queryset = Group.objects.filter(school=school).order_by("name")

    @staticmethod
    def initial_from(pupil: Pupil) -> dict[str, object]:
        return {"first_name": pupil.first_name, "last_name": pupil.last_name,
                "group": pupil.group_id, "parent_name": pupil.parent_name,
                "parent_email": pupil.parent_email, "reference": pupil.reference}
