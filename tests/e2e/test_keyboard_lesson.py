"""Issue 5, "Done when": a whole live lesson by keyboard alone, teacher and pupils.

Against the live stack (real Janus, fake camera and microphone). Nobody clicks: every
action is a key press (``page.keyboard``: Tab, Shift+Tab, Enter, Space, Escape, typing);
``page.goto`` stands for typing an address or following the parent's emailed link.
At every Tab stop the focused element must show its focus (``tab_to``), and tabbing
through the staff room and the pupil's room must never get stuck (``no_keyboard_trap``).

Two pupils' parents go from the link into the waiting room; both staff sign in and pass
the checklist; the host admits both pupils, lets one speak and mutes her again, shows the
rules again, removes the other pupil (confirming in the dialog) and ends the lesson. The
pupil raises her hand and closes the rules dialog. What the pupils' screen readers would
hear is checked in the room's live region (``#room-live``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live_stack import LivePupil, LiveStack
from tests.e2e.test_accessibility import no_keyboard_trap, tab_to

LivePages = Callable[[int], list[Page]]
WAITING_TEXT = "Please wait. Your teacher will let you in soon."


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    """Janus, the app and four pages on a small machine: wait up to 20 s per expect."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def _button(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda el: el["text"] == text and el["tag"] in ("button", "a")


def _focus(page: Page) -> dict[str, Any]:
    """What has focus now: its id, tag and text, and whether its focus is drawn."""
    found: dict[str, Any] = page.evaluate("""() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0
                      && s.outlineColor !== "rgba(0, 0, 0, 0)";
      return {id: el.id || "", tag: el.tagName.toLowerCase(),
              text: (el.innerText || "").trim().slice(0, 60),
              visible: outline || s.boxShadow !== "none"};
    }""")
    return found


def _press(page: Page, key: str) -> None:
    page.keyboard.press(key)


def keyboard_join(page: Page, pupil: LivePupil) -> None:
    """The parent's link → Start → camera check → rules → consent → waiting room."""
    page.goto(pupil.join_url)
    page.wait_for_url(re.compile(r"/join/lesson/[^/]+/$"))
    tab_to(page, _button("Start"))
    _press(page, "Enter")
    page.wait_for_url(re.compile(r"/check/$"))
    tab_to(page, _button("Check my camera and microphone"))
    _press(page, "Space")
    expect(page.locator("#check-next")).to_be_enabled()
    tab_to(page, lambda el: el["id"] == "check-next")
    _press(page, "Enter")
    page.wait_for_url(re.compile(r"/rules/$"))
    tab_to(page, lambda el: el["name"] == "promise")
    _press(page, "Space")
    tab_to(page, _button("Next"))
    _press(page, "Enter")
    page.wait_for_url(re.compile(r"/consent/$"))
    tab_to(page, lambda el: el["name"] == "parent_name")
    page.keyboard.type("Pat Parent")
    boxes = page.locator("form input[type=checkbox]").count()
    assert boxes >= 1
    for _ in range(boxes):
        tab_to(page, lambda el: el["type"] == "checkbox")
        _press(page, "Space")
    assert page.locator("form input[type=checkbox]:checked").count() == boxes
    tab_to(page, _button("I agree: go to the lesson"))
    _press(page, "Enter")
    page.wait_for_url(re.compile(r"/room/$"))
    expect(page.get_by_text(WAITING_TEXT)).to_be_visible()


def keyboard_staff_in(page: Page, stack: LiveStack, email: str, lesson_id: int) -> None:
    """Sign in, the lesson's page → "Open the lesson room" → the checklist → the room."""
    page.goto("/account/login/")
    tab_to(page, lambda el: el["type"] == "email")
    page.keyboard.type(email)
    tab_to(page, lambda el: el["type"] == "password")
    page.keyboard.type(stack.demo_password)
    _press(page, "Enter")
    page.wait_for_url(lambda url: "/account/login/" not in url)
    page.goto(f"/lessons/{lesson_id}/")
    tab_to(page, _button("Open the lesson room"), limit=80)
    _press(page, "Enter")
    page.wait_for_url(re.compile(r"/room/checklist/$"))
    items = page.locator("input[name=items]").count()
    assert items >= 1
    for _ in range(items):
        tab_to(page, lambda el: el["name"] == "items")
        _press(page, "Space")
    assert page.locator("input[name=items]:checked").count() == items
    tab_to(page, _button("Open the lesson room"))
    _press(page, "Enter")
    page.wait_for_url(re.compile(rf"/lessons/{lesson_id}/room/$"))
    expect(page.locator("#connection")).to_have_text("Connected.")


def close_rules_by_keyboard(page: Page) -> None:
    """The rules dialog opened with focus on its heading; Tab to "Close the rules"."""
    dialog = page.locator("#rules-dialog")
    expect(dialog).to_have_attribute("open", "")
    focus = _focus(page)
    assert focus["tag"] == "h2" and focus["text"] == "Our lesson rules", focus
    assert focus["visible"], f"the rules heading has focus but does not show it: {focus}"
    tab_to(page, _button("Close the rules"), limit=5)  # inside the modal dialog
    _press(page, "Enter")
    expect(dialog).not_to_have_attribute("open", "")


def confirm_by_keyboard(host: Page) -> None:
    """The confirmation dialog opens with focus on "No, go back" (the safe answer);
    Shift+Tab reaches "Yes", Enter confirms."""
    expect(host.locator("#confirm-dialog")).to_have_attribute("open", "")
    focus = _focus(host)
    assert focus["id"] == "confirm-no" and focus["visible"], focus
    _press(host, "Shift+Tab")
    focus = _focus(host)
    assert focus["id"] == "confirm-yes" and focus["visible"], focus
    _press(host, "Enter")
    expect(host.locator("#confirm-dialog")).not_to_have_attribute("open", "")


