"""Accessibility: every page of the project checked with axe-core (WCAG 2.0, 2.1 and 2.2,
levels A and AA), and the join pages and the staff checklist done with the keyboard alone.

``tests/e2e/axe_coverage.py`` lists which URL patterns are checked (``COVERED``) and which
are not pages (``EXCLUDED``, each with its reason); the first test fails when a pattern is
in neither, the browser test fails unless it really ran axe on every covered pattern.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import struct
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve
from playwright.sync_api import Browser, Page, expect

from tests.e2e.axe_coverage import COVERED, EXCLUDED, pages_to_check, url_patterns
from tests.e2e.conftest import AppServer, axe_violations, format_violations

# Data for the pages: made once, in the all-week school, at a fixed school-day hour (next
# week's Wednesday 10:00 London) so that nothing depends on the hour the tests run at.
# The approved lesson is then moved to start now, so its room and join pages are open.
_DATA = """
from datetime import timedelta
from zoneinfo import ZoneInfo
import time_machine
from django.db import transaction
from django.utils import timezone
import dataclasses
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.lessons.models import Lesson
from safeclass.lessons.services import (LessonDraft, do_approve_lesson, do_cancel_lesson,
                                        do_request_lesson)
from safeclass.live.holds import place_removal_hold
from safeclass.live.incidents import record_incident
from safeclass.live.models import IncidentKind
from safeclass.schools.models import Group, Pupil, School
password = @PASSWORD@
school = School.objects.get(pk=@SCHOOL@)
with transaction.atomic():
    lead = StaffUser.objects.create_user(email="a11y-lead@allweek.example", password=password,
                                         full_name="Alex Access", school=school,
                                         is_active=True)
    for role in ("teacher", "approver", "slt", "dsl", "admin"):
        StaffRole.objects.create(user=lead, role=role)
    second = StaffUser.objects.create_user(email="a11y-second@allweek.example",
                                           password=password, full_name="Sam Access",
                                           school=school, is_active=True)
    StaffRole.objects.create(user=second, role="staff")
    # Someone with two-step sign-in set up (an authenticator app, and recovery codes).
    twostep = StaffUser.objects.create_user(email="a11y-twostep@allweek.example",
                                            password=password, full_name="Tess Twostep",
                                            school=school, is_active=True)
    StaffRole.objects.create(user=twostep, role="teacher")
    totp_secret = generate_totp_secret()
    TOTP.activate(twostep, totp_secret)
    RecoveryCodes.activate(twostep)
    group = Group.objects.create(school=school, name="Access class")
    for n, first in enumerate(["Ava", "Ben", "Cai", "Dee"], start=1):
        Pupil.objects.create(school=school, group=group, reference=f"A11Y-{n}",
                             first_name=first, last_name="Access",
                             parent_name=f"Parent of {first}",
                             parent_email=f"{first.lower()}.a11y@parents.example")
london = timezone.now().astimezone(ZoneInfo("Europe/London"))
school_day = (london + timedelta(days=(2 - london.weekday()) % 7 + 7)).replace(
    hour=10, minute=0, second=0, microsecond=0)
approver = StaffUser.objects.get(email=@APPROVER@)
with time_machine.travel(school_day, tick=False):
    draft = LessonDraft(title="Access live lesson", host=lead, second_staff=second,
                        group=group, pupils=(), starts_at=timezone.now() + timedelta(minutes=1),
                        duration_minutes=30, recorded=False)
    live = do_request_lesson(draft, actor=lead)
    links = do_approve_lesson(live, actor=approver)
    pending = do_request_lesson(LessonDraft(
        title="Access pending lesson", host=lead, second_staff=second, group=group,
        pupils=(), starts_at=timezone.now() + timedelta(hours=3), duration_minutes=30,
        recorded=False), actor=lead)
    # Links that do not let anyone in: a lesson later on (not yet open), a lesson
    # cancelled after approval (withdrawn) and one that has ended.
    upcoming = do_request_lesson(dataclasses.replace(
        draft, title="Access lesson later", starts_at=timezone.now() + timedelta(hours=5)),
        actor=lead)
    upcoming_links = do_approve_lesson(upcoming, actor=approver)
    cancelled = do_request_lesson(dataclasses.replace(
        draft, title="Access cancelled lesson",
        starts_at=timezone.now() + timedelta(hours=7)), actor=lead)
    cancelled_links = do_approve_lesson(cancelled, actor=approver)
    do_cancel_lesson(cancelled, actor=lead)
    ended = do_request_lesson(dataclasses.replace(
        draft, title="Access ended lesson", starts_at=timezone.now() + timedelta(hours=9)),
        actor=lead)
    ended_links = do_approve_lesson(ended, actor=approver)
