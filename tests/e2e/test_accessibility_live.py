"""Issue 5: axe-core on the lesson room in every lesson state, against the live stack
(real Janus, fake camera and microphone).

One lesson, driven as in test_live_lesson.py: two pupils wait, both staff open the room,
the host admits them. axe (the tags of test_accessibility.py: WCAG 2.0, 2.1 and 2.2, A
and AA) runs on the host's staff room and on a pupil's page in each state: admitted with
the rules dialog open, muted, allowed to speak, hand raised, warned, a confirmation dialog
open on the staff page, a pupil removed, and the lesson ended (and the link's status
page then). Every violation found in the run is reported at the end, not only the first.

One of the pupils' parents uses a 360 px wide phone, in Welsh (switched on the link's
page): that pupil's page is checked in Welsh at 360 px, and on every page checked the
page must not scroll sideways (WCAG 1.4.10).

(The waiting room, the admitted pupil, the staff room with a pupil waiting, the hold page
and the consent page are checked in test_live_joining.py; the recording states belong to
the recording tests.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.e2e.conftest import axe_violations, format_violations
from tests.e2e.live_helpers import pupil_joins, staff_opens_room
from tests.e2e.live_stack import LivePupil, LiveStack
from tests.e2e.test_accessibility_phone import PAGE_OVERFLOW

PHONE_360: ViewportSize = {"width": 360, "height": 740}

LivePages = Callable[[int], list[Page]]


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    """Janus, the app and four pages on a small machine: wait up to 20 s per expect."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


