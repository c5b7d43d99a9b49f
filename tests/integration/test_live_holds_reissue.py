"""No new link for a pupil removed from the lesson (no-rejoin-after-removal) or on a
removal hold (removal-hold): re-issuing by name is refused with the rule, by the service,
the lesson page and the API; a whole lesson's links (approval, export) skip that pupil,
and the skip is audited."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from safeclass.audit.models import AuditEvent
from safeclass.invitations.models import Invitation
from safeclass.invitations.services import do_issue_invitations, export_links
from safeclass.lessons.models import LessonStatus
from safeclass.lessons.services import LessonRejected, do_approve_lesson
from safeclass.live.holds import do_clear_hold, place_removal_hold
from safeclass.live.models import Presence, PresenceRole, PresenceState
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(teacher, ta, group):
    return factories.make_requested_lesson(teacher, group, second_staff=ta)


@pytest.fixture
def earlier(teacher, ta, group):
    return factories.make_requested_lesson(teacher, group, second_staff=ta,
                                           starts_at=factories.future_start(days=1),
                                           title="Earlier lesson")


@pytest.fixture
def approved(lesson, deputy):
    do_approve_lesson(lesson, actor=deputy)
    mail.outbox.clear()
    return lesson


@pytest.fixture
def pupil(group):
    return group.pupils.order_by("pk").first()


def hold_on(pupil, lesson, actor):
    with transaction.atomic():
        return place_removal_hold(lesson=lesson, pupil=pupil, actor=actor, reason="Removed")


def removed_from(lesson, pupil):
    return Presence.objects.create(lesson=lesson, role=PresenceRole.PUPIL, pupil=pupil,
                                   display_name=pupil.first_name, state=PresenceState.REMOVED)


def live_links(lesson, pupil):
    return Invitation.objects.filter(lesson=lesson, pupil=pupil, revoked_at__isnull=True)


# The service ------------------------------------------------------------------------------

def test_it_refuses_to_reissue_for_a_held_pupil(approved, pupil, earlier, teacher):
    hold_on(pupil, earlier, teacher)
    before = list(live_links(approved, pupil))
    with pytest.raises(LessonRejected) as exc:
        do_issue_invitations(approved, [pupil], actor=teacher, reason="reissued")
    (violation,) = exc.value.violations
    assert violation.rule == "removal-hold" and violation.field == "pupils"
    assert pupil.full_name in violation.message and "removal-hold" in violation.message
    # Nothing changed: the old link is not withdrawn either.
    assert list(live_links(approved, pupil)) == before


def test_it_refuses_to_reissue_for_a_pupil_removed_from_this_lesson(approved, pupil, teacher,
                                                                  group):
    removed_from(approved, pupil)
    other = group.pupils.exclude(pk=pupil.pk).first()
    with pytest.raises(LessonRejected) as exc:
        do_issue_invitations(approved, [pupil, other], actor=teacher, reason="reissued")
    assert [v.rule for v in exc.value.violations] == ["no-rejoin-after-removal"]
    assert "no-rejoin-after-removal" in exc.value.violations[0].message


def test_removal_from_this_lesson_still_counts_once_the_hold_is_cleared(approved, pupil,
                                                                       teacher, slt, school):
    removed_from(approved, pupil)
    hold = hold_on(pupil, approved, teacher)
    do_clear_hold(hold, actor=slt, follow_up_with="Mum",
                  follow_up_on=timezone.localdate(timezone.now(), school.zone), outcome="OK")
    with pytest.raises(LessonRejected) as exc:
        do_issue_invitations(approved, [pupil], actor=teacher, reason="reissued")
    assert [v.rule for v in exc.value.violations] == ["no-rejoin-after-removal"]


def test_a_cleared_hold_lets_the_pupil_have_a_link_again(approved, pupil, earlier, teacher,
                                                        slt, school):
    hold = hold_on(pupil, earlier, teacher)
    do_clear_hold(hold, actor=slt, follow_up_with="Mum",
                  follow_up_on=timezone.localdate(timezone.now(), school.zone), outcome="OK")
    (link,) = do_issue_invitations(approved, [pupil], actor=teacher, reason="reissued")
    assert link.pupil_id == pupil.pk


def test_approval_skips_a_held_pupil_and_audits_it(lesson, pupil, earlier, teacher, deputy,
                                                   django_capture_on_commit_callbacks):
    hold_on(pupil, earlier, teacher)
    with django_capture_on_commit_callbacks(execute=True):
        links = do_approve_lesson(lesson, actor=deputy)
    lesson.refresh_from_db()
    assert lesson.status == LessonStatus.APPROVED
    assert len(links) == 3 and pupil.pk not in {link.pupil_id for link in links}
    assert not Invitation.objects.filter(lesson=lesson, pupil=pupil).exists()
    assert pupil.parent_email not in [m.to[0] for m in mail.outbox]
    assert len(mail.outbox) == 3
    event = AuditEvent.objects.get(action="invitation.refused_hold")
    assert event.actor == deputy
    assert event.data == {"lesson": lesson.pk, "pupil": pupil.pk, "rule": "removal-hold",
                          "reason": "issued"}


def test_export_skips_a_held_pupil(approved, pupil, earlier, teacher, slt):
    hold_on(pupil, earlier, teacher)
    rows = export_links(approved, actor=slt)
    assert len(rows) == 3 and pupil.full_name not in {r.pupil_name for r in rows}
    event = AuditEvent.objects.get(action="invitation.refused_hold")
    assert event.data["pupil"] == pupil.pk and event.data["reason"] == "exported"


# The lesson page and the API --------------------------------------------------------------

def test_the_reissue_page_shows_the_rule(client, approved, pupil, earlier, teacher):
    hold_on(pupil, earlier, teacher)
    client.force_login(teacher)
    response = client.post(reverse("lessons:reissue", args=[approved.pk]),
                           {"pupil": pupil.pk, "send_email": "1"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "removal-hold" in body and "is on a removal hold" in body
    assert "/join/" not in body
    assert mail.outbox == []


def test_the_api_refuses_with_the_rule(client, approved, pupil, teacher):
    removed_from(approved, pupil)
    headers = {"Authorization": f"Bearer {factories.make_api_token(teacher)}"}
    response = client.post(f"/api/v1/lessons/{approved.pk}/invitations",
                           data={"pupils": [pupil.pk]}, content_type="application/json",
                           headers=headers)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["rule"] == "no-rejoin-after-removal" and error["field"] == "pupils"
    # Every pupil's links (no list) still works, without the removed pupil.
    response = client.post(f"/api/v1/lessons/{approved.pk}/invitations", data={},
                           content_type="application/json", headers=headers)
    assert response.status_code == 200
    assert pupil.pk not in {link["pupil"] for link in response.json()}
    assert len(response.json()) == 3
