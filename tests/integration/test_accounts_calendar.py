"""The calendar feed: a secret URL per staff member with their approved lessons, and no
pupil names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from safeclass.accounts import services
from safeclass.accounts.models import CalendarFeed, hash_secret
from safeclass.audit.models import AuditEvent
from safeclass.lessons.models import Lesson, LessonStatus
from safeclass.schools.models import PolicyVersion

pytestmark = pytest.mark.django_db

FEED_RE = re.compile(r"http://[^\"\s]+/account/calendar/([A-Za-z0-9_-]+)\.ics")
# The lessons below are in March 2031; the feed holds lessons from 30 days ago to 365
# days ahead, so every test runs as if it were the day before.
NOW = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _early_march_2031():
    with time_machine.travel(NOW, tick=True):
        yield


def _policy(school):
    try:
        from safeclass.schools.services import current_policy

        return current_policy(school)
    except NotImplementedError:
        version, _ = PolicyVersion.objects.get_or_create(school=school, number=1,
                                                         defaults={"settings": {}})
        return version


def make_lesson(host, *, title="Fractions", status=LessonStatus.APPROVED, group=None,
                pupils=(), second_staff=None, starts_at=None, duration=30):
    lesson = Lesson.objects.create(
        school=host.school, title=title, host=host, second_staff=second_staff, group=group,
        starts_at=starts_at or datetime(2031, 3, 4, 9, 30, tzinfo=UTC),
        duration_minutes=duration, status=status, policy_version=_policy(host.school),
        requested_by=host)
    lesson.pupils.set(pupils or (group.pupils.all() if group else ()))
    return lesson


def _feed(client, raw):
    return client.get(reverse("accounts:calendar_feed", args=[raw]))


def _events(response):
    cal = Calendar.from_ical(response.content)
    return {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}


def test_it_serves_approved_lessons_without_pupil_names(client, teacher, ta, group):
    for pupil in group.pupils.all()[:2]:
        pupil.first_name, pupil.last_name = "Zoë", "Nguyễn-O'Brien"
        pupil.save()
    start = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)
    approved = make_lesson(teacher, title="Fractions", group=group, second_staff=ta,
                           starts_at=start)
    make_lesson(teacher, title="Waiting", group=group, status=LessonStatus.PENDING_APPROVAL)
    make_lesson(teacher, title="Declined", group=group, status=LessonStatus.DECLINED)
    make_lesson(teacher, title="Cancelled", group=group, status=LessonStatus.CANCELLED)
    make_lesson(teacher, title="Live now", group=group, status=LessonStatus.LIVE,
                starts_at=start + timedelta(days=1))
    raw = services.do_create_calendar_link(teacher, actor=teacher)

    response = _feed(client, raw)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Cache-Control"] == "private, no-store"
    events = _events(response)
    assert set(events) == {"Fractions", "Live now"}
    event = events["Fractions"]
    assert event["DTSTART"].dt == start
    assert event["DTEND"].dt == start + timedelta(minutes=30)
    assert b"DTSTART:20310304T093000Z" in response.content
    assert str(event["UID"]) == f"lesson-{approved.pk}@127.0.0.1"
    description = str(event["DESCRIPTION"])
    assert "Year 4 Oak" in description
    assert f"http://127.0.0.1:8000/lessons/{approved.pk}/" in description
    body = response.content.decode()
    for pupil in group.pupils.all():
        assert pupil.first_name not in body
        assert pupil.last_name not in body
    assert "Nguy" not in body


def test_it_serves_lessons_where_the_person_is_second_staff(client, teacher, ta, group):
    make_lesson(teacher, title="Supported", group=group, second_staff=ta)
    make_lesson(teacher, title="Not theirs", group=group)
    raw = services.do_create_calendar_link(ta, actor=ta)
    assert set(_events(_feed(client, raw))) == {"Supported"}


def test_it_does_not_show_other_staffs_lessons(client, teacher, teacher2, group):
    make_lesson(teacher2, title="Someone else's", group=group)
    raw = services.do_create_calendar_link(teacher, actor=teacher)
    assert _events(_feed(client, raw)) == {}


def test_it_counts_chosen_pupils_without_naming_them(client, teacher, group):
    pupils = tuple(group.pupils.all()[:2])
    make_lesson(teacher, title="Small group", pupils=pupils)
    raw = services.do_create_calendar_link(teacher, actor=teacher)
    response = _feed(client, raw)
    description = str(_events(response)["Small group"]["DESCRIPTION"])
    assert "Chosen pupils: 2" in description
    for pupil in pupils:
        assert pupil.first_name not in response.content.decode()


def test_it_keeps_the_uid_stable_when_a_lesson_changes(client, teacher, group):
    lesson = make_lesson(teacher, title="Before", group=group)
    raw = services.do_create_calendar_link(teacher, actor=teacher)
    uid = str(_events(_feed(client, raw))["Before"]["UID"])
    lesson.title = "After"
    lesson.starts_at += timedelta(hours=1)
    lesson.save()
    assert str(_events(_feed(client, raw))["After"]["UID"]) == uid


def test_it_keeps_odd_titles_intact(client, teacher, group):
    make_lesson(teacher, title="Maths; <b>fun</b>, part 2\\3", group=group)
    raw = services.do_create_calendar_link(teacher, actor=teacher)
    events = _events(_feed(client, raw))
    assert "Maths; <b>fun</b>, part 2\\3" in events


@pytest.mark.parametrize("raw", ["nonsense", "A" * 43, "x" * 300])
def test_it_answers_404_for_unknown_tokens(client, teacher, raw):
    services.do_create_calendar_link(teacher, actor=teacher)
    assert _feed(client, raw).status_code == 404


def test_it_stops_the_old_link_when_a_new_one_is_made(client, teacher, group):
    make_lesson(teacher, group=group)
    first = services.do_create_calendar_link(teacher, actor=teacher)
    second = services.do_create_calendar_link(teacher, actor=teacher)
    assert _feed(client, first).status_code == 404
    assert _feed(client, second).status_code == 200
    assert CalendarFeed.objects.filter(user=teacher).count() == 1
    assert CalendarFeed.objects.get(user=teacher).token_hash == hash_secret(second)
    events = AuditEvent.objects.filter(action="calendar.link_created").order_by("seq")
    assert [e.data["replaced_previous"] for e in events] == [False, True]


def test_it_stops_the_feed_of_an_inactive_account(client, teacher):
    raw = services.do_create_calendar_link(teacher, actor=teacher)
    teacher.is_active = False
    teacher.save()
    assert _feed(client, raw).status_code == 404


def test_it_refuses_post_on_the_feed(client, teacher):
    raw = services.do_create_calendar_link(teacher, actor=teacher)
    assert client.post(reverse("accounts:calendar_feed", args=[raw])).status_code == 405


# --- making the link on the security page -------------------------------------------------

def test_it_shows_a_new_calendar_link_once(client, teacher, group):
    make_lesson(teacher, group=group)
    client.force_login(teacher)
    response = client.post(reverse("accounts:calendar_new"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "This is the only time it is shown" in html
    assert "never shows pupils" in html
    raw = FEED_RE.search(html).group(1)
    assert CalendarFeed.objects.get(user=teacher).token_hash == hash_secret(raw)
    assert raw not in CalendarFeed.objects.get(user=teacher).token_hash
    anonymous = type(client)()
    assert _feed(anonymous, raw).status_code == 200
    again = client.get(reverse("accounts:security")).content.decode()
    assert raw not in again
    assert "Create a new calendar link" in again


def test_it_refuses_get_on_calendar_new(client, teacher):
    client.force_login(teacher)
    assert client.get(reverse("accounts:calendar_new")).status_code == 405
    assert not CalendarFeed.objects.exists()


def test_it_sends_anonymous_calendar_new_to_sign_in(client, school):
    response = client.post(reverse("accounts:calendar_new"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not CalendarFeed.objects.exists()


def test_it_gives_every_staff_member_their_own_link(client, teacher, ta):
    client.force_login(ta)
    client.post(reverse("accounts:calendar_new"))
    client.force_login(teacher)
    client.post(reverse("accounts:calendar_new"))
    assert CalendarFeed.objects.count() == 2


def test_it_keeps_lessons_from_30_days_ago_to_365_days_ahead(client, teacher, group):
    now = timezone.now()
    for title, days in (("Too old", -31), ("Last month", -29), ("Yesterday", -1),
                        ("Next year", 364), ("Too far ahead", 366), ("Years ago", -400)):
        make_lesson(teacher, title=title, group=group, starts_at=now + timedelta(days=days))
    raw = services.do_create_calendar_link(teacher, actor=teacher)
    assert set(_events(_feed(client, raw))) == {"Last month", "Yesterday", "Next year"}


def test_it_drops_a_lesson_from_the_feed_once_it_is_a_month_old(client, teacher, group):
    make_lesson(teacher, title="Fractions", group=group, starts_at=NOW + timedelta(days=1))
    raw = services.do_create_calendar_link(teacher, actor=teacher)
    assert set(_events(_feed(client, raw))) == {"Fractions"}
    with time_machine.travel(NOW + timedelta(days=32), tick=False):
        assert _events(_feed(client, raw)) == {}
