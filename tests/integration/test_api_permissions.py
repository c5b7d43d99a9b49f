"""The role-by-endpoint permission matrix of /api/v1.

Every endpoint, for every kind of caller: no token, a wrong token, a revoked token, each
role of the school, a teacher with no part in the lesson, and a member of staff of
another school (who holds every role there). Another school's objects are "not found";
a role that may not act is "forbidden"; every refusal is in the API's error shape.
"""

from __future__ import annotations

import pytest

from safeclass.accounts.models import ApiToken
from safeclass.accounts.services import do_revoke_api_token
from safeclass.lessons.services import do_approve_lesson
from tests import factories

ROLES = ["teacher", "teacher2", "ta", "head", "deputy", "slt", "admin", "outsider"]

# endpoint: (method, path, body, {caller: expected status})
MATRIX = {
    "policy": ("get", "/policy", None,
               dict.fromkeys(ROLES, 200)),
    "groups": ("get", "/groups", None,
               {**dict.fromkeys(ROLES, 200), "ta": 403}),
    "pupils": ("get", "/pupils", None,
               {**dict.fromkeys(ROLES, 200), "ta": 403}),
    "pupils of a class": ("get", "/pupils?group={group}", None,
                          {**dict.fromkeys(ROLES, 200), "ta": 403, "outsider": 404}),
    "list lessons": ("get", "/lessons", None,
                     dict.fromkeys(ROLES, 200)),
    "read a lesson": ("get", "/lessons/{pending}", None,
                      {**dict.fromkeys(ROLES, 200), "teacher2": 404, "outsider": 404}),
    "request a lesson": ("post", "/lessons", "request",
                         {**dict.fromkeys(ROLES, 403), "teacher": 201, "teacher2": 201,
                          # Holds the teacher role at their school; our class is unknown.
                          "outsider": 422}),
    "approve": ("post", "/lessons/{pending}/approve", None,
                {**dict.fromkeys(ROLES, 403), "head": 200, "deputy": 200, "teacher2": 404,
                 "outsider": 404}),
    "decline": ("post", "/lessons/{pending}/decline", {"reason": "Not this week"},
                {**dict.fromkeys(ROLES, 403), "head": 200, "deputy": 200, "teacher2": 404,
                 "outsider": 404}),
    "cancel": ("post", "/lessons/{pending}/cancel", None,
               {**dict.fromkeys(ROLES, 403), "teacher": 200, "head": 200, "deputy": 200,
                "teacher2": 404, "outsider": 404}),
    "issue links": ("post", "/lessons/{approved}/invitations", {"pupils": []},
                    {**dict.fromkeys(ROLES, 200), "teacher2": 404, "outsider": 404}),
}

CASES = [(endpoint, who, expected[who])
         for endpoint, (_, _, _, expected) in MATRIX.items() for who in ROLES]
UNAUTHENTICATED = ["no token", "wrong token", "revoked token"]


@pytest.fixture
def world(teacher, teacher2, ta, head, deputy, slt, admin, outsider, group, school):
    other_group = factories.make_group(school, "Year 5 Ash", pupils=3)
    pending = factories.make_requested_lesson(teacher, group, second_staff=ta,
                                              title="Matrix lesson")
    approved = factories.make_requested_lesson(teacher, other_group, second_staff=ta,
                                               title="Matrix lesson approved",
                                               starts_at=factories.future_start(days=4))
    do_approve_lesson(approved, actor=deputy)
    return {"group": group.pk, "pending": pending.pk, "approved": approved.pk,
            "other_group": other_group.pk}


def call(client, world, endpoint, headers):
    method, path, body, _ = MATRIX[endpoint]
    if body == "request":
        body = {"title": "New lesson", "group": world["group"],
                "starts_at": factories.future_start(days=6).isoformat(),
                "duration_minutes": 20, "second_staff": None, "recorded": True}
    url = "/api/v1" + path.format(**world)
    if method == "get":
        return client.get(url, headers=headers)
    return client.post(url, data=body or {}, content_type="application/json", headers=headers)


def assert_error_shape(response):
    body = response.json()
    assert list(body) == ["errors"] and body["errors"]
    for err in body["errors"]:
        assert set(err) == {"rule", "message", "field"} and err["message"]


@pytest.mark.parametrize(("endpoint", "who", "expected"), CASES,
                         ids=[f"{e}-{w}" for e, w, _ in CASES])
def test_it_answers_each_role_as_the_matrix_says(client, request, world, endpoint, who,
                                                 expected):
    user = request.getfixturevalue(who)
    headers = {"Authorization": f"Bearer {factories.make_api_token(user)}"}
    response = call(client, world, endpoint, headers)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert_error_shape(response)
    if who == "outsider":
        # Nothing of our school reaches another school's staff.
        text = response.content.decode()
        assert "Matrix lesson" not in text and "Year 4 Oak" not in text
        assert "Year 5 Ash" not in text


@pytest.mark.parametrize("endpoint", list(MATRIX))
@pytest.mark.parametrize("caller", UNAUTHENTICATED)
def test_it_refuses_every_endpoint_without_a_working_token(client, world, teacher, endpoint,
                                                          caller):
    headers = {}
    if caller == "wrong token":
        headers = {"Authorization": "Bearer sc_this-is-not-a-token"}
    elif caller == "revoked token":
        raw = factories.make_api_token(teacher)
        do_revoke_api_token(ApiToken.objects.get(user=teacher), actor=teacher)
        headers = {"Authorization": f"Bearer {raw}"}
    response = call(client, world, endpoint, headers)
    assert response.status_code == 401
    assert_error_shape(response)
