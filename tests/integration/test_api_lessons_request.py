"""POST /api/v1/lessons: a teacher requests a lesson. 201 with the lesson, or 422 listing
every broken rule and every bad field, always in the one error shape."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from safeclass.audit.models import AuditEvent
from safeclass.lessons.models import Lesson
from safeclass.schools.models import LessonWindow
from tests import factories

URL = "/api/v1/lessons"


def post(client, user, body):
    raw = factories.make_api_token(user)
    return client.post(URL, data=body, content_type="application/json",
                       headers={"Authorization": f"Bearer {raw}"})


def valid_body(class_, **changes):
    # Recorded, so no second adult is needed unless a test names one.
    body = {"title": "Fractions", "group": class_.pk,
            "starts_at": factories.future_start().isoformat(), "duration_minutes": 30,
            "second_staff": None, "recorded": True}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def errors_of(response):
    assert response.status_code == 422, response.content
    body = response.json()
    assert list(body) == ["errors"]
    for err in body["errors"]:
        assert set(err) == {"rule", "message", "field"}
        assert err["message"]
    return body["errors"]


def test_it_creates_a_lesson_and_answers_with_it(client, teacher, ta, group):
    start = factories.future_start(days=4, hour=9, minute=30)
    # Sent with a +01:00 offset: stored and returned as the same moment in UTC.
    local = start.astimezone(timezone.get_fixed_timezone(60))
    response = post(client, teacher, valid_body(group, starts_at=local.isoformat(),
                                                title="Zoë's <b>fractions</b>",
                                                second_staff="ta@school.example",
                                                recorded=False))
    assert response.status_code == 201, response.content
    lesson = response.json()
    stored = Lesson.objects.get()
    assert lesson["id"] == stored.pk
    assert lesson["title"] == "Zoë's <b>fractions</b>"
    assert lesson["status"] == "pending_approval"
    assert lesson["starts_at"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert lesson["ends_at"] == (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stored.starts_at == start
    assert lesson["duration_minutes"] == 30
    assert lesson["host"] == {"email": "teacher@school.example", "name": "Tess Teacher"}
    assert lesson["requested_by"] == lesson["host"]
    assert lesson["second_staff"] == {"email": "ta@school.example", "name": "Tia Assistant"}
    assert lesson["group"] == {"id": group.pk, "name": "Year 4 Oak"}
    assert sorted(p["id"] for p in lesson["pupils"]) == sorted(
        group.pupils.values_list("pk", flat=True))
    assert lesson["recorded"] is False
    assert lesson["policy_version"] == 1
    assert lesson["decided_by"] is None and lesson["decided_at"] is None
    assert lesson["decline_reason"] == ""
    # The room id names the media room later: it never leaves the server.
    assert "room_id" not in lesson and stored.room_id not in response.content.decode()


def test_it_accepts_chosen_pupils_instead_of_a_class(client, teacher, group):
    chosen = list(group.pupils.all()[:2])
    response = post(client, teacher, valid_body(group, group=None,
                                                pupils=[p.pk for p in chosen]))
    assert response.status_code == 201, response.content
    assert response.json()["group"] is None
    assert {p["id"] for p in response.json()["pupils"]} == {p.pk for p in chosen}


def test_it_accepts_a_recorded_lesson_without_a_second_adult(client, teacher, group):
    response = post(client, teacher, valid_body(group, second_staff=None, recorded=True))
    assert response.status_code == 201, response.content
    assert response.json()["second_staff"] is None


def test_it_writes_an_audit_event(client, teacher, ta, group):
    before = AuditEvent.objects.count()
    post(client, teacher, valid_body(group))
    assert AuditEvent.objects.count() > before


def test_it_lists_every_violation_of_a_bad_request_at_once(client, db):
    # The issue's worked example: 45 minutes, on a Saturday, for one pupil, with no
    # second adult, at a school open Monday to Friday.
    school = factories.make_school(name="Weekday School", domain="weekday.example",
                                   open_all_week=False)
    for day in range(5):
        LessonWindow.objects.create(school=school, weekday=day, starts=time(9), ends=time(12))
    host = factories.make_staff(school, roles=("teacher",))
    group = factories.make_group(school, pupils=3)
    saturday = timezone.now().date() + timedelta(days=7)
    while saturday.weekday() != 5:
        saturday += timedelta(days=1)
    starts = datetime.combine(saturday, time(10), tzinfo=UTC)
    response = post(client, host, {
        "title": "Saturday maths", "pupils": [group.pupils.first().pk],
        "starts_at": starts.isoformat(), "duration_minutes": 45, "second_staff": None,
        "recorded": False})
    errors = errors_of(response)
    assert {e["rule"] for e in errors} == {"max-duration", "lesson-hours", "group-only",
                                           "second-adult-or-recording"}
    assert len(errors) == 4
    by_rule = {e["rule"]: e for e in errors}
    assert by_rule["max-duration"]["field"] == "duration_minutes"
    assert by_rule["lesson-hours"]["field"] == "starts_at"
    assert by_rule["group-only"]["field"] == "pupils"
    assert by_rule["second-adult-or-recording"]["field"] == "second_staff"
    assert not Lesson.objects.exists()


@pytest.mark.parametrize("starts_at", ["2030-03-04T10:00:00", "2030-03-04T10:00",
                                       "2030-03-04", "next tuesday", "", 1893751200])
def test_it_refuses_a_start_without_an_offset(client, teacher, group, starts_at):
    errors = errors_of(post(client, teacher, valid_body(group, starts_at=starts_at)))
    assert [(e["field"], e["rule"]) for e in errors] == [("starts_at", None)]
    assert "offset" in errors[0]["message"]
    assert not Lesson.objects.exists()


@pytest.mark.parametrize("minutes", [0, 10_000, -5])
def test_it_refuses_durations_the_policy_does_not_allow(client, teacher, group, minutes):
    errors = errors_of(post(client, teacher, valid_body(group, duration_minutes=minutes)))
    # A very long lesson also runs past the end of the day (lesson-hours).
    assert ("max-duration", "duration_minutes") in {(e["rule"], e["field"]) for e in errors}
    assert all(e["rule"] in {"max-duration", "lesson-hours"} for e in errors)


@pytest.mark.parametrize("minutes", [10**12, "30", 30.5, True, None])
def test_it_refuses_durations_that_are_not_sensible_whole_numbers(client, teacher, group,
                                                                   minutes):
    errors = errors_of(post(client, teacher, valid_body(group, duration_minutes=minutes)))
    assert [(e["rule"], e["field"]) for e in errors] == [(None, "duration_minutes")]


def test_it_refuses_pupils_that_are_not_the_schools_own(client, teacher, group, other_school):
    theirs = factories.make_pupil(factories.make_group(other_school, pupils=0))
    ours = list(group.pupils.values_list("pk", flat=True))
    errors = errors_of(post(client, teacher, valid_body(
        group, group=None, pupils=[*ours, theirs.pk, 987654])))
    assert [(e["rule"], e["field"]) for e in errors] == [("invited-pupils-only", "pupils")]
    assert str(theirs.pk) in errors[0]["message"] and "987654" in errors[0]["message"]
    assert not Lesson.objects.exists()


def test_it_refuses_another_schools_class_like_an_unknown_one(client, teacher, other_school):
    theirs = factories.make_group(other_school, pupils=3)
    errors = errors_of(post(client, teacher, valid_body(theirs)))
    assert [(e["rule"], e["field"]) for e in errors] == [(None, "group")]
    unknown = errors_of(post(client, teacher, valid_body(theirs, group=987654)))
    assert unknown[0]["message"].replace("987654", "N") == errors[0]["message"].replace(
        str(theirs.pk), "N")


@pytest.mark.parametrize("change", [{"pupils": [1, 2]}, {"group": None}])
def test_it_wants_exactly_one_of_class_or_pupils(client, teacher, group, change):
    errors = errors_of(post(client, teacher, valid_body(group, **change)))
    assert [(e["rule"], e["field"]) for e in errors] == [(None, "group")]


def test_it_refuses_a_second_adult_outside_the_school_domain(client, teacher, group, outsider):
    for email in ("someone@gmail.example", outsider.email, "ta@school.example.evil.example"):
        errors = errors_of(post(client, teacher, valid_body(group, second_staff=email)))
        assert [(e["rule"], e["field"]) for e in errors] == [("school-account", "second_staff")]


def test_it_refuses_an_unknown_second_adult_in_the_school_domain(client, teacher, group):
    body = valid_body(group, second_staff="nobody@school.example")
    errors = errors_of(post(client, teacher, body))
    assert [(e["rule"], e["field"]) for e in errors] == [(None, "second_staff")]
    assert "nobody@school.example" in errors[0]["message"]


def test_it_finds_the_second_adult_whatever_the_case_of_the_email(client, teacher, ta, group):
    response = post(client, teacher, valid_body(group, second_staff="TA@School.Example",
                                                recorded=False))
    assert response.status_code == 201, response.content
    assert response.json()["second_staff"]["email"] == "ta@school.example"


@pytest.mark.parametrize("title", ["Maths\u202eevil", "Maths\x00", "Line\nbreak", "   ", "",
                                   "x" * 201])
def test_it_refuses_titles_with_control_characters_or_nothing_in_them(client, teacher, group,
                                                                       title):
    errors = errors_of(post(client, teacher, valid_body(group, title=title)))
    assert [(e["rule"], e["field"]) for e in errors] == [(None, "title")]


def test_it_names_every_missing_field(client, teacher):
    errors = errors_of(post(client, teacher, {}))
    fields = {e["field"] for e in errors}
    assert {"title", "starts_at", "duration_minutes", "recorded"} <= fields
    assert all(e["rule"] is None for e in errors)


def test_it_refuses_fields_it_does_not_know(client, teacher, group):
    errors = errors_of(post(client, teacher, valid_body(group, second_staf="ta@school.example")))
    assert [(e["rule"], e["field"]) for e in errors] == [(None, "second_staf")]


def test_it_refuses_a_body_that_is_not_json(client, teacher):
    raw = factories.make_api_token(teacher)
    response = client.post(URL, data="{not json", content_type="application/json",
                           headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 400
    (err,) = response.json()["errors"]
    assert err["rule"] is None and "JSON" in err["message"]


def test_it_reports_a_start_in_the_past_by_its_check_id(client, teacher, ta, group):
    past = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    errors = errors_of(post(client, teacher, valid_body(group, starts_at=past.isoformat())))
    assert ("start-in-past", "starts_at") in {(e["rule"], e["field"]) for e in errors}


def test_it_reports_a_double_booked_host(client, teacher, ta, group):
    assert post(client, teacher, valid_body(group)).status_code == 201
    errors = errors_of(post(client, teacher, valid_body(group, title="Again")))
    assert "host-double-booked" in {e["rule"] for e in errors}


@pytest.mark.parametrize("who", ["ta", "head", "deputy", "slt", "admin"])
def test_it_lets_only_teachers_request(client, request, who, group):
    response = post(client, request.getfixturevalue(who), valid_body(group))
    assert response.status_code == 403
    (err,) = response.json()["errors"]
    assert err["rule"] is None and err["message"]
    assert not Lesson.objects.exists()
