"""The lesson register: every lesson of the school for senior leaders, filterable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from safeclass.lessons.models import Lesson, LessonStatus
from safeclass.schools.models import PolicyVersion
from tests import factories

URL = reverse("oversight:register")


def make_lesson(host, *, title="Fractions", starts_at=None, group=None, status="approved",
                second_staff=None) -> Lesson:
    # Built directly from the models: the register only reads lessons, however made.
    version = PolicyVersion.objects.filter(school=host.school).first()
    if version is None:
        version = PolicyVersion.objects.create(school=host.school, number=1, settings={})
    lesson = Lesson.objects.create(
        school=host.school, title=title, host=host, second_staff=second_staff, group=group,
        starts_at=starts_at or datetime(2030, 3, 4, 10, 0, tzinfo=UTC), duration_minutes=30,
        status=status, policy_version=version, requested_by=host)
    if group is not None:
        lesson.pupils.set(group.pupils.all())
    return lesson


@pytest.mark.parametrize("who", ["slt", "admin", "head", "deputy"])
def test_it_shows_every_lesson_of_the_school_to_oversight_roles(client, request, who, teacher,
                                                               teacher2, group):
    make_lesson(teacher, title="Teacher one's lesson", group=group)
    make_lesson(teacher2, title="Teacher two's lesson", status="pending_approval")
    client.force_login(request.getfixturevalue(who))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Teacher one&#x27;s lesson" in body
    assert "Teacher two&#x27;s lesson" in body
    assert '<caption id="register-caption">2 lessons' in body
    # Status in words, not colour alone.
    assert "Waiting for approval" in body and "Approved" in body


@pytest.mark.parametrize("who", ["teacher", "ta"])
def test_it_refuses_roles_that_do_not_oversee(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


def test_it_shows_the_register_to_an_approver_with_no_other_role(client, school):
    # SEE_ALL_LESSONS includes approvers: they decide on lessons, so they see them all.
    approver = factories.make_staff(school, roles=("approver",))
    client.force_login(approver)
    assert client.get(URL).status_code == 200


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_it_refuses_post(client, slt):
    client.force_login(slt)
    assert client.post(URL).status_code == 405


def test_it_never_shows_another_schools_lessons(client, slt, outsider, teacher):
    make_lesson(outsider, title="Elsewhere lesson")
    make_lesson(teacher, title="Our lesson")
    client.force_login(slt)
    body = client.get(URL).content.decode()
    assert "Our lesson" in body
    assert "Elsewhere lesson" not in body


def test_it_does_not_offer_another_schools_teachers_or_classes(client, slt, outsider,
                                                               other_school):
    factories.make_group(other_school, "Their class")
    client.force_login(slt)
    body = client.get(URL).content.decode()
    assert "Otto Outsider" not in body
    assert "Their class" not in body
    # ...and choosing one by id is refused as an invalid choice.
    response = client.get(URL, {"teacher": outsider.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_it_filters_by_date_range_in_the_school_time_zone(client, slt, teacher):
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    make_lesson(teacher, title="Late June UTC", starts_at=datetime(2030, 6, 30, 23, 30, tzinfo=UTC))
    make_lesson(teacher, title="Mid June", starts_at=datetime(2030, 6, 15, 10, tzinfo=UTC))
    make_lesson(teacher, title="Mid July", starts_at=datetime(2030, 7, 15, 10, tzinfo=UTC))
    client.force_login(slt)
    body = client.get(URL, {"date_from": "2030-07-01", "date_to": "2030-07-01"}).content.decode()
    assert "Late June UTC" in body
    assert "Mid June" not in body and "Mid July" not in body
    body = client.get(URL, {"date_to": "2030-06-30"}).content.decode()
    assert "Mid June" in body
    assert "Late June UTC" not in body and "Mid July" not in body


def test_it_filters_by_teacher_class_and_status(client, slt, teacher, teacher2, group, school):
    other_group = factories.make_group(school, "Year 5 Ash", pupils=2)
    make_lesson(teacher, title="Alpha", group=group, status="approved")
    make_lesson(teacher2, title="Bravo", group=other_group, status="approved")
    make_lesson(teacher, title="Charlie", group=other_group, status="declined")
    client.force_login(slt)

    def titles(**params):
        body = client.get(URL, params).content.decode()
        return {t for t in ("Alpha", "Bravo", "Charlie") if t in body}

    assert titles(teacher=teacher.pk) == {"Alpha", "Charlie"}
    assert titles(group=other_group.pk) == {"Bravo", "Charlie"}
    assert titles(status="declined") == {"Charlie"}
    assert titles(teacher=teacher.pk, group=other_group.pk, status="declined") == {"Charlie"}
    assert titles(status=LessonStatus.CANCELLED) == set()


def test_it_reports_bad_filters_and_links_each_error_to_its_field(client, slt, teacher):
    make_lesson(teacher, title="Alpha")
    client.force_login(slt)
    response = client.get(URL, {"date_from": "2030-05-01", "date_to": "2030-04-01",
                                "status": "nonsense"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in body
    assert 'href="#id_date_to"' in body
    assert 'href="#id_status"' in body
    assert "Alpha" not in body


def test_it_escapes_names_and_titles(client, slt, school):
    host = factories.make_staff(school, roles=("teacher",), name="<b>Zoë</b> O'Brien")
    make_lesson(host, title="<script>alert(1)</script>")
    client.force_login(slt)
    body = client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;b&gt;Zoë&lt;/b&gt; O&#x27;Brien" in body


def test_it_has_labelled_filters_and_a_table_with_headers(client, slt, teacher):
    make_lesson(teacher)
    client.force_login(slt)
    body = client.get(URL).content.decode()
    for field in ("date_from", "date_to", "teacher", "group", "status"):
        assert f'<label class="label" for="id_{field}">' in body
    assert '<th scope="col">' in body and '<th scope="row">' in body
    assert 'method="get"' in body


def test_it_pages_fifty_lessons_at_a_time_keeping_the_filters(client, slt, teacher):
    start = datetime(2030, 1, 1, 10, tzinfo=UTC)
    for i in range(55):
        make_lesson(teacher, title=f"Lesson number {i:02d}", starts_at=start + timedelta(days=i))
    client.force_login(slt)
    first = client.get(URL, {"teacher": teacher.pk}).content.decode()
    assert "Lesson number 54" in first and "Lesson number 05" in first
    assert "Lesson number 04" not in first
    assert f"teacher={teacher.pk}&amp;page=2" in first
    second = client.get(URL, {"teacher": teacher.pk, "page": 2}).content.decode()
    assert "Lesson number 04" in second and "Lesson number 54" not in second
