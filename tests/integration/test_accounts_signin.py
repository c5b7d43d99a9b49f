"""Staff sign-in through allauth: the page, lockout, sign-out, password reset, two-step
sign-in with an authenticator app (TOTP), and the audit events each writes."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from safeclass.audit.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits and used TOTP codes live in the cache: start every test clean.
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, email, password=TEST_PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _signed_in(client) -> bool:
    return client.get(reverse("accounts:security")).status_code == 200


def _reauthenticate(client):
    """allauth asks for the password again before security changes such as adding TOTP."""
    page = client.get(reverse("account_reauthenticate"))
    assert page.status_code == 200
    assert '<label class="label" for="id_password">' in page.content.decode()
    response = client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    assert response.status_code == 302


def _totp(secret: str, at: float | None = None) -> str:
    return format_hotp_value(hotp_value(secret, int(at or time.time()) // 30))


# --- the page -----------------------------------------------------------------------------

def test_it_shows_an_accessible_sign_in_page_in_our_layout(client, school):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="skip-link"' in html  # our base.html
    assert "site.css" in html
    assert '<label class="label" for="id_login">' in html
    assert '<label class="label" for="id_password">' in html
    assert "sign up" not in html.lower()
    assert reverse("account_reset_password") in html
    assert "<script>" not in html  # the CSP forbids inline scripts


def test_it_shows_one_password_reset_link_in_plain_words(client, school):
    html = client.get(reverse("account_login")).content.decode()
    assert html.count(f'href="{reverse("account_reset_password")}"') == 1
    assert "Forgotten your password?" in html
    assert "Forgot your password?" not in html  # allauth's own hint is switched off
    assert 'id="id_password_helptext"' not in html


def test_it_signs_a_staff_member_in_and_audits_it(client, teacher):
    response = _sign_in(client, "Teacher@School.example")
    assert response.status_code == 302
    assert _signed_in(client)
    event = AuditEvent.objects.get(action="staff.signed_in")
    assert event.actor == teacher
    assert event.school == teacher.school


def test_it_refuses_a_wrong_password_with_an_error_summary(client, teacher):
    response = _sign_in(client, "teacher@school.example", "not the password")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "The email address or the password is not right." in html
    assert not _signed_in(client)
    event = AuditEvent.objects.get(action="staff.sign_in_failed")
    assert event.actor is None
    assert event.actor_label == "teacher@school.example"
    assert event.school == teacher.school
    assert "not the password" not in str(event.data)


def test_it_audits_failures_for_unknown_addresses_without_a_school(client, school):
    _sign_in(client, "NOBODY@Elsewhere.example", "guess")
    event = AuditEvent.objects.get(action="staff.sign_in_failed")
    assert event.actor is None and event.school is None
    assert event.actor_label == "nobody@elsewhere.example"


def test_it_truncates_a_very_long_attempted_email(client, school):
    _sign_in(client, "a" * 200 + "@school.example", "guess")
    event = AuditEvent.objects.filter(action="staff.sign_in_failed").first()
    if event is not None:  # an over-long address may be refused by the form first
        assert len(event.actor_label) <= 120


def test_it_does_not_sign_in_a_deactivated_account(client, admin, teacher):
    from safeclass.accounts.services import do_deactivate_staff

    do_deactivate_staff(teacher, actor=admin)
    _sign_in(client, "teacher@school.example")
    assert not _signed_in(client)


# --- lockout ------------------------------------------------------------------------------

def test_it_locks_an_account_after_five_failures_even_for_the_right_password(client, teacher,
                                                                            ta):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            assert _sign_in(client, "teacher@school.example", "wrong").status_code == 200
        response = _sign_in(client, "teacher@school.example")
        assert response.status_code == 200
        assert "paused after too many wrong passwords" in response.content.decode()
        assert not _signed_in(client)
        # Another account from the same address is not locked.
        assert _sign_in(client, "ta@school.example").status_code == 302
        client.post(reverse("account_logout"))
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert _sign_in(client, "teacher@school.example").status_code == 200
        assert not _signed_in(client)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert _sign_in(client, "teacher@school.example").status_code == 302
        assert _signed_in(client)


def test_it_does_not_lock_after_four_failures(client, teacher):
    for _ in range(4):
        _sign_in(client, "teacher@school.example", "wrong")
    assert _sign_in(client, "teacher@school.example").status_code == 302


def test_it_counts_failures_case_insensitively(client, teacher):
    for email in ["teacher@school.example", "TEACHER@school.example", "Teacher@School.Example",
                  "teacher@SCHOOL.example", "tEACHER@school.example"]:
        _sign_in(client, email, "wrong")
    assert _sign_in(client, "teacher@school.example").status_code == 200
    assert not _signed_in(client)


# --- sign-out and sessions ----------------------------------------------------------------

def test_it_signs_out_by_post_and_audits_it(client, teacher):
    _sign_in(client, "teacher@school.example")
    # A GET only asks for confirmation: a link or image cannot sign anyone out.
    response = client.get(reverse("account_logout"))
    assert response.status_code == 200
    assert _signed_in(client)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert not _signed_in(client)
    assert AuditEvent.objects.filter(action="staff.signed_out", actor=teacher).count() == 1


def test_it_ends_sessions_after_eight_hours_and_at_browser_close(client, teacher):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _sign_in(client, "teacher@school.example")
        assert _signed_in(client)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        assert not cookie["expires"] and not cookie["max-age"]  # a browser-session cookie
    with time_machine.travel(start + timedelta(hours=8, minutes=1), tick=False):
        assert not _signed_in(client)


# --- password reset -----------------------------------------------------------------------

def test_it_resets_a_password_by_email_and_ends_the_lockout(client, teacher):
    for _ in range(5):
        _sign_in(client, "teacher@school.example", "wrong")
    response = client.post(reverse("account_reset_password"),
                           {"email": "teacher@school.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["teacher@school.example"]
    link = re.search(r"https?://[^/\s]+(/account/password/reset/key/\S+/)", mail.outbox[0].body)
    assert link is not None
    # allauth swaps the key in the link for a session value, then shows the form.
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    assert '<label class="label" for="id_password1">' in form_page.content.decode()
    form_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1)
    new_password = "a brand new password 7"
    done = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert done.status_code == 302
    teacher.refresh_from_db()
    assert teacher.check_password(new_password)
    assert AuditEvent.objects.filter(action="staff.password_reset", actor=teacher).exists()
    assert _sign_in(client, "teacher@school.example", new_password).status_code == 302


def test_it_says_the_same_for_an_unknown_address(client, school):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@school.example"})
    assert response.status_code == 302
    assert mail.outbox == [] or "nobody@school.example" in mail.outbox[0].to


# --- no sign-up, no email changes ---------------------------------------------------------

def test_it_has_no_sign_up(client, school):
    response = client.get(reverse("account_signup"))
    assert "You cannot create a SafeClass account yourself" in response.content.decode()
    client.post(reverse("account_signup"), {"email": "me@school.example",
                                            "password1": "a long password 99"})
    from safeclass.accounts.models import StaffUser

    assert not StaffUser.objects.filter(email="me@school.example").exists()


def test_it_does_not_let_staff_add_or_switch_email_addresses(client, teacher):
    client.force_login(teacher)
    response = client.get(reverse("account_email"))
    assert response.status_code == 200
    assert "cannot change it or add another one here" in response.content.decode()
    response = client.post(reverse("account_email"),
                           {"action_add": "", "email": "me@personal.example"})
    assert response.status_code == 405
    teacher.refresh_from_db()
    assert teacher.email == "teacher@school.example"


# --- two-step sign-in (TOTP) --------------------------------------------------------------

def test_it_runs_the_whole_totp_flow(client, teacher, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _sign_in(client, "teacher@school.example").status_code == 302
        page = client.get(reverse("mfa_activate_totp"))
        assert page.status_code == 302
        assert page["Location"].startswith(reverse("account_reauthenticate"))
        _reauthenticate(client)
        page = client.get(reverse("mfa_activate_totp"))
        assert page.status_code == 200
        html = page.content.decode()
        assert '<label class="label" for="id_code">' in html
        secret = page.context["form"].secret
        wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"
                            if _totp(secret) != "000000" else "111111"})
        assert wrong.status_code == 200
        assert not Authenticator.objects.filter(user=teacher).exists()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("mfa_activate_totp"), {"code": _totp(secret)})
        assert response.status_code == 302
        assert Authenticator.objects.filter(user=teacher,
                                            type=Authenticator.Type.TOTP).exists()
        assert AuditEvent.objects.filter(action="mfa.activated", actor=teacher).exists()
        security = client.get(reverse("accounts:security")).content.decode()
        assert "Signing in asks for a code from your authenticator app" in security
        client.post(reverse("account_logout"))

    later = start + timedelta(seconds=90)
    with time_machine.travel(later, tick=False):
        signed_in_before = AuditEvent.objects.filter(action="staff.signed_in").count()
        response = _sign_in(client, "teacher@school.example")
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_authenticate")
        # The password alone does not sign in.
        assert not _signed_in(client)
        page = client.get(reverse("mfa_authenticate"))
        assert page.status_code == 200
        assert 'for="id_code"' in page.content.decode()
        code = _totp(secret, later.timestamp())
        bad = "000000" if code != "000000" else "111111"
        response = client.post(reverse("mfa_authenticate"), {"code": bad})
        assert response.status_code == 200
        assert 'class="error-summary"' in response.content.decode()
        assert not _signed_in(client)
        assert AuditEvent.objects.filter(action="staff.signed_in").count() == signed_in_before
        refused = AuditEvent.objects.filter(action="staff.sign_in_failed").get()
        assert refused.actor is None and refused.object_id == str(teacher.pk)
        assert refused.data["step"] == "authenticator code"
        response = client.post(reverse("mfa_authenticate"), {"code": code})
        assert response.status_code == 302
        assert _signed_in(client)
        assert AuditEvent.objects.filter(action="staff.signed_in").count() == \
            signed_in_before + 1


def test_it_audits_turning_totp_off(client, teacher, django_capture_on_commit_callbacks):
    _sign_in(client, "teacher@school.example")
    _reauthenticate(client)
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_activate_totp"), {"code": _totp(secret)})
    response = client.get(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=teacher, type="totp").exists()
    event = AuditEvent.objects.filter(action="mfa.deactivated").first()
    assert event is not None and event.actor == teacher


def test_it_offers_two_step_sign_in_on_the_security_page(client, teacher):
    client.force_login(teacher)
    html = client.get(reverse("accounts:security")).content.decode()
    assert reverse("mfa_activate_totp") in html
    page = client.get(reverse("mfa_index"))
    assert page.status_code == 200
    assert 'class="skip-link"' in page.content.decode()
