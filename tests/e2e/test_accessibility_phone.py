"""Issue 5: the pages on a phone, 320 CSS pixels wide, in Welsh.

WCAG 1.4.10 (Reflow) asks that content works at 320 px without scrolling in two
directions, except where two-dimensional layout is needed (data tables). So at 320 × 640:

- axe-core (the tags of test_accessibility.py) finds no violation: among its rules,
  ``scrollable-region-focusable`` fails when a table that scrolls sideways cannot be
  reached by keyboard (the table wraps of issue 5);
- the page itself does not scroll sideways (only a ``.table-wrap`` may);
- every table wrap that does scroll here is focusable and named.

A school of its own, whose language is Welsh, so the staff pages are in Welsh too (Welsh
words are longer) and the parent's pages start in Welsh. Its people have long names and
email addresses, so the tables really overflow. Data is made once at a fixed school-day
hour (next week's Wednesday, 10:00 London) and the approved lesson is moved to now.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, expect

from tests.e2e import join_walk
from tests.e2e.conftest import AppServer, axe_violations, format_violations
from tests.e2e.test_accessibility import _focused

PHONE: ViewportSize = {"width": 320, "height": 640}

_DATA = """
from datetime import time, timedelta
from zoneinfo import ZoneInfo
import dataclasses
import time_machine
from django.db import transaction
from django.utils import timezone
from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.accounts.services import do_create_api_token
from safeclass.lessons.models import Lesson
from safeclass.lessons.services import LessonDraft, do_approve_lesson, do_request_lesson
from safeclass.live.holds import place_removal_hold
from safeclass.live.incidents import record_incident
from safeclass.live.models import IncidentKind
from safeclass.schools.models import Group, LessonWindow, Pupil, School
from safeclass.schools.services import current_policy, do_edit_policy, policy_settings
password = @PASSWORD@
with transaction.atomic():
    school = School.objects.create(name="Ysgol Ffôn Prawf Hygyrchedd",
                                   staff_email_domains="ffon-prawf.example",
                                   time_zone="Europe/London", language="cy")
    for day in range(7):
        LessonWindow.objects.create(school=school, weekday=day, starts=time(0, 0),
                                    ends=time(23, 59))
    def staff(local, full_name, *roles):
        user = StaffUser.objects.create_user(
            email=f"{local}@ffon-prawf.example", password=password, full_name=full_name,
            school=school, is_active=True)
        for role in roles:
            StaffRole.objects.create(user=user, role=role)
        return user
    lead = staff("arweinydd.hygyrchedd.hirfaith", "Angharad Hygyrchedd-Llewelyn",
                 "teacher", "approver", "slt", "dsl", "admin")
    head = staff("pennaeth.hirfaith", "Gwenllian Pennaeth-Ap-Rhys", "approver", "dsl")
    second = staff("ail.oedolyn.hirfaith", "Rhodri Ail-Oedolyn", "staff")
    group = Group.objects.create(school=school, name="Blwyddyn 4 Derwen")
    for n, first in enumerate(["Efa", "Bleddyn", "Ceinwen", "Dafydd"], start=1):
        Pupil.objects.create(
            school=school, group=group, reference=f"PHONE-{n}-ABCDEFGHIJKLMNOP",
            first_name=first, last_name="Hirfaith-Llanfairpwllgwyngyll",
            parent_name=f"Rhiant {first} Hirfaith-Llanfairpwllgwyngyll",
            parent_email=f"{first.lower()}.rhiant.cyfeiriad.hir@rhieni-prawf.example")
    do_create_api_token(lead, "Tocyn prawf hir iawn ar gyfer y ffôn", actor=lead)
    current = policy_settings(current_policy(school))
    do_edit_policy(school, dataclasses.replace(current, max_duration_minutes=25), actor=lead,
                   reason="Gwersi byrrach (prawf)")
london = timezone.now().astimezone(ZoneInfo("Europe/London"))
school_day = (london + timedelta(days=(2 - london.weekday()) % 7 + 7)).replace(
    hour=10, minute=0, second=0, microsecond=0)
with time_machine.travel(school_day, tick=False):
    draft = LessonDraft(title="Gwers fyw hir iawn i brofi’r ffôn", host=lead,
                        second_staff=second, group=group, pupils=(),
                        starts_at=timezone.now() + timedelta(minutes=1), duration_minutes=25,
                        recorded=False)
    live = do_request_lesson(draft, actor=lead)
    links = do_approve_lesson(live, actor=head)
    pending = do_request_lesson(dataclasses.replace(
        draft, title="Gwers yn aros am gymeradwyaeth", starts_at=timezone.now()
        + timedelta(hours=3)), actor=lead)
