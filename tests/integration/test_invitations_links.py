"""Pupils' personal links: issued on approval, stored only as hashes, emailed to parents,
re-issued and exported (the old ones stop working), and opened by parents without an
account: the token is swapped for a cookie, and the page says plainly whether the lesson
is open yet."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from safeclass.accounts.models import hash_secret
from safeclass.audit.models import AuditEvent
from safeclass.invitations.models import Invitation
from safeclass.invitations.services import (
    do_issue_invitations,
    export_links,
    link_state,
    resolve_token,
)
from safeclass.lessons.services import (
    ActionNotAllowed,
    LessonRejected,
    do_approve_lesson,
    do_cancel_lesson,
)
from tests import factories

pytestmark = pytest.mark.django_db

# Tuesday 4 June 2030, 10:00Z = 11:00 in London (summer time). Links open at 10:50 local.
START = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
BEFORE = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def lesson(teacher, ta, group):
    with time_machine.travel(BEFORE, tick=False):
        return factories.make_requested_lesson(teacher, group, second_staff=ta, starts_at=START)


@pytest.fixture
def links(lesson, deputy, django_capture_on_commit_callbacks):
    with time_machine.travel(BEFORE, tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        issued = do_approve_lesson(lesson, actor=deputy)
    return issued


def token_of(link):
    return link.join_url.rstrip("/").rsplit("/", 1)[-1]


def join(client, token, when=None):
    """Open a link as a parent's browser would, following the redirect."""
    with time_machine.travel(when or START, tick=False):
        first = client.get(reverse("invitations:open", args=[token]))
        if first.status_code != 302:
            return first, first
        return first, client.get(first["Location"])


# Issuing ----------------------------------------------------------------------------------

def test_it_makes_tokens_of_at_least_128_bits_and_stores_only_their_hash(links, lesson):
    for link in links:
        token = token_of(link)
        assert len(token) >= 43  # 32 random bytes, base64: 256 bits
        assert link.join_url.endswith(f"/join/{token}/")
        invitation = Invitation.objects.get(token_hash=hash_secret(token))
        assert invitation.lesson == lesson
    tokens = {token_of(link) for link in links}
    assert len(tokens) == 4
    # Nowhere in the database: not in invitations, not in the audit log.
    with connection.cursor() as cursor:
        for table in ("invitations_invitation", "audit_auditevent"):
            cursor.execute(f"SELECT * FROM {table}")
            dump = repr(cursor.fetchall())
            assert not any(token in dump for token in tokens), table


def test_it_emails_each_parent_their_own_childs_link(links, lesson):
    assert len(mail.outbox) == 4
    by_parent = {m.to[0]: m for m in mail.outbox}
    for link in links:
        message = by_parent[link.parent_email]
        assert link.join_url in message.body
        assert "Fractions" in message.subject
        assert "Please do not share this link" in message.body
        assert "10:50 on Tuesday 4 June" in message.body  # opening time, London
        assert "11:00 on Tuesday 4 June" in message.body
        html, kind = message.alternatives[0]
        assert kind == "text/html" and f'href="{link.join_url}"' in html
        others = [other.join_url for other in links if other is not link]
        assert not any(url in message.body for url in others)


def test_it_uses_first_names_with_an_initial_only_when_two_share_one(teacher, ta, school,
                                                                    deputy):
    group = factories.make_group(school)
    factories.make_pupil(group, "Sam", "Brown")
    factories.make_pupil(group, "Sam", "Evans")
    factories.make_pupil(group, "Zoë", "O'Brien")
    lesson = factories.make_requested_lesson(teacher, group, second_staff=ta)
    links = do_approve_lesson(lesson, actor=deputy)
    assert sorted(link.display_name for link in links) == ["Sam B.", "Sam E.", "Zoë"]


def test_it_escapes_names_in_the_html_email(teacher, ta, school, deputy,
                                           django_capture_on_commit_callbacks):
    group = factories.make_group(school)
    factories.make_pupil(group, "<b>Ann</b>", "X")
    factories.make_pupil(group, "Ben", "Y")
    lesson = factories.make_requested_lesson(teacher, group, second_staff=ta,
                                             title="<i>Maths</i>")
    with django_capture_on_commit_callbacks(execute=True):
        do_approve_lesson(lesson, actor=deputy)
    message = next(m for m in mail.outbox if "Ann" in m.body)
    html = message.alternatives[0][0]
    assert "&lt;b&gt;Ann&lt;/b&gt;" in html and "<b>Ann</b>" not in html
    assert "&lt;i&gt;Maths&lt;/i&gt;" in html
    # The plain-text part and the subject show the name as typed.
    assert "<b>Ann</b>" in message.body and "<i>Maths</i>" in message.subject


def test_it_issues_links_only_for_approved_lessons(lesson, teacher):
    with pytest.raises(ActionNotAllowed) as exc:
        do_issue_invitations(lesson, None, actor=teacher)
    assert exc.value.conflict
    assert not Invitation.objects.exists()