class StateChecker:
    """Runs axe on a page in a named lesson state and keeps every failure, so that one
    run of the lesson reports all of them."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.checked: list[str] = []

    def __call__(self, page: Page, who: str, state: str) -> None:
        violations = axe_violations(page)
        if violations:
            self.failures.append(format_violations(violations, f"{who}, {state} ({page.url})"))
        overflow = page.evaluate(PAGE_OVERFLOW)  # WCAG 1.4.10 on the phone-sized page
        if overflow:
            self.failures.append(f"{who}, {state} ({page.url}): the page scrolls "
                                 f"sideways: {overflow}")
        self.checked.append(f"{who}: {state}")


def welsh_phone_join(page: Page, pupil: LivePupil) -> None:
    """A parent on a 360 px phone opens the link, switches to Cymraeg and brings the
    child to the waiting room (the buttons are found by place, not by English words)."""
    page.set_viewport_size(PHONE_360)
    page.goto(pupil.join_url)
    page.get_by_role("link", name="Cymraeg").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    page.locator("main a.button[href$='/check/']").click()
    page.wait_for_url(re.compile(r"/check/$"))  # and its scripts have run ("load")
    page.locator("#check-start").click()
    expect(page.locator("#check-next")).to_be_enabled()
    page.locator("#check-next").click()
    page.wait_for_url(re.compile(r"/rules/$"))
    page.locator("input[name=promise]").check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/consent/$"))
    page.locator("input[name=parent_name]").fill("Rhiant Ben")
    for box in page.locator("form input[type=checkbox]").all():
        box.check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/room/$"))
    expect(page.locator("#room-waiting")).to_be_visible()


def _tile(page: Page, name: str) -> Locator:
    return page.locator("#pupil-tiles figure", has=page.locator(".room-name", has_text=name))


def test_the_lesson_room_has_no_axe_violations_in_any_state(
        live_stack: LiveStack, live_pages: LivePages) -> None:
    lesson = live_stack.live_lesson(pupils=2, duration_minutes=30)
    ava_link, ben_link = lesson.pupils
    ava_name, ben_name = ava_link.display_name, ben_link.display_name
    host, second, ava, ben = live_pages(4)
    check = StateChecker()

    # The pupils wait first: the lesson's clock starts when the room opens.
    pupil_joins(ava, ava_link)
    welsh_phone_join(ben, ben_link)  # Ben's parent: a 360 px phone, in Welsh
    staff_opens_room(host, live_stack, lesson.host_email, lesson.lesson_id)
    staff_opens_room(second, live_stack, lesson.second_staff_email, lesson.lesson_id)
    expect(host.locator("#waiting-count")).to_have_text("2")

    # Admitted: the rules dialog opens on the pupil's page (a modal <dialog>).
    host.get_by_role("button", name="Admit everyone").click()
    for page in (ava, ben):
        expect(page.locator("#room-in")).to_be_visible()
        expect(page.locator("#rules-dialog")).to_have_attribute("open", "")
    check(ava, "pupil", "admitted, rules dialog open")
    check(ben, "pupil on a 360 px phone, in Welsh", "admitted, rules dialog open")
    for page in (ava, ben):
        page.locator("#rules-close").click()
        expect(page.locator("#rules-dialog")).not_to_have_attribute("open", "")

    # The lesson ends by itself 30 test minutes (150 s) after the room opened, so only
    # the states that need the lesson running are checked during it; the pages of the
    # removed pupil and of the end are checked afterwards (they no longer change).

    # Muted (as every pupil comes in).
    expect(host.locator("#admitted-count")).to_have_text("2")
    expect(host.get_by_role("button", name=f"Let {ava_name} speak", exact=True)).to_be_visible()
    expect(ava.locator("#self-status")).to_contain_text("You are muted.")
    expect(ava.locator("#staff-tiles figure")).to_have_count(2)
    check(host, "staff room", "pupils admitted and muted")
    check(ava, "pupil", "muted")
    check(ben, "pupil on a 360 px phone, in Welsh", "muted")
    # On the phone, "Raise hand" is on the first screen, under the teachers' pictures
    # (the new-user trial found it below the fold).
    ben.evaluate("window.scrollTo(0, 0)")
    hand = ben.locator("#raise-hand").bounding_box()
    assert hand is not None and hand["y"] + hand["height"] <= PHONE_360["height"], hand

    # Allowed to speak.
    host.get_by_role("button", name=f"Let {ava_name} speak", exact=True).click()
    expect(host.get_by_role("button", name=f"Mute {ava_name}", exact=True)).to_be_visible()
    expect(ava.locator("#self-status")).to_contain_text("You can speak now.")
    expect(ava.locator("#room-live")).to_contain_text("You may speak now.")
    expect(ava.locator("#room-announce")).to_be_visible()  # the banner, while it shows
    check(host, "staff room", "a pupil allowed to speak")
    check(ava, "pupil", "allowed to speak (with the banner)")

    # Hand raised and warned (both at once: each shows on both pages).
    ava.get_by_role("button", name="Raise hand").click()
    expect(ava.locator("#raise-hand")).to_have_attribute("data-on", "true")
    expect(_tile(host, ava_name).locator(".room-badge-hand")).to_have_text("hand raised")
    host.get_by_role("button", name=f"Warn {ava_name}", exact=True).click()
    expect(ava.locator("#room-warning")).to_be_visible()
    expect(_tile(host, ava_name).locator(".room-badge-warnings")).to_be_visible()
    # Status by icon and words, never colour alone: each status has its picture (a CSS
    # mask with no text, so a screen reader says only the words).
    for where, icon in (
            (_tile(host, ava_name).locator(".room-badge-hand"), "hand.svg"),
            (_tile(host, ava_name).locator(".room-badge-warnings"), "warning.svg"),
            (ava.locator("#self-status .room-status-may-speak"), "mic.svg"),
            (ava.locator("#self-status .room-status-hand"), "hand.svg"),
            (ava.locator("#raise-hand"), "hand.svg")):
        before = where.evaluate(
            "e => { const s = getComputedStyle(e, '::before');"
            " return {mask: s.maskImage || s.webkitMaskImage, content: s.content}; }")
        assert icon in before["mask"], (where, before)
        assert before["content"] in ('""', "''"), (where, before)
    check(host, "staff room", "a hand raised, a pupil warned")
    check(ava, "pupil", "hand raised, warned")

    # The confirmation dialog (remove), then Ben removed.
    host.get_by_role("button", name=f"Remove {ben_name}", exact=True).click()
    expect(host.locator("#confirm-dialog")).to_have_attribute("open", "")
    check(host, "staff room", "confirm dialog open (remove)")
    host.locator("#confirm-yes").click()
    expect(ben.locator("#room-over")).to_be_visible()
    # In Welsh, the parent's choice, although the teacher's pages are in English.
    with translation.override("cy"):
        removed_in_welsh = gettext("A teacher has removed you from this lesson.")
    assert removed_in_welsh != "A teacher has removed you from this lesson."
    expect(ben.locator("#over-text")).to_have_text(removed_in_welsh)
    expect(host.locator("#admitted-count")).to_have_text("1")
    check(host, "staff room", "a pupil removed")

    # Ended.
    host.get_by_role("button", name="End lesson for everyone").click()
    expect(host.locator("#confirm-dialog")).to_have_attribute("open", "")
    host.locator("#confirm-yes").click()
    for page in (host, second, ava):
        expect(page.locator("#room-over")).to_be_visible()
        expect(page.locator("#over-text")).to_have_text("The lesson has ended.")
    check(host, "staff room", "ended")
    check(second, "second adult's room", "ended")
    check(ava, "pupil", "ended")
    check(ben, "pupil on a 360 px phone, in Welsh", "removed")
    ava.goto(ava_link.join_url)
    expect(ava.get_by_text("This lesson has ended.")).to_be_visible()
    check(ava, "pupil", "ended, the link's status page")

    assert not check.failures, "\n\n".join(check.failures)