Lesson.objects.filter(pk=live.pk).update(starts_at=timezone.now())
ceinwen = Pupil.objects.get(school=school, reference="PHONE-3-ABCDEFGHIJKLMNOP")
with transaction.atomic():
    place_removal_hold(lesson=live, pupil=ceinwen, actor=lead,
                       reason="Rhannu’r ddolen (prawf hygyrchedd ar y ffôn)")
    record_incident(lesson=live, kind=IncidentKind.PUPIL_REMOVED,
                    summary="Tynnwyd disgybl o’r wers (prawf hygyrchedd ar y ffôn)",
                    actor=lead)
by_name = {link.display_name.split()[0]: link.join_url for link in links}
result = {"live": live.pk, "pending": pending.pk, "lead": lead.email,
          "links": by_name}
"""

# The page scrolls sideways (beyond a pixel of rounding), and which elements stick out.
PAGE_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const page = document.documentElement.scrollWidth;
  if (page <= width + 1) { return null; }
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".table-wrap")) { continue; }
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
               (el.className && typeof el.className === "string" ? "." + el.className : "")
               + " right=" + Math.round(r.right));
    }
  }
  // Text can overflow a box that itself fits (an unbreakable word).
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || node.parentElement.closest(".table-wrap")) { continue; }
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.right > width + 1) {
      out.push("text in " + node.parentElement.tagName.toLowerCase() + ": "
               + node.textContent.trim().slice(0, 40) + " right=" + Math.round(r.right));
    }
  }
  return {scrollWidth: page, clientWidth: width, sticking_out: out.slice(0, 8)};
}"""

# Every table wrap that scrolls sideways here: is it focusable and named?
_WRAPS = """() => Array.from(document.querySelectorAll(".table-wrap"))
  .filter((w) => w.scrollWidth > w.clientWidth + 1)
  .map((w) => ({tabindex: w.getAttribute("tabindex"), role: w.getAttribute("role"),
                label: (document.getElementById(w.getAttribute("aria-labelledby") || "")
                        || {}).textContent || ""}))"""


class PhoneChecker:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.scrolling_tables = 0

    def __call__(self, page: Page, what: str) -> None:
        page.wait_for_load_state("load")
        where = f"{what} ({page.url}) at {PHONE['width']} px"
        violations = axe_violations(page)
        if violations:
            self.failures.append(format_violations(violations, where))
        overflow = page.evaluate(PAGE_OVERFLOW)
        if overflow:
            self.failures.append(f"{where}: the page scrolls sideways: {overflow}")
        for wrap in page.evaluate(_WRAPS):
            self.scrolling_tables += 1
            if wrap["tabindex"] != "0" or wrap["role"] != "region" or not wrap["label"].strip():
                self.failures.append(f"{where}: a table scrolls but is not a focusable, "
                                     f"named region: {wrap}")


@pytest.fixture(scope="module")
def phone_data(app_server: AppServer) -> dict[str, Any]:
    made: dict[str, Any] = app_server.django(
        _DATA.replace("@PASSWORD@", json.dumps(app_server.demo_password)))
    return made


@pytest.fixture
def phone_page(new_page: Callable[..., Page], media_browser: Browser) -> Callable[..., Page]:
    def make(media: bool = False) -> Page:
        return new_page(media_browser if media else None, locale="cy-GB", viewport=PHONE,
                        is_mobile=True, has_touch=True, device_scale_factor=2)
    return make


def test_staff_pages_at_320_px_in_welsh(app_server: AppServer, phone_data: dict[str, Any],
                                        phone_page: Callable[..., Page]) -> None:
    check = PhoneChecker()
    page = phone_page()
    page.goto("/account/login/")
    check(page, "sign in")
    page.locator("main input[type=email]").fill(phone_data["lead"])
    page.locator("main input[type=password]").fill(app_server.demo_password)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/account/login/" not in url)
    expect(page.locator("html")).to_have_attribute("lang", "cy")

    live, pending = phone_data["live"], phone_data["pending"]
    for url, what in [("/", "home"), ("/account/security/", "your account, with a token"),
                      ("/account/staff/", "staff list"), ("/school/policy/", "policy"),
                      ("/school/policy/history/", "policy history, with a change"),
                      ("/school/roster/", "roster"), ("/school/roster/import/", "import"),
                      ("/lessons/", "my lessons"), ("/lessons/approvals/", "approvals"),
                      (f"/lessons/{live}/", "an approved lesson, with its pupils"),
                      (f"/lessons/{pending}/", "a pending lesson"),
                      ("/lessons/request/", "request a lesson"),
                      ("/oversight/register/", "register"), ("/oversight/audit/", "audit log"),
                      ("/school/settings/", "school settings")]:
        page.goto(url)
        check(page, what)
    for url, what in [("/oversight/holds/", "removal holds"),
                      ("/oversight/incidents/", "incidents")]:
        page.goto(url)
        check(page, what)

    # The roster import's preview: three tables of long rows.
    page.goto("/school/roster/import/")
    csv = ("first_name,last_name,class,parent_name,parent_email,pupil_reference\n"
           "Efa,Hirfaith-Llanfairpwllgwyngyll,Blwyddyn 4 Derwen,Rhiant Newydd Efa,"
           "efa.newydd.cyfeiriad.hir@rhieni-prawf.example,PHONE-1-ABCDEFGHIJKLMNOP\n"
           "Bleddyn,Hirfaith-Llanfairpwllgwyngyll,Blwyddyn 4 Derwen,"
           "Rhiant Bleddyn Hirfaith-Llanfairpwllgwyngyll,"
           "bleddyn.rhiant.cyfeiriad.hir@rhieni-prawf.example,PHONE-2-ABCDEFGHIJKLMNOP\n"
           "Iolo,Newydd-Sbon-Hirfaith,Blwyddyn 5 Criafol Hir Iawn,Rhiant Iolo Newydd,"
           "iolo.rhiant.cyfeiriad.hir@rhieni-prawf.example,PHONE-9-ABCDEFGHIJKLMNOP\n")
    page.locator("main input[type=file]").set_input_files(
        files=[FilePayload(name="disgyblion.csv", mimeType="text/csv", buffer=csv.encode())])
    page.locator("main form button[type=submit]").last.press("Enter")
    expect(page.locator("main table")).to_have_count(3)
    check(page, "roster import preview")

    assert not check.failures, "\n\n".join(check.failures)
    # The long names really made tables scroll (else the check proved nothing).
    assert check.scrolling_tables >= 5, check.scrolling_tables


