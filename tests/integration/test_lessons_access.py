"""Who may open each lesson page: the whole matrix in one place.

For every lesson view: the roles allowed, a same-school role that may not act (403), a
teacher with no part in the lesson (404: they cannot see it), another school's staff
(404, the same as for a lesson that does not exist), anonymous visitors (sent to sign
in), and GET refused on the views that only change state.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from safeclass.lessons.models import Lesson, LessonStatus
from safeclass.lessons.services import do_approve_lesson
from tests import factories

pytestmark = pytest.mark.django_db

PEOPLE = ["teacher", "ta", "teacher2", "head", "deputy", "slt", "admin", "dsl", "outsider"]

# view → (method, which lesson, expected status for each person). 200/302 mean allowed.
MATRIX = {
    "mine": ("get", None, dict.fromkeys(PEOPLE, 200)),
    "request": ("get", None, {
        "teacher": 200, "ta": 403, "teacher2": 200, "head": 403, "deputy": 403, "slt": 403,
        "admin": 403, "dsl": 403, "outsider": 200}),
    "approvals": ("get", None, {
        "teacher": 403, "ta": 403, "teacher2": 403, "head": 200, "deputy": 200, "slt": 403,
        "admin": 403, "dsl": 403, "outsider": 200}),
    "detail": ("get", "pending", {
        "teacher": 200, "ta": 200, "teacher2": 404, "head": 200, "deputy": 200, "slt": 200,
        "admin": 200, "dsl": 200, "outsider": 404}),
    "edit": ("get", "pending", {
        "teacher": 200, "ta": 403, "teacher2": 404, "head": 200, "deputy": 200, "slt": 403,
        "admin": 403, "dsl": 403, "outsider": 404}),
    "cancel": ("get", "pending", {
        "teacher": 200, "ta": 403, "teacher2": 404, "head": 200, "deputy": 200, "slt": 403,
        "admin": 403, "dsl": 403, "outsider": 404}),
    "approve": ("post", "pending", {
        "teacher": 403, "ta": 403, "teacher2": 403, "head": 302, "deputy": 302, "slt": 403,
        "admin": 403, "dsl": 403, "outsider": 404}),
    "decline": ("post", "pending", {
        "teacher": 403, "ta": 403, "teacher2": 403, "head": 302, "deputy": 302, "slt": 403,
        "admin": 403, "dsl": 403, "outsider": 404}),
    "reissue": ("post", "approved", {
        "teacher": 200, "ta": 200, "teacher2": 404, "head": 200, "deputy": 200, "slt": 200,
        "admin": 200, "dsl": 403, "outsider": 404}),
    "export": ("get", "approved", {
        "teacher": 200, "ta": 200, "teacher2": 404, "head": 200, "deputy": 200, "slt": 200,
        "admin": 200, "dsl": 403, "outsider": 404}),
}
POST_ONLY = ["approve", "decline", "reissue"]


@pytest.fixture
def dsl(school):
    return factories.make_staff(school, "dsl@school.example", ("dsl",), "Dee Lead")


@pytest.fixture
def world(teacher, ta, group, school, deputy):
    pending = factories.make_requested_lesson(teacher, group, second_staff=ta,
                                              title="Matrix pending")
    approved = factories.make_requested_lesson(
        teacher, factories.make_group(school, pupils=2), second_staff=ta,
        title="Matrix approved", starts_at=factories.future_start(days=5))
    do_approve_lesson(approved, actor=deputy)
    return {"pending": pending, "approved": approved}


def url_of(name, world):
    lesson = MATRIX[name][1]
    args = [world[lesson].pk] if lesson else []
    return reverse(f"lessons:{name}", args=args)


def body_for(name, world):
    if name == "decline":
        return {"reason": "Not this week"}
    if name == "reissue":
        return {"pupil": world["approved"].pupils.first().pk}
    return {}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("name", list(MATRIX))
def test_it_gives_each_role_the_right_answer(client, request, world, name, who):
    method, _lesson, expected = MATRIX[name]
    client.force_login(request.getfixturevalue(who))
    response = getattr(client, method)(url_of(name, world), body_for(name, world))
    assert response.status_code == expected[who], (name, who)


@pytest.mark.parametrize("name", list(MATRIX))
def test_it_sends_anonymous_visitors_to_sign_in(client, world, name):
    method = "post" if name in POST_ONLY else "get"
    response = getattr(client, method)(url_of(name, world), body_for(name, world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", POST_ONLY)
def test_it_refuses_get_on_views_that_change_state(client, world, head, name):
    client.force_login(head)
    assert client.get(url_of(name, world)).status_code == 405


@pytest.mark.parametrize("name", ["detail", "edit", "cancel", "approve", "decline", "reissue",
                                  "export"])
def test_it_answers_not_found_for_a_lesson_that_does_not_exist(client, head, name):
    client.force_login(head)
    method = "post" if name in POST_ONLY else "get"
    response = getattr(client, method)(reverse(f"lessons:{name}", args=[987654]))
    assert response.status_code == 404


def test_it_changes_nothing_when_refused(client, world, ta, slt, outsider):
    for who in (ta, slt, outsider):
        client.force_login(who)
        client.post(url_of("approve", world))
        client.post(url_of("decline", world), {"reason": "x"})
        client.post(reverse("lessons:cancel", args=[world["pending"].pk]))
        client.post(reverse("lessons:edit", args=[world["pending"].pk]), {"title": "Hacked"})
    pending = Lesson.objects.get(pk=world["pending"].pk)
    assert pending.status == LessonStatus.PENDING_APPROVAL
    assert pending.title == "Matrix pending"


def test_it_shows_another_schools_approvers_none_of_our_lessons(client, world, outsider):
    client.force_login(outsider)
    body = client.get(reverse("lessons:approvals")).content.decode()
    assert "Matrix" not in body
    body = client.get(reverse("lessons:mine")).content.decode()
    assert "Matrix" not in body