def test_it_refuses_links_for_pupils_not_invited(links, lesson, teacher, school):
    stranger = factories.make_pupil(factories.make_group(school))
    with pytest.raises(LessonRejected) as exc:
        do_issue_invitations(lesson, [stranger], actor=teacher)
    assert [v.rule for v in exc.value.violations] == ["invited-pupils-only"]


def test_it_reissues_one_link_and_the_old_one_stops_working(
        client, links, lesson, teacher, django_capture_on_commit_callbacks):
    link = links[0]
    pupil = lesson.pupils.get(pk=link.pupil_id)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        (new,) = do_issue_invitations(lesson, [pupil], actor=teacher, reason="reissued")
    assert new.join_url != link.join_url
    assert resolve_token(token_of(link)).revoked_reason == "reissued"
    assert resolve_token(token_of(new)).revoked_at is None
    assert [m.to for m in mail.outbox] == [[pupil.parent_email]]
    # The other pupils' links are untouched.
    assert resolve_token(token_of(links[1])).revoked_at is None
    _first, page = join(client, token_of(link))
    assert "This link has been withdrawn" in page.content.decode()


def test_it_reissues_through_the_page_and_shows_the_link_once(client, links, lesson, teacher):
    client.force_login(teacher)
    pupil_id = links[0].pupil_id
    response = client.post(reverse("lessons:reissue", args=[lesson.pk]),
                           {"pupil": pupil_id, "send_email": "1"})
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "shown only now" in body
    live = Invitation.objects.get(lesson=lesson, pupil_id=pupil_id, revoked_at__isnull=True)
    url = body.split('class="panel-secret"')[1].split(">", 1)[1].split("<", 1)[0].strip()
    assert hash_secret(url.rstrip("/").rsplit("/", 1)[-1]) == live.token_hash
    # The lesson page never shows a link.
    page = client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    assert "/join/" not in page


def test_it_refuses_to_reissue_for_a_pupil_not_in_the_lesson(client, links, lesson, teacher,
                                                            school):
    stranger = factories.make_pupil(factories.make_group(school))
    client.force_login(teacher)
    response = client.post(reverse("lessons:reissue", args=[lesson.pk]), {"pupil": stranger.pk})
    assert response.status_code == 404


# Exporting ----------------------------------------------------------------------------------

def test_it_exports_by_reissuing_every_link(links, lesson, slt):
    rows = export_links(lesson, actor=slt)
    assert len(rows) == 4
    assert {r.join_url for r in rows}.isdisjoint(link.join_url for link in links)
    assert all(resolve_token(token_of(link)).revoked_reason == "exported" for link in links)
    assert AuditEvent.objects.filter(action="invitation.exported").count() == 1


