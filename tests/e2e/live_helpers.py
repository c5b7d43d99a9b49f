"""Helpers for the live-lesson browser tests: people joining through the real pages,
WebSocket messages as the browser received them, and WebRTC statistics per feed.

Media statistics come from the browsers' own RTCPeerConnections. The product exposes
none of them, and need not: an init script (test-only, run before any page script)
remembers every RTCPeerConnection the page makes, and ``feed_stats`` matches each one to
the tile (``[data-feed]``) that shows its tracks.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import BrowserContext, Page, WebSocket, expect

from tests.e2e.live_stack import LivePupil, LiveStack

# Before any page script: remember each RTCPeerConnection (adapter.js then wraps this one).
TRACK_PEER_CONNECTIONS = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || window.__testPeerConnections) { return; }
  const all = [];
  Object.defineProperty(window, "__testPeerConnections", { value: all });
  class Tracked extends Native {
    constructor(...args) { super(...args); all.push(this); }
  }
  window.RTCPeerConnection = Tracked;
})();
"""

# Every remembered connection: which tile (feed, name) shows its remote tracks, and its
# inbound-rtp counters per kind. A closed connection is reported as such.
FEED_STATS = """
async () => {
  const tiles = Array.from(document.querySelectorAll("[data-feed]"));
  const out = [];
  const pcs = window.__testPeerConnections || [];
  for (let i = 0; i < pcs.length; i++) {
    const pc = pcs[i];
    const row = { pc: i, closed: pc.signalingState === "closed" || pc.connectionState === "closed",
                  feed: null, name: null, badges: null, audio: null, video: null,
                  sending: pc.getSenders().filter((s) => s.track).length };
    // The very track objects (Janus gives every subscription the same track ids).
    const tracks = pc.getReceivers().map((r) => r.track).filter(Boolean);
    for (const tile of tiles) {
      const shown = Array.from(tile.querySelectorAll("video, audio")).some((m) =>
        m.srcObject && m.srcObject.getTracks().some((t) => tracks.indexOf(t) !== -1));
      if (shown) {
        row.feed = tile.getAttribute("data-feed");
        const name = tile.querySelector(".room-name");
        const badges = tile.querySelector(".room-badges");
        row.name = name ? name.textContent : null;
        row.badges = badges ? badges.textContent : null;
      }
    }
    if (!row.closed) {
      try {
        const report = await pc.getStats();
        report.forEach((s) => {
          if (s.type === "inbound-rtp" && (s.kind === "audio" || s.kind === "video")) {
            row[s.kind] = { packets: s.packetsReceived || 0, bytes: s.bytesReceived || 0,
                            frames: s.framesDecoded || 0 };
          }
        });
      } catch (e) { row.closed = true; }
    }
    out.push(row);
  }
  return out;
}
"""


def instrument(context: BrowserContext) -> None:
    """Remember the RTCPeerConnections of every page later opened in this context."""
    context.add_init_script(TRACK_PEER_CONNECTIONS)


def feed_stats(page: Page) -> list[dict[str, Any]]:
    return list(page.evaluate(FEED_STATS))


def stats_of(page: Page, tile_name: str) -> dict[str, Any] | None:
    """The receiving connection whose tracks the tile named ``tile_name`` shows."""
    for row in feed_stats(page):
        if not row["closed"] and row["name"] == tile_name:
            return row
    return None


def counter(row: dict[str, Any] | None, kind: str, what: str) -> int:
    """A counter of a kind of inbound media; 0 when none arrived (Chromium reports an
    inbound-rtp only after its first packet)."""
    if row is None or row.get(kind) is None:
        return 0
    return int(row[kind][what])


def wait_for_stats(page: Page, tile_name: str, check: Callable[[dict[str, Any]], bool],
                   timeout: float = 30, what: str = "") -> dict[str, Any]:
    """Poll the statistics of a tile until ``check`` holds; the last row on failure."""
    deadline = time.monotonic() + timeout
    row = None
    while time.monotonic() < deadline:
        row = stats_of(page, tile_name)
        if row is not None and check(row):
            return row
        page.wait_for_timeout(500)
    raise AssertionError(f"timed out waiting for {what or 'stats'} of {tile_name!r}: {row}\n"
                         f"all: {feed_stats(page)}")


@dataclass
class Frames:
    """The JSON messages a page received over its WebSockets, in order."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        def on_socket(ws: WebSocket) -> None:
            ws.on("framereceived", self._received)

        page.on("websocket", on_socket)

    def _received(self, payload: str | bytes) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if isinstance(message, dict):
            self.messages.append(message)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    def types(self) -> list[str]:
        return [str(m.get("type")) for m in self.messages]

    def summary(self) -> str:
        """For failure messages: every message but the states, and the latest "me"."""
        states = self.of_type("state")
        others = [m for m in self.messages if m.get("type") not in ("state", "media", "pong")]
        me = states[-1].get("me") if states else None
        return f"messages: {others}; latest me: {me}"


# ------------------------------------------------------------------ people


def staff_opens_room(page: Page, stack: LiveStack, email: str, lesson_id: int) -> None:
    """Sign in, open the lesson room from the lesson's page, pass the checklist and wait
    until the room's WebSocket is connected."""
    stack.sign_in(page, email)
    page.goto(f"/lessons/{lesson_id}/")
    page.get_by_role("link", name="Open the lesson room").click()
    page.wait_for_url(re.compile(r"/room/checklist/$"))
    for box in page.locator("input[name=items]").all():
        box.check()
    page.get_by_role("button", name="Open the lesson room").click()
    page.wait_for_url(re.compile(rf"/lessons/{lesson_id}/room/$"))
    expect(page.locator("#connection")).to_have_text("Connected.", timeout=20_000)


def pupil_joins(page: Page, pupil: LivePupil, parent_name: str = "Pat Parent") -> str:
    """The parent's link → Start → camera check → rules and promise → consent (every
    item) → the room's waiting room. Returns the room's address."""
    page.goto(pupil.join_url)
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/check/$"))
    page.get_by_role("button", name="Check my camera and microphone").click()
    expect(page.locator("#check-next")).to_be_enabled(timeout=20_000)
    page.locator("#check-next").click()
    page.wait_for_url(re.compile(r"/rules/$"))
    page.locator("input[name=promise]").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/consent/$"))
    page.locator("input[name=parent_name]").fill(parent_name)
    boxes = page.locator("form input[type=checkbox]")
    assert boxes.count() >= 1
    for box in boxes.all():
        box.check()
    page.get_by_role("button", name="I agree: go to the lesson").click()
    page.wait_for_url(re.compile(r"/room/$"))
    expect(page.get_by_text("Please wait. Your teacher will let you in soon.")).to_be_visible(
        timeout=20_000)
    return page.url


def janus_create(page: Page, janus_url: str, token: str) -> dict[str, Any]:
    """A raw Janus ``create`` from the page (as a client script could send it); a session
    it made is destroyed again at once."""
    answer: dict[str, Any] = page.evaluate(
        """async ([url, token]) => {
            const post = async (to, body) => (await fetch(to, {method: "POST",
                body: JSON.stringify(body)})).json();
            const made = await post(url, {janus: "create", transaction: "e2e-raw", token});
            if (made.janus === "success") {
                await post(url + "/" + made.data.id,
                           {janus: "destroy", transaction: "e2e-raw-end", token});
            }
            return made;
        }""",
        [janus_url, token])
    return answer