def test_a_parent_joins_on_a_phone_in_welsh(phone_data: dict[str, Any],
                                            phone_page: Callable[..., Page]) -> None:
    """From the link into the waiting room at 320 px, in Welsh (the school's language)."""
    check = PhoneChecker()
    page = phone_page(media=True)
    def check_welsh(page: Page, label: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", "cy")
        check(page, label)

    join_walk.to_consent_errors(page, phone_data["links"]["Efa"], check_welsh)
    join_walk.to_waiting_room(page, check_welsh, "Rhiant Efa")
    # The parent can switch to English and back on the way.
    page.goto(phone_data["links"]["Dafydd"])
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^en"))
    check(page, "the link's status page, switched to English")
    assert not check.failures, "\n\n".join(check.failures)


# ------------------------------------------------------------------ display settings

# Anything that still moves under prefers-reduced-motion: reduce (element or pseudo).
_MOVING = """() => {
  const moving = [];
  for (const el of document.querySelectorAll("*")) {
    for (const pseudo of [null, "::before", "::after"]) {
      const s = getComputedStyle(el, pseudo);
      const durations = (s.animationDuration + "," + s.transitionDuration).split(",")
        .map((d) => parseFloat(d) || 0);
      if (Math.max(...durations) > 0 || s.scrollBehavior === "smooth") {
        moving.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (pseudo || ""));
      }
    }
  }
  return moving.slice(0, 10);
}"""


def tab_through(page: Page, limit: int = 160) -> None:
    """Tab from the top of the page until focus leaves it or comes round again: every stop
    shows its focus, and focus never stays put, except within a date or time field,
    whose parts (day, month, year) each take a Tab."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    first = previous = None
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        if now is None or now == first:
            return
        assert now["visible"], f"{page.url}: no visible focus on {now}"
        parts = now["type"] in ("date", "time", "datetime-local")
        assert now != previous or parts, f"{page.url}: Tab left focus on {now} (trap?)"
        first = first or now
        previous = now
    raise AssertionError(f"{page.url}: {limit} Tab presses never left the page")


def test_staff_pages_follow_reduced_motion_and_forced_colours(
        app_server: AppServer, phone_data: dict[str, Any], browser: Browser,
        base_url: str) -> None:
    """With "reduce motion" nothing animates; in forced colours (Windows high contrast),
    which drops backgrounds and box shadows, every Tab stop still shows its focus (as an
    outline), on the staff pages and in the lesson room."""
    context = browser.new_context(base_url=base_url, locale="cy-GB",
                                  timezone_id="Europe/London", reduced_motion="reduce",
                                  forced_colors="active")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        assert page.evaluate("() => matchMedia('(forced-colors: active)').matches")
        assert page.evaluate("() => matchMedia('(prefers-reduced-motion: reduce)').matches")
        page.goto("/account/login/")
        tab_through(page)
        page.locator("main input[type=email]").fill(phone_data["lead"])
        page.locator("main input[type=password]").fill(app_server.demo_password)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_url(lambda url: "/account/login/" not in url)
        live = phone_data["live"]
        for url in ("/", "/lessons/", f"/lessons/{live}/", "/oversight/audit/",
                    f"/lessons/{live}/room/checklist/"):
            page.goto(url)
            assert page.evaluate(_MOVING) == [], f"{url}: moves under reduced motion"
            tab_through(page)
        # The lesson room (no media server here: connecting), with its buttons.
        for box in page.locator("input[name=items]").all():
            box.check()
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_url(re.compile(rf"/lessons/{live}/room/$"))
        assert page.evaluate(_MOVING) == [], "the room moves under reduced motion"
        tab_through(page)
    finally:
        context.close()
