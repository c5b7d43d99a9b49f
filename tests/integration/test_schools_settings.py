"""School settings: the page, the action and its audit event, and the text formats."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from safeclass.audit.models import AuditEvent
from safeclass.schools.models import ClosureDay, LessonWindow, School, TermDates
from safeclass.schools.schedule_text import (
    ClosureSpec,
    TermSpec,
    WindowSpec,
    format_windows,
    parse_closures,
    parse_terms,
    parse_windows,
)
from safeclass.schools.services import SchoolInputRejected, do_update_school_settings
from safeclass.schools.validators import (
    normalise_email_domain,
    parse_email_domains,
    validate_person_name,
)

GOOD = {
    "name": "Test School",
    "time_zone": "Europe/London",
    "email_domains": "school.example, school.sch.uk",
    "windows": "Mon-Fri 09:00-12:00, 13:00-15:15",
    "terms": "2027-01-04 to 2027-03-26 Spring term",
    "closures": "2027-02-15 INSET day",
    "language": "en-gb",
    "pupils_see_classmates": "on",
}


# -- validators (pure) ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["O'Brien", "Zoë", "Nguyễn", "<b>bold</b>", "Mary-Jane Smith",
                                  "Anne Marie", "李小龍"])
def test_it_accepts_real_names(name):
    validate_person_name(name)


@pytest.mark.parametrize(("name", "words"), [
    ("", "empty"),
    ("   ", "empty"),
    ("Sam\u202eevil", "U+202E"),
    ("Sam\u2066x\u2069", "U+2066"),
    ("Sam\u200f", "U+200F"),
    ("Sam\u200e", "U+200E"),
    ("Sam\u200bson", "zero-width"),
    ("Sam\tSmith", "control character"),
    ("Sam\nSmith", "line break"),
    ("Sam\x00", "control character"),
    ("x" * 101, "too long"),
])
def test_it_refuses_bad_names_in_plain_words(name, words):
    with pytest.raises(ValidationError) as exc:
        validate_person_name(name)
    assert words in exc.value.messages[0]


def test_it_normalises_email_domains():
    assert normalise_email_domain(" @Oakfield.Example. ") == "oakfield.example"
    assert parse_email_domains("a.example, B.example a.example") == ("a.example", "b.example")
    for bad in ("", "localhost", "bob@a.example", "bad_domain!.example", "école.example"):
        with pytest.raises(ValidationError):
            normalise_email_domain(bad)


def test_it_parses_lesson_windows_and_writes_them_back():
    windows, errors = parse_windows("Mon-Fri 09:00-12:00, 13:00–15:15\nsat 9.30 to 10:00")
    assert errors == []
    assert len(windows) == 11
    assert WindowSpec(5, time(9, 30), time(10, 0)) in windows
    assert format_windows(windows) == "Mon-Fri 09:00-12:00, 13:00-15:15\nSat 09:30-10:00"
    assert parse_windows(format_windows(windows))[0] == windows


def test_it_reports_window_problems_by_line():
    _windows, errors = parse_windows(
        "Mon 09:00-10:00\nFunday 09:00-10:00\nTue 11:00-10:00\nWed 9-10\nFri-Mon 09:00-10:00\n"
        "Mon 09:30-11:00\nThu")
    assert [e.line for e in errors] == [2, 3, 4, 5, 7, 6]
    assert "Line 6: Mon 09:30-11:00 overlaps Mon 09:00-10:00." in [str(e) for e in errors]


def test_it_parses_terms_and_closures_with_line_numbers():
    terms, errors = parse_terms("2027-01-04 to 2027-03-26 Spring\n\n2027-04-12 – 2027-07-21")
    assert errors == []
    assert terms == [TermSpec(date(2027, 1, 4), date(2027, 3, 26), "Spring"),
                     TermSpec(date(2027, 4, 12), date(2027, 7, 21), "")]
    _terms, errors = parse_terms("2027-03-26 to 2027-01-04\nsoon\n2027-02-30 to 2027-03-01")
    assert [e.line for e in errors] == [1, 2, 3]
    closures, errors = parse_closures("2027-02-15 INSET day\n2027-02-15\nnot a date")
    assert closures == [ClosureSpec(date(2027, 2, 15), "INSET day")]
    assert [e.line for e in errors] == [2, 3]


# -- the action -------------------------------------------------------------------------


def _update(school, actor, **overrides):
    values = {
        "name": "Test School", "time_zone": "Europe/London", "email_domains": ["school.example"],
        "windows": [WindowSpec(0, time(9), time(12))], "terms": [], "closures": [],
        "language": "en-gb", "pupils_see_classmates": False,
    }
    values.update(overrides)
    return do_update_school_settings(school, actor=actor, **values)


@pytest.mark.django_db
def test_it_replaces_the_timetable_and_audits_before_and_after(school, admin):
    _update(school, admin, name="Renamed School", time_zone="Europe/Dublin",
            terms=[TermSpec(date(2027, 1, 4), date(2027, 3, 26), "Spring")],
            closures=[ClosureSpec(date(2027, 2, 15), "INSET")])
    school.refresh_from_db()
    assert school.name == "Renamed School" and school.time_zone == "Europe/Dublin"
    assert list(LessonWindow.objects.filter(school=school).values_list("weekday", "starts")) == [
        (0, time(9))]
    assert TermDates.objects.get(school=school).name == "Spring"
    assert ClosureDay.objects.get(school=school).day == date(2027, 2, 15)
    event = AuditEvent.objects.get(action="school.settings_changed")
    assert event.actor == admin
    changes = event.data["changes"]
    assert changes["name"] == {"before": "Test School", "after": "Renamed School"}
    assert changes["time_zone"]["after"] == "Europe/Dublin"
    assert changes["windows"]["after"] == "Mon 09:00-12:00"
    assert changes["windows"]["before"] == "Mon-Sun 00:00-23:59"
    assert "email_domains" not in changes


@pytest.mark.django_db
def test_it_writes_no_event_when_nothing_changes(school, admin):
    _update(school, admin)
    before = AuditEvent.objects.count()
    _update(school, admin)
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_it_refuses_bad_settings_naming_each_field_and_saves_nothing(school, admin, teacher):
    with pytest.raises(SchoolInputRejected) as exc:
        _update(school, admin, name="\u202eloohcS", time_zone="Mars/Olympus",
                email_domains=["not a domain"], windows=[WindowSpec(0, time(12), time(9))],
                language="fr")
    fields = {e.field for e in exc.value.errors}
    assert fields == {"name", "time_zone", "email_domains", "windows", "language"}
    school.refresh_from_db()
    assert school.name == "Test School"
    assert LessonWindow.objects.filter(school=school).count() == 7
    assert not AuditEvent.objects.filter(action="school.settings_changed").exists()


@pytest.mark.django_db
def test_it_keeps_domains_that_staff_still_use(school, admin):
    with pytest.raises(SchoolInputRejected) as exc:
        _update(school, admin, email_domains=["new.example"])
    assert exc.value.errors[0].field == "email_domains"
    assert "school.example" in exc.value.errors[0].message


@pytest.mark.django_db
def test_it_refuses_settings_changes_by_non_admins(school, head, outsider):
    with pytest.raises(PermissionDenied):
        _update(school, head)
    with pytest.raises(PermissionDenied):
        _update(school, outsider)


# -- the page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_the_settings_form_to_the_admin(client, school, admin):
    client.force_login(admin)
    response = client.get(reverse("schools:settings"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mon-Sun 00:00-23:59" in body
    assert '<option value="Europe/London" selected>' in body
    assert 'for="id_windows"' in body


@pytest.mark.django_db
def test_it_saves_settings_from_the_page(client, school, admin):
    client.force_login(admin)
    response = client.post(reverse("schools:settings"), GOOD)
    assert response.status_code == 302
    school.refresh_from_db()
    assert school.email_domains == ("school.example", "school.sch.uk")
    assert school.pupils_see_classmates is True
    assert LessonWindow.objects.filter(school=school).count() == 10
    assert TermDates.objects.filter(school=school).count() == 1
    assert AuditEvent.objects.filter(action="school.settings_changed").count() == 1


@pytest.mark.django_db
def test_it_lists_line_numbered_errors_on_the_page(client, school, admin):
    client.force_login(admin)
    data = dict(GOOD, windows="Mon-Fri 09:00-12:00\nFunday 09:00-10:00",
                closures="2027-02-15\n2027-02-15", email_domains="")
    response = client.post(reverse("schools:settings"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="error-summary"' in body
    assert "Line 2: “funday” is not a day of the week" in body
    assert "Line 2: 2027-02-15 is already listed on line 1." in body
    assert 'href="#id_windows"' in body and 'href="#id_email_domains"' in body
    assert LessonWindow.objects.filter(school=school).count() == 7


@pytest.mark.django_db
def test_it_refuses_the_settings_page_to_other_roles(client, school, head, deputy, teacher, slt):
    for user in (head, deputy, teacher, slt):
        client.force_login(user)
        assert client.get(reverse("schools:settings")).status_code == 403
        assert client.post(reverse("schools:settings"), GOOD).status_code == 403
    assert School.objects.get(pk=school.pk).pupils_see_classmates is False


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_from_settings_to_sign_in(client, school):
    response = client.get(reverse("schools:settings"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


@pytest.mark.django_db
def test_it_edits_only_the_admins_own_school(client, school, other_school, outsider):
    client.force_login(outsider)
    response = client.post(reverse("schools:settings"),
                           dict(GOOD, name="Hijacked", email_domains="other.example"))
    assert response.status_code == 302
    assert School.objects.get(pk=school.pk).name == "Test School"
    assert School.objects.get(pk=other_school.pk).name == "Hijacked"
