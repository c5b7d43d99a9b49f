"""Personal API tokens: created and revoked on the security page and by a management
command, stored hashed, shown once; authenticate_api_token for the API."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from safeclass.accounts import services
from safeclass.accounts.models import ApiToken, hash_secret
from safeclass.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r"sc_[A-Za-z0-9_-]{43}")


# --- the service --------------------------------------------------------------------------

def test_it_creates_a_token_stored_only_as_a_hash(teacher):
    token, raw = services.do_create_api_token(teacher, "Timetable sync", actor=teacher)
    assert TOKEN_RE.fullmatch(raw)
    assert token.token_hash == hash_secret(raw)
    assert token.prefix == raw[:8]
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in {stored.token_hash, stored.prefix, stored.name}
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.actor == teacher
    assert raw not in str(event.data)
    assert event.data["prefix"] == raw[:8]


def test_it_authenticates_a_token_and_notes_its_use_at_most_once_a_minute(teacher):
    token, raw = services.do_create_api_token(teacher, "sync", actor=teacher)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert services.authenticate_api_token(raw) == teacher
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        services.authenticate_api_token(raw)
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        services.authenticate_api_token(raw)
        token.refresh_from_db()
        assert token.last_used_at == start + timedelta(seconds=61)


@pytest.mark.parametrize("raw", ["", "sc_", "sc_nonsense", "not-a-token", "sc_" + "a" * 500])
def test_it_refuses_unknown_tokens(teacher, raw):
    services.do_create_api_token(teacher, "sync", actor=teacher)
    assert services.authenticate_api_token(raw) is None


def test_it_refuses_a_revoked_token(teacher):
    token, raw = services.do_create_api_token(teacher, "sync", actor=teacher)
    services.do_revoke_api_token(token, actor=teacher)
    assert services.authenticate_api_token(raw) is None
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1
    # Revoking twice changes nothing and writes nothing more.
    services.do_revoke_api_token(token, actor=teacher)
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_it_refuses_a_token_of_an_inactive_account(teacher):
    _token, raw = services.do_create_api_token(teacher, "sync", actor=teacher)
    teacher.is_active = False
    teacher.save()
    assert services.authenticate_api_token(raw) is None


def test_it_refuses_a_tampered_token(teacher):
    _token, raw = services.do_create_api_token(teacher, "sync", actor=teacher)
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert services.authenticate_api_token(tampered) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\u202ename", "tab\there"])
def test_it_refuses_bad_token_names(teacher, name):
    with pytest.raises(services.AccountError) as exc:
        services.do_create_api_token(teacher, name, actor=teacher)
    assert exc.value.field == "name"
    assert not ApiToken.objects.exists()


# --- the security page --------------------------------------------------------------------

def test_it_shows_the_security_page_to_any_staff_member(client, ta):
    client.force_login(ta)
    response = client.get(reverse("accounts:security"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Two-step sign-in" in html and "API tokens" in html and "Calendar link" in html


def test_it_sends_anonymous_visitors_from_the_security_page_to_sign_in(client, school):
    response = client.get(reverse("accounts:security"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_shows_a_new_token_once(client, teacher):
    client.force_login(teacher)
    response = client.post(reverse("accounts:token_create"), {"name": "Timetable <sync>"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    raw = TOKEN_RE.search(html).group(0)
    assert "This is the only time it is shown" in html
    assert "Timetable &lt;sync&gt;" in html
    assert services.authenticate_api_token(raw) == teacher
    # The next visit lists it by prefix only.
    again = client.get(reverse("accounts:security")).content.decode()
    assert raw not in again
    assert raw[:8] in again
    assert "This is the only time it is shown" not in again


def test_it_shows_token_name_errors(client, teacher):
    client.force_login(teacher)
    response = client.post(reverse("accounts:token_create"), {"name": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="#id_name"' in html
    assert not ApiToken.objects.exists()


def test_it_revokes_a_token_from_the_page(client, teacher):
    token, raw = services.do_create_api_token(teacher, "sync", actor=teacher)
    client.force_login(teacher)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert services.authenticate_api_token(raw) is None
    html = client.get(reverse("accounts:security")).content.decode()
    assert "Revoked" in html


def test_it_does_not_let_anyone_revoke_someone_elses_token(client, teacher, admin, outsider):
    token, raw = services.do_create_api_token(teacher, "sync", actor=teacher)
    # Not even the school's admin: tokens are personal.
    client.force_login(admin)
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    client.force_login(outsider)
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    assert services.authenticate_api_token(raw) == teacher


def test_it_refuses_get_on_token_actions(client, teacher):
    token, _raw = services.do_create_api_token(teacher, "sync", actor=teacher)
    client.force_login(teacher)
    assert client.get(reverse("accounts:token_create")).status_code == 405
    assert client.get(reverse("accounts:token_revoke", args=[token.pk])).status_code == 405
    assert ApiToken.objects.count() == 1


def test_it_sends_anonymous_token_actions_to_sign_in(client, teacher):
    token, raw = services.do_create_api_token(teacher, "sync", actor=teacher)
    for url in [reverse("accounts:token_create"),
                reverse("accounts:token_revoke", args=[token.pk])]:
        response = client.post(url, {"name": "x"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert services.authenticate_api_token(raw) == teacher
    assert ApiToken.objects.count() == 1


def test_it_requires_csrf_on_token_creation(teacher):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher)
    assert client.post(reverse("accounts:token_create"), {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


# --- the management command ---------------------------------------------------------------

def test_it_prints_a_token_once_from_the_command_line(teacher):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "Teacher@School.example", "--name", "Nightly export",
                 stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert TOKEN_RE.fullmatch(raw)
    assert "not shown again" in err.getvalue()
    token = ApiToken.objects.get(user=teacher)
    assert token.name == "Nightly export"
    assert token.token_hash == hash_secret(raw)
    assert raw not in token.token_hash
    assert services.authenticate_api_token(raw) == teacher
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.data["via"] == "command line"
    assert event.actor == teacher


def test_it_uses_a_default_name_on_the_command_line(teacher):
    call_command("create_api_token", "teacher@school.example", stdout=io.StringIO(),
                 stderr=io.StringIO())
    assert ApiToken.objects.get(user=teacher).name == "Command line"


def test_it_refuses_an_unknown_or_inactive_email_on_the_command_line(teacher, school):
    from tests import factories

    factories.make_staff(school, "gone@school.example", active=False)
    for email in ["nobody@school.example", "gone@school.example"]:
        with pytest.raises(CommandError, match="No active staff account"):
            call_command("create_api_token", email, stdout=io.StringIO(),
                         stderr=io.StringIO())
    assert not ApiToken.objects.exists()


def test_it_refuses_a_bad_name_on_the_command_line(teacher):
    with pytest.raises(CommandError, match="--name"):
        call_command("create_api_token", "teacher@school.example", "--name", "  ",
                     stdout=io.StringIO(), stderr=io.StringIO())
