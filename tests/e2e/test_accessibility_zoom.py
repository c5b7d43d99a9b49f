"""Text at 200 % (WCAG 1.4.4, Resize text) and wider text spacing (WCAG 1.4.12).

In Chromium at 1280 × 720, each page is checked twice, on the same page:

- **Text at 200 %**: the browser's default font size doubled (16 px to 32 px, 13 px to
  26 px for monospace) through the DevTools protocol's ``Page.setFontSizes``. That is
  the setting behind Chrome's Settings > Appearance > Font size ("Very large" is 24 px)
  and Customise fonts: it zooms text only, not the layout, and acts only on text sized in
  relative units (rem, em, %), so it finds text sized in px. Every visible piece of text
  must really be twice as big as before (to within rounding).
- **Text spacing**: the WCAG 1.4.12 overrides, all ``!important``: line height 1.5 times
  the font size, paragraph spacing 2 em, letter spacing 0.12 em, word spacing 0.16 em.
  They go in as a constructed style sheet (``document.adoptedStyleSheets``), which the
  pages' Content Security Policy (no inline styles) does not block, just as a user's
  style sheet or extension would add them.

In both: the page does not scroll sideways (a table may, inside its ``.table-wrap``);
no text is cut off by an element that hides its overflow (``overflow: hidden`` or
``clip``), nor sticks out of a drawn box (a button or other control, or a box with a
background or a border), except the visually hidden text for screen readers, which is
meant to be a clipped 1 px box; and no two links, buttons or labels overlap.

A school of its own with a lesson open now, so the parent's pages can be walked too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, CDPSession, Page, ViewportSize, expect

from tests.e2e import join_walk
from tests.e2e.conftest import AppServer
from tests.e2e.test_accessibility_phone import PAGE_OVERFLOW

WINDOW: ViewportSize = {"width": 1280, "height": 720}
# Chromium's defaults are 16 px (standard) and 13 px (fixed, monospace).
TEXT_100 = {"standard": 16, "fixed": 13}
TEXT_200 = {"standard": 32, "fixed": 26}

_DATA = """
from datetime import time, timedelta
from zoneinfo import ZoneInfo
import time_machine
from django.db import transaction
from django.utils import timezone
from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.lessons.models import Lesson
from safeclass.lessons.services import LessonDraft, do_approve_lesson, do_request_lesson
from safeclass.schools.models import Group, LessonWindow, Pupil, School
from safeclass.schools.services import current_policy
password = @PASSWORD@
with transaction.atomic():
    school = School.objects.create(name="Zoom and Spacing Test Primary School",
                                   staff_email_domains="zoom-test.example",
                                   time_zone="Europe/London")
    for day in range(7):
        LessonWindow.objects.create(school=school, weekday=day, starts=time(0, 0),
                                    ends=time(23, 59))
    def staff(local, full_name, *roles):
        user = StaffUser.objects.create_user(
            email=f"{local}@zoom-test.example", password=password, full_name=full_name,
            school=school, is_active=True)
        for role in roles:
            StaffRole.objects.create(user=user, role=role)
        return user
    lead = staff("zoom.lead.teacher", "Zara Zoom-Whitfield", "teacher", "approver", "slt",
                 "dsl", "admin")
    head = staff("zoom.head", "Harriet Headington", "approver", "dsl")
    second = staff("zoom.second.adult", "Sunil Second-Adult", "staff")
    group = Group.objects.create(school=school, name="Year 4 Oak")
    for n, first in enumerate(["Zoe", "Yusuf", "Xena", "Will"], start=1):
        Pupil.objects.create(
            school=school, group=group, reference=f"ZOOM-{n}", first_name=first,
            last_name="Spacing-Thompson", parent_name=f"Parent of {first} Spacing-Thompson",
            parent_email=f"{first.lower()}.parent@zoom-parents.example")
    current_policy(school)
london = timezone.now().astimezone(ZoneInfo("Europe/London"))
school_day = (london + timedelta(days=(2 - london.weekday()) % 7 + 7)).replace(
    hour=10, minute=0, second=0, microsecond=0)
