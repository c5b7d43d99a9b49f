"""Part 2: the same two steps through SafeClass.

The live-lesson stack of the browser tests (tests/e2e/live_stack.py: Janus in a network
namespace, the app on 127.0.0.1 using it) and the real room pages:

- the host and a second adult (SafeClass admits no pupil without two adults) sign in,
  their checklists confirmed in the database, and open the staff room; only the host
  publishes a camera (the second adult's page is refused the camera), so the pupil's first
  decoded frame is the teacher's;
- each pupil opens their join link in a browser context of its own, with consent given
  from that device (recorded directly with ``do_give_consent``, like the join pages do),
  and waits in the pupil room;
- (a) the host's page sends ``admit {presence}`` on its WebSocket; the figure is the
  pupil page's first decoded video frame minus the moment that intent was sent;
- (b) the host sends ``allow_speak`` (pupils enter muted), waits until the pupil's audio
  flows at the host's page (a subscriber), then sends ``mute {presence}``; the figure is
  the last increase of the host's inbound audio packet count minus the moment ``mute``
  was sent.

The intents are sent on the page's own WebSocket (the probe keeps it), not by clicking,
so the figures do not depend on the layout of the room page.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import statistics
import tempfile
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page

from bench.support.common import (
    StepFigures,
    audio_flowing,
    audio_stop_after,
    check_veth_only,
    first_frame_after,
    new_page,
)
from tests.e2e.live_stack import LiveLesson, LiveStack, start_live_stack

NO_CAMERA_JS = """navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException('bench: no camera for the second adult', 'NotAllowedError'));"""

_PREPARE = """
from safeclass.invitations.models import Invitation
from safeclass.live.checklist import do_confirm_checklist
from safeclass.live.consent import do_give_consent
from safeclass.live.device import device_hash
from safeclass.live.models import CHECKLIST_KEYS, CONSENT_KEYS
from safeclass.lessons.models import Lesson
from safeclass.accounts.models import StaffUser
lesson = Lesson.objects.get(pk=@LESSON@)
for email in @STAFF@:
    do_confirm_checklist(lesson, StaffUser.objects.get(email=email), list(CHECKLIST_KEYS))
result = {}
for pupil_id, raw in @DEVICES@.items():
    invitation = Invitation.objects.get(lesson=lesson, pupil_id=int(pupil_id),
                                        revoked_at__isnull=True)
    do_give_consent(invitation, device_hash=device_hash(raw), parent_name="Bench Parent",
                    items=list(CONSENT_KEYS), pupil_promise=True)
    result[pupil_id] = invitation.public_id
"""

LATEST_STATE = """(() => { const got = window.__bench.received.filter(r => r.msg.type === 'state');
    return got.length ? got[got.length - 1].msg : null; })()"""


async def run_safeclass(browser: Browser, reps: int, figures: StepFigures) -> None:
    """Add ``reps`` measurements of each step through SafeClass to ``figures``."""
    with tempfile.TemporaryDirectory(prefix="sc-bench-live-") as tmp:
        stack_cm = start_live_stack(Path(tmp))
        stack = await asyncio.to_thread(stack_cm.__enter__)
        try:
            await _measure(browser, stack, reps, figures)
        finally:
            await asyncio.to_thread(stack_cm.__exit__, None, None, None)


async def _sign_in(page: Page, stack: LiveStack, email: str) -> None:
    await page.goto("/account/login/")
    await page.get_by_label(re.compile("email", re.IGNORECASE)).fill(email)
    await page.get_by_label(re.compile("^password", re.IGNORECASE)).fill(stack.demo_password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/account/login/" not in url)


async def _staff_page(browser: Browser, stack: LiveStack, lesson: LiveLesson, email: str,
                      camera: bool) -> tuple[BrowserContext, Page]:
    context, page = await new_page(browser, stack.base_url)
    if not camera:
        await context.add_init_script(NO_CAMERA_JS)
    await _sign_in(page, stack, email)
    await page.goto(f"/lessons/{lesson.lesson_id}/room/")
    return context, page


async def _send(page: Page, intent: dict[str, Any]) -> float:
    """Send an intent on the page's WebSocket; returns when (probe clock) it was sent."""
    sent: float = await page.evaluate("""(intent) => {
        const open = window.__bench.sockets.filter(ws => ws.readyState === WebSocket.OPEN);
        if (!open.length) throw new Error('no open WebSocket');
        open[open.length - 1].send(JSON.stringify(intent));
        return window.__bench.sent[window.__bench.sent.length - 1].at; }""", intent)
    return sent


