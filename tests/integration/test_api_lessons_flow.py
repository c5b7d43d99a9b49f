"""Reading lessons, and approving, declining and cancelling them through the API: the
same service actions as the pages, with the API's status codes and error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from safeclass.invitations.models import Invitation
from safeclass.lessons.models import Lesson
from tests import factories


class Api:
    def __init__(self, client, user):
        self.client = client
        self.headers = {"Authorization": f"Bearer {factories.make_api_token(user)}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path, body=None):
        return self.client.post(f"/api/v1{path}", data=body or {},
                                content_type="application/json", headers=self.headers)


@pytest.fixture
def lesson(teacher, ta, group):
    return factories.make_requested_lesson(teacher, group, second_staff=ta)


def error_of(response, status):
    assert response.status_code == status, response.content
    (err,) = response.json()["errors"]
    assert set(err) == {"rule", "message", "field"} and err["message"]
    return err


# Reading ---------------------------------------------------------------------------------

def test_it_shows_a_teacher_their_own_lessons_only(client, teacher, teacher2, ta, group,
                                                   school):
    mine = factories.make_requested_lesson(teacher, group, second_staff=ta, title="Mine")
    other_group = factories.make_group(school, pupils=3)
    factories.make_requested_lesson(teacher2, other_group, recorded=True, title="Theirs")
    assert [item["id"] for item in Api(client, teacher).get("/lessons").json()] == [mine.pk]
    # The second adult sees the lessons they support.
    assert [item["id"] for item in Api(client, ta).get("/lessons").json()] == [mine.pk]


@pytest.mark.parametrize("who", ["head", "deputy", "slt", "admin"])
def test_it_shows_senior_roles_every_lesson_of_the_school(client, request, who, teacher,
                                                          teacher2, group, school, outsider):
    other_group = factories.make_group(school, pupils=3)
    factories.make_requested_lesson(teacher, group, recorded=True, title="One")
    factories.make_requested_lesson(teacher2, other_group, recorded=True, title="Two")
    theirs = factories.make_group(outsider.school, pupils=3)
    factories.make_requested_lesson(outsider, theirs, recorded=True, title="Elsewhere")
    titles = [i["title"] for i in Api(client, request.getfixturevalue(who)).get("/lessons").json()]
    assert sorted(titles) == ["One", "Two"]


def test_it_filters_lessons(client, slt, teacher, teacher2, group, school, deputy):
    other_group = factories.make_group(school, pupils=3)
    a = factories.make_requested_lesson(teacher, group, recorded=True, title="A",
                                        starts_at=factories.future_start(days=3))
    b = factories.make_requested_lesson(teacher2, other_group, recorded=True, title="B",
                                        starts_at=factories.future_start(days=6))
    api = Api(client, slt)
    Api(client, deputy).post(f"/lessons/{b.pk}/approve")

    def ids(**params):
        response = api.get("/lessons", **params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()]

    assert ids() == [a.pk, b.pk]
    assert ids(status="approved") == [b.pk]
    assert ids(status="pending_approval") == [a.pk]
    assert ids(teacher=teacher2.pk) == [b.pk]
    assert ids(group=group.pk) == [a.pk]
    day_a = a.starts_at.date()
    assert ids(**{"from": str(day_a), "to": str(day_a)}) == [a.pk]
    assert ids(**{"from": str(day_a + timedelta(days=1))}) == [b.pk]
    assert ids(to=str(day_a - timedelta(days=1))) == []


def test_it_refuses_bad_filters_in_the_error_shape(client, slt):
    response = Api(client, slt).get("/lessons", status="maybe", **{"from": "31/12/2030"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"status", "from"}


def test_it_shows_one_lesson(client, teacher, lesson):
    response = Api(client, teacher).get(f"/lessons/{lesson.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == lesson.pk
    assert response.json()["starts_at"].endswith("Z")
    assert "room_id" not in response.json()


def test_it_answers_not_found_alike_for_another_school_and_nothing(client, outsider, lesson):
    api = Api(client, outsider)
    theirs = api.get(f"/lessons/{lesson.pk}")
    nothing = api.get("/lessons/987654")
    assert error_of(theirs, 404) == error_of(nothing, 404)


# Approving -------------------------------------------------------------------------------

def test_it_approves_a_lesson_and_the_parents_get_links(client, deputy, lesson,
                                                        django_capture_on_commit_callbacks):
    api = Api(client, deputy)
    # Emails leave only once the approval has committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/lessons/{lesson.pk}/approve")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["decided_by"] == {"email": "deputy@school.example", "name": "Dev Deputy"}
    assert body["decided_at"].endswith("Z")
    assert Invitation.objects.filter(lesson=lesson, revoked_at__isnull=True).count() == 4
    recipients = {address for message in mail.outbox for address in message.to}
    assert len(recipients & {p.parent_email for p in lesson.pupils.all()}) == 4


def test_it_refuses_to_let_an_approver_approve_their_own_lesson(client, school, group, ta):
    teaching_head = factories.make_staff(school, roles=("teacher", "approver"))
    own = factories.make_requested_lesson(teaching_head, group, second_staff=ta)
    err = error_of(Api(client, teaching_head).post(f"/lessons/{own.pk}/approve"), 403)
    assert "own" in err["message"]
    assert Lesson.objects.get(pk=own.pk).status == "pending_approval"


@pytest.mark.parametrize("who", ["teacher", "ta", "slt", "admin"])
def test_it_lets_only_approvers_approve(client, request, who, lesson):
    error_of(Api(client, request.getfixturevalue(who)).post(f"/lessons/{lesson.pk}/approve"),
             403)
    assert Lesson.objects.get(pk=lesson.pk).status == "pending_approval"


def test_it_refuses_to_approve_a_lesson_that_is_not_waiting(client, deputy, head, lesson):
    Api(client, deputy).post(f"/lessons/{lesson.pk}/decline", {"reason": "No"})
    err = error_of(Api(client, head).post(f"/lessons/{lesson.pk}/approve"), 409)
    assert "declined" in err["message"]
    assert Lesson.objects.get(pk=lesson.pk).status == "declined"


# Declining -------------------------------------------------------------------------------

def test_it_declines_a_lesson_with_a_reason(client, head, lesson):
    response = Api(client, head).post(f"/lessons/{lesson.pk}/decline",
                                      {"reason": "  Clashes with <b>assembly</b>  "})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "declined"
    assert body["decline_reason"] == "Clashes with <b>assembly</b>"
    assert body["decided_by"]["email"] == "head@school.example"


@pytest.mark.parametrize("body", [{"reason": ""}, {"reason": "   "}, {}, {"reason": None}])
def test_it_wants_a_reason_to_decline(client, head, lesson, body):
    err = error_of(Api(client, head).post(f"/lessons/{lesson.pk}/decline", body), 422)
    assert err["field"] == "reason" and err["rule"] is None
    assert Lesson.objects.get(pk=lesson.pk).status == "pending_approval"


@pytest.mark.parametrize("who", ["teacher", "ta", "slt", "admin"])
def test_it_lets_only_approvers_decline(client, request, who, lesson):
    error_of(Api(client, request.getfixturevalue(who)).post(f"/lessons/{lesson.pk}/decline",
                                                            {"reason": "No"}), 403)


# Cancelling ------------------------------------------------------------------------------

def test_it_cancels_a_lesson_and_withdraws_every_link(client, teacher, deputy, lesson):
    Api(client, deputy).post(f"/lessons/{lesson.pk}/approve")
    response = Api(client, teacher).post(f"/lessons/{lesson.pk}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert not Invitation.objects.filter(lesson=lesson, revoked_at__isnull=True).exists()


def test_it_refuses_to_cancel_a_lesson_twice(client, teacher, lesson):
    api = Api(client, teacher)
    assert api.post(f"/lessons/{lesson.pk}/cancel").status_code == 200
    err = error_of(api.post(f"/lessons/{lesson.pk}/cancel"), 409)
    assert "cancelled" in err["message"]


def test_it_lets_an_approver_cancel(client, head, lesson):
    assert Api(client, head).post(f"/lessons/{lesson.pk}/cancel").json()["status"] == "cancelled"


@pytest.mark.parametrize("who", ["ta", "slt", "admin"])
def test_it_refuses_to_let_others_cancel(client, request, who, lesson):
    error_of(Api(client, request.getfixturevalue(who)).post(f"/lessons/{lesson.pk}/cancel"), 403)
    assert Lesson.objects.get(pk=lesson.pk).status == "pending_approval"


def test_it_refuses_get_on_actions(client, head, lesson):
    api = Api(client, head)
    for action in ("approve", "decline", "cancel", "invitations"):
        assert api.get(f"/lessons/{lesson.pk}/{action}").status_code == 405