with time_machine.travel(school_day, tick=False):
    draft = LessonDraft(title="Zoom live lesson: fractions and decimals", host=lead,
                        second_staff=second, group=group, pupils=(),
                        starts_at=timezone.now() + timedelta(minutes=1), duration_minutes=30,
                        recorded=False)
    live = do_request_lesson(draft, actor=lead)
    links = do_approve_lesson(live, actor=head)
    pending = do_request_lesson(LessonDraft(
        title="Zoom lesson waiting for approval", host=lead, second_staff=second,
        group=group, pupils=(), starts_at=timezone.now() + timedelta(hours=3),
        duration_minutes=30, recorded=False), actor=lead)
Lesson.objects.filter(pk=live.pk).update(starts_at=timezone.now())
result = {"live": live.pk, "pending": pending.pk, "lead": lead.email,
          "links": {link.display_name.split()[0]: link.join_url for link in links}}
"""

# Shared by the scripts below: is this element (or one it sits in) the visually hidden
# pattern for screen-reader-only text (absolutely positioned, at most 1 × 1 px, clipped)?
_SR_ONLY = """
const srOnly = (el) => {
  for (let e = el; e && e !== document.body; e = e.parentElement) {
    const s = getComputedStyle(e);
    if (s.position !== "absolute" || s.overflowX === "visible") { continue; }
    const r = e.getBoundingClientRect();
    if (r.width <= 1 && r.height <= 1) { return true; }
  }
  return false;
};
const shown = (el) => el.checkVisibility({visibilityProperty: true, opacityProperty: true});
const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
  + (typeof el.className === "string" && el.className ? "." + el.className.trim()
     .split(/\\s+/).join(".") : "")
  + ' "' + (el.innerText || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 40) + '"';
// Elements that hold text of their own (a text node directly inside), and form controls.
const textBearing = () => Array.from(document.querySelectorAll("body *")).filter((el) =>
  (el.matches("input:not([type=hidden]), select, textarea, button")
   || Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim()))
  && shown(el));
"""

# Remember each text-bearing element's font size, before the text is made bigger.
_REMEMBER_SIZES = _SR_ONLY + """
window.__scFontSizes = new Map();
for (const el of textBearing()) {
  window.__scFontSizes.set(el, parseFloat(getComputedStyle(el).fontSize));
}
return window.__scFontSizes.size;
"""

# Text that did not grow to twice its size.
_NOT_DOUBLED = _SR_ONLY + """
const out = [];
let grown = 0;
for (const [el, before] of window.__scFontSizes) {
  if (!el.isConnected || !shown(el)) { continue; }
  const now = parseFloat(getComputedStyle(el).fontSize);
  if (now >= 2 * before - 0.5) { grown += 1; continue; }
  out.push(describe(el) + ": " + before + "px became " + now + "px");
}
return {grown: grown, failures: out.slice(0, 10)};
"""

# Text cut off by a box that hides its overflow (overflow: hidden or clip), or sticking out
# of a box that is drawn (a control, or a box with a background or border: white text on
# a button that spills onto the white page is lost too); and links, buttons or labels
# that overlap. Scroll containers (a table's wrap) may hold more than they show.
_CLIPPED_AND_OVERLAPPING = _SR_ONLY + """
const clipped = [];
let boxes_checked = 0;
const hides = (v) => v === "hidden" || v === "clip";
const scrolls = (v) => v === "auto" || v === "scroll";
const drawn = (el, s) => el.matches(
    "button, select, summary, .button, input[type=submit], input[type=button]")
  || (s.display !== "inline" && s.display !== "contents"
      && (!/rgba\\(.*, 0\\)$|transparent/.test(s.backgroundColor)
          || ["Top", "Right", "Bottom", "Left"].some((side) =>
               parseFloat(s["border" + side + "Width"]) > 0
               && s["border" + side + "Style"] !== "none")));
