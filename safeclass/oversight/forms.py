"""Filter forms for the register and the audit log (GET forms: they change nothing)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from safeclass.accounts.models import StaffUser
from safeclass.lessons.models import LessonStatus
from safeclass.schools.models import Group, School


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def local_day_start(day: date, school: School) -> datetime:
    """Midnight at the start of `day` in the school's time zone, as an aware datetime."""
    return datetime.combine(day, time(0, 0), tzinfo=school.zone)


def local_day_end(day: date, school: School) -> datetime:
    # The next local midnight: a range "to 31 March" includes the whole of 31 March.
    return local_day_start(day + timedelta(days=1), school)


class DateRangeForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput(),
                                help_text=_("For example, 2025-03-31"))
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput(),
                              help_text=_("Includes the whole day"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("“To” must be the same as or after “From”."))
        return data


class RegisterFilterForm(DateRangeForm):
    teacher = forms.ModelChoiceField(label=_("Teacher"), required=False,
                                     queryset=StaffUser.objects.none(),
                                     empty_label=_("Any teacher"))
    group = forms.ModelChoiceField(label=_("Class"), required=False,
                                   queryset=Group.objects.none(), empty_label=_("Any class"))
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this school's people and classes can be chosen (and so filtered on).
        teacher_field: Any = self.fields["teacher"]
        teacher_field.queryset = StaffUser.objects.filter(
            school=school, role_grants__role="teacher").distinct().order_by("full_name")
        group_field: Any = self.fields["group"]
        group_field.queryset = Group.objects.filter(school=school).order_by("name")
        status_field: Any = self.fields["status"]
        status_field.choices = [("", _("Any status")), *LessonStatus.choices]


class AuditFilterForm(DateRangeForm):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Who"), required=False, max_length=300,
                            help_text=_("Part of a name or email address"))
    object_type = forms.ChoiceField(label=_("Kind of object"), required=False)
    object_id = forms.CharField(label=_("Object number"), required=False, max_length=64)

    # Shown (and its errors listed) in this order.
    field_order = ["action", "actor", "date_from", "date_to", "object_type", "object_id"]

    def __init__(self, *args: Any, actions: list[str], object_types: list[str],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action_field: Any = self.fields["action"]
        action_field.choices = [("", _("Any action")), *((a, a) for a in actions)]
        type_field: Any = self.fields["object_type"]
        type_field.choices = [("", _("Any kind")), *((t, t) for t in object_types)]
