"""The policy core's words in Welsh: a Welsh school's lesson request form shows why a request
breaks the rules in Welsh (day and month names too, rule ids as they are), its policy pages
show the rules in Welsh (the policy's own sentences stay English: they are quotes), and
what SafeClass writes down itself (removal holds, incidents) is stored in the school's
language. The API's messages follow the request's Accept-Language (docs/translation.md)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, time

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from safeclass.live import recording as live_recording
from safeclass.live import services as live_services
from safeclass.live.models import (
    Incident,
    IncidentKind,
    LiveRun,
    Presence,
    PresenceRole,
    PresenceState,
    RecordingProblem,
    RemovalHold,
)
from safeclass.policy import EXTRA_CHECKS, RULES
from safeclass.policy.timetable import MONTH_NAMES, OUTSIDE_WINDOWS
from safeclass.schools.models import LessonWindow
from tests import factories

from .test_translations_welsh import PO_FILE, read_po

# Wednesday 6 March 2030, midday in London: "now" for the lesson request.
WEDNESDAY = datetime(2030, 3, 6, 12, 0, tzinfo=UTC)
SATURDAY = "2030-03-09"


def welsh(school):
    school.language = "cy"
    school.save(update_fields=["language"])
    return school


@pytest.fixture
def oak(db):
    """A Welsh school with the demo timetable: Monday to Friday 09:00–12:00 and
    13:00–15:15, London."""
    school = welsh(factories.make_school(name="Ysgol Derw", domain="derw.example",
                                         open_all_week=False))
    for day in range(5):
        LessonWindow.objects.create(school=school, weekday=day, starts=time(9), ends=time(12))
        LessonWindow.objects.create(school=school, weekday=day, starts=time(13),
                                    ends=time(15, 15))
    return {
        "school": school,
        "teacher": factories.make_staff(school, "t@derw.example", ("teacher",), "Tara"),
        "head": factories.make_staff(school, "head@derw.example", ("approver", "dsl"), "Huw"),
        "group": factories.make_group(school, "Blwyddyn 4", pupils=4),
    }


def text_of(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


# The lesson request form ---------------------------------------------------------------------

@pytest.mark.django_db
def test_a_welsh_school_sees_why_a_saturday_request_breaks_the_rules_in_welsh(client, oak):
    pupil = oak["group"].pupils.first()
    with time_machine.travel(WEDNESDAY, tick=False):
        client.force_login(oak["teacher"])
        body = text_of(client.post(reverse("lessons:request"), {
            "title": "Mathemateg", "group": "", "pupils": [pupil.pk], "date": SATURDAY,
            "start_time": "10:00", "duration_minutes": "45", "second_staff": ""}))
    for rule in ("max-duration", "lesson-hours", "group-only", "second-adult-or-recording"):
        assert f'<code class="rule-id">{rule}</code>' in body
        assert f"({rule})" in body  # the id inside the message, untranslated
    assert "Gall gwersi bara 30 munud ar y mwyaf (max-duration)." in body
    # Days, the run of days, "and", the date and the month, all in Welsh.
    assert ("(lesson-hours): dydd Llun i ddydd Gwener 09:00–12:00 a 13:00–15:15. "
            "Yr amser y gofynnoch amdano: dydd Sadwrn 9 Mawrth 2030, 10:00–10:45 "
            "(amser Europe/London).") in body
    assert "gwahoddwch o leiaf 2 ddisgybl. Mae gan y wers hon 1." in body
    assert "ticiwch \"Recordio'r wers hon\"" in body
    for english in ("Monday", "Saturday", "March", "Lessons must be", "You asked for",
                    "Record this lesson"):
        assert english not in body


@pytest.mark.django_db
def test_an_english_school_still_sees_english(client, oak):
    school = oak["school"]
    school.language = "en-gb"
    school.save(update_fields=["language"])
    pupil = oak["group"].pupils.first()
    with time_machine.travel(WEDNESDAY, tick=False):
        client.force_login(oak["teacher"])
        body = text_of(client.post(reverse("lessons:request"), {
            "title": "Maths", "group": "", "pupils": [pupil.pk], "date": SATURDAY,
            "start_time": "10:00", "duration_minutes": "45", "second_staff": ""},
            HTTP_ACCEPT_LANGUAGE="cy"))
    assert ("(lesson-hours): Monday to Friday 09:00–12:00 and 13:00–15:15. You asked for "
            "Saturday 9 March 2030, 10:00–10:45 (Europe/London time).") in body


# The policy pages ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_welsh_schools_policy_page_shows_the_rules_in_welsh(client, oak):
    client.force_login(oak["teacher"])
    body = text_of(client.get(reverse("schools:policy")))
    row = body.split('id="rule-approval-required"')[1].split("</tr>")[0]
    assert "Y pennaeth yn cymeradwyo pob gwers" in row
    assert "Mae pob gwers fyw yn cael ei threfnu ymlaen llaw" in row
    # The policy's own sentence is a quote of the school's English document.
    assert ('<q lang="en-gb">All live video contact between school staff and students will '
            "be arranged in advance") in row
    row = body.split('id="rule-lesson-hours"')[1].split("</tr>")[0]
    assert "Gwersi yn ystod oriau ysgol" in row
    assert "dydd Llun i ddydd Gwener 09:00–12:00 a 13:00–15:15" in row
    for rule in RULES:
        assert rule.title not in body, rule.id


@pytest.mark.django_db
def test_a_welsh_schools_policy_edit_page_is_in_welsh(client, oak):
    client.force_login(oak["head"])
    page = text_of(client.get(reverse("schools:policy_edit")))
    assert "Y pennaeth yn cymeradwyo pob gwers (approval-required)" in page
    assert "Dim ond aelod o'r staff addysgu all drefnu a chynnal gwers." in page
    refused = text_of(client.post(reverse("schools:policy_edit"), {
        **{str(r.id): "on" for r in RULES}, "max_duration_minutes": "1",
        "min_group_size": "2", "retention_days": "365"}))
    assert ("Rhaid i'r wers hiraf (max_duration_minutes) fod rhwng 5 a 240 munud; "
            "ni chaniateir 1.") in refused


# The catalogue holds the core's constants ----------------------------------------------------

def test_the_catalogue_has_every_rule_month_and_check_from_the_core():
    entries = {(e.get("msgctxt"), e["msgid"]): e for e in read_po(
        PO_FILE.read_text(encoding="utf-8")) if e["msgid"]}
    marked = [
        *(r.title for r in RULES), *(r.plain for r in RULES), *MONTH_NAMES,
        *EXTRA_CHECKS.values(), OUTSIDE_WINDOWS]
    missing = [m for m in marked if (None, m) not in entries]
    assert missing == []
    # The policy's own sentences are quotes, never translated.
    assert not [r.id for r in RULES if (None, r.clause) in entries]
    for context in ("weekday in a sentence", "weekday ending a run such as 'Monday to Friday'"):
        assert all((context, day) in entries for day in ("Monday", "Sunday"))


# Records SafeClass writes itself -------------------------------------------------------------

@pytest.fixture
def live_lesson(school, teacher, ta, group):
    lesson = factories.make_requested_lesson(teacher, group, second_staff=ta)
    staff = Presence.objects.create(lesson=lesson, role=PresenceRole.STAFF, staff=teacher,
                                    display_name="Tess", state=PresenceState.ADMITTED,
                                    channel_name="staff-channel")
    pupil = group.pupils.order_by("pk").first()
    target = Presence.objects.create(lesson=lesson, role=PresenceRole.PUPIL, pupil=pupil,
                                     display_name="Ann", state=PresenceState.ADMITTED,
                                     channel_name="pupil-channel")
    return lesson, staff, target


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "request_language", "reason", "summary"), [
    ("cy", "en-gb", "Tynnwyd o'r wers fyw", "Tynnwyd Ann o'r wers fyw gan Tess."),
    ("en-gb", "cy", "Removed from the live lesson",
     "Ann was removed from the live lesson by Tess."),
])
def test_a_removal_is_written_down_in_the_schools_language(school, live_lesson, language,
                                                           request_language, reason, summary):
    school.language = language
    school.save(update_fields=["language"])
    lesson, staff, target = live_lesson
    # Whatever language the member of staff's own connection speaks: the head reads it.
    with translation.override(request_language):
        async_to_sync(live_services._record_removal)(staff, target.pk, outsider=False)
    hold = RemovalHold.objects.get(pupil=target.pupil)
    assert hold.reason == reason
    incident = Incident.objects.get(lesson=lesson)
    assert (incident.kind, incident.summary) == (IncidentKind.PUPIL_REMOVED, summary)


@pytest.mark.django_db(transaction=True)
def test_staff_leaving_is_written_down_in_welsh_for_a_welsh_school(school, live_lesson):
    welsh(school)
    lesson, staff, _ = live_lesson
    async_to_sync(live_services._record_leave)(staff.pk, "staff-channel")
    incident = Incident.objects.get(lesson=lesson)
    assert incident.kind == IncidentKind.STAFF_DROPPED
    assert incident.summary == (
        "Gadawodd pob aelod o staff y wers fyw; aeth 1 disgybl yn ôl i'r ystafell aros.")


@pytest.mark.django_db(transaction=True)
def test_a_failed_recording_is_written_down_in_welsh_for_a_welsh_school(school, teacher,
                                                                        live_lesson):
    welsh(school)
    lesson, _, _ = live_lesson
    LiveRun.objects.create(lesson=lesson, current_host=teacher, recording_on=True)
    async_to_sync(live_recording._record_failure)(lesson.pk, RecordingProblem.STALLED)
    incident = Incident.objects.get(lesson=lesson)
    assert incident.summary == (
        "Methodd y recordio (stalled) tra oedd llai na dau aelod o staff yn bresennol; "
        "aeth 1 disgybl yn ôl i'r ystafell aros.")


# The API ---------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("accept_language", "expected"), [
    (None, "Lessons can be at most 30 minutes long (max-duration)."),
    ("cy", "Gall gwersi bara 30 munud ar y mwyaf (max-duration)."),
])
def test_the_api_answers_in_the_language_the_request_asks_for(client, oak, accept_language,
                                                              expected):
    # Not the school's: a program reads the API, and English is the default.
    assert settings.LANGUAGE_CODE == "en-gb"
    raw = factories.make_api_token(oak["teacher"])
    headers = {"Authorization": f"Bearer {raw}"}
    if accept_language:
        headers["Accept-Language"] = accept_language
    with time_machine.travel(WEDNESDAY, tick=False):
        response = client.post("/api/v1/lessons", content_type="application/json", data={
            "title": "Maths", "group": oak["group"].pk, "duration_minutes": 45,
            "starts_at": "2030-03-07T10:00:00+00:00", "second_staff": None,
            "recorded": True}, headers=headers)
    assert response.status_code == 422, response.content
    [error] = response.json()["errors"]
    assert error["rule"] == "max-duration"
    assert error["message"].startswith(expected)
    # The rule table in GET /api/v1/policy stays English either way.
    policy = client.get("/api/v1/policy", headers=headers).json()
    assert policy["rules"][0]["title"] == "Head approves every lesson"
    assert re.fullmatch(r"[A-Za-z ]+\.", policy["other_checks"][0]["plain"])
