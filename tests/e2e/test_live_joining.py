"""Joining a live lesson in a real browser, against the live stack (real Janus, fake
camera): the camera check, the rules and the parent's consent, a second device, a
reload on the same device, the removal hold and its follow-up, a camera that stops in the
lesson, and axe-core on each joining and room page. The main lesson flow (admitting,
controls, removal, ending) is in test_live_lesson.py."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.live_stack import LiveLesson, LivePupil, LiveStack

LivePages = Callable[[int], list[Page]]
Axe = Callable[[Page], None]

WAIT = 30_000  # ms: generous, the machine may be busy with media
WAITING_TEXT = "Please wait. Your teacher will let you in soon."


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    """Media and two browsers on a busy machine: every expect waits up to 15 s here (and
    the default 5 s again after each test, for other modules)."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


# ------------------------------------------------------------------ helpers


def public_id_of(page: Page, join_url: str) -> str:
    """Open a parent's join link; the session now holds it. Returns the link's public id."""
    page.goto(join_url)
    page.wait_for_url(re.compile(r"/join/lesson/[^/]+/$"))
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def check_camera(page: Page, public_id: str) -> None:
    page.goto(f"/join/lesson/{public_id}/check/")
    page.get_by_role("button", name="Check my camera and microphone").click()
    expect(page.locator("#check-next")).to_be_enabled(timeout=WAIT)
    expect(page.locator("#check-status")).to_contain_text("Your camera works")


def promise(page: Page) -> None:
    """On the rules page: tick the promise and go on to the consent page."""
    page.get_by_label("I will follow these rules").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/consent/$"))


def consent(page: Page, parent_name: str = "Pat Parent") -> None:
    page.get_by_label("Your name").fill(parent_name)
    for box in page.locator("input[type=checkbox][name^=consent_]").all():
        box.check()
    page.get_by_role("button", name="I agree: go to the lesson").click()
    page.wait_for_url(re.compile(r"/room/$"))


def join(page: Page, pupil: LivePupil) -> str:
    """The whole way in from the parent's link to the waiting room. Returns the public id."""
    public_id = public_id_of(page, pupil.join_url)
    check_camera(page, public_id)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/rules/$"))
    promise(page)
    consent(page)
    expect(page.get_by_text(WAITING_TEXT)).to_be_visible(timeout=WAIT)
    return public_id


def staff_in(stack: LiveStack, page: Page, email: str, lesson_id: int) -> None:
    """Sign in, confirm the checklist and wait until the room is connected."""
    stack.sign_in(page, email)
    page.goto(f"/lessons/{lesson_id}/room/")
    page.wait_for_url(re.compile(r"/checklist/$"))
    for box in page.locator("input[name=items]").all():
        box.check()
    page.get_by_role("button", name="Open the lesson room").click()
    page.wait_for_url(re.compile(r"/room/$"))
    expect(page.locator("#connection")).to_have_text("Connected.", timeout=WAIT)


def waiting_item(page: Page, pupil: LivePupil) -> Any:
    return page.locator("#waiting-list li.room-waiting-item", has_text=pupil.display_name)


def admit(host: Page, pupil_page: Page, pupil: LivePupil) -> None:
    host.get_by_role("button", name=f"Admit {pupil.display_name}").click()
    expect(pupil_page.locator("#room-in")).to_be_visible(timeout=WAIT)
    # The rules dialog opens on the first admission in this tab.
    dialog = pupil_page.locator("#rules-dialog")
    if dialog.evaluate("d => d.open"):
        pupil_page.get_by_role("button", name="Close the rules").click()
        expect(dialog).not_to_have_attribute("open", "")


def presences(stack: LiveStack, lesson_id: int, pupil_id: int) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = stack.django(
        "from safeclass.live.models import Presence\n"
        f"result = list(Presence.objects.filter(lesson_id={int(lesson_id)}, "
        f"pupil_id={int(pupil_id)}).order_by('pk').values('pk', 'state', 'device_hash', "
        "'second_device', 'camera_ok'))")
    return result


def active_presences(stack: LiveStack, lesson_id: int, pupil_id: int) -> list[dict[str, Any]]:
    return [p for p in presences(stack, lesson_id, pupil_id)
            if p["state"] in ("waiting", "admitted")]


# Counts, on a staff page, how many entries (waiting or admitted) carry a name, and keeps
# the most ever seen at once: a duplicate that shows only for a moment is caught too.
_WATCH_NAME = """(name) => {
    const count = () => {
        const names = document.querySelectorAll(
            '#waiting-list .room-waiting-item .room-name, #pupil-tiles figure .room-name');
        return Array.from(names).filter(n => n.textContent.trim() === name).length;
    };
    window.__scMost = count();
    new MutationObserver(() => { window.__scMost = Math.max(window.__scMost, count()); })
        .observe(document.getElementById('room'),
                 {childList: true, subtree: true, characterData: true});
}"""


