"""Bearer-token authentication: no token, a wrong one, a revoked one → 401 in the API's
error shape; sessions alone do not open the API; CSRF is not needed with a token."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from safeclass.accounts.models import ApiToken
from safeclass.accounts.services import do_deactivate_staff, do_revoke_api_token
from tests import factories

URL = "/api/v1/groups"


def assert_401(response):
    assert response.status_code == 401
    body = response.json()
    assert list(body) == ["errors"]
    (err,) = body["errors"]
    assert err["rule"] is None and err["field"] is None
    assert "token" in err["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_a_request_without_a_token(client, db):
    assert_401(client.get(URL))


@pytest.mark.parametrize("header", [
    "Bearer ", "Bearer not-a-real-token", "Bearer sc_" + "x" * 43, "Token abc",
    "Basic Zm9vOmJhcg==", "bearer", "Bearer " + "a" * 5000,
])
def test_it_refuses_malformed_or_unknown_tokens(client, teacher, header):
    assert_401(client.get(URL, headers={"Authorization": header}))


def test_it_accepts_a_valid_token(client, teacher, group):
    raw = factories.make_api_token(teacher)
    response = client.get(URL, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json()[0]["name"] == "Year 4 Oak"


def test_it_accepts_the_scheme_in_any_case(client, teacher):
    raw = factories.make_api_token(teacher)
    assert client.get(URL, headers={"Authorization": f"bearer {raw}"}).status_code == 200


def test_it_refuses_a_revoked_token(client, teacher):
    raw = factories.make_api_token(teacher)
    token = ApiToken.objects.get(user=teacher)
    do_revoke_api_token(token, actor=teacher)
    assert_401(client.get(URL, headers={"Authorization": f"Bearer {raw}"}))


def test_it_refuses_the_token_of_a_deactivated_account(client, teacher, admin):
    raw = factories.make_api_token(teacher)
    with transaction.atomic():
        do_deactivate_staff(teacher, actor=admin)
    assert_401(client.get(URL, headers={"Authorization": f"Bearer {raw}"}))


def test_it_does_not_accept_a_signed_in_session_instead_of_a_token(client, teacher):
    # A browser session must not open the API: that would make it reachable by
    # cross-site requests carrying the cookie.
    client.force_login(teacher)
    assert_401(client.get(URL))
    assert_401(client.post("/api/v1/lessons", data={}, content_type="application/json"))


def test_it_needs_no_csrf_token_with_a_bearer_token(teacher, group):
    csrf_client = Client(enforce_csrf_checks=True)
    raw = factories.make_api_token(teacher)
    response = csrf_client.post("/api/v1/lessons/999999/cancel",
                                headers={"Authorization": f"Bearer {raw}"})
    # Reached the handler (404 for an unknown lesson), not refused by CSRF (403).
    assert response.status_code == 404
    assert response.json() == {"errors": [{"rule": None, "message": "Not found.",
                                           "field": None}]}


def test_it_records_when_a_token_was_last_used(client, teacher):
    raw = factories.make_api_token(teacher)
    assert ApiToken.objects.get(user=teacher).last_used_at is None
    client.get(URL, headers={"Authorization": f"Bearer {raw}"})
    assert ApiToken.objects.get(user=teacher).last_used_at is not None
