"""A school, its timetable, its classes and its pupils.

Pupils have no accounts: a lesson-specific link sent to the parent is their identity
(see safeclass/invitations). Names are stored exactly as given and escaped when shown.
"""

from __future__ import annotations

import zoneinfo
from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _


class School(models.Model):
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/London")
    # Comma-separated, lower case: "oakfield.example,oakfield.sch.uk".
    staff_email_domains = models.CharField(_("staff email domains"), max_length=500)
    language = models.CharField(
        _("language"), max_length=8, default="en-gb",
        choices=[("en-gb", "English"), ("cy", "Cymraeg")],
    )
    pupils_see_classmates = models.BooleanField(_("pupils see classmates"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def email_domains(self) -> tuple[str, ...]:
        return tuple(d.strip().lower() for d in self.staff_email_domains.split(",") if d.strip())

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class LessonWindow(models.Model):
    """A weekly period in which lessons may run, in the school's local time."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="lesson_windows")
    weekday = models.IntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=models.Q(starts__lt=models.F("ends")),
                                   name="lesson_window_starts_before_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class TermDates(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="terms")
    name = models.CharField(max_length=100, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        ordering = ["starts_on"]
        verbose_name_plural = _("term dates")

    def __str__(self) -> str:
        return f"{self.name or 'Term'} {self.starts_on}–{self.ends_on}"


class ClosureDay(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="closures")
    day = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["school", "day"], name="one_closure_a_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.reason}"


class Group(models.Model):
    """A class or teaching group, e.g. "Year 4 Oak"."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="group_name_unique")]

    def __str__(self) -> str:
        return self.name


class Pupil(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="pupils")
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="pupils")
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    parent_name = models.CharField(_("parent or carer name"), max_length=200)
    parent_email = models.EmailField(_("parent or carer email"))
    # The school's own pupil reference (for example the UPN), used to match re-imports.
    reference = models.CharField(_("pupil reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "reference"], name="pupil_reference_unique",
                                    condition=~models.Q(reference="")),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def timetable_for(school: School) -> object:
    """The school's timetable as the pure policy core's value object."""
    from safeclass.policy.timetable import Timetable, Window

    windows = tuple(Window(weekday=w.weekday, start=w.starts, end=w.ends)
                    for w in school.lesson_windows.all())
    terms: tuple[tuple[date, date], ...] = tuple(
        (t.starts_on, t.ends_on) for t in school.terms.all())
    closures = frozenset(c.day for c in school.closures.all())
    return Timetable(time_zone=school.time_zone, windows=windows, terms=terms, closures=closures)


__all__ = ["ClosureDay", "Group", "LessonWindow", "Pupil", "School", "TermDates", "Weekday",
           "timetable_for"]


class PolicyVersion(models.Model):
    """One version of a school's policy settings. The newest is in force.

    Rows are never edited: an edit makes a new version, so every lesson can point at the
    exact settings it was checked under.
    """

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="policy_versions")
    number = models.PositiveIntegerField()
    settings = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("accounts.StaffUser", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    # Rule ids this version made less strict than the one before (shown wherever shown).
    loosened_rules = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["school", "number"],
                                               name="policy_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.school} policy v{self.number}"