# Opens a WebSocket on the page's origin; the first message and the close code.
_OPEN_SOCKET = """(path) => new Promise((resolve) => {
    const url = location.origin.replace(/^http/, 'ws') + path;
    const ws = new WebSocket(url);
    let first = null;
    ws.onmessage = (event) => { if (first === null) { first = event.data; } };
    ws.onclose = (event) => resolve({code: event.code, first: first});
})"""


# A second approved lesson starting now for pupils who already have one: new staff (so
# neither is double-booked), the same class (a lesson is never one to one). Requested at a
# fixed school-day hour and then moved to now, like live_stack.live_lesson, so that it
# never depends on the hour.
_SECOND_LESSON = """
from datetime import timedelta
from zoneinfo import ZoneInfo
import time_machine
from django.db import transaction
from django.utils import timezone
from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.lessons.models import Lesson
from safeclass.lessons.services import LessonDraft, do_approve_lesson, do_request_lesson
from safeclass.schools.models import Pupil
pupil = Pupil.objects.get(pk=@PUPIL@)
school, tag, password = pupil.school, @TAG@, @PASSWORD@
def staff(local, full_name, role):
    user = StaffUser.objects.create_user(email=f"{local}@allweek.example", password=password,
                                         full_name=full_name, school=school, is_active=True)
    StaffRole.objects.create(user=user, role=role)
    return user
with transaction.atomic():
    host = staff(f"{tag}-host", "Hana Again", "teacher")
    second = staff(f"{tag}-second", "Sid Again", "staff")
london = timezone.now().astimezone(ZoneInfo("Europe/London"))
school_day = (london + timedelta(days=(2 - london.weekday()) % 7 + 7)).replace(
    hour=10, minute=0, second=0, microsecond=0)
with time_machine.travel(school_day, tick=False):
    draft = LessonDraft(title=f"Lesson again {tag}", host=host, second_staff=second,
                        group=pupil.group, pupils=(), starts_at=timezone.now() + timedelta(
                            minutes=1), duration_minutes=30, recorded=False)
    lesson = do_request_lesson(draft, actor=host)
    links = do_approve_lesson(lesson, actor=StaffUser.objects.get(email=@APPROVER@))
Lesson.objects.filter(pk=lesson.pk).update(starts_at=timezone.now())
result = {"lesson_id": lesson.pk,
          "join_url": next(l.join_url for l in links if l.pupil_id == pupil.pk)}
"""


def second_lesson_for(stack: LiveStack, pupil: LivePupil, tag: str) -> dict[str, Any]:
    school = stack.app.all_week_school()
    code = (_SECOND_LESSON.replace("@PUPIL@", str(int(pupil.pupil_id)))
            .replace("@TAG@", json.dumps(tag))
            .replace("@PASSWORD@", json.dumps(stack.demo_password))
            .replace("@APPROVER@", json.dumps(school["head"])))
    made: dict[str, Any] = stack.django(code)
    return made


# ------------------------------------------------------------------ 1. camera required


