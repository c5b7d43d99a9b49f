"""Recording cost: the CPU post-processing takes per lesson, and the bytes Janus writes.

One short lesson, recorded because only one member of staff is present (issue 4,
second-adult-or-recording), on the live stack of the browser tests
(tests/e2e/live_stack.py: Janus in a network namespace, the app with its in-app worker,
Debian's Chromium with a fake camera and microphone): the teacher and two pupils publish
from real browser pages for ``--seconds`` seconds, then the teacher ends the lesson and
the app's worker turns Janus' ``.mjr`` files into the encrypted lesson file. Printed:

- the media bytes Janus received while it recorded, from both ends: what the publishing
  pages sent (WebRTC ``getStats``: outbound RTP payload and header bytes) and what Janus
  counted in (admin API ``handle_info``, the publishers' incoming bytes), against the
  bytes of ``.mjr`` files Janus wrote;
- the CPU time of post-processing: user + system seconds of the app's child processes
  (janus-pp-rec, ffmpeg, ffprobe: the kernel adds a child's CPU to its parent's
  ``cutime``/``cstime`` when it is reaped) and of the app process itself (the worker's
  encryption, and whatever else the app did meanwhile), per lesson and per minute of
  recorded lesson, with the job's wall time.

Needs root (``ip netns``, ``mount``), janus, janus-pp-rec, ffmpeg and Debian's Chromium.
Stops itself after BUDGET_SECONDS. See bench/README.md.

    .venv/bin/python bench/recording_cost.py [--seconds 40] [--pupils 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.e2e.conftest import CHROMIUM
from tests.e2e.live_helpers import TRACK_PEER_CONNECTIONS
from tests.e2e.live_stack import LiveStack, start_live_stack
from tests.e2e.recording_helpers import raw_files, recording_state

#: The whole run stops after this many seconds (scripts/bench.sh allows 600).
BUDGET_SECONDS = 420
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Checklist and consent recorded directly (as the join pages do), so the pages open the
# rooms at once: the figures are about recording, not about the joining pages.
_PREPARE = """
from safeclass.invitations.models import Invitation
from safeclass.live.checklist import do_confirm_checklist
from safeclass.live.consent import do_give_consent
from safeclass.live.device import device_hash
from safeclass.live.models import CHECKLIST_KEYS, CONSENT_KEYS
from safeclass.lessons.models import Lesson
from safeclass.accounts.models import StaffUser
lesson = Lesson.objects.get(pk=@LESSON@)
do_confirm_checklist(lesson, StaffUser.objects.get(email=@HOST@), list(CHECKLIST_KEYS))
result = {}
for pupil_id, raw in @DEVICES@.items():
    invitation = Invitation.objects.get(lesson=lesson, pupil_id=int(pupil_id),
                                        revoked_at__isnull=True)
    do_give_consent(invitation, device_hash=device_hash(raw), parent_name="Bench Parent",
                    items=list(CONSENT_KEYS), pupil_promise=True)
    result[pupil_id] = invitation.public_id
