"""python manage.py seed_demo: the demo school, exactly once."""

from __future__ import annotations

import io
from datetime import time

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command

from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.audit.models import AuditEvent
from safeclass.policy import DEFAULT_POLICY, to_dict
from safeclass.schools.models import Group, LessonWindow, PolicyVersion, Pupil, School
from safeclass.schools.services import current_policy, policy_settings

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "oakfield-demo-2026"


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {"schools": School.objects.count(), "staff": StaffUser.objects.count(),
            "roles": StaffRole.objects.count(), "groups": Group.objects.count(),
            "pupils": Pupil.objects.count(), "windows": LessonWindow.objects.count(),
            "policies": PolicyVersion.objects.count(), "events": AuditEvent.objects.count()}


def test_it_creates_the_demo_school_as_the_issue_describes():
    output = _seed()
    school = School.objects.get(name="Oakfield Primary (demo)")
    assert school.email_domains == ("oakfield.example",)
    assert school.time_zone == "Europe/London"
    windows = set(LessonWindow.objects.filter(school=school)
                  .values_list("weekday", "starts", "ends"))
    assert windows == {(d, s, e) for d in range(5)
                       for s, e in ((time(9), time(12)), (time(13), time(15, 15)))}
    roles = {u.email: set(u.roles) for u in StaffUser.objects.filter(school=school)}
    assert roles == {
        "head@oakfield.example": {"approver", "dsl"},
        "deputy@oakfield.example": {"approver", "slt"},
        "teacher@oakfield.example": {"teacher"},
        "teacher2@oakfield.example": {"teacher"},
        "ta@oakfield.example": {"staff"},
        "admin@oakfield.example": {"admin"},
    }
    assert all(u.is_active for u in StaffUser.objects.filter(school=school))
    assert authenticate(email="teacher@oakfield.example", password=DEMO_PASSWORD) is not None
    for name in ("Year 4 Oak", "Year 5 Ash"):
        pupils = Pupil.objects.filter(school=school, group__name=name)
        assert pupils.count() == 12
        assert all(p.parent_email.endswith("@parents.example") for p in pupils)
    names = {p.last_name for p in Pupil.objects.filter(school=school)}
    assert {"O'Brien", "Nguyễn"} <= names
    assert Pupil.objects.filter(school=school, first_name="Zoë").exists()
    version = current_policy(school)
    assert version.number == 1 and policy_settings(version) == DEFAULT_POLICY
    assert version.settings == to_dict(DEFAULT_POLICY)
    # The output lists the logins, the password and where to sign in.
    assert DEMO_PASSWORD in output
    assert f"{settings.BASE_URL}/account/login/" in output
    for local in ("head", "deputy", "teacher", "teacher2", "ta", "admin"):
        assert f"{local}@oakfield.example" in output


def test_it_changes_nothing_when_run_twice():
    _seed()
    before = _counts()
    output = _seed()
    assert _counts() == before
    assert "nothing changed" in output
    assert DEMO_PASSWORD in output


def test_it_does_not_undo_changes_made_since():
    _seed()
    head = StaffUser.objects.get(email="head@oakfield.example")
    head.set_password("a different password 123")
    head.save()
    Pupil.objects.filter(first_name="Zoë").update(first_name="Zoe")
    _seed()
    assert authenticate(email="head@oakfield.example", password=DEMO_PASSWORD) is None
    assert Pupil.objects.filter(first_name="Zoe").count() == 1
    assert Pupil.objects.count() == 24


def test_it_puts_back_what_is_missing_and_audits_it():
    _seed()
    Pupil.objects.filter(last_name="Nguyễn").delete()
    events = AuditEvent.objects.count()
    _seed()
    assert Pupil.objects.filter(last_name="Nguyễn").count() == 1
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.order_by("-seq").first().action == "demo.seeded"


def test_it_resets_passwords_when_asked():
    _seed()
    head = StaffUser.objects.get(email="head@oakfield.example")
    head.set_password("a different password 123")
    head.is_active = False
    head.save()
    _seed("--reset-passwords")
    assert authenticate(email="head@oakfield.example", password=DEMO_PASSWORD) is not None
    assert AuditEvent.objects.filter(action="demo.passwords_reset").count() == 1
