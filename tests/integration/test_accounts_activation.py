"""Activation: only the owner of the school mailbox can switch an account on."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from safeclass.accounts import services
from safeclass.accounts.models import ActivationToken, StaffUser, hash_secret
from safeclass.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "plum tree harbour 42"
FAILED = ("This activation link does not work any more. Ask your school&#x27;s SafeClass "
          "admin for a new one.")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def invited(admin):
    user = services.do_invite_staff(admin.school, full_name="Nia Newteacher",
                                    email="nia@school.example", roles=["teacher"], actor=admin)
    raw = re.search(r"/account/activate/(\S+)/", mail.outbox[-1].body).group(1)
    return user, raw


def _open_link(client, raw):
    return client.get(reverse("accounts:activate", args=[raw]))


def _choose(client, password=GOOD_PASSWORD, again=None):
    return client.post(reverse("accounts:activate_set_password"),
                       {"password1": password, "password2": again or password})


def test_it_activates_an_account_end_to_end(client, invited):
    user, raw = invited
    response = _open_link(client, raw)
    # The token leaves the address bar at once.
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:activate_set_password")
    assert raw not in response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "nia@school.example" in html
    assert raw not in html
    assert '<label class="label" for="id_password1">' in html
    assert "no-store" in page["Cache-Control"]

    done = _choose(client)
    assert done.status_code == 302
    assert done["Location"] == reverse("account_login")
    user.refresh_from_db()
    assert user.is_active
    assert user.check_password(GOOD_PASSWORD)
    assert ActivationToken.objects.get(user=user).used_at is not None
    event = AuditEvent.objects.get(action="staff.activated")
    assert event.actor == user and event.object_id == str(user.pk)

    # And the new password really signs in.
    login = client.post(reverse("account_login"),
                        {"login": "nia@school.example", "password": GOOD_PASSWORD})
    assert login.status_code == 302
    assert client.get(reverse("accounts:security")).status_code == 200


def test_it_cannot_sign_in_before_activation(client, invited):
    user, _raw = invited
    # Even if the account somehow had a password, an inactive account does not sign in.
    user.set_password(GOOD_PASSWORD)
    user.save()
    response = client.post(reverse("account_login"),
                           {"login": "nia@school.example", "password": GOOD_PASSWORD})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"] == reverse("account_inactive")
    assert client.get(reverse("accounts:security")).status_code == 302


def test_it_uses_a_link_only_once(client, invited):
    _user, raw = invited
    _open_link(client, raw)
    _choose(client)
    other = type(client)()
    response = _open_link(other, raw)
    assert response.status_code == 404
    assert FAILED in response.content.decode()


def test_it_refuses_an_expired_link(client, invited):
    user, raw = invited
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = _open_link(client, raw)
    assert response.status_code == 404
    assert FAILED in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active


def test_it_still_works_just_before_expiry(client, invited):
    user, raw = invited
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        assert _open_link(client, raw).status_code == 302
        assert _choose(client).status_code == 302
    user.refresh_from_db()
    assert user.is_active


def test_it_refuses_a_link_that_expires_while_the_page_is_open(client, invited):
    user, raw = invited
    _open_link(client, raw)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = _choose(client)
    assert response.status_code == 404
    assert FAILED in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active


@pytest.mark.parametrize("raw", ["nonsense", "x" * 43, "a" * 500])
def test_it_gives_unknown_links_the_same_plain_answer(client, invited, raw):
    response = _open_link(client, raw)
    assert response.status_code == 404
    assert FAILED in response.content.decode()


def test_it_refuses_the_password_page_without_a_link(client, invited):
    response = client.get(reverse("accounts:activate_set_password"))
    assert response.status_code == 404
    assert FAILED in response.content.decode()
    response = _choose(client)
    assert response.status_code == 404
    assert not StaffUser.objects.get(email="nia@school.example").is_active


@pytest.mark.parametrize("password, message", [
    ("short1", "This password is too short. It must contain at least 10 characters."),
    ("password123", "This password is too common."),
    ("84930271645", "This password is entirely numeric."),
    ("nia@school.example", "The password is too similar to the email."),
])
def test_it_applies_djangos_password_validators(client, invited, password, message):
    user, raw = invited
    _open_link(client, raw)
    response = _choose(client, password)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'href="#id_password1"' in html
    assert "There is a problem" in html or "There are" in html
    user.refresh_from_db()
    assert not user.is_active
    assert ActivationToken.objects.get(user=user).used_at is None


def test_it_asks_for_the_same_password_twice(client, invited):
    user, raw = invited
    _open_link(client, raw)
    response = _choose(client, GOOD_PASSWORD, "something else entirely")
    assert "The two passwords are different" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active


def test_it_reactivates_a_deactivated_account_through_a_new_link(client, admin, teacher):
    services.do_deactivate_staff(teacher, actor=admin)
    services.do_resend_activation(teacher, actor=admin)
    raw = re.search(r"/account/activate/(\S+)/", mail.outbox[-1].body).group(1)
    _open_link(client, raw)
    assert _choose(client).status_code == 302
    teacher.refresh_from_db()
    assert teacher.is_active and teacher.deactivated_at is None
    assert AuditEvent.objects.get(action="staff.activated").data == {"reactivated": True}


def test_it_cannot_activate_twice_with_one_token_in_two_tabs(client, invited):
    user, raw = invited
    token = services.valid_activation_token(hash_secret(raw))
    assert token is not None
    services.do_activate_account(token, GOOD_PASSWORD)
    with pytest.raises(services.AccountError):
        services.do_activate_account(token, "another good password 9")
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)


def test_it_refuses_post_on_the_activation_link(client, invited):
    _user, raw = invited
    assert client.post(reverse("accounts:activate", args=[raw])).status_code == 405
