"""Small builders for test data. Real database rows; no mocks."""

from __future__ import annotations

import itertools
from datetime import time

from safeclass.accounts.models import StaffRole, StaffUser
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
