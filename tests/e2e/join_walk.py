"""The parent's way in, from the link to the waiting room, stopping at each page for a
check: the accessibility tests (phone, zoom, names) walk the same steps and each checks
something different on every page. Elements are found by their place, not their words,
so the walk works in English and in Welsh."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

Check = Callable[[Page, str], object]
SUBMIT = "main form button[type=submit]"


def to_consent_errors(page: Page, link: str, check: Check, *,
                      rules_without_promise: bool = False) -> None:
    """From the link to the consent page sent empty, checking each page and state."""
    page.goto(link)
    page.wait_for_url(re.compile(r"/join/lesson/[^/]+/$"))
    check(page, "the link's status page")
    page.locator("main a.button[href$='/check/']").click()
    page.wait_for_url(re.compile(r"/check/$"))
    check(page, "camera check")
    page.locator("#check-start").click()
    expect(page.locator("#check-next")).to_be_enabled(timeout=20_000)
    check(page, "camera check, camera works")
    page.locator("#check-next").click()
    page.wait_for_url(re.compile(r"/rules/$"))
    check(page, "rules")
    if rules_without_promise:
        page.locator(SUBMIT).click()
        expect(page.locator("main .error-summary")).to_be_visible()
        check(page, "rules, no promise")
    page.locator("input[name=promise]").check()
    page.locator(SUBMIT).click()
    page.wait_for_url(re.compile(r"/consent/$"))
    check(page, "consent")
    page.locator(SUBMIT).click()
    expect(page.locator("main .error-summary")).to_be_visible()
    check(page, "consent with nothing filled in")


def to_waiting_room(page: Page, check: Check, parent_name: str) -> None:
    """From the consent page: the parent's name, every box ticked, into the waiting room."""
    page.locator("input[name=parent_name]").fill(parent_name)
    for box in page.locator("form input[type=checkbox]").all():
        box.check()
    page.locator(SUBMIT).click()
    page.wait_for_url(re.compile(r"/room/$"))
    expect(page.locator("#room-waiting")).to_be_visible(timeout=20_000)
    check(page, "the waiting room")
