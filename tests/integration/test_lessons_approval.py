"""Approving, declining, editing and cancelling lessons, through the services and pages:
nobody approves their own lesson, a changed lesson goes back for approval and its links
stop working, approval issues fresh ones, cancelling withdraws every link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from safeclass.audit.models import AuditEvent
from safeclass.invitations.models import Invitation
from safeclass.invitations.services import resolve_token
from safeclass.lessons.models import LessonStatus
from safeclass.lessons.services import (
    ActionNotAllowed,
    LessonDraft,
    LessonRejected,
    do_approve_lesson,
    do_cancel_lesson,
    do_decline_lesson,
    do_edit_lesson,
)
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(teacher, ta, group):
    return factories.make_requested_lesson(teacher, group, second_staff=ta)


def approve(lesson, actor, capture):
    with capture(execute=True):
        return do_approve_lesson(lesson, actor=actor)


def token_of(link):
    return link.join_url.rstrip("/").rsplit("/", 1)[-1]


def redraft(lesson, **changes):
    values = {"title": lesson.title, "host": lesson.host, "second_staff": lesson.second_staff,
              "group": lesson.group, "pupils": (), "starts_at": lesson.starts_at,
              "duration_minutes": lesson.duration_minutes, "recorded": lesson.recorded}
    values.update(changes)
    return LessonDraft(**values)


# Approving ----------------------------------------------------------------------------------

def test_it_approves_and_issues_a_link_to_every_pupil(lesson, deputy,
                                                      django_capture_on_commit_callbacks):
    links = approve(lesson, deputy, django_capture_on_commit_callbacks)
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.APPROVED
    assert lesson.decided_by == deputy and lesson.decided_at is not None
    assert len(links) == 4
    assert Invitation.objects.filter(lesson=lesson, revoked_at__isnull=True).count() == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        lesson.pupils.values_list("parent_email", flat=True))
    assert AuditEvent.objects.filter(action="lesson.approved", object_id=str(lesson.pk)).exists()
    assert AuditEvent.objects.filter(action="invitation.issued").count() == 4


def test_it_refuses_to_let_anyone_approve_their_own_lesson(school, group, ta, head):
    teaching_head = factories.make_staff(school, roles=("teacher", "approver"))
    own = factories.make_requested_lesson(teaching_head, group, second_staff=ta)
    with pytest.raises(ActionNotAllowed, match="Nobody approves their own lesson"):
        do_approve_lesson(own, actor=teaching_head)
    # Nor a lesson they requested for someone else.
    requested = factories.make_requested_lesson(
        factories.make_staff(school, roles=("teacher",)), factories.make_group(school, pupils=2),
        recorded=True)
    requested.requested_by = head
    requested.save()
    with pytest.raises(ActionNotAllowed):
        do_approve_lesson(requested, actor=head)
    own.refresh_from_db()
    assert own.status == LessonStatus.PENDING_APPROVAL


def test_it_lets_only_approvers_approve(lesson, teacher, slt, admin):
    for who in (teacher, slt, admin):
        with pytest.raises(ActionNotAllowed):
            do_approve_lesson(lesson, actor=who)


def test_it_approves_only_a_waiting_lesson(lesson, deputy, head,
                                           django_capture_on_commit_callbacks):
    approve(lesson, deputy, django_capture_on_commit_callbacks)
    with pytest.raises(ActionNotAllowed) as exc:
        do_approve_lesson(lesson, actor=head)
    assert exc.value.conflict


def test_it_checks_the_policy_again_at_approval(teacher, ta, group, deputy):
    start = datetime(2030, 3, 6, 10, tzinfo=UTC)
    with time_machine.travel(start - timedelta(days=1), tick=False):
        lesson = factories.make_requested_lesson(teacher, group, second_staff=ta,
                                                 starts_at=start)
    with time_machine.travel(start + timedelta(minutes=5), tick=False), \
            pytest.raises(LessonRejected) as exc:
        do_approve_lesson(lesson, actor=deputy)
    assert [v.rule for v in exc.value.violations] == ["start-in-past"]
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.PENDING_APPROVAL
    assert not Invitation.objects.exists()


def test_it_sends_nothing_when_the_approval_rolls_back(lesson, deputy,
                                                      django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                do_approve_lesson(lesson, actor=deputy)
                raise RuntimeError("something later failed")
        except RuntimeError:
            pass
    assert callbacks == [] and mail.outbox == []
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.PENDING_APPROVAL


# Declining ----------------------------------------------------------------------------------

def test_it_declines_with_a_reason(lesson, head):
    do_decline_lesson(lesson, "  Clashes with <b>assembly</b> ", actor=head)
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.DECLINED
    assert lesson.decline_reason == "Clashes with <b>assembly</b>"
    event = AuditEvent.objects.get(action="lesson.declined")
    assert event.data["reason"] == "Clashes with <b>assembly</b>"


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_it_wants_a_reason_to_decline(lesson, head, reason):
    with pytest.raises(ValidationError) as exc:
        do_decline_lesson(lesson, reason, actor=head)
    assert "reason" in exc.value.message_dict
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.PENDING_APPROVAL


def test_it_asks_for_the_reason_on_the_page(client, lesson, head):
    client.force_login(head)
    response = client.post(reverse("lessons:decline", args=[lesson.pk]), {"reason": "  "})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Give a reason for declining" in body and 'href="#id_reason"' in body
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.PENDING_APPROVAL
    response = client.post(reverse("lessons:decline", args=[lesson.pk]), {"reason": "No room"})
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.DECLINED
    client.force_login(lesson.host)
    assert "No room" in client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()


# Editing ------------------------------------------------------------------------------------

def test_it_sends_a_retimed_approved_lesson_back_and_withdraws_its_links(
        lesson, teacher, deputy, head, django_capture_on_commit_callbacks):
    old_links = approve(lesson, deputy, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    do_edit_lesson(lesson, redraft(lesson, starts_at=lesson.starts_at + timedelta(hours=1)),
                   actor=teacher)
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.PENDING_APPROVAL
    assert lesson.decided_by is None
    assert not Invitation.objects.filter(lesson=lesson, revoked_at__isnull=True).exists()
    assert set(Invitation.objects.values_list("revoked_reason", flat=True)) == {"lesson_edited"}
    old = resolve_token(token_of(old_links[0]))
    assert old is not None and old.revoked_at is not None
    event = AuditEvent.objects.get(action="lesson.edited")
    assert event.data["sent_back_for_approval"] is True
    assert event.data["before"]["starts_at"] != event.data["after"]["starts_at"]
    # Approval again issues fresh links; the old ones stay dead.
    new_links = approve(lesson, head, django_capture_on_commit_callbacks)
    assert {token_of(link) for link in new_links}.isdisjoint(token_of(x) for x in old_links)
    assert len(mail.outbox) == 4
    assert resolve_token(token_of(old_links[0])).revoked_at is not None


@pytest.mark.parametrize("change", ["pupils", "second_staff", "recorded", "duration"])
def test_it_sends_back_changes_of_pupils_staff_or_recording(
        change, lesson, teacher, deputy, head, group, django_capture_on_commit_callbacks):
    approve(lesson, deputy, django_capture_on_commit_callbacks)
    changes = {"pupils": {"group": None, "pupils": tuple(group.pupils.all()[:3])},
               "second_staff": {"second_staff": head},
               "recorded": {"recorded": True},
               "duration": {"duration_minutes": 20}}[change]
    do_edit_lesson(lesson, redraft(lesson, **changes), actor=teacher)
    assert lesson.status == LessonStatus.PENDING_APPROVAL


def test_it_keeps_a_lesson_approved_when_only_the_title_changes(
        lesson, teacher, deputy, django_capture_on_commit_callbacks):
    approve(lesson, deputy, django_capture_on_commit_callbacks)
    do_edit_lesson(lesson, redraft(lesson, title="Fractions (part 2)"), actor=teacher)
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.APPROVED and lesson.title == "Fractions (part 2)"
    assert Invitation.objects.filter(lesson=lesson, revoked_at__isnull=True).count() == 4


def test_it_checks_the_policy_on_an_edit(lesson, teacher):
    with pytest.raises(LessonRejected) as exc:
        do_edit_lesson(lesson, redraft(lesson, duration_minutes=45), actor=teacher)
    assert [v.rule for v in exc.value.violations] == ["max-duration"]
    lesson.refresh_from_db()
    assert lesson.duration_minutes == 30


def test_it_does_not_count_a_lesson_as_clashing_with_itself(lesson, teacher):
    do_edit_lesson(lesson, redraft(lesson, starts_at=lesson.starts_at + timedelta(minutes=10)),
                   actor=teacher)
    lesson.refresh_from_db()
    assert lesson.starts_at.minute == 10


def test_it_refuses_edits_by_others_and_of_closed_lessons(lesson, teacher2, ta, head):
    for who in (teacher2, ta):
        with pytest.raises(ActionNotAllowed):
            do_edit_lesson(lesson, redraft(lesson, title="X"), actor=who)
    do_decline_lesson(lesson, "No", actor=head)
    with pytest.raises(ActionNotAllowed) as exc:
        do_edit_lesson(lesson, redraft(lesson, title="X"), actor=lesson.host)
    assert exc.value.conflict


def test_it_edits_through_the_page_and_says_it_went_back(client, lesson, teacher, deputy,
                                                         django_capture_on_commit_callbacks):
    approve(lesson, deputy, django_capture_on_commit_callbacks)
    client.force_login(teacher)
    page = client.get(reverse("lessons:edit", args=[lesson.pk])).content.decode()
    assert "sends it back for approval" in page
    assert 'value="Fractions"' in page
    local = lesson.starts_at.astimezone(lesson.school.zone)
    response = client.post(reverse("lessons:edit", args=[lesson.pk]), {
        "title": "Fractions", "group": lesson.group_id, "date": local.date().isoformat(),
        "start_time": (local + timedelta(minutes=30)).strftime("%H:%M"),
        "duration_minutes": "30", "second_staff": lesson.second_staff_id}, follow=True)
    assert "waiting for approval again" in response.content.decode()
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.PENDING_APPROVAL


# Cancelling ---------------------------------------------------------------------------------

def test_it_cancels_and_withdraws_every_link(lesson, teacher, deputy,
                                             django_capture_on_commit_callbacks):
    links = approve(lesson, deputy, django_capture_on_commit_callbacks)
    do_cancel_lesson(lesson, actor=teacher)
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.CANCELLED and lesson.cancelled_at is not None
    assert not Invitation.objects.filter(lesson=lesson, revoked_at__isnull=True).exists()
    assert resolve_token(token_of(links[0])).revoked_reason == "lesson_cancelled"
    assert AuditEvent.objects.get(action="lesson.cancelled").data["links_withdrawn"] == 4


def test_it_lets_the_host_or_an_approver_cancel_but_nobody_else(lesson, ta, slt, teacher2,
                                                                head):
    for who in (ta, slt, teacher2):
        with pytest.raises(ActionNotAllowed):
            do_cancel_lesson(lesson, actor=who)
    do_cancel_lesson(lesson, actor=head)
    with pytest.raises(ActionNotAllowed) as exc:
        do_cancel_lesson(lesson, actor=head)
    assert exc.value.conflict


def test_it_asks_before_cancelling_on_the_page(client, lesson, teacher):
    client.force_login(teacher)
    page = client.get(reverse("lessons:cancel", args=[lesson.pk]))
    assert page.status_code == 200 and "Yes, cancel the lesson" in page.content.decode()
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.PENDING_APPROVAL
    response = client.post(reverse("lessons:cancel", args=[lesson.pk]))
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.CANCELLED


# Pages --------------------------------------------------------------------------------------

def test_it_shows_the_approval_queue_oldest_first_with_own_requests_marked(
        client, school, deputy, teacher, ta, group):
    first = factories.make_requested_lesson(teacher, group, second_staff=ta, title="First")
    second = factories.make_requested_lesson(
        teacher, factories.make_group(school, pupils=2), recorded=True, title="Second <b>",
        starts_at=factories.future_start(days=5))
    # The deputy asks for one on the teacher's behalf: theirs to request, not to approve.
    own = factories.make_requested_lesson(teacher, factories.make_group(school, pupils=2),
                                          recorded=True, title="Own",
                                          starts_at=factories.future_start(days=6))
    own.requested_by = deputy
    own.save()
    client.force_login(deputy)
    body = client.get(reverse("lessons:approvals")).content.decode()
    assert body.index("First") < body.index("Second &lt;b&gt;") < body.index("Own")
    assert "You cannot approve your own request" in body
    assert body.count("It passes every policy check") == 3
    assert reverse("lessons:approve", args=[first.pk]) in body
    assert reverse("lessons:approve", args=[second.pk]) in body
    assert reverse("lessons:approve", args=[own.pk]) not in body


def test_it_shows_broken_rules_in_the_queue(client, deputy, teacher, ta, group):
    start = datetime(2030, 3, 6, 10, tzinfo=UTC)
    with time_machine.travel(start - timedelta(days=1), tick=False):
        factories.make_requested_lesson(teacher, group, second_staff=ta, starts_at=start)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        client.force_login(deputy)
        body = client.get(reverse("lessons:approvals")).content.decode()
    assert '<code class="rule-id">start-in-past</code>' in body


def test_it_approves_through_the_page(client, lesson, deputy,
                                      django_capture_on_commit_callbacks):
    client.force_login(deputy)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("lessons:approve", args=[lesson.pk]))
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.APPROVED
    assert len(mail.outbox) == 4


def test_it_refuses_an_own_approval_through_the_page(client, school, group, ta):
    teaching_head = factories.make_staff(school, roles=("teacher", "approver"))
    own = factories.make_requested_lesson(teaching_head, group, second_staff=ta)
    client.force_login(teaching_head)
    page = client.get(reverse("lessons:detail", args=[own.pk])).content.decode()
    assert "You cannot approve your own request" in page
    assert reverse("lessons:approve", args=[own.pk]) not in page
    response = client.post(reverse("lessons:approve", args=[own.pk]))
    assert response.status_code == 403
    assert "Nobody approves their own lesson" in response.content.decode()


def test_it_lists_a_teachers_lessons_upcoming_first(client, teacher, ta, group, school):
    start = datetime(2030, 3, 6, 10, tzinfo=UTC)
    with time_machine.travel(start - timedelta(days=3), tick=False):
        past = factories.make_requested_lesson(teacher, group, second_staff=ta,
                                               starts_at=start, title="Earlier")
        soon = factories.make_requested_lesson(teacher, group, second_staff=ta,
                                               starts_at=start + timedelta(days=2),
                                               title="Soon")
        later = factories.make_requested_lesson(
            factories.make_staff(school, roles=("teacher",)), group, second_staff=teacher,
            starts_at=start + timedelta(days=4), title="Supporting")
    with time_machine.travel(start + timedelta(days=1), tick=False):
        client.force_login(teacher)
        body = client.get(reverse("lessons:mine")).content.decode()
    assert body.index(soon.title) < body.index(later.title) < body.index(past.title)
    assert body.index("Coming up") < body.index(soon.title)
    assert body.index("Past lessons") < body.index(past.title)


def test_it_shows_a_lessons_details_with_names_escaped(client, teacher, ta, school):
    group = factories.make_group(school, "<b>Year 4</b>")
    factories.make_pupil(group, "<b>Zoë</b>", "O'Brien")
    factories.make_pupil(group, "Nguyễn", "Văn")
    lesson = factories.make_requested_lesson(teacher, group, second_staff=ta,
                                             title="<script>x</script>")
    client.force_login(teacher)
    body = client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    assert "&lt;b&gt;Zoë&lt;/b&gt;" in body and "Nguyễn" in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body and "<script>x" not in body
    assert "<b>Year 4</b>" not in body