Lesson.objects.filter(pk=live.pk).update(starts_at=timezone.now())
Lesson.objects.filter(pk=ended.pk).update(starts_at=timezone.now() - timedelta(hours=2))
by_name = {link.display_name.split()[0]: link.join_url for link in links}
cai = Pupil.objects.get(school=school, reference="A11Y-3")
with transaction.atomic():
    hold = place_removal_hold(lesson=live, pupil=cai, actor=lead,
                              reason="Shared the link (accessibility test)")
    record_incident(lesson=live, kind=IncidentKind.PUPIL_REMOVED,
                    summary="A pupil was removed (accessibility test)", actor=lead)
pupil = Pupil.objects.get(school=school, reference="A11Y-1")
# A recording of the live lesson, ready to watch: a small real WebM in the real store.
import subprocess, tempfile
from pathlib import Path
from safeclass.recordings import keys, paths, store
from safeclass.recordings.models import Recording, RecordingFile
recording = Recording.objects.create(lesson=live, school=school, status="ready",
                                     started_at=timezone.now(),
                                     lesson_ended_at=timezone.now(), duration_seconds=2)
with tempfile.TemporaryDirectory() as scratch:
    source = Path(scratch) / "lesson.webm"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=320x240:rate=10:duration=2", "-f", "lavfi", "-i",
                    "sine=duration=2", "-c:v", "libvpx", "-c:a", "libopus", "-shortest",
                    str(source)], check=True)
    stored = store.write_file(paths.make_private_dir(paths.store_dir(recording)), "lesson",
                              source, recipient=keys.recipient())
RecordingFile.objects.create(recording=recording, kind="lesson", store_name=stored.store_name,
                             label="Whole lesson", media_type="video/webm",
                             plain_size=stored.plain_size, sha256=stored.sha256,
                             segment_size=stored.segment_size,
                             segment_count=stored.segment_count, duration_seconds=2)
result = {"live": live.pk, "pending": pending.pk, "hold": hold.pk, "group": group.pk,
          "pupil": pupil.pk, "lead": lead.email, "second_id": second.pk, "links": by_name,
          "recording": str(recording.public_id), "totp_secret": totp_secret,
          "twostep": twostep.email, "upcoming_link": upcoming_links[0].join_url,
          "cancelled_link": cancelled_links[0].join_url,
          "ended_link": ended_links[0].join_url}