for (const el of document.querySelectorAll("body *")) {
  const s = getComputedStyle(el);
  if (scrolls(s.overflowX) || scrolls(s.overflowY)) { continue; }
  const clips = hides(s.overflowX) || hides(s.overflowY);
  if (!(clips || drawn(el, s)) || !shown(el) || srOnly(el)) { continue; }
  const field = el.matches("input, select, textarea");
  const text = field ? (el.value || el.placeholder || "") : el.innerText;
  if (!text || !text.trim()) { continue; }
  boxes_checked += 1;
  // A text field's value scrolls sideways inside it by design; it must not be cut in height.
  const typed = el.matches("textarea, input:not([type=submit]):not([type=button])");
  if (!typed && el.scrollWidth > el.clientWidth + 1) {
    clipped.push(describe(el) + ": " + el.scrollWidth + "px wide in " + el.clientWidth);
  }
  if (el.scrollHeight > el.clientHeight + 1) {
    clipped.push(describe(el) + ": " + el.scrollHeight + "px high in " + el.clientHeight);
  }
}
const controls = Array.from(document.querySelectorAll(
    "a[href], button, label, summary, input[type=submit], input[type=button], [role=button]"))
  .filter((el) => shown(el) && !srOnly(el) && (el.innerText || el.value || "").trim());
const boxes = controls.map((el) => Array.from(el.getClientRects())
  .filter((r) => r.width > 1 && r.height > 1));
const overlaps = [];
for (let i = 0; i < controls.length; i++) {
  for (let j = i + 1; j < controls.length; j++) {
    if (controls[i].contains(controls[j]) || controls[j].contains(controls[i])) { continue; }
    const hit = boxes[i].some((a) => boxes[j].some((b) =>
      Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2
      && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2));
    if (hit) { overlaps.push(describe(controls[i]) + " overlaps " + describe(controls[j])); }
  }
}
return {clipped: clipped.slice(0, 10), overlaps: overlaps.slice(0, 10),
        controls: controls.length, boxes: boxes_checked};
"""

_SPACING_CSS = (
    "*, *::before, *::after { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
    " word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }")

# Add (or take away) the text-spacing style sheet; returns what one paragraph then has.
_ADD_SPACING = """(css) => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  window.__scSpacing = sheet;
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  const p = document.querySelector("main p") || document.body;
  const s = getComputedStyle(p);
  return {fontSize: parseFloat(s.fontSize), letterSpacing: parseFloat(s.letterSpacing),
          lineHeight: parseFloat(s.lineHeight), marginBottom: parseFloat(s.marginBottom),
          wordSpacing: parseFloat(s.wordSpacing), isParagraph: p.tagName === "P"};
}"""
_REMOVE_SPACING = """() => {
  document.adoptedStyleSheets = document.adoptedStyleSheets.filter(
    (s) => s !== window.__scSpacing);
}"""


def _body(script: str) -> str:
    """A script body as a function Playwright can evaluate."""
    return "() => {" + script + "}"


class ZoomChecker:
    """Checks a page at text 200 % and then with the text-spacing overrides; collects
    every failure, and counts what was checked (so a check that saw nothing fails)."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.pages = 0
        self.grown = 0
        self.controls = 0
        self.boxes = 0
        self._sessions: dict[Page, CDPSession] = {}

    def _font_sizes(self, page: Page, sizes: dict[str, int]) -> None:
        if page not in self._sessions:
            self._sessions[page] = page.context.new_cdp_session(page)
        self._sessions[page].send("Page.setFontSizes", {"fontSizes": sizes})

    def _layout(self, page: Page, where: str) -> None:
        overflow = page.evaluate(PAGE_OVERFLOW)
        if overflow:
            self.failures.append(f"{where}: the page scrolls sideways: {overflow}")
        found = page.evaluate(_body(_CLIPPED_AND_OVERLAPPING))
        self.controls += found["controls"]
        self.boxes += found["boxes"]
        if found["clipped"]:
            self.failures.append(f"{where}: text cut off or sticking out of its box: "
                                 f"{found['clipped']}")
        if found["overlaps"]:
            self.failures.append(f"{where}: overlapping controls: {found['overlaps']}")

    def __call__(self, page: Page, what: str) -> None:
        page.wait_for_load_state("load")
        self.pages += 1
        where = f"{what} ({page.url})"
        measured = page.evaluate(_body(_REMEMBER_SIZES))
        assert measured > 0, f"{where}: no text found"
        self._font_sizes(page, TEXT_200)
        try:
            grown = page.evaluate(_body(_NOT_DOUBLED))
            self.grown += grown["grown"]
            if grown["failures"]:
                self.failures.append(f"{where} at text 200 %: text that did not double: "
                                     f"{grown['failures']}")
            self._layout(page, f"{where} at text 200 %")
        finally:
            self._font_sizes(page, TEXT_100)

        applied = page.evaluate(_ADD_SPACING, _SPACING_CSS)
        try:
            size = applied["fontSize"]
            assert abs(applied["letterSpacing"] - 0.12 * size) < 0.1, applied
            assert abs(applied["wordSpacing"] - 0.16 * size) < 0.1, applied
            assert abs(applied["lineHeight"] - 1.5 * size) < 0.1, applied
            assert not applied["isParagraph"] or abs(applied["marginBottom"] - 2 * size) < 0.1
            self._layout(page, f"{where} with text spacing")
        finally:
            page.evaluate(_REMOVE_SPACING)

    def done(self) -> None:
        assert not self.failures, "\n\n".join(self.failures)
        # The checks looked at something: text grew on every page, and controls and drawn
        # boxes (buttons, panels, tags) were seen.
        assert self.grown >= 20 * self.pages, (self.grown, self.pages)
        assert self.controls >= 5 * self.pages, (self.controls, self.pages)
        assert self.boxes >= 2 * self.pages, (self.boxes, self.pages)


