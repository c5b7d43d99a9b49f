"""python manage.py demo_lesson: a live lesson on the demo school that opens now."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from safeclass.audit.models import AuditEvent
from safeclass.invitations.services import link_state, resolve_token
from safeclass.lessons.models import Lesson, LessonStatus

pytestmark = pytest.mark.django_db


def _demo_lesson() -> str:
    out = io.StringIO()
    call_command("demo_lesson", stdout=out)
    return out.getvalue()


def test_it_needs_the_demo_school():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("demo_lesson", stdout=io.StringIO())


def test_it_adds_an_approved_lesson_whose_links_open_now_and_replaces_the_last_one():
    call_command("seed_demo", stdout=io.StringIO())
    first = _demo_lesson()
    lesson = Lesson.objects.get(status=LessonStatus.APPROVED)
    assert lesson.host.email == "teacher@oakfield.example"
    assert lesson.second_staff is not None and lesson.second_staff.email == "ta@oakfield.example"
    assert lesson.pupils.count() == 2
    tokens = re.findall(r"/join/([A-Za-z0-9_-]+)/", first)
    assert len(tokens) == 2
    for token in tokens:
        invitation = resolve_token(token)
        assert invitation is not None
        assert link_state(invitation, timezone.now()).state == "open"
    assert AuditEvent.objects.filter(action="lesson.approved", data__demo=True).exists()

    _demo_lesson()  # a second run cancels the first demo lesson: its links stop working
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.CANCELLED
    invitation = resolve_token(tokens[0])
    assert invitation is not None
    assert link_state(invitation, timezone.now()).state == "withdrawn"
    assert Lesson.objects.filter(status=LessonStatus.APPROVED).count() == 1


def test_the_one_adult_demo_is_booked_as_recorded_with_other_pupils():
    call_command("seed_demo", stdout=io.StringIO())
    _demo_lesson()
    out = io.StringIO()
    call_command("demo_lesson", "--one-adult", stdout=out)
    two, one = (Lesson.objects.get(status=LessonStatus.APPROVED, second_staff__isnull=flag)
                for flag in (False, True))
    assert one.host.email == "teacher@oakfield.example" and one.recorded
    assert not two.recorded
    assert one.pupils.count() == 2
    assert not set(one.pupils.all()) & set(two.pupils.all())
    tokens = re.findall(r"/join/([A-Za-z0-9_-]+)/", out.getvalue())
    assert len(tokens) == 2 and "recorded" in out.getvalue()
    for token in tokens:
        invitation = resolve_token(token)
        assert invitation is not None and invitation.lesson_id == one.pk
        assert link_state(invitation, timezone.now()).state == "open"