def test_without_a_camera_the_pupil_cannot_get_past_the_check(
        live_stack: LiveStack, browser: Browser, axe: Axe) -> None:
    lesson = live_stack.live_lesson(pupils=2)
    # A Chromium without fake devices and without the camera permission: the camera is
    # refused or missing, as on a computer without one.
    context = browser.new_context(base_url=live_stack.base_url, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        public_id = public_id_of(page, lesson.pupils[0].join_url)
        page.goto(f"/join/lesson/{public_id}/check/")
        expect(page.locator("#check-next")).to_be_disabled()
        page.get_by_role("button", name="Check my camera and microphone").click()
        status = page.locator("#check-status")
        expect(status).to_have_text(re.compile(
            r"(The camera was not allowed|No camera was found)"), timeout=WAIT)
        expect(status).to_contain_text("camera")
        expect(page.locator("#check-next")).to_be_disabled()
        expect(page.locator("#check-next")).to_have_attribute("aria-disabled", "true")
        expect(page.get_by_role("button", name="Try again")).to_be_visible()
        expect(page.locator("#check-next-hint")).to_have_text(
            "“Next” works when your camera works.")
        axe(page)

        # Straight to the later pages by address: never the lesson.
        page.goto(f"/join/lesson/{public_id}/room/")
        page.wait_for_url(re.compile(r"/check/$"))
        expect(page.locator("#room")).to_have_count(0)
        page.goto(f"/join/lesson/{public_id}/consent/")
        page.wait_for_url(re.compile(r"/rules/$"))  # no promise yet: back to the rules
        expect(page.locator("#room")).to_have_count(0)
        # Nor the lesson's WebSocket: refused (no consent from this device), not retried.
        refused = page.evaluate(_OPEN_SOCKET, f"/ws/join/{public_id}/")
        assert refused["code"] == 4403, refused
        assert json.loads(refused["first"])["reason"] == "no_consent", refused
        assert active_presences(live_stack, lesson.lesson_id, lesson.pupils[0].pupil_id) == []
    finally:
        context.close()


# ------------------------------------------------------------------ 2. consent required


def test_the_parent_must_name_themselves_and_tick_every_item(
        live_stack: LiveStack, live_pages: LivePages, axe: Axe) -> None:
    lesson = live_stack.live_lesson(pupils=2)
    pupil = lesson.pupils[0]
    (page,) = live_pages(1)
    public_id = public_id_of(page, pupil.join_url)
    check_camera(page, public_id)
    axe(page)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/rules/$"))
    axe(page)
    promise(page)

    # Nothing filled in: an error for the name and one for each item, each named.
    page.get_by_role("button", name="I agree: go to the lesson").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Enter your name (parent or carer).")
    labels = [box.evaluate("b => b.labels[0].textContent.trim()")
              for box in page.locator("input[type=checkbox][name^=consent_]").all()]
    assert labels, "no consent items on the page"
    for label in labels:
        expect(summary).to_contain_text(f"Tick to agree: “{label}”")
    expect(page).to_have_title(re.compile(r"^Error:"))
    axe(page)

    # A name but one item left out: only that item is named.
    page.get_by_label("Your name").fill("Pat Parent")
    boxes = page.locator("input[type=checkbox][name^=consent_]").all()
    for box in boxes[:-1]:
        box.check()
    boxes[-1].uncheck()
    page.get_by_role("button", name="I agree: go to the lesson").click()
    expect(summary).to_contain_text(f"Tick to agree: “{labels[-1]}”")
    expect(summary).not_to_contain_text("Enter your name")
    for label in labels[:-1]:
        expect(summary).not_to_contain_text(f"“{label}”")
    assert page.url.endswith("/consent/")
    none: int = live_stack.django(
        "from safeclass.live.models import Consent\n"
        f"result = Consent.objects.filter(lesson_id={lesson.lesson_id}).count()")
    assert none == 0

    consent(page)
    expect(page.get_by_text(WAITING_TEXT)).to_be_visible(timeout=WAIT)
    expect(page.locator("#connection")).to_have_text("Connected.", timeout=WAIT)
    axe(page)
    rows: list[dict[str, Any]] = live_stack.django(
        "from safeclass.live.models import Consent\n"
        f"result = list(Consent.objects.filter(lesson_id={lesson.lesson_id}, "
        f"pupil_id={pupil.pupil_id}).values('parent_name', 'items', 'pupil_promise'))")
    assert len(rows) == 1
    assert rows[0]["parent_name"] == "Pat Parent"
    assert rows[0]["pupil_promise"] is True
    assert len(rows[0]["items"]) == len(labels)


# ------------------------------------------------------------------ 3 and 4. devices


def test_a_reload_replaces_the_presence_and_a_second_device_waits_for_staff(
        live_stack: LiveStack, live_pages: LivePages, axe: Axe) -> None:
    lesson: LiveLesson = live_stack.live_lesson(pupils=2)
    pupil = lesson.pupils[0]
    host, second, first_device, other_device = live_pages(4)
    staff_in(live_stack, host, lesson.host_email, lesson.lesson_id)
    staff_in(live_stack, second, lesson.second_staff_email, lesson.lesson_id)
    join(first_device, pupil)

    expect(waiting_item(host, pupil)).to_have_count(1, timeout=WAIT)
    axe(host)  # the staff room with a pupil waiting
    admit(host, first_device, pupil)
    expect(host.get_by_role("button", name=f"Let {pupil.display_name} speak")).to_be_visible(
        timeout=WAIT)
    axe(first_device)  # the pupil in the lesson

    # 4. The same device reloads: its old presence is replaced, never listed twice.
    host.evaluate(_WATCH_NAME, pupil.display_name)
    second.evaluate(_WATCH_NAME, pupil.display_name)
    before = active_presences(live_stack, lesson.lesson_id, pupil.pupil_id)
    assert len(before) == 1
    first_device.reload()
    expect(first_device.get_by_text(WAITING_TEXT)).to_be_visible(timeout=WAIT)
    expect(waiting_item(host, pupil)).to_have_count(1, timeout=WAIT)
    expect(host.locator("#pupil-tiles figure")).to_have_count(0)
    admit(host, first_device, pupil)
    expect(host.locator("#pupil-tiles figure", has_text=pupil.display_name)).to_have_count(1)
    assert host.evaluate("() => window.__scMost") == 1
    assert second.evaluate("() => window.__scMost") == 1
    every = presences(live_stack, lesson.lesson_id, pupil.pupil_id)
    after = [p for p in every if p["state"] in ("waiting", "admitted")]
    assert len(after) == 1 and after[0]["pk"] != before[0]["pk"]
    assert after[0]["device_hash"] == before[0]["device_hash"]
    assert not after[0]["second_device"]
    states = {p["pk"]: p["state"] for p in every}
    # Closed by the page as it unloaded (left), or taken over by the new connection.
    assert states[before[0]["pk"]] in ("left", "replaced")

    # 3. The same link on another device, while the first is in the lesson. The staff
    # page lists both (one waiting, marked), never more.
    host.evaluate(_WATCH_NAME, pupil.display_name)
    join(other_device, pupil)
    item = waiting_item(host, pupil)
    expect(item).to_have_count(1, timeout=WAIT)
    expect(item).to_contain_text("second device")
    expect(host.locator("#alerts")).to_contain_text(
        f"{pupil.display_name} joined from a second device.")
    expect(second.locator("#alerts")).to_contain_text("joined from a second device")
    # The first device is still in the lesson until staff decide.
    expect(first_device.locator("#room-in")).to_be_visible()
    rows = active_presences(live_stack, lesson.lesson_id, pupil.pupil_id)
    assert sorted((r["state"], r["second_device"]) for r in rows) == [
        ("admitted", False), ("waiting", True)]

    admit(host, other_device, pupil)
    assert host.evaluate("() => window.__scMost") == 2
    expect(first_device.locator("#room-over")).to_be_visible(timeout=WAIT)
    expect(first_device.locator("#over-text")).to_contain_text(
        "open in another window or on another device, so it has stopped here")
    expect(first_device.locator("#room-in")).to_be_hidden()
    expect(host.locator("#alerts")).not_to_contain_text("second device")
    expect(host.locator("#pupil-tiles figure", has_text=pupil.display_name)).to_have_count(1)
    rows = active_presences(live_stack, lesson.lesson_id, pupil.pupil_id)
    assert len(rows) == 1
    assert rows[0]["state"] == "admitted"
    assert rows[0]["device_hash"] != before[0]["device_hash"]
    # The replaced page does not come back by itself (no reconnect after "replaced"):
    # from now on the staff page lists the pupil once.
    host.evaluate(_WATCH_NAME, pupil.display_name)
    first_device.wait_for_timeout(3000)
    assert len(active_presences(live_stack, lesson.lesson_id, pupil.pupil_id)) == 1
    assert host.evaluate("() => window.__scMost") == 1


# ------------------------------------------------------------------ 6. camera stops


def test_a_camera_that_stops_sends_the_pupil_back_to_the_waiting_room(
        live_stack: LiveStack, live_pages: LivePages) -> None:
    lesson = live_stack.live_lesson(pupils=2)
    pupil = lesson.pupils[0]
    host, second, page = live_pages(3)
    staff_in(live_stack, host, lesson.host_email, lesson.lesson_id)
    staff_in(live_stack, second, lesson.second_staff_email, lesson.lesson_id)
    join(page, pupil)
    expect(waiting_item(host, pupil)).to_have_count(1, timeout=WAIT)
    admit(host, page, pupil)
    # Janus has the pupil's video: the host sees it.
    host.wait_for_function(
        "() => { const v = document.querySelector('#pupil-tiles video');"
        " return !!(v && v.srcObject && v.videoWidth > 0); }", timeout=WAIT)

    page.evaluate("() => document.getElementById('self-video').srcObject"
                  ".getVideoTracks().forEach(t => t.stop())")

    expect(page.locator("#room-waiting")).to_be_visible(timeout=WAIT)
    expect(page.locator("#room-in")).to_be_hidden()
    expect(page.locator("#camera-problem")).to_contain_text("Your camera has stopped")
    expect(host.locator("#alerts")).to_contain_text(
        f"{pupil.display_name}'s camera stopped, so they are back in the waiting room.",
        timeout=WAIT)
    rows = active_presences(live_stack, lesson.lesson_id, pupil.pupil_id)
    assert [(r["state"], r["camera_ok"]) for r in rows] == [("waiting", False)]


# ------------------------------------------------------------------ 5. removal hold


def test_a_removed_pupil_is_held_until_a_senior_leader_records_the_follow_up(
        live_stack: LiveStack, live_pages: LivePages, axe: Axe) -> None:
    lesson = live_stack.live_lesson(pupils=2)
    pupil = lesson.pupils[0]
    # Another lesson for the same pupil, approved (links sent) before the removal: a
    # pupil on hold gets no new link at all.
    other = second_lesson_for(live_stack, pupil, f"hold{lesson.lesson_id}")
    host, second, page = live_pages(3)
    staff_in(live_stack, host, lesson.host_email, lesson.lesson_id)
    staff_in(live_stack, second, lesson.second_staff_email, lesson.lesson_id)
    join(page, pupil)
    expect(waiting_item(host, pupil)).to_have_count(1, timeout=WAIT)

    # Removed through the staff page (confirmed in the dialog).
    host.get_by_role("button", name=f"Remove {pupil.display_name}", exact=True).click()
    expect(host.locator("#confirm-dialog")).to_have_attribute("open", "")
    host.locator("#confirm-yes").click()
    expect(page.locator("#room-over")).to_be_visible(timeout=WAIT)
    expect(waiting_item(host, pupil)).to_have_count(0)

    # The same pupil's link to the other lesson: the kind hold message, no way in.
    other_id = public_id_of(page, other["join_url"])
    page.goto(f"/join/lesson/{other_id}/check/")
    held = page.locator(".held-message")
    expect(held).to_contain_text("Your child cannot join lessons for now.")
    expect(held).to_contain_text("contact the school")
    expect(page.get_by_role("button", name="Check my camera and microphone")).to_have_count(0)
    axe(page)
    for step in ("rules", "consent", "room"):
        page.goto(f"/join/lesson/{other_id}/{step}/")
        expect(page.locator(".held-message")).to_contain_text("contact the school")
        expect(page.locator("#room")).to_have_count(0)

    # A senior leader records the follow-up with the family, in the browser.
    second.context.clear_cookies()
    deputy = live_stack.app.all_week_school()["deputy"]
    live_stack.sign_in(second, deputy)
    facts: dict[str, str] = live_stack.django(
        "from django.utils import timezone\n"
        "from safeclass.live.models import RemovalHold\n"
        f"hold = RemovalHold.objects.get(lesson_id={lesson.lesson_id}, "
        f"pupil_id={pupil.pupil_id}, cleared_at__isnull=True)\n"
        "result = {'title': hold.lesson.title, 'pupil': hold.pupil.full_name,\n"
        "          'today': timezone.localdate(timezone.now(), hold.school.zone).isoformat()}")
    second.goto("/oversight/holds/")
    clear_link = second.get_by_role(
        "link", name=f"Record follow-up and clear – {facts['pupil']}", exact=True)
    row = second.get_by_role("row").filter(has_text=facts["title"]).filter(has=clear_link)
    expect(row).to_have_count(1)
    row.get_by_role("link").filter(has_text="Record follow-up and clear").click()
    second.get_by_label("Who did you speak to?").fill("Pat Parent, the pupil's parent")
    second.get_by_label("When did you speak to them?").fill(facts["today"])
    second.get_by_label("What was the outcome?").fill("Talked it through; agreed to rejoin.")
    second.get_by_role("button", name="Record follow-up and clear the hold").click()
    second.wait_for_url(re.compile(r"/oversight/holds/$"))
    expect(clear_link).to_have_count(0)
    cleared: list[Any] = live_stack.django(
        "from safeclass.live.models import RemovalHold\n"
        f"result = list(RemovalHold.objects.filter(lesson_id={lesson.lesson_id}, "
        f"pupil_id={pupil.pupil_id}).values_list('cleared_at', 'follow_up_with'))")
    assert len(cleared) == 1 and cleared[0][0] is not None
    assert cleared[0][1] == "Pat Parent, the pupil's parent"

    # The pupil can now start joining the other lesson (but never the first one again).
    page.goto(f"/join/lesson/{other_id}/check/")
    expect(page.get_by_role("heading", name="Check your camera and microphone")).to_be_visible()
    expect(page.locator(".held-message")).to_have_count(0)
    page.get_by_role("button", name="Check my camera and microphone").click()
    expect(page.locator("#check-next")).to_be_enabled(timeout=WAIT)
    first_id = public_id_of(page, pupil.join_url)
    page.goto(f"/join/lesson/{first_id}/check/")
    expect(page.locator(".held-message")).to_contain_text("You have been removed from this lesson.")

