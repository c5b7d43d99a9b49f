"""The removal holds page, clearing a hold, and the incidents list: for senior leaders of
the school only; everyone else gets 403, another school's hold 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from safeclass.audit.models import AuditEvent
from safeclass.live.holds import active_hold, place_removal_hold
from safeclass.live.incidents import record_incident
from safeclass.live.models import IncidentKind, RemovalHold
from tests import factories

pytestmark = pytest.mark.django_db

HOLDS = reverse("live:holds")
INCIDENTS = reverse("live:incidents")


@pytest.fixture
def lesson(teacher, ta, group):
    return factories.make_requested_lesson(teacher, group, second_staff=ta, title="Spelling")


@pytest.fixture
def hold(lesson, group, teacher):
    pupil = group.pupils.order_by("pk").first()
    pupil.first_name, pupil.last_name = "Amir", "Khan"
    pupil.save()
    with transaction.atomic():
        return place_removal_hold(lesson=lesson, pupil=pupil, actor=teacher,
                                  reason="Rude to classmates")


@pytest.fixture
def other_hold(outsider):
    group = factories.make_group(outsider.school, pupils=2)
    lesson = factories.make_requested_lesson(outsider, group, title="Elsewhere", recorded=True)
    with transaction.atomic():
        return place_removal_hold(lesson=lesson, pupil=group.pupils.first(), actor=outsider,
                                  reason="")


def clear_url(hold):
    return reverse("live:clear_hold", args=[hold.pk])


def today(school):
    return timezone.localdate(timezone.now(), school.zone)


# The holds page ---------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["slt", "deputy"])
def test_it_lists_active_holds_with_a_clear_link_for_slt(client, request, who, hold):
    client.force_login(request.getfixturevalue(who))
    response = client.get(HOLDS)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Amir Khan" in body and "Year 4 Oak" in body and "Spelling" in body
    assert "Tess Teacher" in body and "Rude to classmates" in body
    assert clear_url(hold) in body
    assert '<caption id="active-caption">1 pupil on hold' in body
    assert 'scope="col"' in body and 'scope="row"' in body


def test_the_dsl_sees_holds_but_cannot_clear_them(client, school, hold):
    dsl = factories.make_staff(school, roles=("dsl",))
    client.force_login(dsl)
    body = client.get(HOLDS).content.decode()
    assert "Amir Khan" in body
    assert clear_url(hold) not in body
    assert client.get(clear_url(hold)).status_code == 403


@pytest.mark.parametrize("who", ["teacher", "ta", "admin"])
def test_it_refuses_the_holds_page_to_other_roles(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(HOLDS).status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    for url in (HOLDS, INCIDENTS, reverse("live:clear_hold", args=[1])):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]


def test_it_never_shows_another_schools_holds(client, slt, hold, other_hold):
    client.force_login(slt)
    body = client.get(HOLDS).content.decode()
    assert "Elsewhere" not in body and other_hold.pupil.full_name not in body


def test_it_refuses_post_on_the_lists(client, slt):
    client.force_login(slt)
    assert client.post(HOLDS).status_code == 405
    assert client.post(INCIDENTS).status_code == 405


# Clearing a hold --------------------------------------------------------------------------

def test_it_shows_the_follow_up_form_with_labels(client, slt, hold):
    client.force_login(slt)
    response = client.get(clear_url(hold))
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("follow_up_with", "follow_up_on", "outcome"):
        assert f'<label class="label" for="id_{name}">' in body
    assert 'type="date"' in body
    assert "Amir Khan" in body


def test_it_clears_a_hold_and_it_leaves_the_active_list(client, slt, hold, school):
    client.force_login(slt)
    response = client.post(clear_url(hold), {
        "follow_up_with": "Mrs Khan, mother", "follow_up_on": today(school).isoformat(),
        "outcome": "Talked it through; Amir will keep to the rules."}, follow=True)
    assert response.redirect_chain[-1][0] == HOLDS
    body = response.content.decode()
    assert "The hold on Amir Khan is cleared" in body
    assert "No pupil is on hold." in body
    # Now in the cleared list, with who cleared it and the follow-up.
    assert "Sam Senior" in body and "Mrs Khan, mother" in body
    assert "Talked it through" in body
    assert clear_url(hold) not in body
    assert active_hold(hold.pupil) is None
    assert AuditEvent.objects.filter(action="live.hold_cleared", actor=slt).count() == 1


def test_it_names_each_missing_field(client, slt, hold):
    client.force_login(slt)
    response = client.post(clear_url(hold), {"follow_up_with": "", "follow_up_on": "",
                                             "outcome": ""})
    assert response.status_code == 200
    body = response.content.decode()
    assert "There are 3 problems" in body
    assert 'href="#id_follow_up_with"' in body and "Enter who you spoke to" in body
    assert 'href="#id_follow_up_on"' in body and "Enter the date you spoke to them" in body
    assert 'href="#id_outcome"' in body and "Enter the outcome" in body
    assert 'aria-describedby="id_outcome_helptext id_outcome_error"' in body
    assert RemovalHold.objects.get(pk=hold.pk).is_active


def test_it_refuses_a_date_in_the_future(client, slt, hold, school):
    client.force_login(slt)
    response = client.post(clear_url(hold), {
        "follow_up_with": "Dad", "outcome": "Fine",
        "follow_up_on": (today(school) + timedelta(days=1)).isoformat()})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="#id_follow_up_on"' in body and "cannot be in the future" in body
    assert RemovalHold.objects.get(pk=hold.pk).is_active


@pytest.mark.parametrize("who", ["teacher", "head", "admin"])
def test_it_refuses_clearing_to_roles_other_than_slt(client, request, who, hold, school):
    client.force_login(request.getfixturevalue(who))
    assert client.get(clear_url(hold)).status_code == 403
    response = client.post(clear_url(hold), {
        "follow_up_with": "Dad", "follow_up_on": today(school).isoformat(), "outcome": "x"})
    assert response.status_code == 403
    assert RemovalHold.objects.get(pk=hold.pk).is_active


def test_it_gives_404_for_another_schools_hold(client, slt, other_hold, other_school):
    client.force_login(slt)
    assert client.get(clear_url(other_hold)).status_code == 404
    response = client.post(clear_url(other_hold), {
        "follow_up_with": "Dad", "follow_up_on": today(other_school).isoformat(),
        "outcome": "x"})
    assert response.status_code == 404
    assert RemovalHold.objects.get(pk=other_hold.pk).is_active
    assert client.get(reverse("live:clear_hold", args=[999999])).status_code == 404


def test_a_cleared_hold_cannot_be_cleared_again(client, slt, hold, school):
    client.force_login(slt)
    data = {"follow_up_with": "Dad", "follow_up_on": today(school).isoformat(),
            "outcome": "Fine"}
    client.post(clear_url(hold), data)
    response = client.post(clear_url(hold), {**data, "outcome": "Changed"}, follow=True)
    assert "already cleared" in response.content.decode()
    assert RemovalHold.objects.get(pk=hold.pk).outcome == "Fine"
    assert AuditEvent.objects.filter(action="live.hold_cleared").count() == 1


# Incidents --------------------------------------------------------------------------------

@pytest.fixture
def incident(lesson, ta):
    with transaction.atomic():
        return record_incident(lesson=lesson, kind=IncidentKind.OUTSIDER_REMOVED,
                               summary="An adult nobody knew joined.", actor=ta)


@pytest.mark.parametrize("who", ["head", "slt", "deputy"])
def test_it_lists_incidents_for_the_head_dsl_and_slt(client, request, who, incident, lesson):
    client.force_login(request.getfixturevalue(who))
    response = client.get(INCIDENTS)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone who should not be there was removed" in body
    assert "An adult nobody knew joined." in body and "Tia Assistant" in body
    assert reverse("lessons:detail", args=[lesson.pk]) in body
    assert '<caption id="incidents-caption">1 incident' in body


def test_a_dsl_alone_sees_incidents(client, school, incident):
    client.force_login(factories.make_staff(school, roles=("dsl",)))
    assert client.get(INCIDENTS).status_code == 200


@pytest.mark.parametrize("who", ["teacher", "ta", "admin"])
def test_it_refuses_incidents_to_other_roles(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(INCIDENTS).status_code == 403


def test_it_never_shows_another_schools_incidents(client, head, incident, outsider):
    group = factories.make_group(outsider.school, pupils=2)
    elsewhere = factories.make_requested_lesson(outsider, group, title="Elsewhere",
                                                recorded=True)
    with transaction.atomic():
        record_incident(lesson=elsewhere, kind=IncidentKind.PUPIL_REMOVED,
                        summary="Not yours to see", actor=outsider)
    client.force_login(head)
    body = client.get(INCIDENTS).content.decode()
    assert "Not yours to see" not in body and '<caption id="incidents-caption">1 incident' in body


# Navigation -------------------------------------------------------------------------------

def test_the_navigation_links_to_holds_and_incidents_by_role(client, slt, head, teacher):
    client.force_login(slt)
    body = client.get(reverse("web:home")).content.decode()
    assert f'href="{HOLDS}"' in body and f'href="{INCIDENTS}"' in body
    client.force_login(head)  # approver and DSL
    body = client.get(reverse("web:home")).content.decode()
    assert f'href="{HOLDS}"' in body and f'href="{INCIDENTS}"' in body
    client.force_login(teacher)
    body = client.get(reverse("web:home")).content.decode()
    assert f'href="{HOLDS}"' not in body and f'href="{INCIDENTS}"' not in body


def test_it_lists_an_incident_without_a_lesson_or_a_person(client, head, school):
    with transaction.atomic():
        record_incident(lesson=None, kind=IncidentKind.MEDIA_REFUSED,
                        summary="A raw client tried to create a room.", actor=None,
                        school=school)
    client.force_login(head)
    body = client.get(INCIDENTS).content.decode()
    assert "A raw client tried to create a room." in body
    assert "No lesson" in body and "SafeClass, automatically" in body
