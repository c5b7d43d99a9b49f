"""The session timeout warning (WCAG 2.2.1): "Stay signed in" posts to the keep-alive
address, which moves the session's end on; staff pages carry the session's length for
session.js, and pages for people not signed in (and the lesson room) do not."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from safeclass.audit.models import AuditEvent
from safeclass.lessons.services import do_approve_lesson
from safeclass.live.checklist import do_confirm_checklist
from safeclass.live.models import CHECKLIST_KEYS
from tests import factories

pytestmark = pytest.mark.django_db

KEEP_ALIVE = "accounts:keep_alive"
T0 = datetime(2030, 6, 4, 9, 0, tzinfo=UTC)
# Tuesday 4 June 2030, 10:00Z: a lesson, approved before, whose room is open at NOW.
START = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
BEFORE = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
NOW = START - timedelta(minutes=5)


def _expires(client: Client) -> datetime:
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(session_key=key).expire_date


def _signed_in(client: Client) -> bool:
    return client.get(reverse("web:home")).status_code == 200


# --- the keep-alive address ---------------------------------------------------------------

def test_it_refuses_someone_not_signed_in_with_json_not_a_redirect(client, school):
    response = client.post(reverse(KEEP_ALIVE))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"signed_in": False}


def test_it_refuses_get(client, teacher):
    client.force_login(teacher)
    assert client.get(reverse(KEEP_ALIVE)).status_code == 405


def test_it_refuses_a_post_without_the_csrf_token(teacher):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(teacher)
    assert browser.post(reverse(KEEP_ALIVE)).status_code == 403


def test_it_accepts_the_token_from_the_pages_meta_tag(teacher):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(teacher)
    page = browser.get(reverse("web:home")).content.decode()
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert token, "a signed-in page carries the CSRF token for session.js"
    response = browser.post(reverse(KEEP_ALIVE), HTTP_X_CSRFTOKEN=token.group(1))
    assert response.status_code == 204
    assert "no-cache" in response["Cache-Control"]


def test_it_moves_the_end_of_the_session_on(client, teacher):
    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(T0, tick=False):
        client.force_login(teacher)
        assert _signed_in(client)
        assert _expires(client) == T0 + age
    later = T0 + age - timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        assert client.post(reverse(KEEP_ALIVE)).status_code == 204
        assert _expires(client) == later + age
    # Past the first end, still signed in.
    with time_machine.travel(T0 + age + timedelta(minutes=1), tick=False):
        assert _signed_in(client)


def test_it_cannot_bring_an_ended_session_back(client, teacher):
    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(T0, tick=False):
        client.force_login(teacher)
    with time_machine.travel(T0 + age + timedelta(seconds=1), tick=False):
        response = client.post(reverse(KEEP_ALIVE))
        assert response.status_code == 403
        assert response.json() == {"signed_in": False}
        assert not _signed_in(client)


def test_it_writes_nothing_to_the_audit_log(client, teacher):
    client.force_login(teacher)
    before = AuditEvent.objects.count()
    assert client.post(reverse(KEEP_ALIVE)).status_code == 204
    assert AuditEvent.objects.count() == before


# --- which pages carry the warning --------------------------------------------------------

def _has_warning(html: str) -> bool:
    return all(part in html for part in (
        "data-session-seconds=", '<template id="session-strings"', "safeclass/session.js",
        '<meta name="csrf-token"'))


def _has_none_of_it(html: str) -> bool:
    return not any(part in html for part in (
        "data-session-seconds=", "session-strings", "session.js", 'name="csrf-token"'))


@pytest.mark.parametrize("name", ["web:home", "lessons:request", "accounts:security"])
def test_it_gives_staff_pages_the_sessions_length_and_the_warnings_words(client, teacher,
                                                                         name, settings):
    settings.SESSION_COOKIE_AGE = 1234
    client.force_login(teacher)
    html = client.get(reverse(name)).content.decode()
    assert _has_warning(html)
    assert 'data-session-seconds="1234"' in html
    assert f'data-keep-alive="{reverse(KEEP_ALIVE)}"' in html
    assert "Stay signed in" in html and "You have been signed out." in html
    # The sign-in link brings the teacher back to this page.
    assert f'href="{reverse("account_login")}?next={reverse(name)}"' in html


def test_it_leaves_the_warning_off_the_sign_in_page(client, school):
    assert _has_none_of_it(client.get(reverse("account_login")).content.decode())


@pytest.fixture
def links(teacher, ta, deputy, group):
    with time_machine.travel(BEFORE, tick=False):
        lesson = factories.make_requested_lesson(teacher, group, second_staff=ta,
                                                 starts_at=START)
        return lesson, do_approve_lesson(lesson, actor=deputy)


def test_it_leaves_the_warning_off_the_parents_join_pages(client, links):
    _lesson, issued = links
    token = issued[0].join_url.rstrip("/").rsplit("/", 1)[-1]
    with time_machine.travel(NOW, tick=False):
        opened = client.get(reverse("invitations:open", args=[token]))
        assert opened.status_code == 302
        public_id = opened["Location"].rstrip("/").rsplit("/", 1)[-1]
        for address in (opened["Location"], reverse("live:join_check", args=[public_id])):
            response = client.get(address)
            assert response.status_code == 200, address
            assert _has_none_of_it(response.content.decode()), address


def test_it_leaves_the_warning_off_the_lesson_room(client, teacher, links):
    lesson, _issued = links
    with time_machine.travel(NOW, tick=False):
        do_confirm_checklist(lesson, teacher, list(CHECKLIST_KEYS))
        client.force_login(teacher)
        response = client.get(reverse("live:staff_room", args=[lesson.pk]))
        assert response.status_code == 200
        assert _has_none_of_it(response.content.decode())
        # The lesson's own page, outside the room, has it.
        assert _has_warning(client.get(reverse("lessons:detail", args=[lesson.pk]))
                            .content.decode())