"""

# What every RTCPeerConnection of the page has sent: RTP payload and header bytes.
SENT_BYTES = """async () => {
  let payload = 0, headers = 0;
  for (const pc of (window.__testPeerConnections || [])) {
    if (pc.signalingState === "closed") { continue; }
    try {
      (await pc.getStats()).forEach((s) => {
        if (s.type === "outbound-rtp") {
          payload += s.bytesSent || 0; headers += s.headerBytesSent || 0;
        }
      });
    } catch (e) { /* closed meanwhile */ }
  }
  return [payload, headers];
}"""


# ------------------------------------------------------------------ measuring


def app_pid(stack: LiveStack) -> int:
    """The app server's process: the uvicorn listening on the stack's port."""
    port = stack.base_url.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"uvicorn" in b" ".join(argv) and port.encode() in argv:
            return int(entry.name)
    raise RuntimeError(f"no uvicorn process on port {port}")


@dataclass(frozen=True)
class Cpu:
    own: float       # user + system seconds of the process itself
    children: float  # ... of its children that have exited and been waited for
    at: float        # monotonic time of the reading

    @classmethod
    def of(cls, pid: int) -> Cpu:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        # Fields 14-17 of proc(5): utime stime cutime cstime (from field 3 on here).
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        return cls((utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS,
                   time.monotonic())


class RawWatcher:
    """Polls the lesson's raw folder and keeps the largest total of ``.mjr`` bytes seen:
    the worker deletes the folder once the lesson file is stored."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.most = 0
        self.files = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = raw_files(self.folder)
            total = sum(sizes.values())
            if total >= self.most:
                self.most, self.files = total, len(sizes)
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def _admin(stack: LiveStack, body: dict[str, Any]) -> dict[str, Any]:
    """One request to the stack's own Janus admin API (http on the veth)."""
    data = json.dumps({**body, "transaction": "bench",
                       "admin_secret": stack.secrets.admin_secret}).encode()
    request = urllib.request.Request(stack.janus_admin_url, data=data,  # noqa: S310
                                     method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def janus_in_bytes(stack: LiveStack) -> tuple[int, list[str]]:
    """Bytes Janus counted in on every VideoRoom publisher handle (admin ``list_sessions``
    → ``list_handles`` → ``handle_info``: each medium's ``stats.in.bytes``), and notes on
    what it could not read. The bench's stack holds this one lesson only."""
    total, notes = 0, []
    try:
        sessions = _admin(stack, {"janus": "list_sessions"}).get("sessions") or []
        for session_id in sessions:
            handles = _admin(stack, {"janus": "list_handles", "session_id": session_id})
            for handle_id in handles.get("handles") or []:
                info = _admin(stack, {"janus": "handle_info", "session_id": session_id,
                                      "handle_id": handle_id}).get("info") or {}
                plugin = info.get("plugin_specific") or {}
                if plugin.get("type") != "publisher":
                    continue
                total += _sum_in_bytes(info.get("webrtc") or {})
    except OSError as exc:
        notes.append(f"Janus admin API: {exc}")
    return total, notes


def _sum_in_bytes(webrtc: dict[str, Any]) -> int:
    """The bytes Janus received on each of a handle's media (Janus 1.1: ``webrtc.media``
    → ``{mid: {"stats": {"in": {"bytes": ...}}}}``; RTP as it arrived, payload and
    headers)."""
    total = 0
    for medium in (webrtc.get("media") or {}).values():
        received = ((medium.get("stats") or {}).get("in") or {}).get("bytes")
        if isinstance(received, (int, float)):
            total += int(received)
    return total


@dataclass
class Figures:
    recorded_seconds: float = 0.0
    window_seconds: float = 0.0
    mjr_window: int = 0
    publishers: int = 0
    sent_payload: int = 0
    sent_headers: int = 0
    janus_in: int = 0
    mjr_bytes: int = 0
    mjr_files: int = 0
    child_cpu: float = 0.0
    app_cpu: float = 0.0
    job_wall: float = 0.0
    status: str = ""
    lesson_file: int = 0
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ the lesson


def _sign_in(page: Page, stack: LiveStack, email: str) -> None:
    page.goto("/account/login/")
    page.get_by_label(re.compile("email", re.IGNORECASE)).fill(email)
    page.get_by_label(re.compile("^password", re.IGNORECASE)).fill(stack.demo_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/account/login/" not in url)


def _sent(pages: list[Page]) -> tuple[int, int]:
    payload = headers = 0
    for page in pages:
        p, h = page.evaluate(SENT_BYTES)
        payload, headers = payload + int(p), headers + int(h)
    return payload, headers


def _wait(check: Any, what: str, timeout: float = 30.0, poll: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out waiting for {what}")


def measure(stack: LiveStack, seconds: float, pupils: int, figures: Figures) -> None:
    # 30 lesson minutes (the policy's longest) of 5 s: the lesson ends itself after 150 s.
    lesson = stack.live_lesson(pupils=max(pupils, 2), duration_minutes=30)
    devices = {str(p.pupil_id): os.urandom(12).hex() for p in lesson.pupils[:pupils]}
    public_ids = stack.django(_PREPARE.replace("@LESSON@", str(lesson.lesson_id))
                              .replace("@HOST@", json.dumps(lesson.host_email))
                              .replace("@DEVICES@", json.dumps(devices)))
    pid = app_pid(stack)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=stack.chromium_args())
        contexts: list[BrowserContext] = []

        def new_page() -> Page:
            context = browser.new_context(base_url=stack.base_url, locale="en-GB")
            context.grant_permissions(["camera", "microphone"], origin=stack.base_url)
            context.set_default_timeout(30_000)
            context.add_init_script(TRACK_PEER_CONNECTIONS)
            contexts.append(context)
            return context.new_page()

        try:
            pupil_pages = []
            for pupil in lesson.pupils[:pupils]:
                page = new_page()
                page.context.add_cookies([{"name": "sc_device",
                                           "value": devices[str(pupil.pupil_id)],
                                           "url": stack.base_url}])
                page.goto(pupil.join_url)  # the invitation into the session
                page.goto(f"/join/lesson/{public_ids[str(pupil.pupil_id)]}/room/")
                pupil_pages.append(page)
            host = new_page()
            _sign_in(host, stack, lesson.host_email)
            host.goto(f"/lessons/{lesson.lesson_id}/room/")
            host.locator("#waiting-count").filter(has_text=str(pupils)).wait_for()
            host.get_by_role("button", name="Admit everyone").click()
            # Recording runs once the first span is open and Janus' files grow.
            state = _wait(lambda: (lambda s: s if s["recording"] and s["recording"]["spans"]
                                   else None)(recording_state(stack, lesson.lesson_id)),
                          "recording to start")
            raw = stack.record_dir / state["recording"]["folder"]
            _wait(lambda: sum(raw_files(raw).values()) > 0, "Janus' first .mjr bytes")
            watcher = RawWatcher(raw)
            # Let the pupils' pages publish too, then measure one window from all ends.
            time.sleep(3)
            publishers = [host, *pupil_pages]
            mjr_before = sum(raw_files(raw).values())
            sent_before = _sent(publishers)
            in_before, notes = janus_in_bytes(stack)
            time.sleep(seconds)
            mjr_after = sum(raw_files(raw).values())
            sent_after = _sent(publishers)
            in_after, notes_after = janus_in_bytes(stack)
            figures.window_seconds = seconds
            figures.publishers = len(publishers)
            figures.sent_payload = sent_after[0] - sent_before[0]
            figures.sent_headers = sent_after[1] - sent_before[1]
            figures.janus_in = in_after - in_before
            figures.mjr_window = mjr_after - mjr_before
            figures.notes += sorted(set(notes + notes_after))
            cpu_before = Cpu.of(pid)
            host.get_by_role("button", name="End lesson for everyone").click()
            host.locator("#confirm-yes").click()
            host.locator("#room-over").wait_for()
            print(f"measured {seconds:.0f}s of recording with {figures.publishers} "
                  f"publishers: sent {figures.sent_payload / 1e6:.2f} MB, Janus counted "
                  f"{figures.janus_in / 1e6:.2f} MB in and wrote "
                  f"{figures.mjr_window / 1e6:.2f} MB; waiting for post-processing",
                  flush=True)
        finally:
            for context in contexts:
                context.close()
            browser.close()
    done = _wait(lambda: (lambda s: s if s["recording"]["status"] in ("ready", "failed",
                                                                      "empty") else None)(
        recording_state(stack, lesson.lesson_id)), "post-processing", timeout=300, poll=0.5)
    cpu_after = Cpu.of(pid)
    watcher.stop()
    rec = done["recording"]
    figures.status = rec["status"] + (f" ({rec['error']})" if rec["error"] else "")
    figures.mjr_bytes, figures.mjr_files = watcher.most, watcher.files
    figures.child_cpu = cpu_after.children - cpu_before.children
    figures.app_cpu = cpu_after.own - cpu_before.own
    figures.job_wall = cpu_after.at - cpu_before.at
    figures.lesson_file = sum(f["plain_size"] for f in rec["files"] if f["kind"] == "lesson")
    # Recorded time as the server saw it (first span start to the lesson's end).
    if done["ended_at"] and rec["started_at"]:
        figures.recorded_seconds = done["ended_at"] - rec["started_at"]


def print_table(f: Figures) -> None:
    minutes = f.recorded_seconds / 60 if f.recorded_seconds else float("nan")
    sent = f.sent_payload + f.sent_headers

    def ratio(a: int, b: int) -> str:
        return f"{a / b:9.2f}" if a and b else "        -"

    media = [  # (what, bytes, compare .mjr with it)
        ("sent by the publishing pages (RTP payload)", f.sent_payload, True),
        ("  ... with RTP headers", sent, True),
        ("received by Janus (handle_info)", f.janus_in, True),
        (".mjr bytes Janus wrote", f.mjr_window, False),
    ]
    rows = [
        ("recorded lesson", f"{f.recorded_seconds:.1f} s (first span to the end), "
                            f"{f.publishers} publishers (teacher + pupils)"),
        ("post-processing result", f.status),
        (".mjr written, whole lesson", f"{f.mjr_bytes / 1e6:9.2f} MB in {f.mjr_files} files"),
        (".mjr per publisher-minute", f"{f.mjr_bytes / f.publishers / minutes / 1e6:9.2f} MB"
         if f.publishers else "-"),
        ("lesson file (plaintext WebM)", f"{f.lesson_file / 1e6:9.2f} MB"),
        ("post-processing wall time", f"{f.job_wall:9.1f} s"),
        ("CPU of janus-pp-rec/ffmpeg (user+sys)", f"{f.child_cpu:9.1f} s"),
        ("CPU of the app process meanwhile", f"{f.app_cpu:9.1f} s"),
        ("child CPU per lesson minute", f"{f.child_cpu / minutes:9.1f} s"),
        ("all CPU per lesson minute", f"{(f.child_cpu + f.app_cpu) / minutes:9.1f} s"),
    ]
    width = max(len(label) for label in [r[0] for r in rows] + [m[0] for m in media]) + 2
    print()
    print(f"Recording: bytes over the same {f.window_seconds:.0f} s while recording")
    print(f"{'':<{width}}|        MB | .mjr / this")
    for label, value, compare in media:
        share = ratio(f.mjr_window, value) if compare else ""
        print(f"{label:<{width}}| {value / 1e6:9.2f} | {share}")
    print()
    print("Recording cost on this machine (one lesson)")
    for label, text in rows:
        print(f"{label:<{width}}| {text}")
    for note in f.notes:
        print(f"  note: {note}")


def _run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0,
                        help="seconds of recorded lesson (40)")
    parser.add_argument("--pupils", type=int, default=2, help="pupils publishing (2)")
    args = parser.parse_args()
    if not 5 <= args.seconds <= 110:
        parser.error("--seconds must be 5 to 110 (the stack's longest lesson lasts 150 s)")
    if os.geteuid() != 0:
        print("recording_cost: needs root (ip netns, mount) to run Janus in a namespace")
        return 1

    def out_of_time(signum: int, frame: Any) -> None:
        raise TimeoutError(f"stopped after the {BUDGET_SECONDS}s budget")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(BUDGET_SECONDS)
    figures = Figures()
    failed = False
    try:
        with tempfile.TemporaryDirectory(prefix="sc-bench-rec-") as tmp, \
                start_live_stack(Path(tmp)) as stack:
            try:
                measure(stack, args.seconds, args.pupils, figures)
            except Exception:
                failed = True
                traceback.print_exc()
                print(stack.app.log()[-3000:], file=sys.stderr)
    except TimeoutError as exc:
        failed = True
        figures.notes.append(str(exc))
    finally:
        signal.alarm(0)
    print_table(figures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_run())