def test_it_asks_before_exporting_then_downloads_a_safe_csv(client, lesson, deputy, slt,
                                                           teacher, ta, school):
    evil = factories.make_pupil(lesson.group, "=HYPERLINK(\"x\")", "Zoë")
    evil.parent_name = "+cmd"
    evil.parent_email = "parent-evil@parents.example"
    evil.save()
    lesson.pupils.add(evil)
    old = do_approve_lesson(lesson, actor=deputy)
    client.force_login(slt)
    confirm = client.get(reverse("lessons:export", args=[lesson.pk]))
    assert confirm.status_code == 200
    assert "emailed to parents will stop working" in confirm.content.decode()
    assert all(resolve_token(token_of(link)).revoked_at is None for link in old)

    response = client.post(reverse("lessons:export", args=[lesson.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["Pupil", "Class", "Parent or carer", "Parent or carer email",
                       "Name shown in the lesson", "Personal link"]
    assert len(rows) == 6
    evil_row = next(r for r in rows if "HYPERLINK" in r[0])
    assert evil_row[0] == "'=HYPERLINK(\"x\") Zoë"
    assert evil_row[2] == "'+cmd"
    assert evil_row[4].startswith("'=")
    # The exported links work and the emailed ones no longer do.
    for row in rows[1:]:
        assert resolve_token(row[5].rstrip("/").rsplit("/", 1)[-1]).revoked_at is None
    assert all(resolve_token(token_of(link)).revoked_at is not None for link in old)
    # A teacher's file leaves out parents' contact details.
    client.force_login(teacher)
    rows = list(csv.reader(io.StringIO(
        client.post(reverse("lessons:export", args=[lesson.pk])).content.decode("utf-8-sig"))))
    assert rows[0] == ["Pupil", "Class", "Name shown in the lesson", "Personal link"]
    assert "parent-evil@parents.example" not in repr(rows)


def test_it_exports_nothing_before_approval(client, lesson, teacher):
    client.force_login(teacher)
    assert client.post(reverse("lessons:export", args=[lesson.pk])).status_code == 409
    assert not Invitation.objects.exists()


# The link's time window -------------------------------------------------------------------

def test_it_opens_ten_minutes_before_the_start_until_the_end(links):
    invitation = resolve_token(token_of(links[0]))
    assert link_state(invitation, START - timedelta(minutes=11)).state == "not_yet_open"
    assert link_state(invitation, START - timedelta(minutes=10)).state == "open"
    assert link_state(invitation, START + timedelta(minutes=29)).state == "open"
    assert link_state(invitation, START + timedelta(minutes=30)).state == "ended"
    state = link_state(invitation, START - timedelta(hours=3))
    assert state.opens_at == START - timedelta(minutes=10)
    assert state.ends_at == START + timedelta(minutes=30)


def test_it_says_when_an_early_link_opens(client, links):
    _first, page = join(client, token_of(links[0]), when=START - timedelta(days=1))
    body = page.content.decode()
    assert page.status_code == 200
    assert "This lesson opens at 10:50 on Tuesday 4 June" in body
    assert links[0].display_name in body


def test_it_says_the_lesson_is_open_inside_the_window(client, links):
    _first, page = join(client, token_of(links[0]), when=START - timedelta(minutes=5))
    body = page.content.decode()
    assert "The lesson is open" in body and "/check/" in body and "not built yet" not in body
    assert links[0].display_name in body and "Fractions" in body


def test_it_says_the_lesson_has_ended(client, links):
    _first, page = join(client, token_of(links[0]), when=START + timedelta(minutes=31))
    assert "This lesson has ended." in page.content.decode()


def test_it_says_a_cancelled_lessons_link_is_withdrawn(client, links, lesson, teacher):
    do_cancel_lesson(lesson, actor=teacher)
    _first, page = join(client, token_of(links[0]), when=START - timedelta(minutes=5))
    assert "This link has been withdrawn. Please contact the school." in page.content.decode()


def test_it_checks_again_on_every_request_after_the_swap(client, links, lesson, teacher):
    first, page = join(client, token_of(links[0]), when=START - timedelta(minutes=5))
    assert "The lesson is open" in page.content.decode()
    do_cancel_lesson(lesson, actor=teacher)
    with time_machine.travel(START - timedelta(minutes=4), tick=False):
        again = client.get(first["Location"])
    assert "This link has been withdrawn" in again.content.decode()


# The token-for-cookie swap ----------------------------------------------------------------

def test_it_swaps_the_token_for_a_cookie_and_drops_it_from_the_address(client, links):
    token = token_of(links[0])
    first, page = join(client, token, when=START - timedelta(days=1))
    invitation = Invitation.objects.get(token_hash=hash_secret(token))
    assert first.status_code == 302
    assert first["Location"] == reverse("invitations:status", args=[invitation.public_id])
    assert token not in first["Location"] and token not in page.content.decode()
    for response in (first, page):
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["Cache-Control"] == "no-store"
    assert invitation.first_opened_at is not None
    event = AuditEvent.objects.get(action="invitation.opened")
    assert token not in repr(event.data)


def test_it_keeps_two_childrens_lessons_in_one_browser(client, links):
    first_a, _ = join(client, token_of(links[0]))
    first_b, _ = join(client, token_of(links[1]))
    with time_machine.travel(START, tick=False):
        assert client.get(first_a["Location"]).status_code == 200
        assert client.get(first_b["Location"]).status_code == 200


def test_it_shows_the_lesson_page_only_to_the_browser_that_swapped_the_token(client, links):
    first, _ = join(client, token_of(links[0]))
    from django.test import Client

    stranger = Client()
    with time_machine.travel(START, tick=False):
        response = stranger.get(first["Location"])
    assert response.status_code == 404
    assert links[0].display_name not in response.content.decode()


def test_it_answers_every_unknown_token_the_same_way(client, links):
    one = client.get(reverse("invitations:open", args=["not-a-token"]))
    two = client.get(reverse("invitations:open", args=["A" * 43]))
    three = client.get(reverse("invitations:status", args=["0123456789abcdef"]))
    assert one.status_code == two.status_code == three.status_code == 404
    assert one.content == two.content == three.content
    assert one["Cache-Control"] == "no-store"


def test_it_answers_a_stale_token_with_the_withdrawn_page(client, links, lesson, teacher):
    pupil = lesson.pupils.get(pk=links[0].pupil_id)
    do_issue_invitations(lesson, [pupil], actor=teacher, send_email=False)
    _first, page = join(client, token_of(links[0]))
    assert "This link has been withdrawn" in page.content.decode()
    assert "The lesson is open" not in page.content.decode()


def test_it_rate_limits_unknown_tokens_per_address(client, links, settings):
    settings.JOIN_RATE_LIMIT_PER_MINUTE = 3
    with time_machine.travel(START, tick=False):
        for n in range(3):
            assert client.get(f"/join/guess{n}/").status_code == 404
        limited = client.get("/join/guess4/")
        assert limited.status_code == 429
        assert "Please wait a minute" in limited.content.decode()
        # Even a real token waits: guessing must not continue through the limit.
        assert client.get(f"/join/{token_of(links[0])}/").status_code == 429
        # Another address is not affected.
        assert client.get("/join/guess5/", REMOTE_ADDR="192.0.2.7").status_code == 404
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        assert client.get(f"/join/{token_of(links[0])}/").status_code == 302