@pytest.fixture(scope="module")
def zoom_data(app_server: AppServer) -> dict[str, Any]:
    made: dict[str, Any] = app_server.django(
        _DATA.replace("@PASSWORD@", json.dumps(app_server.demo_password)))
    return made


@pytest.fixture
def zoom_page(new_page: Callable[..., Page], media_browser: Browser) -> Callable[..., Page]:
    def make(media: bool = False) -> Page:
        return new_page(media_browser if media else None, viewport=WINDOW)
    return make



def test_staff_pages_with_text_at_200_percent_and_wide_spacing(
        app_server: AppServer, zoom_data: dict[str, Any],
        zoom_page: Callable[..., Page]) -> None:
    check = ZoomChecker()
    page = zoom_page()
    page.goto("/account/login/")
    check(page, "sign in")
    page.locator("main input[type=email]").fill(zoom_data["lead"])
    page.locator("main input[type=password]").fill("not the password")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("main .error-summary, main .field-error").first).to_be_visible()
    check(page, "sign in, wrong password")
    page.locator("main input[type=password]").fill(app_server.demo_password)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/account/login/" not in url)

    live = zoom_data["live"]
    for url, what in [("/", "home"), ("/lessons/", "my lessons"),
                      (f"/lessons/{live}/", "a lesson, with its pupils"),
                      ("/lessons/approvals/", "approvals"),
                      ("/oversight/register/", "register"), ("/oversight/audit/", "audit log"),
                      ("/school/policy/", "policy"), ("/school/roster/", "roster"),
                      ("/school/settings/", "school settings"),
                      ("/account/staff/", "staff list")]:
        page.goto(url)
        check(page, what)
    page.goto("/lessons/request/")
    page.locator("main form[method=post] button[type=submit]").last.click()
    expect(page.locator("main .error-summary")).to_be_visible()
    check(page, "request a lesson, sent empty")
    check.done()


def test_the_parents_way_in_with_text_at_200_percent_and_wide_spacing(
        zoom_data: dict[str, Any], zoom_page: Callable[..., Page]) -> None:
    check = ZoomChecker()
    page = zoom_page(media=True)
    join_walk.to_consent_errors(page, zoom_data["links"]["Zoe"], check)
    join_walk.to_waiting_room(page, check, "Pat Parent")
    check.done()
