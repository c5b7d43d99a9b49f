"""Small builders for test data. Real database rows; no mocks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.lessons.models import Lesson
from safeclass.schools.models import Group, LessonWindow, Pupil, School

_counter = itertools.count(1)

TEST_PASSWORD = "correct horse battery staple"


def make_school(name: str = "Test School", domain: str = "school.example",
                open_all_week: bool = True, time_zone: str = "Europe/London") -> School:
    """A school whose lesson windows cover every day, so tests never depend on the weekday."""
    school = School.objects.create(name=name, staff_email_domains=domain, time_zone=time_zone)
    if open_all_week:
        for day in range(7):
            LessonWindow.objects.create(school=school, weekday=day, starts=time(0, 0),
                                        ends=time(23, 59))
    return school


def make_staff(school: School, email: str | None = None, roles: tuple[str, ...] = ("teacher",),
               name: str | None = None, active: bool = True,
               password: str = TEST_PASSWORD) -> StaffUser:
    n = next(_counter)
    domain = school.email_domains[0]
    user = StaffUser.objects.create_user(
        email=email or f"staff{n}@{domain}", password=password,
        full_name=name or f"Staff Member {n}", school=school, is_active=active)
    for role in roles:
        StaffRole.objects.create(user=user, role=role)
    return user


def make_group(school: School, name: str | None = None, pupils: int = 0) -> Group:
    group = Group.objects.create(school=school, name=name or f"Class {next(_counter)}")
    for _ in range(pupils):
        make_pupil(group)
    return group


def make_pupil(group: Group, first_name: str | None = None, last_name: str | None = None) -> Pupil:
    n = next(_counter)
    return Pupil.objects.create(
        school=group.school, group=group, first_name=first_name or f"Pupil{n}",
        last_name=last_name or f"Surname{n}", parent_name=f"Parent {n}",
        parent_email=f"parent{n}@parents.example")


# --- API tokens (appended for the API tests) ------------------------------------------------

def make_api_token(user: StaffUser, name: str = "tests") -> str:
    """A personal API token for `user`, made through the accounts service; returns the raw
    token (send it as `Authorization: Bearer <token>`)."""
    from safeclass.accounts.services import do_create_api_token

    _, raw = do_create_api_token(user, name, actor=user)
    return raw


def future_start(days: int = 3, hour: int = 10, minute: int = 0) -> datetime:
    """A start `days` ahead at a fixed UTC time: inside the all-week school's lesson times
    whatever the hour the tests run, and never in the past."""
    day = (timezone.now() + timedelta(days=days)).date()
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def make_requested_lesson(host: StaffUser, group: Group | None = None, *,
                          pupils: tuple[Pupil, ...] = (), second_staff: StaffUser | None = None,
                          title: str = "Fractions", starts_at: datetime | None = None,
                          duration_minutes: int = 30, recorded: bool = False) -> Lesson:
    """A lesson requested through the lessons service, as the form and the API do."""
    from safeclass.lessons.services import LessonDraft, do_request_lesson

    draft = LessonDraft(title=title, host=host, second_staff=second_staff, group=group,
                        pupils=pupils, starts_at=starts_at or future_start(),
                        duration_minutes=duration_minutes, recorded=recorded)
    return do_request_lesson(draft, actor=host)