"""

# The "too many wrong links" page: the view, run in a Django test client with its own
# cache, so the app server's limit for 127.0.0.1 (shared with other tests) is untouched.
_TOO_MANY = """
from django.conf import settings
from django.core.cache import cache
from django.test import Client
import time
# This minute and the next: the request may fall on either side of a minute's end.
minute = int(time.time() // 60)
for m in (minute, minute + 1):
    cache.set(f"join-misses:10.99.0.1:{m}", settings.JOIN_RATE_LIMIT_PER_MINUTE, timeout=180)
response = Client(REMOTE_ADDR="10.99.0.1", HTTP_HOST="127.0.0.1").get("/join/not-a-real-link/")
assert response.status_code == 429, response.status_code
result = response.content.decode()
"""

LEAD = "a11y-lead@allweek.example"
SECOND = "a11y-second@allweek.example"


def totp_code(secret: str, at: float) -> str:
    """What an authenticator app shows at ``at`` (RFC 6238 as allauth uses it: SHA-1,
    30-second steps, 6 digits)."""
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def fresh_totp_code(secret: str) -> str:
    """The code for now, taken at least 5 s before its 30-second step ends, so the
    server (which accepts only the current step) checks it in the same step."""
    if time.time() % 30 > 25:
        time.sleep(30.2 - time.time() % 30)
    return totp_code(secret, time.time())


@pytest.fixture(scope="module")
def a11y_data(app_server: AppServer) -> dict[str, Any]:
    school = app_server.all_week_school()
    made: dict[str, Any] = app_server.django(
        _DATA.replace("@PASSWORD@", json.dumps(app_server.demo_password))
        .replace("@SCHOOL@", str(int(school["school_id"])))
        .replace("@APPROVER@", json.dumps(school["head"])))
    return made


class Checker:
    """Runs axe on pages, remembering which URL pattern each was and what failed."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.failures: list[str] = []

    def __call__(self, page: Page, name: str, state: str = "") -> None:
        path = urlsplit(page.url).path
        try:
            resolved = resolve(path).view_name
        except Resolver404:
            resolved = "?"
        assert resolved == name, f"expected a page of {name}, the browser is on {page.url}"
        page.wait_for_load_state("load")
        violations = axe_violations(page)
        if violations:
            self.failures.append(format_violations(violations, f"{name} {state} ({page.url})"))
        self.seen.add(name)


def _sign_in(page: Page, app_server: AppServer, email_address: str) -> None:
    page.goto("/account/login/")
    page.get_by_label(re.compile("email", re.IGNORECASE)).fill(email_address)
    page.get_by_label(re.compile("^password", re.IGNORECASE)).fill(app_server.demo_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/account/login/" not in url)



def test_every_url_pattern_has_an_axe_check() -> None:
    names = {name for _route, name in url_patterns()}
    missing = sorted(str(n) for n in pages_to_check() - COVERED)
    assert not missing, ("URL patterns with no axe check: add each to the browser test in "
                         f"tests/e2e/test_accessibility.py and to COVERED, or to EXCLUDED "
                         f"with a reason: {missing}")
    stale = sorted((COVERED | set(EXCLUDED)) - names)
    assert not stale, f"COVERED or EXCLUDED name patterns that no longer exist: {stale}"
    assert not COVERED & set(EXCLUDED), "a pattern is both covered and excluded"


def test_every_page_has_no_axe_violations(app_server: AppServer, a11y_data: dict[str, Any],
                                          new_page: Callable[..., Page],
                                          media_browser: Browser) -> None:
    check = Checker()
    live, pending = a11y_data["live"], a11y_data["pending"]

    # --- signed out
    page = new_page()
    page.goto("/account/login/")
    check(page, "account_login")
    page.get_by_label(re.compile("email", re.IGNORECASE)).fill(LEAD)
    page.get_by_label(re.compile("^password", re.IGNORECASE)).fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    check(page, "account_login", "wrong password")
    page.goto("/account/signup/")
    check(page, "account_signup")
    page.goto("/account/inactive/")
    check(page, "account_inactive")
    page.goto("/account/password/reset/")
    check(page, "account_reset_password")
    page.locator("main input[type=email]").fill("nobody@allweek.example")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/password/reset/done/$"))
    check(page, "account_reset_password_done")
    page.goto("/account/activate/not-a-real-token/")
    check(page, "accounts:activate", "unknown token")
    page.goto("/account/activate/")
    check(page, "accounts:activate_set_password", "no token")
    page.goto("/join/not-a-real-link/")
    check(page, "invitations:open", "unknown link")
    too_many = app_server.django(_TOO_MANY)
    page.route("**/join/too-many-test/", lambda route: route.fulfill(
        status=429, content_type="text/html; charset=utf-8", body=too_many))
    page.goto("/join/too-many-test/")
    check(page, "invitations:open", "too many wrong links")

    # --- staff: one member with every role, so every staff page opens
    page = new_page()
    _sign_in(page, app_server, LEAD)
    staff_pages = [
        ("/", "web:home"),
        ("/account/security/", "accounts:security"),
        ("/account/email/", "accounts:email_managed"),
        ("/account/password/change/", "account_change_password"),
        ("/account/2fa/", "mfa_index"),
        ("/account/staff/", "accounts:staff_list"),
        ("/account/staff/new/", "accounts:staff_new"),
        (f"/account/staff/{a11y_data['second_id']}/", "accounts:staff_edit"),
        ("/school/settings/", "schools:settings"),
        ("/school/policy/", "schools:policy"),
        ("/school/policy/edit/", "schools:policy_edit"),
        ("/school/policy/history/", "schools:policy_history"),
        ("/school/roster/", "schools:roster"),
        ("/school/roster/import/", "schools:roster_import"),
        ("/school/roster/classes/new/", "schools:group_new"),
        (f"/school/roster/classes/{a11y_data['group']}/", "schools:group_edit"),
        ("/school/roster/pupils/new/", "schools:pupil_new"),
        (f"/school/roster/pupils/{a11y_data['pupil']}/", "schools:pupil_edit"),
        ("/lessons/", "lessons:mine"),
        ("/lessons/request/", "lessons:request"),
        ("/lessons/approvals/", "lessons:approvals"),
        (f"/lessons/{pending}/", "lessons:detail"),
        (f"/lessons/{pending}/edit/", "lessons:edit"),
        (f"/lessons/{pending}/cancel/", "lessons:cancel"),
        (f"/lessons/{live}/", "lessons:detail"),
        (f"/lessons/{live}/invitations/export/", "lessons:export"),
        ("/oversight/register/", "oversight:register"),
        ("/oversight/audit/", "oversight:audit"),
        ("/oversight/holds/", "live:holds"),
        (f"/oversight/holds/{a11y_data['hold']}/clear/", "live:clear_hold"),
        ("/oversight/incidents/", "live:incidents"),
        (f"/lessons/{pending}/room/checklist/", "live:checklist"),  # closed: not approved
        ("/recordings/", "recordings:list"),
        (f"/recordings/{a11y_data['recording']}/", "recordings:detail"),
        (f"/recordings/{a11y_data['recording']}/hold/", "recordings:hold"),
    ]
    for url, name in staff_pages:
        page.goto(url)
        check(page, name)

    # Setting up two-step sign-in asks for the password again first.
    page.goto("/account/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:
        check(page, "account_reauthenticate")
        page.locator("main input[type=password]").fill(app_server.demo_password)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/2fa/totp/activate/$"))
    check(page, "mfa_activate_totp")

    # Forms sent empty: the error summary and the messages by each field.
    for url, name in [("/account/staff/new/", "accounts:staff_new"),
                      ("/school/roster/import/", "schools:roster_import"),
                      ("/school/roster/classes/new/", "schools:group_new"),
                      ("/school/roster/pupils/new/", "schools:pupil_new"),
                      (f"/oversight/holds/{a11y_data['hold']}/clear/", "live:clear_hold"),
                      (f"/recordings/{a11y_data['recording']}/hold/", "recordings:hold")]:
        page.goto(url)
        page.locator("main form[method=post] button[type=submit]").last.click()
        page.wait_for_load_state("load")
        check(page, name, "sent empty")
    page.goto("/lessons/request/")
    page.locator("main form[method=post] button[type=submit]").last.click()
    check(page, "lessons:request", "sent empty")

    page.goto("/account/security/")
    page.locator("form[action$='/account/tokens/new/'] button").click()
    page.wait_for_url(re.compile(r"/tokens/new/$"))
    check(page, "accounts:token_create", "no name given")
    page.locator("form[action$='/account/calendar/new/'] button").click()
    page.wait_for_url(re.compile(r"/calendar/new/$"))
    check(page, "accounts:calendar_new", "new calendar link shown")

    page.goto(f"/lessons/{live}/")
    # Dee's link is the one re-issued (the old one stops working; the others are used below).
    page.get_by_role("button", name=re.compile(r"^Send Dee")).click()
    page.wait_for_url(re.compile(r"/reissue/$"))
    check(page, "lessons:reissue", "new link shown")

    # The room: checklist, then the staff room (no media server here: its waiting state).
    page.goto(f"/lessons/{live}/room/checklist/")
    check(page, "live:checklist")
    page.get_by_role("button", name="Open the lesson room").click()
    check(page, "live:checklist", "nothing ticked")
    for box in page.locator("input[name=items]").all():
        box.check()
    page.get_by_role("button", name="Open the lesson room").click()
    page.wait_for_url(re.compile(rf"/lessons/{live}/room/$"))
    check(page, "live:staff_room")

    page.goto("/account/logout/")
    check(page, "account_logout")

    # --- an approver (not the lesson's host) declines without a reason
    page = new_page()
    _sign_in(page, app_server, app_server.all_week_school()["head"])
    page.goto(f"/lessons/{pending}/")
    page.get_by_role("button", name="Decline the lesson").click()
    page.wait_for_url(re.compile(r"/decline/$"))
    check(page, "lessons:decline", "no reason given")

    # --- someone with two-step sign-in set up: the password, then the code
    page = new_page()
    page.goto("/account/login/")
    page.get_by_label(re.compile("email", re.IGNORECASE)).fill(a11y_data["twostep"])
    page.get_by_label(re.compile("^password", re.IGNORECASE)).fill(app_server.demo_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/account/2fa/authenticate/$"))
    check(page, "mfa_authenticate")
    secret = a11y_data["totp_secret"]
    now = time.time()
    valid = {totp_code(secret, now + drift) for drift in (-30, 0, 30)}
    page.locator("main input[name=code]").fill(
        next(c for c in ("000000", "111111", "222222", "333333") if c not in valid))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    expect(page.locator("main .field-error")).to_be_visible()
    check(page, "mfa_authenticate", "wrong code")
    page.locator("main input[name=code]").fill(fresh_totp_code(secret))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/account/2fa/authenticate/" not in url)
    page.goto("/account/2fa/")
    check(page, "mfa_index", "two-step sign-in set up")
    page.goto("/account/2fa/reauthenticate/")
    check(page, "mfa_reauthenticate")
    # Turning it off and the recovery codes ask for the password again first (once).
    page.goto("/account/2fa/totp/deactivate/")
    if "/account/reauthenticate/" in page.url:
        check(page, "account_reauthenticate", "two-step sign-in set up")
        page.locator("main input[type=password]").fill(app_server.demo_password)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/2fa/totp/deactivate/$"))
    check(page, "mfa_deactivate_totp")
    page.goto("/account/2fa/recovery-codes/")
    check(page, "mfa_view_recovery_codes")
    page.goto("/account/2fa/recovery-codes/generate/")
    check(page, "mfa_generate_recovery_codes")

    # --- a parent and pupil: the link, the join pages, the waiting room
    page = new_page(media_browser)
    page.goto(a11y_data["links"]["Ava"])
    page.wait_for_url(re.compile(r"/join/lesson/[^/]+/$"))
    check(page, "invitations:status", "link open")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/check/$"))
    check(page, "live:join_check", "before the check")
    page.get_by_role("button", name="Check my camera and microphone").click()
    expect(page.locator("#check-next")).to_be_enabled(timeout=20_000)
    check(page, "live:join_check", "camera works")
    page.locator("#check-next").click()
    page.wait_for_url(re.compile(r"/rules/$"))
    check(page, "live:join_rules")
    page.get_by_role("button", name="Next").click()
    check(page, "live:join_rules", "no promise")
    page.locator("input[name=promise]").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/consent/$"))
    check(page, "live:join_consent")
    page.get_by_role("button", name="I agree: go to the lesson").click()
    check(page, "live:join_consent", "nothing filled in")
    page.locator("input[name=parent_name]").fill("Pat Parent")
    for box in page.locator("form input[type=checkbox]").all():
        box.check()
    page.get_by_role("button", name="I agree: go to the lesson").click()
    page.wait_for_url(re.compile(r"/room/$"))
    check(page, "live:pupil_room", "waiting")

    # The pupil on a removal hold: the link opens, the join pages explain the hold.
    page = new_page(media_browser)
    page.goto(a11y_data["links"]["Cai"])
    page.wait_for_url(re.compile(r"/join/lesson/[^/]+/$"))
    page.goto(urlsplit(page.url).path + "check/")
    check(page, "live:join_check", "pupil on a removal hold")

    # The link's page when it lets nobody in: too early, withdrawn (the lesson cancelled,
    # or the link re-issued above: Dee's old link), and after the lesson.
    page = new_page()
    for link, says, state in [
            (a11y_data["upcoming_link"], "This lesson opens at", "link not yet open"),
            (a11y_data["cancelled_link"], "This link has been withdrawn",
             "link withdrawn: lesson cancelled"),
            (a11y_data["links"]["Dee"], "This link has been withdrawn",
             "link withdrawn: a new link was sent"),
            (a11y_data["ended_link"], "This lesson has ended", "lesson ended")]:
        page.goto(link)
        page.wait_for_url(re.compile(r"/join/lesson/[^/]+/$"))
        expect(page.locator("main .big-message")).to_contain_text(says)
        check(page, "invitations:status", state)

    assert not check.failures, "\n\n".join(check.failures)
    assert check.seen == COVERED, f"covered but never checked: {sorted(COVERED - check.seen)}"


# ------------------------------------------------------------------ keyboard only

# The focused element, and whether its focus is drawn (an outline or a box shadow).
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) { return null; }
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0
                  && s.outlineColor !== "rgba(0, 0, 0, 0)";
  const shadow = s.boxShadow !== "none";
  return {tag: el.tagName.toLowerCase(), type: el.getAttribute("type") || "",
          name: el.getAttribute("name") || "", id: el.id || "",
          value: el.getAttribute("value") || "",
          text: (el.innerText || "").trim().slice(0, 60), visible: outline || shadow};
}"""


def _focused(page: Page) -> dict[str, Any] | None:
    found: dict[str, Any] | None = page.evaluate(_FOCUSED)
    return found


def no_keyboard_trap(page: Page, limit: int = 120) -> None:
    """Tab from the top of the page: every stop shows its focus, focus moves on each
    press, and after the last stop it leaves the page (or wraps to the first stop)."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    first = previous = None
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        if now is None or now == first:
            return  # left the page, or came round again: no trap
        assert now["visible"], f"{page.url}: no visible focus on {now}"
        assert now != previous, f"{page.url}: Tab left focus on {now} (keyboard trap?)"
        first = first or now
        previous = now
    raise AssertionError(f"{page.url}: {limit} Tab presses never left the page")


def tab_to(page: Page, want: Callable[[dict[str, Any]], bool], limit: int = 60) -> None:
    """Press Tab until the focused element is the one wanted, checking focus is visible
    at every stop on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        if now is None:
            continue
        assert now["visible"], f"{page.url}: no visible focus on {now}"
        seen.append(now)
        if want(now):
            return
    raise AssertionError(f"{page.url}: Tab never reached the element; stops: {seen}")


def _button(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda el: el["text"] == text and el["tag"] in ("button", "a")


def test_a_pupil_joins_and_staff_open_the_room_by_keyboard_alone(
        app_server: AppServer, a11y_data: dict[str, Any], new_page: Callable[..., Page],
        media_browser: Browser) -> None:
    # The parent's link, then Start, the camera check, the rules and the consent.
    page = new_page(media_browser)
    page.goto(a11y_data["links"]["Ben"])
    page.wait_for_url(re.compile(r"/join/lesson/[^/]+/$"))
    no_keyboard_trap(page)
    tab_to(page, _button("Start"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/check/$"))

    no_keyboard_trap(page)
    tab_to(page, _button("Check my camera and microphone"))
    page.keyboard.press("Space")
    expect(page.locator("#check-next")).to_be_enabled(timeout=20_000)
    tab_to(page, lambda el: el["id"] == "check-next")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/rules/$"))

    no_keyboard_trap(page)
    tab_to(page, lambda el: el["name"] == "promise")
    page.keyboard.press("Space")
    tab_to(page, _button("Next"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/consent/$"))

    no_keyboard_trap(page)
    tab_to(page, lambda el: el["name"] == "parent_name")
    page.keyboard.type("Pat Parent")
    boxes = page.locator("form input[type=checkbox]").count()
    assert boxes >= 1
    for _ in range(boxes):
        tab_to(page, lambda el: el["type"] == "checkbox")
        page.keyboard.press("Space")
    assert page.locator("form input[type=checkbox]:checked").count() == boxes
    tab_to(page, _button("I agree: go to the lesson"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/room/$"))

    # The second adult: sign in, the checklist, the room.
    page = new_page()
    page.goto("/account/login/")
    tab_to(page, lambda el: el["type"] == "email")
    page.keyboard.type(SECOND)
    tab_to(page, lambda el: el["type"] == "password")
    page.keyboard.type(app_server.demo_password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/account/login/" not in url)
    page.goto(f"/lessons/{a11y_data['live']}/room/checklist/")
    no_keyboard_trap(page)
    items = page.locator("input[name=items]").count()
    assert items >= 1
    for _ in range(items):
        tab_to(page, lambda el: el["name"] == "items")
        page.keyboard.press("Space")
    assert page.locator("input[name=items]:checked").count() == items
    tab_to(page, _button("Open the lesson room"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/lessons/{a11y_data['live']}/room/$"))
