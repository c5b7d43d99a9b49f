"""The lesson request form. Times are entered in the school's own time zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from safeclass.accounts.models import StaffUser
from safeclass.policy import PolicyError, Violation, local_to_utc
from safeclass.policy.lesson_request import STAFF_ROLES
from safeclass.schools.models import Group, Pupil
from safeclass.schools.validators import name_problem
from safeclass.web.forms import PlainRequiredMessages

from .services import DECLINE_REASON_MAX_LENGTH, TITLE_MAX_LENGTH, LessonDraft

if TYPE_CHECKING:
    from .models import Lesson

# Which form field a policy violation belongs to. "host" is the person filling the form
# in: it has no field of its own, so it shows at the top of the error summary only.
_FIELD_OF = {"starts_at": "date", "duration_minutes": "duration_minutes", "pupils": "pupils",
             "group": "group", "second_staff": "second_staff", "title": "title",
             "recorded": "recorded"}


def link_errors(form: forms.Form) -> None:
    """Point each input with an error at its hint and error message, so screen readers
    read them with it (Django links the hint alone when there is no error)."""
    for name in form.errors:
        if name not in form.fields or name == "pupils":  # pupils: the fieldset does it
            continue
        field = form.fields[name]
        ids = [f"id_{name}_helptext"] if field.help_text else []
        field.widget.attrs["aria-describedby"] = " ".join([*ids, f"id_{name}_error"])


class LessonForm(PlainRequiredMessages, forms.Form):
    title = forms.CharField(label=gettext_lazy("Lesson title"), max_length=TITLE_MAX_LENGTH)
    group = forms.ModelChoiceField(
        label=gettext_lazy("Class"), queryset=Group.objects.none(), required=False,
        empty_label=gettext_lazy("No class: I will choose pupils below"),
        help_text=gettext_lazy("Every pupil in the class is invited. Or leave this and choose "
                               "pupils below."))
    pupils = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Or choose pupils"), queryset=Pupil.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple)
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"))
    start_time = forms.TimeField(
        label=gettext_lazy("Start time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Length in minutes"), min_value=1, max_value=24 * 60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    second_staff = forms.ModelChoiceField(
        label=gettext_lazy("Second member of staff (optional)"),
        queryset=StaffUser.objects.none(), required=False,
        empty_label=gettext_lazy("None"),
        help_text=gettext_lazy("Another adult in the lesson. Without one, the lesson must be "
                               "recorded."))
    recorded = forms.BooleanField(label=gettext_lazy("Record this lesson"), required=False)

    def __init__(self, *args: Any, user: StaffUser, host: StaffUser | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.host = host or user
        school_id = user.school_id
        self.fields["group"].queryset = Group.objects.filter(  # type: ignore[attr-defined]
            school_id=school_id).order_by("name")
        self.fields["pupils"].queryset = Pupil.objects.filter(  # type: ignore[attr-defined]
            school_id=school_id).select_related("group").order_by(
            "group__name", "first_name", "last_name", "pk")
        self.fields["second_staff"].queryset = self.staff_choices()  # type: ignore[attr-defined]
        self.fields["second_staff"].label_from_instance = (  # type: ignore[attr-defined]
            lambda u: f"{u.full_name} ({u.email})")
        zone = user.school.time_zone
        self.fields["date"].help_text = _("In the school's time zone ({zone}).").format(
            zone=zone)
        self.fields["start_time"].help_text = _("24-hour clock, school time ({zone}), for "
                                                "example 10:30.").format(zone=zone)
        self.starts_at: datetime | None = None

    def staff_choices(self) -> QuerySet[StaffUser]:
        return (StaffUser.objects.filter(school_id=self.user.school_id, is_active=True,
                                         role_grants__role__in=STAFF_ROLES)
                .exclude(pk=self.host.pk).distinct().order_by("full_name"))

    @classmethod
    def initial_from(cls, lesson: Lesson) -> dict[str, Any]:
        local = timezone.localtime(lesson.starts_at, lesson.school.zone)
        return {"title": lesson.title, "group": lesson.group_id,
                "pupils": [] if lesson.group_id else list(
                    lesson.pupils.values_list("pk", flat=True)),
                "date": local.date(), "start_time": local.time().replace(second=0,
                                                                         microsecond=0),
                "duration_minutes": lesson.duration_minutes,
                "second_staff": lesson.second_staff_id, "recorded": lesson.recorded}

    def pupils_by_class(self) -> list[tuple[str, list[Any]]]:
        """The pupils' checkboxes grouped under their class, for fieldsets with legends."""
        labels = {p.pk: p for p in self.fields["pupils"].queryset}  # type: ignore[attr-defined]
        out: dict[str, list[Any]] = {}
        for box in self["pupils"]:
            pupil = labels[int(str(box.data["value"]))]
            out.setdefault(pupil.group.name, []).append((box, pupil))
        return list(out.items())

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"]
        problem = name_problem(title, TITLE_MAX_LENGTH)
        if problem is not None:
            raise forms.ValidationError(problem)
        return title

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        group, pupils = data.get("group"), data.get("pupils")
        if group is not None and pupils:
            self.add_error("group", _("Choose a class or pupils, not both."))
        elif group is None and not pupils and "pupils" not in self.errors:
            self.add_error("group", _("Choose who the lesson is for: a class, or pupils."))
        day, at = data.get("date"), data.get("start_time")
        if day is not None and at is not None:
            try:
                # Wall-clock time in the school's zone, whatever the server's or browser's.
                self.starts_at = local_to_utc(day, at, self.user.school.time_zone)
            except PolicyError as exc:
                self.add_error("start_time", exc.message)
        return data

    def to_draft(self) -> LessonDraft:
        data = self.cleaned_data
        assert self.starts_at is not None
        return LessonDraft(title=data["title"], host=self.host,
                           second_staff=data.get("second_staff"), group=data.get("group"),
                           pupils=tuple(data.get("pupils") or ()), starts_at=self.starts_at,
                           duration_minutes=data["duration_minutes"],
                           recorded=bool(data.get("recorded")))

    def add_violations(self, violations: Iterable[Violation]) -> list[dict[str, str]]:
        """Show each violation on its field; returns the error summary rows (rule ids
        included) in the order the policy gives them."""
        rows: list[dict[str, str]] = []
        for v in violations:
            name = _FIELD_OF.get(v.field or "", "")
            if name:
                self.add_error(name, v.message)
            rows.append({"field": name, "rule": v.rule, "message": v.message})
        return rows

    def add_field_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            target = _FIELD_OF.get(name, None)
            for message in messages:
                self.add_error(target, message)


def form_error_rows(form: forms.Form) -> list[dict[str, str]]:
    """Field errors (no rule) in the order of the form, for web/form_errors.html."""
    rows = [{"field": "", "rule": "", "message": str(m)} for m in form.non_field_errors()]
    for name in form.fields:
        for message in form.errors.get(name, []):
            rows.append({"field": name, "rule": "", "message": str(message)})
    return rows


class DeclineForm(PlainRequiredMessages, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for declining"), max_length=DECLINE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("The teacher will read this."),
        error_messages={"required": gettext_lazy("Give a reason for declining: the teacher "
                                                 "will read it.")})


class ReissueForm(forms.Form):
    pupil = forms.IntegerField()
