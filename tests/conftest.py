"""Shared fixtures. A school open every day (tests never depend on the weekday or hour),
its people, and a second school whose objects must stay invisible to the first."""

from __future__ import annotations

import pytest
from hypothesis import settings

from tests import factories

# Hypothesis' per-example deadline (200 ms) is a timing assertion: on a busy 2-core machine
# a slow example fails a correct test. Tests do not assert timings (bench/ measures them).
settings.register_profile("safeclass", deadline=None)
settings.load_profile("safeclass")

pytest_plugins = ["tests.plugins.smtp"]


@pytest.fixture
def school(db):
    return factories.make_school()


@pytest.fixture
def other_school(db):
    return factories.make_school(name="Other School", domain="other.example")


@pytest.fixture
def teacher(school):
    return factories.make_staff(school, "teacher@school.example", ("teacher",), "Tess Teacher")


@pytest.fixture
def teacher2(school):
    return factories.make_staff(school, "teacher2@school.example", ("teacher",), "Tom Teacher")


@pytest.fixture
def ta(school):
    return factories.make_staff(school, "ta@school.example", ("staff",), "Tia Assistant")


@pytest.fixture
def head(school):
    return factories.make_staff(school, "head@school.example", ("approver", "dsl"), "Hana Head")


@pytest.fixture
def deputy(school):
    return factories.make_staff(school, "deputy@school.example", ("approver", "slt"), "Dev Deputy")


@pytest.fixture
def slt(school):
    return factories.make_staff(school, "slt@school.example", ("slt",), "Sam Senior")


@pytest.fixture
def admin(school):
    return factories.make_staff(school, "admin@school.example", ("admin",), "Ada Admin")


@pytest.fixture
def group(school):
    return factories.make_group(school, "Year 4 Oak", pupils=4)


@pytest.fixture
def outsider(other_school):
    return factories.make_staff(other_school, "teacher@other.example",
                                ("teacher", "approver", "slt", "admin", "dsl"), "Otto Outsider")
