"""The lesson room pages: staff confirm the "before you start" checklist, then open the
room; a pupil reaches the room only from a device their parent consented on. The pages
carry no Janus secret, and the pupil's page has no chat, sharing or file controls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from safeclass.audit.models import AuditEvent
from safeclass.invitations.models import Invitation
from safeclass.lessons.services import do_approve_lesson
from safeclass.live import device
from safeclass.live.checklist import (
    ChecklistRefused,
    do_confirm_checklist,
    has_checklist,
    room_closed_reason,
)
from safeclass.live.consent import do_give_consent
from safeclass.live.models import CHECKLIST_ITEMS, CHECKLIST_KEYS, LiveRun, StaffChecklist
from tests import factories

pytestmark = pytest.mark.django_db

# Tuesday 4 June 2030, 10:00Z, 30 minutes. The room opens ten minutes before.
START = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
BEFORE = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
NOW = START - timedelta(minutes=5)
RAW_DEVICE = "d" * 22


@pytest.fixture
def lesson(teacher, ta, group):
    with time_machine.travel(BEFORE, tick=False):
        return factories.make_requested_lesson(teacher, group, second_staff=ta, starts_at=START,
                                               title="Fractions")


@pytest.fixture
def links(lesson, deputy):
    with time_machine.travel(BEFORE, tick=False):
        return do_approve_lesson(lesson, actor=deputy)


@pytest.fixture
def at_lesson_time(links):
    with time_machine.travel(NOW, tick=False):
        yield


def checklist_url(lesson):
    return reverse("live:checklist", args=[lesson.pk])


def room_url(lesson):
    return reverse("live:staff_room", args=[lesson.pk])


ALL_ITEMS = {"items": list(CHECKLIST_KEYS)}


# Staff: the checklist comes first ----------------------------------------------------------

def test_it_sends_staff_to_the_checklist_before_the_room(client, teacher, lesson, at_lesson_time):
    client.force_login(teacher)
    response = client.get(room_url(lesson))
    assert response.status_code == 302
    assert response["Location"] == checklist_url(lesson)


def test_the_checklist_asks_each_item_as_a_required_checkbox(client, teacher, lesson,
                                                             at_lesson_time):
    client.force_login(teacher)
    response = client.get(checklist_url(lesson))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<fieldset" in body and "<legend>" in body
    for key, label in CHECKLIST_ITEMS:
        assert f'id="id_item_{key}"' in body and f'value="{key}"' in body
        assert str(label) in body
    assert body.count("required") >= len(CHECKLIST_KEYS)


def test_a_missing_item_is_named_and_nothing_is_written(client, teacher, lesson,
                                                        at_lesson_time):
    client.force_login(teacher)
    labels = dict(CHECKLIST_ITEMS)
    response = client.post(checklist_url(lesson), {"items": list(CHECKLIST_KEYS[:-1])})
    assert response.status_code == 422
    body = response.content.decode()
    assert "There is a problem" in body
    missing = CHECKLIST_KEYS[-1]
    assert f'href="#id_item_{missing}"' in body
    assert f"Tick to confirm: “{labels[missing]}”" in body
    assert not StaffChecklist.objects.exists()
    assert not AuditEvent.objects.filter(action="live.checklist_confirmed").exists()
    # What was ticked stays ticked.
    assert body.count("required checked") == len(CHECKLIST_KEYS) - 1


def test_an_empty_post_names_every_item(client, teacher, lesson, at_lesson_time):
    client.force_login(teacher)
    body = client.post(checklist_url(lesson), {}).content.decode()
    assert f"There are {len(CHECKLIST_KEYS)} problems" in body
    for key, label in CHECKLIST_ITEMS:
        assert f"Tick to confirm: “{label}”" in body and f'href="#id_item_{key}"' in body
        assert f'id="id_item_{key}_error"' in body


def test_confirming_every_item_opens_the_room_and_is_audited(client, teacher, lesson,
                                                             at_lesson_time):
    client.force_login(teacher)
    response = client.post(checklist_url(lesson), ALL_ITEMS)
    assert response.status_code == 302
    assert response["Location"] == room_url(lesson)
    checklist = StaffChecklist.objects.get()
    assert (checklist.lesson, checklist.staff, checklist.items) == (
        lesson, teacher, list(CHECKLIST_KEYS))
    event = AuditEvent.objects.get(action="live.checklist_confirmed")
    assert event.actor == teacher and event.object_id == str(lesson.pk)
    assert event.data["items"] == list(CHECKLIST_KEYS)
    assert has_checklist(lesson, teacher)

    response = client.get(room_url(lesson))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-ws-path="/ws/lessons/{lesson.pk}/"' in body
    assert 'data-role="staff"' in body and "Host" in body
    assert "Fractions" in body
    assert response["Cache-Control"] == "no-store"


def test_the_second_adult_confirms_their_own_checklist(client, teacher, ta, lesson,
                                                       at_lesson_time):
    do_confirm_checklist(lesson, teacher, list(CHECKLIST_KEYS))
    client.force_login(ta)
    assert client.get(room_url(lesson))["Location"] == checklist_url(lesson)
    assert client.post(checklist_url(lesson), ALL_ITEMS)["Location"] == room_url(lesson)
    body = client.get(room_url(lesson)).content.decode()
    assert "Second adult" in body


def test_the_service_refuses_unknown_items(lesson, teacher, at_lesson_time):
    with pytest.raises(ChecklistRefused) as refused:
        do_confirm_checklist(lesson, teacher, [*CHECKLIST_KEYS, "chat"])
    assert refused.value.field == "items"
    assert not StaffChecklist.objects.exists()


# Who may open the room ---------------------------------------------------------------------

def test_a_teacher_who_is_not_in_the_lesson_gets_403_or_404(client, teacher2, head, lesson,
                                                            at_lesson_time):
    # A plain teacher cannot even see another's lesson (access.may_see_lesson): 404.
    client.force_login(teacher2)
    assert client.get(checklist_url(lesson)).status_code == 404
    assert client.get(room_url(lesson)).status_code == 404
    # The head sees every lesson, but is not its staff: 403.
    client.force_login(head)
    assert client.get(checklist_url(lesson)).status_code == 403
    assert client.get(room_url(lesson)).status_code == 403


def test_a_senior_leader_who_sees_the_lesson_still_gets_403(client, slt, lesson,
                                                            at_lesson_time):
    client.force_login(slt)
    assert client.get(checklist_url(lesson)).status_code == 403
    assert client.post(checklist_url(lesson), ALL_ITEMS).status_code == 403
    assert client.get(room_url(lesson)).status_code == 403
    assert not StaffChecklist.objects.exists()


def test_another_school_gets_404(client, outsider, lesson, at_lesson_time):
    client.force_login(outsider)
    assert client.get(checklist_url(lesson)).status_code == 404
    assert client.get(room_url(lesson)).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, lesson, at_lesson_time):
    for url in (checklist_url(lesson), room_url(lesson)):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"] or "login" in response["Location"]


# When the room can be opened ---------------------------------------------------------------

def test_the_room_is_closed_before_the_links_open_and_after_the_end(client, teacher, lesson,
                                                                   links):
    with time_machine.travel(START - timedelta(minutes=11), tick=False):
        client.force_login(teacher)
        response = client.get(checklist_url(lesson))
        assert response.status_code == 409
        assert "The lesson room opens at" in response.content.decode()
        assert client.post(checklist_url(lesson), ALL_ITEMS).status_code == 409
    with time_machine.travel(START + timedelta(minutes=30), tick=False):
        client.force_login(teacher)
        response = client.get(room_url(lesson))
        assert response.status_code == 409
        assert "time is over" in response.content.decode()
    assert not StaffChecklist.objects.exists()


def test_an_unapproved_lesson_has_no_room(client, teacher, lesson):
    with time_machine.travel(NOW, tick=False):
        client.force_login(teacher)
        response = client.get(checklist_url(lesson))
        assert response.status_code == 409
        assert "has not been approved" in response.content.decode()
        assert room_closed_reason(lesson, NOW) is not None
        with pytest.raises(ChecklistRefused):
            do_confirm_checklist(lesson, teacher, list(CHECKLIST_KEYS))


def test_the_lesson_page_links_staff_of_the_lesson_to_the_room(client, teacher, slt, lesson,
                                                               at_lesson_time):
    client.force_login(teacher)
    body = client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    assert "Open the lesson room" in body and room_url(lesson) in body
    client.force_login(slt)
    body = client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    assert "Open the lesson room" not in body


# Pupils --------------------------------------------------------------------------------------

def open_link(client, link) -> Invitation:
    token = link.join_url.rstrip("/").rsplit("/", 1)[-1]
    response = client.get(reverse("invitations:open", args=[token]))
    assert response.status_code == 302
    return Invitation.objects.select_related("lesson", "pupil").get(
        public_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])


def pupil_url(invitation):
    return reverse("live:pupil_room", args=[invitation.public_id])


def consent(invitation):
    do_give_consent(invitation, device_hash=device.device_hash(RAW_DEVICE),
                    parent_name="Pat Parent", items=_consent_keys(), pupil_promise=True)


def _consent_keys():
    from safeclass.live.models import CONSENT_KEYS

    return list(CONSENT_KEYS)


def test_a_pupil_without_consent_is_sent_to_the_camera_check(client, links, at_lesson_time):
    invitation = open_link(client, links[0])
    response = client.get(pupil_url(invitation))
    assert response.status_code == 302
    assert response["Location"] == reverse("live:join_check", args=[invitation.public_id])
    # Consent from another device does not count.
    do_give_consent(invitation, device_hash=device.device_hash("e" * 22), parent_name="Pat",
                    items=_consent_keys(), pupil_promise=True)
    client.cookies[device.DEVICE_COOKIE] = RAW_DEVICE
    assert client.get(pupil_url(invitation))["Location"] == reverse(
        "live:join_check", args=[invitation.public_id])


def test_a_browser_without_the_link_gets_404(links, at_lesson_time):
    invitation = open_link(Client(), links[0])
    stranger = Client()
    stranger.cookies[device.DEVICE_COOKIE] = RAW_DEVICE
    consent(invitation)
    response = stranger.get(pupil_url(invitation))
    assert response.status_code == 404
    assert invitation.display_name not in response.content.decode()


def test_a_consented_pupil_gets_the_room_without_chat_or_sharing(client, links,
                                                                 at_lesson_time):
    invitation = open_link(client, links[0])
    consent(invitation)
    client.cookies[device.DEVICE_COOKIE] = RAW_DEVICE
    response = client.get(pupil_url(invitation))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-ws-path="/ws/join/{invitation.public_id}/"' in body
    assert 'data-role="pupil"' in body
    assert "Please wait. Your teacher will let you in soon." in body
    assert 'id="raise-hand" data-on="false"' in body
    lowered = body.lower()
    for word in ("chat", "share screen", "share-screen", "annotat", "upload",
                 'type="file"', "<textarea"):
        assert word not in lowered, word
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_pupil_whose_link_is_not_open_goes_to_its_status_page(client, links):
    with time_machine.travel(START - timedelta(hours=1), tick=False):
        invitation = open_link(client, links[0])
        consent(invitation)
        client.cookies[device.DEVICE_COOKIE] = RAW_DEVICE
        response = client.get(pupil_url(invitation))
    assert response.status_code == 302
    assert response["Location"] == reverse("invitations:status", args=[invitation.public_id])


# No secrets on any page ----------------------------------------------------------------------

def test_the_pages_carry_no_janus_secret(client, teacher, links, lesson, at_lesson_time,
                                         settings, tmp_path):
    secrets = {"api_secret": "api-" + "a" * 30, "admin_secret": "adm-" + "b" * 30,
               "videoroom_admin_key": "key-" + "c" * 30, "event_password": "evt-" + "d" * 30}
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(secrets))
    settings.JANUS_SECRETS_FILE = path
    run = LiveRun.objects.create(lesson=lesson, current_host=teacher)

    client.force_login(teacher)
    bodies = [client.get(checklist_url(lesson)).content.decode()]
    client.post(checklist_url(lesson), ALL_ITEMS)
    bodies.append(client.get(room_url(lesson)).content.decode())
    pupil = Client()
    invitation = open_link(pupil, links[0])
    consent(invitation)
    pupil.cookies[device.DEVICE_COOKIE] = RAW_DEVICE
    bodies.append(pupil.get(pupil_url(invitation)).content.decode())
    assert 'data-role="pupil"' in bodies[-1]
    for body in bodies:
        for value in (*secrets.values(), run.room_secret, lesson.room_id):
            assert str(value) not in body
    # Camera and microphone are allowed for our own pages.
    assert "camera=(self)" in client.get(room_url(lesson))["Permissions-Policy"]