def test_a_whole_lesson_by_keyboard_alone(live_stack: LiveStack,
                                          live_pages: LivePages) -> None:
    lesson = live_stack.live_lesson(pupils=2, duration_minutes=30)
    ava_link, ben_link = lesson.pupils
    ava_name, ben_name = ava_link.display_name, ben_link.display_name
    host, second, ava, ben = live_pages(4)
    heard = ava.locator("#room-live")  # what Ava's screen reader is given to say

    # The parents bring the pupils to the waiting room first (the lesson's clock starts
    # when the room opens); then both staff open the room.
    keyboard_join(ava, ava_link)
    keyboard_join(ben, ben_link)
    keyboard_staff_in(host, live_stack, lesson.host_email, lesson.lesson_id)
    keyboard_staff_in(second, live_stack, lesson.second_staff_email, lesson.lesson_id)
    expect(host.locator("#waiting-count")).to_have_text("2")
    no_keyboard_trap(host, limit=160)

    # Admit each pupil with the keyboard; each closes the rules by keyboard (Ava with
    # Tab and Enter, Ben with Escape).
    tab_to(host, _button(f"Admit {ava_name}"), limit=100)
    _press(host, "Enter")
    expect(ava.locator("#room-in")).to_be_visible()
    close_rules_by_keyboard(ava)
    tab_to(host, _button(f"Admit {ben_name}"), limit=100)
    _press(host, "Enter")
    expect(ben.locator("#rules-dialog")).to_have_attribute("open", "")
    _press(ben, "Escape")
    expect(ben.locator("#rules-dialog")).not_to_have_attribute("open", "")
    expect(host.locator("#admitted-count")).to_have_text("2")
    expect(ava.locator("#self-status")).to_contain_text("You are muted.")
    no_keyboard_trap(ava)

    # Let Ava speak: she is told; the host's focus stays on her controls ("Mute Ava" now).
    tab_to(host, _button(f"Let {ava_name} speak"), limit=100)
    _press(host, "Enter")
    expect(heard).to_contain_text("You may speak now.")
    expect(ava.locator("#self-status")).to_contain_text("You can speak now.")
    expect(host.locator("#pupil-tiles button:focus")).to_have_text(f"Mute {ava_name}")
    assert _focus(host)["visible"]
    # Mute her again, from where the focus already is.
    _press(host, "Enter")
    expect(ava.locator("#self-status")).to_contain_text("You are muted.")
    expect(host.locator("#pupil-tiles button:focus")).to_have_text(f"Let {ava_name} speak")
    expect(heard).to_contain_text("Your teacher has muted you.")

    # Ava raises her hand with the keyboard; both staff see it in words.
    tab_to(ava, _button("Raise hand"))
    _press(ava, "Space")
    expect(ava.locator("#raise-hand")).to_have_attribute("data-on", "true")
    expect(ava.locator("#raise-hand")).to_have_text("Lower hand")
    assert _focus(ava)["id"] == "raise-hand", "focus left the hand button"
    expect(ava.locator("#self-status")).to_contain_text("Your hand is up.")
    for page in (host, second):
        tile = page.locator("#pupil-tiles figure",
                            has=page.locator(".room-name", has_text=ava_name))
        expect(tile.locator(".room-badge-hand")).to_have_text("hand raised")
        # ...and hear it, without reading the tiles again.
        expect(page.locator("#room-live")).to_contain_text(f"{ava_name} has raised their hand.")

    # The host shows the rules again: the host hears that it worked; Ava closes them,
    # Ben leaves them open (his removal must close the dialog, below).
    tab_to(host, _button("Show the rules again"), limit=100)
    _press(host, "Enter")
    expect(host.locator("#room-live")).to_contain_text("The rules are now shown to every pupil.")
    close_rules_by_keyboard(ava)
    expect(ben.locator("#rules-dialog")).to_have_attribute("open", "")

    # Remove Ben, confirmed in the dialog by keyboard.
    tab_to(host, _button(f"Remove {ben_name}"), limit=100)
    _press(host, "Enter")
    confirm_by_keyboard(host)
    expect(ben.locator("#room-over")).to_be_visible()
    expect(ben.locator("#over-text")).to_have_text("A teacher has removed you from this lesson.")
    expect(ben.locator("#room-live")).to_contain_text(
        "A teacher has removed you from this lesson.")
    expect(ben.locator("#rules-dialog")).not_to_have_attribute("open", "")
    assert _focus(ben)["id"] == "room-over", "the removed pupil's focus is not on the message"
    expect(host.locator("#admitted-count")).to_have_text("1")
    # The Remove button is gone with Ben's tile: focus goes to the pupils' heading.
    expect(host.locator("#pupils-title")).to_be_focused()

    # End the lesson for everyone.
    tab_to(host, _button("End lesson for everyone"), limit=100)
    _press(host, "Enter")
    confirm_by_keyboard(host)
    for page in (host, second, ava):
        expect(page.locator("#room-over")).to_be_visible()
        expect(page.locator("#over-text")).to_have_text("The lesson has ended.")
    expect(heard).to_contain_text("The lesson has ended.")
    assert _focus(ava)["id"] == "room-over"
    assert _focus(host)["id"] == "room-over"
    # The staff page's way out, by keyboard.
    tab_to(host, lambda el: el["text"] == "Back to the lesson")
    _press(host, "Enter")
    host.wait_for_url(re.compile(rf"/lessons/{lesson.lesson_id}/$"))
