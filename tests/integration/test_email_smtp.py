"""Invitation emails over real SMTP: approval → commit → Django's SMTP backend → a local
aiosmtpd server (tests/plugins/smtp.py). The locmem outbox elsewhere checks what the app
meant to send; this checks what a mail server actually receives."""

from __future__ import annotations

import re

import pytest

from safeclass.invitations.services import resolve_token
from safeclass.lessons.services import LessonDraft, do_approve_lesson, do_request_lesson
from tests import factories

# transaction=True: emails leave only once the approval has really committed.
pytestmark = pytest.mark.django_db(transaction=True)

JOIN_LINK = re.compile(r"(?P<base>https?://[^\s\"<>]+)/join/(?P<token>[A-Za-z0-9_-]+)/")


def _text_body(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the email has no plain-text part"
    return part.get_content()


def _request(teacher, ta, group):
    draft = LessonDraft(title="Fractions", host=teacher, second_staff=ta, group=group,
                        pupils=(), starts_at=factories.future_start(), duration_minutes=30,
                        recorded=False)
    return do_request_lesson(draft, actor=teacher)


def test_it_emails_each_parent_their_childs_join_link(smtp_mail, settings, teacher, ta, deputy,
                                                      group):
    lesson = _request(teacher, ta, group)
    assert smtp_mail.messages == [], "nothing is emailed before approval"

    do_approve_lesson(lesson, actor=deputy)

    pupils = list(group.pupils.order_by("pk"))
    messages = smtp_mail.wait_for(len(pupils))
    assert len(messages) == len(pupils) == 4
    envelopes = smtp_mail.envelopes
    assert sorted(r for e in envelopes for r in e.rcpt_tos) == sorted(
        p.parent_email for p in pupils), "one email per parent, to that parent only"
    assert all(len(e.rcpt_tos) == 1 for e in envelopes)

    tokens = set()
    for envelope in envelopes:
        message = envelope.message
        pupil = next(p for p in pupils if p.parent_email == envelope.rcpt_tos[0])
        assert message["To"] == pupil.parent_email
        assert message["Subject"]
        text = _text_body(message)
        links = JOIN_LINK.findall(text)
        assert len(links) == 1, f"expected one /join/ link in:\n{text}"
        base, token = links[0]
        assert base == settings.BASE_URL
        # The link in the email really is this pupil's, for this lesson.
        invitation = resolve_token(token)
        assert invitation is not None
        assert (invitation.pupil_id, invitation.lesson_id) == (pupil.pk, lesson.pk)
        assert pupil.first_name in text
        html = message.get_body(preferencelist=("html",))
        assert html is not None and f"/join/{token}/" in html.get_content()
        tokens.add(token)
    assert len(tokens) == len(pupils), "every pupil has a link of their own"


def test_it_sends_nothing_over_smtp_when_a_lesson_is_only_requested(smtp_mail, teacher, ta,
                                                                   group):
    _request(teacher, ta, group)
    assert smtp_mail.messages == []
