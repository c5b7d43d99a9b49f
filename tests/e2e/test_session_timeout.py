"""The warning before a staff session times out (WCAG 2.2.1, Timing adjustable).

An app server of its own whose sessions last 20 seconds (SAFECLASS_SESSION_SECONDS), so
session.js warns after 10 (half-way: a session shorter than four minutes is a test's) and
the page says "signed out" after 20. A teacher types a lesson title on "Request a
lesson"; the warning appears without taking focus and passes axe; "Stay signed in",
reached and pressed by keyboard, keeps the session past its first end without the title
being lost. Then a page opened in a second tab moves the first tab's warning on, and
when nobody answers, the first tab says it is signed out (keeping the title, to copy),
and the server agrees: a staff page sends the teacher to sign in.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import AppServer, start_app_server

SESSION_SECONDS = 20
WARN_AFTER = SESSION_SECONDS / 2
TEACHER = "teacher@oakfield.example"
TITLE = "Fractions with Year 4"
WARNING = re.compile(r"You will be signed out in 1 minute")
SIGNED_OUT = re.compile(r"You have been signed out\.")


@pytest.fixture(scope="module")
def short_sessions() -> Iterator[AppServer]:
    with start_app_server({"SAFECLASS_SESSION_SECONDS": str(SESSION_SECONDS)}) as server:
        yield server


@pytest.fixture
def context(browser: Browser, short_sessions: AppServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=short_sessions.base_url, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _sign_in(page: Page, server: AppServer) -> None:
    page.goto("/account/login/")
    page.get_by_label(re.compile("email", re.IGNORECASE)).fill(TEACHER)
    page.get_by_label(re.compile("^password", re.IGNORECASE)).fill(server.demo_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/account/login/" not in url)


def _open_request_page(page: Page) -> float:
    """Opens "Request a lesson" from the menu; returns when it had loaded (monotonic)."""
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Request a lesson").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Request a lesson")
    loaded = time.monotonic()
    page.get_by_label("Lesson title").fill(TITLE)
    return loaded


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def _focused(page: Page) -> str:
    return str(page.evaluate(
        "() => (document.activeElement.id || document.activeElement.textContent).trim()"))


def test_stay_signed_in_by_keyboard_keeps_the_session_and_what_was_typed(
        context: BrowserContext, short_sessions: AppServer,
        axe: Callable[[Page], None]) -> None:
    page = context.new_page()
    _sign_in(page, short_sessions)
    loaded = _open_request_page(page)
    title = page.get_by_label("Lesson title")
    alert = page.get_by_role("alert").filter(has_text=WARNING)
    expect(alert).to_have_count(0)

    expect(alert).to_be_visible(timeout=(WARN_AFTER + 5) * 1000)
    assert time.monotonic() - loaded >= WARN_AFTER - 1, "the warning came too early"
    expect(alert).to_contain_text("Anything you have not saved will be lost.")
    # The warning does not take focus from the field being filled in.
    expect(title).to_be_focused()
    # It is first in the main content.
    assert page.evaluate(
        "() => document.getElementById('main').firstElementChild.matches('.session-warning')")
    axe(page)

    # Keyboard only: the button is the Tab stop just before the form.
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        if _focused(page) == "Stay signed in":
            break
    button = alert.get_by_role("button", name="Stay signed in")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="You are still signed in.")).to_be_visible()
    expect(title).to_be_focused()  # back where the teacher was
    axe(page)

    # Past the session's first end: the page has not moved on, the title is still there,
    # and the server still knows the teacher.
    _sleep_until(loaded + SESSION_SECONDS + 1)
    expect(page.get_by_text(SIGNED_OUT)).to_have_count(0)
    expect(title).to_have_value(TITLE)
    assert page.url.endswith("/lessons/request/")
    page.reload()
    expect(page).to_have_url(re.compile(r"/lessons/request/$"))


def test_another_tab_moves_the_warning_on_and_nobody_answering_signs_out(
        context: BrowserContext, short_sessions: AppServer,
        axe: Callable[[Page], None]) -> None:
    page = context.new_page()
    _sign_in(page, short_sessions)
    loaded = _open_request_page(page)

    # Half-way to the warning, the teacher opens a page in another tab: the session goes
    # on from there, and so does this tab's clock.
    _sleep_until(loaded + WARN_AFTER / 2)
    other = context.new_page()
    other.goto("/lessons/")
    expect(other).to_have_url(re.compile(r"/lessons/$"))
    other_loaded = time.monotonic()
    other.wait_for_selector(".session-status", state="attached")  # session.js has run
    other.close()
    _sleep_until(loaded + WARN_AFTER + 2)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("alert").filter(has_text=WARNING)).to_be_visible(
        timeout=(WARN_AFTER / 2 + 5) * 1000)

    # Nobody answers.
    signed_out = page.get_by_role("alert").filter(has_text=SIGNED_OUT)
    expect(signed_out).to_be_visible(timeout=(SESSION_SECONDS + 5) * 1000)
    assert time.monotonic() - other_loaded >= SESSION_SECONDS - 1
    expect(page.get_by_role("alert")).to_have_count(1)  # the warning became this message
    expect(page.get_by_role("button", name="Stay signed in")).to_have_count(0)
    link = signed_out.get_by_role("link", name="Sign in again")
    expect(link).to_have_attribute("href", "/account/login/?next=/lessons/request/")
    # The page stays, with what was typed on it.
    assert page.url.endswith("/lessons/request/")
    expect(page.get_by_label("Lesson title")).to_have_value(TITLE)
    axe(page)

    # The server has ended the session too; the link brings the teacher back here.
    page.goto("/lessons/")
    expect(page).to_have_url(re.compile(r"/account/login/"))
    page.goto("/lessons/request/")
    expect(page).to_have_url(re.compile(r"/account/login/\?next=/lessons/request/"))
