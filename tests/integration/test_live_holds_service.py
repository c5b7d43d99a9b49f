"""Removal holds and incidents as services: placed once, cleared only by a senior leader
who records the follow-up with the parents, and every step audited (removal-hold)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from safeclass.audit.models import AuditEvent
from safeclass.lessons.services import ActionNotAllowed
from safeclass.live.holds import active_hold, do_clear_hold, place_removal_hold
from safeclass.live.incidents import record_incident
from safeclass.live.models import Incident, IncidentKind, RemovalHold
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(teacher, ta, group):
    return factories.make_requested_lesson(teacher, group, second_staff=ta)


@pytest.fixture
def pupil(group):
    return group.pupils.order_by("pk").first()


def place(lesson, pupil, actor, reason="Shared the screen of a stranger"):
    with transaction.atomic():
        return place_removal_hold(lesson=lesson, pupil=pupil, actor=actor, reason=reason)


def today(school):
    return timezone.localdate(timezone.now(), school.zone)


def test_it_places_a_hold_and_audits_it(lesson, pupil, teacher, school):
    assert active_hold(pupil) is None
    hold = place(lesson, pupil, teacher)
    assert active_hold(pupil) == hold
    assert (hold.school, hold.lesson, hold.placed_by) == (school, lesson, teacher)
    event = AuditEvent.objects.get(action="live.hold_placed")
    assert event.school == school and event.actor == teacher
    assert event.data["pupil"] == pupil.pk and event.data["lesson"] == lesson.pk
    assert event.object_id == str(hold.pk)


def test_it_places_a_hold_only_once(lesson, pupil, teacher, ta):
    first = place(lesson, pupil, teacher)
    again = place(lesson, pupil, ta, reason="Again")
    assert again == first
    assert RemovalHold.objects.count() == 1
    assert AuditEvent.objects.filter(action="live.hold_placed").count() == 1


def test_it_refuses_a_pupil_of_another_school(lesson, teacher, other_school):
    stranger = factories.make_pupil(factories.make_group(other_school))
    with pytest.raises(ValueError):
        place(lesson, stranger, teacher)


def test_it_clears_a_hold_with_the_follow_up_and_audits_it(lesson, pupil, teacher, slt,
                                                          school):
    hold = place(lesson, pupil, teacher)
    on = today(school)
    cleared = do_clear_hold(hold, actor=slt, follow_up_with="  Mrs Parent, mother ",
                            follow_up_on=on, outcome="Agreed the rules again.")
    assert cleared.cleared_by == slt and cleared.cleared_at is not None
    hold.refresh_from_db()
    assert (hold.follow_up_with, hold.follow_up_on, hold.outcome) == (
        "Mrs Parent, mother", on, "Agreed the rules again.")
    assert active_hold(pupil) is None
    event = AuditEvent.objects.get(action="live.hold_cleared")
    assert event.actor == slt and event.school == school
    assert event.data["follow_up_with"] == "Mrs Parent, mother"
    assert event.data["follow_up_on"] == on.isoformat()
    assert event.data["outcome"] == "Agreed the rules again."
    assert event.data["cleared_at"]


def test_a_new_removal_after_clearing_places_a_new_hold(lesson, pupil, teacher, slt, school):
    hold = place(lesson, pupil, teacher)
    do_clear_hold(hold, actor=slt, follow_up_with="Dad", follow_up_on=today(school),
                  outcome="Fine")
    second = place(lesson, pupil, teacher)
    assert second != hold and active_hold(pupil) == second


def test_it_refuses_to_clear_twice(lesson, pupil, teacher, slt, school):
    hold = place(lesson, pupil, teacher)
    do_clear_hold(hold, actor=slt, follow_up_with="Dad", follow_up_on=today(school),
                  outcome="Fine")
    stale = RemovalHold.objects.get(pk=hold.pk)
    stale.cleared_at = None  # a copy read before the colleague cleared it
    with pytest.raises(ActionNotAllowed) as exc:
        do_clear_hold(stale, actor=slt, follow_up_with="Mum", follow_up_on=today(school),
                      outcome="Again")
    assert exc.value.conflict
    assert "already cleared" in str(exc.value)
    assert AuditEvent.objects.filter(action="live.hold_cleared").count() == 1


@pytest.mark.parametrize("who", ["teacher", "head", "admin"])
def test_only_senior_leaders_clear_holds(request, who, lesson, pupil, teacher, school):
    hold = place(lesson, pupil, teacher)
    with pytest.raises(ActionNotAllowed) as exc:
        do_clear_hold(hold, actor=request.getfixturevalue(who), follow_up_with="Dad",
                      follow_up_on=today(school), outcome="Fine")
    assert not exc.value.conflict
    assert active_hold(pupil) == hold


def test_a_senior_leader_of_another_school_cannot_clear(lesson, pupil, teacher, outsider,
                                                       school):
    hold = place(lesson, pupil, teacher)
    with pytest.raises(ActionNotAllowed):
        do_clear_hold(hold, actor=outsider, follow_up_with="Dad",
                      follow_up_on=today(school), outcome="Fine")
    assert active_hold(pupil) == hold


def test_it_names_every_missing_field(lesson, pupil, teacher, slt):
    hold = place(lesson, pupil, teacher)
    with pytest.raises(ValidationError) as exc:
        do_clear_hold(hold, actor=slt, follow_up_with=" ", follow_up_on=None, outcome="")
    assert set(exc.value.message_dict) == {"follow_up_with", "follow_up_on", "outcome"}
    assert active_hold(pupil) == hold
    assert not AuditEvent.objects.filter(action="live.hold_cleared").exists()


def test_it_refuses_a_follow_up_date_in_the_future_or_before_the_removal(lesson, pupil,
                                                                        teacher, slt, school):
    hold = place(lesson, pupil, teacher)
    for on in (today(school) + timedelta(days=1), today(school) - timedelta(days=2)):
        with pytest.raises(ValidationError) as exc:
            do_clear_hold(hold, actor=slt, follow_up_with="Dad", follow_up_on=on,
                          outcome="Fine")
        assert list(exc.value.message_dict) == ["follow_up_on"]
    assert active_hold(pupil) == hold


def test_it_records_an_incident_and_audits_it(lesson, teacher, school):
    with transaction.atomic():
        incident = record_incident(lesson=lesson, kind=IncidentKind.OUTSIDER_REMOVED,
                                   summary="An adult nobody knew joined.", actor=teacher)
    assert (incident.school, incident.lesson, incident.created_by) == (school, lesson, teacher)
    event = AuditEvent.objects.get(action="live.incident")
    assert event.data == {"lesson": lesson.pk, "kind": "outsider_removed",
                          "summary": "An adult nobody knew joined."}


def test_it_records_an_incident_noticed_by_safeclass_itself(school):
    with transaction.atomic():
        incident = record_incident(lesson=None, kind=IncidentKind.MEDIA_REFUSED,
                                   summary="A raw client tried to create a room.",
                                   actor=None, school=school)
    assert incident.created_by is None and incident.school == school
    assert AuditEvent.objects.get(action="live.incident").actor_label == "system"


def test_it_refuses_an_unknown_incident_kind(lesson, teacher):
    with pytest.raises(ValueError), transaction.atomic():
        record_incident(lesson=lesson, kind="chat", summary="x", actor=teacher)
    assert not Incident.objects.exists()
