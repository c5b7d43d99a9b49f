"""Requesting a lesson: every policy rule, through the service and through the form page,
double bookings, a start in the past, and times entered in the school's time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from safeclass.audit.models import AuditEvent
from safeclass.lessons.models import Lesson, LessonStatus
from safeclass.lessons.services import (
    ActionNotAllowed,
    LessonDraft,
    LessonRejected,
    do_request_lesson,
)
from safeclass.schools.models import LessonWindow
from safeclass.schools.services import current_policy, do_edit_policy, policy_settings
from tests import factories

pytestmark = pytest.mark.django_db

# Wednesday 6 March 2030, midday in London (GMT): "now" for the demo-timetable tests.
WEDNESDAY = datetime(2030, 3, 6, 12, 0, tzinfo=UTC)
SATURDAY = "2030-03-09"
THURSDAY = "2030-03-07"


def demo_timetable_school():
    """Like the demo school: Monday to Friday 09:00–12:00 and 13:00–15:15, London."""
    school = factories.make_school(name="Oak <b>Primary</b>", domain="oak.example",
                                   open_all_week=False)
    for day in range(5):
        LessonWindow.objects.create(school=school, weekday=day, starts=time(9), ends=time(12))
        LessonWindow.objects.create(school=school, weekday=day, starts=time(13),
                                    ends=time(15, 15))
    return school


@pytest.fixture
def oak():
    school = demo_timetable_school()
    return {
        "school": school,
        "teacher": factories.make_staff(school, "t@oak.example", ("teacher",), "Tara"),
        "ta": factories.make_staff(school, "ta@oak.example", ("staff",), "Theo"),
        "group": factories.make_group(school, "Year 4 Oak", pupils=4),
    }


def draft(host, group=None, **changes):
    values = {"title": "Fractions", "host": host, "second_staff": None, "group": group,
              "pupils": (), "starts_at": factories.future_start(), "duration_minutes": 30,
              "recorded": True}
    values.update(changes)
    return LessonDraft(**values)


def rules_of(exc_info):
    return [(v.rule, v.field) for v in exc_info.value.violations]


def form_data(group=None, pupils=(), **changes):
    data = {"title": "Fractions", "group": group.pk if group else "",
            "pupils": [p.pk for p in pupils], "date": THURSDAY, "start_time": "10:00",
            "duration_minutes": "30", "second_staff": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# The service ------------------------------------------------------------------------------

def test_it_creates_a_pending_lesson_for_the_whole_class(teacher, ta, group):
    lesson = do_request_lesson(draft(teacher, group, second_staff=ta, recorded=False),
                               actor=teacher)
    assert lesson.status == LessonStatus.PENDING_APPROVAL
    assert set(lesson.pupils.all()) == set(group.pupils.all())
    assert lesson.policy_version == current_policy(teacher.school)
    assert lesson.requested_by == teacher
    assert len(lesson.room_id) == 32
    event = AuditEvent.objects.get(action="lesson.requested")
    assert event.object_id == str(lesson.pk)
    assert event.data["pupils"] == sorted(group.pupils.values_list("pk", flat=True))
    assert lesson.room_id not in str(event.data)


def test_it_gives_every_lesson_its_own_room(teacher, group):
    first = do_request_lesson(draft(teacher, group), actor=teacher)
    second = do_request_lesson(draft(teacher, group, starts_at=factories.future_start(days=4)),
                               actor=teacher)
    assert first.room_id != second.room_id


def test_it_lists_the_four_violations_of_a_saturday_request(oak):
    with time_machine.travel(WEDNESDAY, tick=False):
        pupil = oak["group"].pupils.first()
        with pytest.raises(LessonRejected) as exc:
            do_request_lesson(draft(oak["teacher"], pupils=(pupil,),
                                    starts_at=datetime(2030, 3, 9, 10, tzinfo=UTC),
                                    duration_minutes=45, recorded=False), actor=oak["teacher"])
    assert sorted(rules_of(exc)) == sorted([
        ("max-duration", "duration_minutes"), ("lesson-hours", "starts_at"),
        ("group-only", "pupils"), ("second-adult-or-recording", "second_staff")])
    assert not Lesson.objects.exists()


def test_it_refuses_a_lesson_across_the_lunch_break(oak):
    with time_machine.travel(WEDNESDAY, tick=False), pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(oak["teacher"], oak["group"],
                                starts_at=datetime(2030, 3, 7, 11, 45, tzinfo=UTC)),
                          actor=oak["teacher"])
    assert rules_of(exc) == [("lesson-hours", "starts_at")]


def test_it_checks_lesson_hours_in_the_school_time_zone_across_the_clock_change(oak):
    # Monday 1 April 2030 is British Summer Time: 09:00 local is 08:00Z.
    with time_machine.travel(datetime(2030, 3, 27, 12, tzinfo=UTC), tick=False):
        lesson = do_request_lesson(draft(oak["teacher"], oak["group"],
                                         starts_at=datetime(2030, 4, 1, 8, tzinfo=UTC)),
                                   actor=oak["teacher"])
        assert lesson.pk
        with pytest.raises(LessonRejected) as exc:
            # 07:30Z is 08:30 local: before the school's lesson times.
            do_request_lesson(draft(oak["teacher"], oak["group"],
                                    starts_at=datetime(2030, 4, 2, 7, 30, tzinfo=UTC)),
                              actor=oak["teacher"])
    assert rules_of(exc) == [("lesson-hours", "starts_at")]


@pytest.mark.parametrize("minutes", [0, 31, 10_000])
def test_it_refuses_lengths_outside_the_policy(teacher, group, minutes):
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher, group, duration_minutes=minutes), actor=teacher)
    # 10,000 minutes also runs past the end of any lesson time.
    assert rules_of(exc)[0] == ("max-duration", "duration_minutes")


def test_it_refuses_one_to_one_lessons(teacher, group):
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher, pupils=(group.pupils.first(),)), actor=teacher)
    assert rules_of(exc) == [("group-only", "pupils")]


def test_it_wants_a_second_adult_or_a_recording(teacher, group, ta):
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher, group, recorded=False), actor=teacher)
    assert rules_of(exc) == [("second-adult-or-recording", "second_staff")]
    assert do_request_lesson(draft(teacher, group, second_staff=ta, recorded=False),
                             actor=teacher).pk


def test_it_refuses_a_second_adult_who_is_not_staff_or_is_the_host(teacher, group, admin):
    for second in (teacher, admin):
        with pytest.raises(LessonRejected) as exc:
            do_request_lesson(draft(teacher, group, second_staff=second, recorded=False),
                              actor=teacher)
        assert rules_of(exc) == [("second-adult-or-recording", "second_staff")]


def test_it_refuses_a_host_outside_the_school_email_domain(school, group):
    stray = factories.make_staff(school, "stray@gmail.example", ("teacher",))
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(stray, group), actor=stray)
    assert rules_of(exc) == [("school-account", "host")]


def test_it_refuses_a_second_adult_from_another_school(teacher, group, outsider):
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher, group, second_staff=outsider, recorded=False),
                          actor=teacher)
    assert ("school-account", "second_staff") in rules_of(exc)


def test_it_refuses_a_host_who_is_no_longer_active(school, group):
    gone = factories.make_staff(school, roles=("teacher",), active=False)
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(gone, group), actor=gone)
    assert rules_of(exc) == [("staff-host-only", "host")]


def test_it_refuses_pupils_of_another_school(teacher, group, other_school):
    theirs = factories.make_pupil(factories.make_group(other_school))
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher, pupils=(*group.pupils.all(), theirs)), actor=teacher)
    assert rules_of(exc) == [("invited-pupils-only", "pupils")]
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher, theirs.group), actor=teacher)
    assert ("invited-pupils-only", "group") in rules_of(exc)


def test_it_refuses_a_start_in_the_past(teacher, group):
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher, group, starts_at=factories.future_start(days=-2)),
                          actor=teacher)
    assert rules_of(exc) == [("start-in-past", "starts_at")]


def test_it_refuses_a_double_booked_host_second_adult_and_pupils(teacher, teacher2, ta, group,
                                                                 school):
    start = factories.future_start()
    do_request_lesson(draft(teacher, group, second_staff=ta, starts_at=start), actor=teacher)
    # Overlapping by ten minutes: same host, same second adult, two of the same pupils.
    p1, p2 = group.pupils.all()[:2]
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher, pupils=(p1, p2), second_staff=ta,
                                starts_at=start + timedelta(minutes=20)), actor=teacher)
    assert sorted(rules_of(exc)) == sorted([
        ("host-double-booked", "host"), ("second-staff-double-booked", "second_staff"),
        ("pupil-double-booked", "pupils")])
    message = next(v.message for v in exc.value.violations if v.rule == "pupil-double-booked")
    assert p1.full_name in message and p2.full_name in message
    # Another teacher, the same pupils: only the pupils clash.
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher2, pupils=(p1, p2), starts_at=start - timedelta(
            minutes=29)), actor=teacher2)
    assert rules_of(exc) == [("pupil-double-booked", "pupils")]


def test_it_allows_back_to_back_lessons_and_ignores_declined_ones(teacher, deputy, group):
    from safeclass.lessons.services import do_decline_lesson

    start = factories.future_start()
    first = do_request_lesson(draft(teacher, group, starts_at=start), actor=teacher)
    assert do_request_lesson(draft(teacher, group, starts_at=start + timedelta(minutes=30)),
                             actor=teacher).pk
    do_decline_lesson(first, "No", actor=deputy)
    assert do_request_lesson(draft(teacher, group, starts_at=start), actor=teacher).pk


def test_it_follows_the_schools_own_policy(teacher, head, group):
    settings = policy_settings(current_policy(teacher.school))
    from dataclasses import replace

    do_edit_policy(teacher.school, replace(settings, max_duration_minutes=20), actor=head)
    with pytest.raises(LessonRejected) as exc:
        do_request_lesson(draft(teacher, group, duration_minutes=25), actor=teacher)
    assert "at most 20 minutes" in exc.value.violations[0].message
    lesson = do_request_lesson(draft(teacher, group, duration_minutes=20), actor=teacher)
    assert lesson.policy_version.number == 2


def test_it_lets_only_teachers_request_their_own_lessons(teacher, teacher2, ta, head, group):
    with pytest.raises(ActionNotAllowed):
        do_request_lesson(draft(teacher, group), actor=teacher2)
    with pytest.raises(ActionNotAllowed):
        do_request_lesson(draft(ta, group), actor=ta)
    # An approver may ask on a teacher's behalf.
    assert do_request_lesson(draft(teacher, group), actor=head).requested_by == head


def test_it_refuses_titles_with_hidden_characters(teacher, group):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        do_request_lesson(draft(teacher, group, title="Maths\u202eevil"), actor=teacher)
    assert "title" in exc.value.message_dict


# The form page ----------------------------------------------------------------------------

def test_it_shows_the_request_form_with_the_schools_people(client, oak):
    client.force_login(oak["teacher"])
    response = client.get(reverse("lessons:request"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'type="date"' in body and 'type="time"' in body
    assert "Year 4 Oak" in body and "Theo (ta@oak.example)" in body
    # The host is not offered as their own second adult.
    assert "t@oak.example)" not in body


def test_it_shows_every_violation_of_a_saturday_request_on_the_form(client, oak):
    pupil = oak["group"].pupils.first()
    with time_machine.travel(WEDNESDAY, tick=False):
        client.force_login(oak["teacher"])
        response = client.post(reverse("lessons:request"), form_data(
            pupils=[pupil], date=SATURDAY, duration_minutes="45", title="Saturday <b>maths</b>"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "There are 4 problems" in body
    for rule, field in [("max-duration", "duration_minutes"), ("lesson-hours", "date"),
                        ("group-only", "pupils"), ("second-adult-or-recording", "second_staff")]:
        assert f'<code class="rule-id">{rule}</code>' in body
        assert f'href="#id_{field}"' in body
    assert 'id="id_pupils"' in body and 'id="id_date"' in body
    # The teacher's input is kept, and escaped.
    assert 'value="Saturday &lt;b&gt;maths&lt;/b&gt;"' in body
    assert 'value="2030-03-09"' in body and 'value="45"' in body
    assert re.search(rf'value="{pupil.pk}"[^>]*checked', body)
    assert "<b>maths</b>" not in body
    assert not Lesson.objects.exists()


def test_it_creates_the_lesson_from_the_form_in_school_time(client, oak):
    # Thursday 1 August 2030 10:00 in London is 09:00Z (summer time).
    with time_machine.travel(datetime(2030, 7, 29, 12, tzinfo=UTC), tick=False):
        client.force_login(oak["teacher"])
        response = client.post(reverse("lessons:request"), form_data(
            group=oak["group"], date="2030-08-01", second_staff=str(oak["ta"].pk)))
    lesson = Lesson.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("lessons:detail", args=[lesson.pk])
    assert lesson.starts_at == datetime(2030, 8, 1, 9, tzinfo=UTC)
    assert lesson.second_staff == oak["ta"]
    assert lesson.pupils.count() == 4


def test_it_refuses_a_time_that_does_not_exist_on_the_day_the_clocks_change(client, school,
                                                                           teacher, group):
    with time_machine.travel(datetime(2030, 3, 20, 12, tzinfo=UTC), tick=False):
        client.force_login(teacher)
        response = client.post(reverse("lessons:request"), form_data(
            group=group, date="2030-03-31", start_time="01:30", recorded="on"))
    assert response.status_code == 200
    assert "clocks change" in response.content.decode()
    assert not Lesson.objects.exists()


def test_it_wants_a_class_or_pupils_but_not_both(client, teacher, group):
    client.force_login(teacher)
    nobody = client.post(reverse("lessons:request"), form_data(recorded="on"))
    assert "Choose who the lesson is for" in nobody.content.decode()
    both = client.post(reverse("lessons:request"), form_data(
        group=group, pupils=list(group.pupils.all()), recorded="on"))
    assert "not both" in both.content.decode()
    assert not Lesson.objects.exists()


def test_it_shows_double_bookings_and_a_past_start_on_the_form(client, teacher, group):
    with time_machine.travel(datetime(2030, 3, 6, 12, tzinfo=UTC), tick=False):
        client.force_login(teacher)
        client.post(reverse("lessons:request"), form_data(group=group, recorded="on"))
        again = client.post(reverse("lessons:request"), form_data(group=group, recorded="on",
                                                                  title="Again"))
        past = client.post(reverse("lessons:request"), form_data(
            group=group, recorded="on", date="2030-03-06", start_time="11:00"))
    assert '<code class="rule-id">host-double-booked</code>' in again.content.decode()
    assert '<code class="rule-id">pupil-double-booked</code>' in again.content.decode()
    assert '<code class="rule-id">start-in-past</code>' in past.content.decode()
    assert Lesson.objects.count() == 1


def test_it_refuses_a_pupil_id_from_another_school_on_the_form(client, teacher, group,
                                                               other_school):
    theirs = factories.make_pupil(factories.make_group(other_school))
    client.force_login(teacher)
    response = client.post(reverse("lessons:request"), form_data(
        pupils=[*group.pupils.all(), theirs], recorded="on"))
    assert response.status_code == 200
    assert 'href="#id_pupils"' in response.content.decode()
    assert not Lesson.objects.exists()


def test_it_escapes_names_on_the_form(client, teacher, group):
    factories.make_pupil(group, first_name="<b>Zoë</b>", last_name="O'Brien")
    client.force_login(teacher)
    body = client.get(reverse("lessons:request")).content.decode()
    assert "&lt;b&gt;Zoë&lt;/b&gt; O&#x27;Brien" in body
    assert "<b>Zoë</b>" not in body