async def _state(page: Page) -> dict[str, Any]:
    state = await page.evaluate(LATEST_STATE)
    return state if isinstance(state, dict) else {}


async def _until_state(page: Page, check: Any, what: str, timeout_s: float = 20.0) -> Any:
    """Poll the page's latest state snapshot until check(state) is truthy."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        value = check(await _state(page))
        if value:
            return value
        await asyncio.sleep(0.02)
    errors = await page.evaluate("window.__bench.received.filter(r => r.msg.type !== 'state')"
                                 ".map(r => r.msg)")
    raise TimeoutError(f"SafeClass: timed out waiting for {what}; other messages: "
                       f"{json.dumps(errors)[:600]}")


async def _measure(browser: Browser, stack: LiveStack, reps: int,
                   figures: StepFigures) -> None:
    lesson = await asyncio.to_thread(stack.live_lesson, reps)
    devices = {str(p.pupil_id): secrets.token_urlsafe(16) for p in lesson.pupils}
    public_ids: dict[str, str] = await asyncio.to_thread(stack.django, _PREPARE
        .replace("@LESSON@", str(lesson.lesson_id))
        .replace("@STAFF@", json.dumps([lesson.host_email, lesson.second_staff_email]))
        .replace("@DEVICES@", json.dumps(devices)))
    media_ms: list[float] = []
    veth = {stack.netns.host_address, stack.netns.ns_address}
    contexts: list[BrowserContext] = []
    try:
        host_ctx, host = await _staff_page(browser, stack, lesson, lesson.host_email, True)
        contexts.append(host_ctx)
        second_ctx, _second = await _staff_page(browser, stack, lesson,
                                                lesson.second_staff_email, False)
        contexts.append(second_ctx)
        await _until_state(host, lambda s: any(st.get("is_host") and st.get("feed")
                                               for st in s.get("staff", [])),
                           "the host's camera to be published")
        await _until_state(host, lambda s: s.get("lesson", {}).get("staff_present", 0) >= 2,
                           "the second adult")
        for pupil in lesson.pupils:
            context, page = await new_page(browser, stack.base_url)
            contexts.append(context)
            await context.add_cookies([{"name": "sc_device", "value": devices[str(pupil.pupil_id)],
                                        "url": stack.base_url, "httpOnly": True,
                                        "sameSite": "Lax"}])
            await page.goto(pupil.join_url)  # stores the invitation in the session
            public_id = public_ids[str(pupil.pupil_id)]
            await page.goto(f"/join/lesson/{public_id}/room/")
            name = pupil.display_name
            presence = await _until_state(host, lambda s, name=name: next(
                (p["presence"] for p in s.get("pupils", [])
                 if p.get("state") == "waiting" and p.get("name") == name), None),
                f"{name} in the waiting room")
            # (a) admit -> the pupil's first decoded frame of the teacher's video.
            admitted_at = await _send(host, {"intent": "admit", "presence": presence})
            figures.first_frame.values.append(await first_frame_after(page, admitted_at))
            await check_veth_only(page, veth)
            # Where the time goes: admit -> the pupil page gets its Janus credentials.
            media_at = await page.evaluate("(window.__bench.received.find("
                                           "r => r.msg.type === 'media') || {}).at")
            if media_at:
                media_ms.append(float(media_at) - admitted_at)
            # (b) allow_speak, audio flows at the host; then mute -> the audio stops there.
            await _until_state(host, lambda s, presence=presence: any(
                p["presence"] == presence and p.get("feed") for p in s.get("pupils", [])),
                f"{name}'s feed")
            await _send(host, {"intent": "allow_speak", "presence": presence})
            await audio_flowing(host)

            async def mute(host: Page = host, presence: int = presence) -> float:
                return await _send(host, {"intent": "mute", "presence": presence})

            figures.add_mute(await audio_stop_after(host, mute))
            await check_veth_only(host, veth)
            await context.close()
            contexts.remove(context)
            await asyncio.sleep(0.3)
    finally:
        for context in contexts:
            await context.close()
    if media_ms:
        figures.first_frame.notes.append(
            "of which admit -> 'media' message at the pupil's page: median "
            f"{statistics.median(media_ms):.0f} ms, max {max(media_ms):.0f} ms")
