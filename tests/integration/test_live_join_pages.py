"""A pupil and their parent join a live lesson from the emailed link, with no account:
a camera check, the lesson rules and the pupil's own promise, then the parent's consent,
given for this lesson on this device (consent-each-session). Every page checks the link
afresh; a removed or held pupil is told kindly and goes no further (removal-hold)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from safeclass.audit.models import AuditEvent
from safeclass.invitations.models import Invitation
from safeclass.lessons.services import do_approve_lesson, do_cancel_lesson
from safeclass.live import device
from safeclass.live.consent import ConsentRefused, do_give_consent, has_consent
from safeclass.live.models import (
    CONSENT_ITEMS,
    CONSENT_KEYS,
    Consent,
    Presence,
    PresenceRole,
    PresenceState,
    RemovalHold,
)
from tests import factories

pytestmark = pytest.mark.django_db

# Tuesday 4 June 2030, 10:00Z. Links open ten minutes before.
START = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
BEFORE = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
NOW = START - timedelta(minutes=5)
PAGES = ("live:join_check", "live:join_rules", "live:join_consent")
ALL_TICKED = {f"consent_{key}": "on" for key in CONSENT_KEYS}


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
def links(lesson, deputy):
    with time_machine.travel(BEFORE, tick=False):
        return do_approve_lesson(lesson, actor=deputy)


def open_link(client, link) -> Invitation:
    token = link.join_url.rstrip("/").rsplit("/", 1)[-1]
    response = client.get(reverse("invitations:open", args=[token]))
    assert response.status_code == 302
    return Invitation.objects.select_related("lesson", "pupil").get(
        public_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])


@pytest.fixture
def at_lesson_time(links):
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def invitation(client, links, at_lesson_time):
    return open_link(client, links[0])


def url(name, invitation):
    return reverse(name, args=[invitation.public_id])


def promise(client, invitation):
    response = client.post(url("live:join_rules", invitation), {"promise": "on"})
    assert response.status_code == 302


def assert_private(response, policy="no-referrer"):
    assert response["Referrer-Policy"] == policy
    assert response["Cache-Control"] == "no-store"


# The guard on every page -------------------------------------------------------------------

def test_it_answers_a_browser_without_the_link_with_the_unknown_page(invitation):
    stranger = Client()
    for name in PAGES:
        response = stranger.get(url(name, invitation))
        assert response.status_code == 404, name
        assert "This link does not work" in response.content.decode()
        assert invitation.display_name not in response.content.decode()
        assert_private(response)
    assert stranger.post(url("live:join_consent", invitation),
                         {"parent_name": "X", **ALL_TICKED}).status_code == 404
    assert not Consent.objects.exists()


def test_it_sends_a_link_that_is_not_open_back_to_its_status_page(client, links):
    with time_machine.travel(START - timedelta(hours=2), tick=False):
        invitation = open_link(client, links[0])
        for name in PAGES:
            response = client.get(url(name, invitation))
            assert response.status_code == 302, name
            assert response["Location"] == url("invitations:status", invitation)
            assert_private(response)
    with time_machine.travel(START + timedelta(minutes=31), tick=False):
        assert client.get(url("live:join_check", invitation))["Location"] == url(
            "invitations:status", invitation)


def test_it_stops_at_once_when_the_lesson_is_cancelled(client, invitation, teacher):
    assert client.get(url("live:join_check", invitation)).status_code == 200
    do_cancel_lesson(invitation.lesson, actor=teacher)
    response = client.get(url("live:join_rules", invitation))
    assert response.status_code == 302
    assert response["Location"] == url("invitations:status", invitation)


def test_it_refuses_post_on_the_check_page(client, invitation):
    assert client.post(url("live:join_check", invitation)).status_code == 405


# Removed and held pupils ----------------------------------------------------------------

def test_it_shows_a_held_pupil_the_kind_message_and_goes_no_further(client, invitation,
                                                                   teacher, ta, school):
    with time_machine.travel(BEFORE, tick=False):
        earlier = factories.make_requested_lesson(teacher, invitation.lesson.group,
                                                  second_staff=ta,
                                                  starts_at=START - timedelta(days=1))
    hold = RemovalHold.objects.create(school=school, pupil=invitation.pupil, lesson=earlier,
                                      placed_by=teacher, reason="removed last lesson")
    for name in PAGES:
        response = client.get(url(name, invitation))
        body = response.content.decode()
        assert response.status_code == 403, name
        assert "Your child cannot join lessons for now." in body
        assert "Please contact the school: they would like to talk with you." in body
        assert school.name in body and "removal-hold" in body
        assert "removed last lesson" not in body
        assert_private(response)
    assert "sc_device" not in client.get(url("live:join_check", invitation)).cookies
    # Once SLT have cleared the hold, the pupil may join.
    hold.cleared_at = NOW
    hold.save()
    assert client.get(url("live:join_check", invitation)).status_code == 200


def test_it_tells_a_pupil_removed_from_this_lesson_they_cannot_come_back(client, invitation):
    Presence.objects.create(lesson=invitation.lesson, role=PresenceRole.PUPIL,
                            pupil=invitation.pupil, invitation=invitation,
                            display_name=invitation.display_name,
                            state=PresenceState.REMOVED)
    for name in PAGES:
        response = client.get(url(name, invitation))
        assert response.status_code == 403, name
        assert "You have been removed from this lesson." in response.content.decode()
    promise_attempt = client.post(url("live:join_rules", invitation), {"promise": "on"})
    assert promise_attempt.status_code == 403
    # The link's own page never says "the lesson is open" to a removed pupil.
    status = client.get(reverse("invitations:status", args=[invitation.public_id]))
    assert status.status_code == 403
    body = status.content.decode()
    assert "You have been removed from this lesson." in body
    assert "The lesson is open" not in body and "/check/" not in body


def test_it_lets_a_classmate_of_a_removed_pupil_join(client, invitation, links):
    Presence.objects.create(lesson=invitation.lesson, role=PresenceRole.PUPIL,
                            pupil=invitation.pupil, invitation=invitation,
                            display_name=invitation.display_name,
                            state=PresenceState.REMOVED)
    other = open_link(Client(), links[1])
    classmate = Client()
    open_link(classmate, links[1])
    assert classmate.get(url("live:join_check", other)).status_code == 200


# Step 1: the camera check ---------------------------------------------------------------

def test_it_shows_the_camera_check_and_gives_the_device_a_cookie(client, invitation):
    response = client.get(url("live:join_check", invitation))
    body = response.content.decode()
    assert response.status_code == 200
    assert_private(response)
    assert "Check your camera and microphone" in body
    assert "<video" in body and "muted" in body and "playsinline" in body
    assert 'id="check-next"' in body and "disabled" in body and 'aria-disabled="true"' in body
    assert url("live:join_rules", invitation) in body
    assert "safeclass/live/check.js" in body and "<script>" not in body
    assert "this browser is out of date" in body.lower()
    assert 'data-oldest-chromium="' in body
    cookie = response.cookies[device.DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert int(cookie["max-age"]) == 365 * 24 * 3600
    assert len(cookie.value) >= 22  # 128 bits
    # The same device keeps its cookie.
    again = client.get(url("live:join_check", invitation))
    assert device.DEVICE_COOKIE not in again.cookies


def test_it_gives_each_device_its_own_cookie(links, at_lesson_time):
    values = set()
    for _ in range(2):
        browser = Client()
        invitation = open_link(browser, links[0])
        values.add(browser.get(url("live:join_check", invitation)).cookies["sc_device"].value)
    assert len(values) == 2


def test_the_status_page_offers_a_start_link_only_while_open(client, links):
    with time_machine.travel(START - timedelta(hours=3), tick=False):
        invitation = open_link(client, links[0])
        early = client.get(url("invitations:status", invitation)).content.decode()
    assert url("live:join_check", invitation) not in early
    with time_machine.travel(NOW, tick=False):
        page = client.get(url("invitations:status", invitation)).content.decode()
    assert url("live:join_check", invitation) in page and "Start" in page


def test_browser_versions_older_than_about_two_years_are_out_of_date():
    oldest = device.oldest_supported_versions(date(2026, 11, 29))
    assert 130 <= oldest["chromium"] <= 133
    assert 131 <= oldest["firefox"] <= 134
    assert oldest["safari"] == 18
    later = device.oldest_supported_versions(date(2027, 10, 1))
    assert later["safari"] == 26 and later["chromium"] > oldest["chromium"]


# Step 2: the rules and the pupil's promise ------------------------------------------------

def test_it_shows_the_rules_in_plain_words_with_pictures(client, invitation, school):
    response = client.get(url("live:join_rules", invitation))
    body = response.content.decode()
    assert response.status_code == 200
    # Not "no-referrer" on a page with a POST form: the browser would send "Origin: null"
    # and the CSRF check would refuse the form.
    assert_private(response, "same-origin")
    for words in ("Wear clothes you would wear to school.", "Do not join from a bedroom",
                  "plain wall or background", "kind and polite words",
                  "Do not record the lesson or take pictures of it.",
                  "Never share your link", "0800 1111", "tell your parent or carer"):
        assert words in body, words
    assert school.name in body
    assert body.count("safeclass/live/rules/") == 7
    assert 'alt=""' not in body
    assert "<fieldset" in body and "<legend>" in body


def test_it_needs_the_pupils_own_promise(client, invitation):
    response = client.post(url("live:join_rules", invitation), {})
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "Tick “I will follow these rules” to go on." in body
    assert 'href="#id_promise"' in body
    assert 'aria-invalid="true"' in body
    assert "<title>Error:" in body
    # Without the promise the consent page sends the pupil back to the rules.
    consent_page = client.get(url("live:join_consent", invitation))
    assert consent_page.status_code == 302
    assert consent_page["Location"] == url("live:join_rules", invitation)
    refused = client.post(url("live:join_consent", invitation),
                          {"parent_name": "Pat Parent", **ALL_TICKED})
    assert refused["Location"] == url("live:join_rules", invitation)
    assert not Consent.objects.exists()


def test_a_promise_leads_to_the_parents_step(client, invitation):
    response = client.post(url("live:join_rules", invitation), {"promise": "on"})
    assert response.status_code == 302
    assert response["Location"] == url("live:join_consent", invitation)
    assert invitation.public_id in client.session["live.promised"]
    page = client.get(url("live:join_consent", invitation))
    body = page.content.decode()
    assert page.status_code == 200
    assert_private(page, "same-origin")
    for _key, label in CONSENT_ITEMS:
        assert escape(str(label)) in body
    assert "<fieldset" in body and "<legend>" in body


def test_a_promise_for_one_child_is_not_a_promise_for_another(client, invitation, links):
    sibling = open_link(client, links[1])
    promise(client, invitation)
    assert client.get(url("live:join_consent", sibling))["Location"] == url(
        "live:join_rules", sibling)


# Step 3: the parent's consent -------------------------------------------------------------

def test_it_names_a_missing_parent_name(client, invitation):
    promise(client, invitation)
    client.get(url("live:join_check", invitation))
    response = client.post(url("live:join_consent", invitation),
                           {"parent_name": "   ", **ALL_TICKED})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter your name (parent or carer)." in body
    assert 'href="#id_parent_name"' in body
    assert not Consent.objects.exists()
    assert not AuditEvent.objects.filter(action="live.consent_given").exists()


def test_it_refuses_a_name_that_is_too_long(client, invitation):
    promise(client, invitation)
    response = client.post(url("live:join_consent", invitation),
                           {"parent_name": "A" * 121, **ALL_TICKED})
    assert "120 characters or fewer" in response.content.decode()
    assert not Consent.objects.exists()


def test_it_names_each_missing_consent_item(client, invitation):
    promise(client, invitation)
    ticked = {k: v for k, v in ALL_TICKED.items()
              if k not in ("consent_recording", "consent_supervise")}
    response = client.post(url("live:join_consent", invitation),
                           {"parent_name": "Pat Parent", **ticked})
    body = response.content.decode()
    assert response.status_code == 200
    assert "There are 2 problems" in body
    labels = dict(CONSENT_ITEMS)
    for key in ("recording", "supervise"):
        assert f"Tick to agree: “{labels[key]}”" in body
        assert f'href="#id_consent_{key}"' in body
    assert f"Tick to agree: “{labels['aware']}”" not in body
    # What was filled in stays filled in.
    assert 'value="Pat Parent"' in body
    assert not Consent.objects.exists()


def test_consent_is_recorded_audited_and_leads_to_the_room(client, invitation):
    raw = client.get(url("live:join_check", invitation)).cookies["sc_device"].value
    promise(client, invitation)
    response = client.post(url("live:join_consent", invitation),
                           {"parent_name": "  Pat   Parent ", **ALL_TICKED})
    assert response.status_code == 302
    assert response["Location"] == url("live:pupil_room", invitation)
    assert_private(response)
    consent = Consent.objects.get()
    assert consent.lesson == invitation.lesson and consent.pupil == invitation.pupil
    assert consent.invitation == invitation
    assert consent.parent_name == "Pat Parent"
    assert consent.items == list(CONSENT_KEYS)
    assert consent.pupil_promise is True
    assert consent.device_hash == device.device_hash(raw) and raw not in consent.device_hash
    event = AuditEvent.objects.get(action="live.consent_given")
    assert event.actor is None
    assert event.actor_label == f"parent/carer (Pat Parent) of {invitation.display_name}"
    assert event.data["lesson"] == invitation.lesson_id
    assert event.data["pupil"] == invitation.pupil_id
    assert event.data["items"] == list(CONSENT_KEYS)
    assert event.data["device"] == consent.device_hash[:12]
    assert raw not in repr(event.data)
    assert has_consent(invitation, device.device_hash(raw))


def test_another_device_must_consent_again(client, invitation, links):
    raw = client.get(url("live:join_check", invitation)).cookies["sc_device"].value
    promise(client, invitation)
    client.post(url("live:join_consent", invitation), {"parent_name": "Pat", **ALL_TICKED})
    laptop = Client()
    open_link(laptop, links[0])
    other = laptop.get(url("live:join_check", invitation)).cookies["sc_device"].value
    assert has_consent(invitation, device.device_hash(raw))
    assert not has_consent(invitation, device.device_hash(other))
    assert not has_consent(invitation, None)
    # Nor does it count for another pupil of the lesson on the same device.
    sibling = Invitation.objects.get(public_id=open_link(client, links[1]).public_id)
    assert not has_consent(sibling, device.device_hash(raw))


def test_a_parent_back_on_the_same_device_goes_straight_back_in(client, invitation, links):
    status = url("invitations:status", invitation)
    assert "Go back to the lesson" not in client.get(status).content.decode()
    client.get(url("live:join_check", invitation))
    promise(client, invitation)
    client.post(url("live:join_consent", invitation), {"parent_name": "Pat", **ALL_TICKED})
    # The tab was closed; the parent opens the link again on the same phone.
    open_link(client, links[0])
    body = client.get(status).content.decode()
    assert "You gave permission for this lesson on this phone or computer" in body
    assert f'href="{url("live:pupil_room", invitation)}"' in body
    assert f'href="{url("live:join_check", invitation)}"' in body  # or start again
    # Another device, or another pupil on this one, still starts from the beginning.
    laptop = Client()
    open_link(laptop, links[0])
    assert "Go back to the lesson" not in laptop.get(status).content.decode()
    sibling = open_link(client, links[1])
    assert "Go back to the lesson" not in client.get(
        url("invitations:status", sibling)).content.decode()


def test_a_consent_without_a_device_cookie_gets_one(client, invitation):
    promise(client, invitation)  # the check page was never opened: no cookie yet
    response = client.post(url("live:join_consent", invitation),
                           {"parent_name": "Pat", **ALL_TICKED})
    raw = response.cookies["sc_device"].value
    assert has_consent(invitation, device.device_hash(raw))


def test_the_service_refuses_bad_input_naming_the_field(invitation):
    good = {"device_hash": device.device_hash("x" * 22), "parent_name": "Pat",
            "items": list(CONSENT_KEYS), "pupil_promise": True}
    cases = [
        ({"parent_name": " "}, "parent_name"),
        ({"parent_name": "P" * 121}, "parent_name"),
        ({"parent_name": "Pat\x00"}, "parent_name"),
        ({"items": [k for k in CONSENT_KEYS if k != "household"]}, "consent_household"),
        ({"items": [*CONSENT_KEYS, "sell_data"]}, "items"),
        ({"pupil_promise": False}, "promise"),
        ({"device_hash": "not-a-hash"}, "device"),
    ]
    for change, field in cases:
        with pytest.raises(ConsentRefused) as refused:
            do_give_consent(invitation, **{**good, **change})
        assert refused.value.field == field, change
        assert refused.value.message
    assert not Consent.objects.exists()
    assert do_give_consent(invitation, **good).pk


def test_the_service_refuses_a_withdrawn_link(invitation):
    invitation.revoked_at = NOW
    invitation.save()
    with pytest.raises(ConsentRefused) as refused:
        do_give_consent(invitation, device_hash=device.device_hash("y" * 22),
                        parent_name="Pat", items=list(CONSENT_KEYS), pupil_promise=True)
    assert refused.value.field == "invitation"


def test_the_device_cookie_must_look_like_ours(rf):
    request = rf.get("/", HTTP_COOKIE="sc_device=<script>")
    assert device.device_of_request(request) is None
    request = rf.get("/", HTTP_COOKIE="sc_device=" + "a" * 22)
    assert device.device_of_request(request) == "a" * 22
    assert len(device.device_hash("a" * 22)) == 64


def test_the_forms_carry_a_csrf_token_and_pass_the_check(links, at_lesson_time):
    browser = Client(enforce_csrf_checks=True)
    invitation = open_link(browser, links[0])
    page = browser.get(url("live:join_rules", invitation)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    assert browser.post(url("live:join_rules", invitation),
                        {"promise": "on"}).status_code == 403  # no token
    response = browser.post(url("live:join_rules", invitation),
                            {"promise": "on", "csrfmiddlewaretoken": token},
                            HTTP_ORIGIN="http://testserver")
    assert response.status_code == 302
