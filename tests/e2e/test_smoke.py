"""The first things a new user meets: the sign-in page, signing in, the home page, and
getting around by keyboard. Each page is checked with axe-core for WCAG 2.2 A/AA."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def test_it_serves_a_sign_in_page_without_accessibility_violations(page: Page, axe) -> None:
    page.goto("/account/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page).to_have_title(re.compile("Sign in"))
    axe(page)


def test_it_signs_the_demo_teacher_in_to_the_home_page(page: Page, axe, sign_in,
                                                       base_url: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/account/login/"))  # home needs a signed-in user

    sign_in(page, "teacher@oakfield.example")

    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_text("Oakfield Primary (demo)").first).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    axe(page)


def test_it_refuses_a_wrong_password_with_an_accessible_error(page: Page, axe) -> None:
    page.goto("/account/login/")
    page.get_by_label(re.compile("email", re.IGNORECASE)).fill("teacher@oakfield.example")
    page.get_by_label(re.compile("^password", re.IGNORECASE)).fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/account/login/"))
    expect(page).to_have_title(re.compile("Error"))
    axe(page)


def test_it_lets_a_keyboard_user_skip_to_the_main_content(page: Page) -> None:
    page.goto("/account/login/")

    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent.trim(),"
                            " document.activeElement.getAttribute('href')]")
    assert focused == ["Skip to main content", "#main"], "the skip link is the first Tab stop"
    expect(page.get_by_role("link", name="Skip to main content")).to_be_visible()

    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # The next Tab continues from the main content, not from the top of the page.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('main')"
                         ".contains(document.activeElement)")
