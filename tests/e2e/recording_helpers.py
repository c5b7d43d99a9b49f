"""Helpers for the recording browser tests (issue 4) and the recording bench: what the
server stored about a lesson's recording, Janus' raw files as they grow, a tiny
filesystem at a lesson's raw folder, the page's own WebSocket (to forge an intent), and
ffprobe/ffmpeg checks of the files the app hands out.

Everything here reads the truth from where it lives: spans and files from the app's
database (``stack.django``), the raw ``.mjr`` files from Janus' record folder, media
properties from ffprobe and ffmpeg's own filters. The page's words are checked by the
tests themselves.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page

from tests.e2e.live_stack import LiveStack

# ------------------------------------------------------------------ what the pages show

#: The recording indicator on staff and pupil room pages: present whenever the lesson is
#: being recorded, with words (not only a red dot).
INDICATOR = "#recording-indicator"
#: Its words while recording runs, and (if it stays on the page) while it does not.
RECORDING_WORDS = re.compile(r"\brecord(ed|ing)\b", re.IGNORECASE)
NOT_RECORDING_WORDS = re.compile(r"\bnot (being )?record", re.IGNORECASE)
#: The host's buttons (only while two staff are present).
STOP_BUTTON = re.compile(r"^Stop recording$", re.IGNORECASE)
START_BUTTON = re.compile(r"^Start recording$", re.IGNORECASE)
#: The WebSocket messages the host's buttons send, and the rule that refuses them to
#: anyone else (design.md).
START_INTENT: dict[str, Any] = {"intent": "recording", "on": True}
STOP_INTENT: dict[str, Any] = {"intent": "recording", "on": False}
RULE_HOST_ONLY_RECORDING = "host-only-recording"
RULE_SECOND_ADULT = "second-adult-or-recording"
#: The staff alert when recording is needed and cannot run (state alert kind).
PROBLEM_ALERT_KIND = "recording_problem"


def indicator(page: Page) -> Locator:
    return page.locator(INDICATOR)


def indicator_says(page: Page) -> str | None:
    """The indicator's words if it is shown; None if it is hidden or missing."""
    found = indicator(page)
    if found.count() == 0 or not found.first.is_visible():
        return None
    return " ".join(found.first.inner_text().split())


def shows_recording(page: Page) -> bool:
    words = indicator_says(page)
    return (words is not None and RECORDING_WORDS.search(words) is not None
            and NOT_RECORDING_WORDS.search(words) is None)


def wait_until_shown(page: Page, recording: bool, timeout: float = 20.0,
                     poll: float = 0.1) -> float:
    """Seconds until the page's indicator says the lesson is (``recording``) or is not
    being recorded (hidden, or words saying "not recording")."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if shows_recording(page) == recording:
            return time.monotonic() - started
        page.wait_for_timeout(poll * 1000)
    raise AssertionError(f"after {timeout}s the recording indicator on {page.url} still "
                         f"says {indicator_says(page)!r} (wanted: recording={recording})")


# ------------------------------------------------------------------ the page's WebSocket

#: Before any page script: remember every WebSocket the page opens, so a test can send a
#: frame on the page's own (authenticated, already joined) connection, as a tampered
#: page could.
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  if (!Native || window.__testSockets) { return; }
  const all = [];
  Object.defineProperty(window, "__testSockets", { value: all });
  class Tracked extends Native {
    constructor(...args) { super(...args); all.push(this); }
  }
  window.WebSocket = Tracked;
})();
"""


def send_on_page_socket(page: Page, message: dict[str, Any]) -> None:
    """Send ``message`` (JSON) on the page's newest open WebSocket."""
    page.evaluate(
        """(message) => {
            const open = (window.__testSockets || []).filter(
                (ws) => ws.readyState === WebSocket.OPEN);
            if (!open.length) { throw new Error("no open WebSocket on this page"); }
            open[open.length - 1].send(JSON.stringify(message));
        }""", message)


# ------------------------------------------------------------------ the server's record

_RECORDING_STATE = """
from safeclass.live.models import LiveRun, Presence
from safeclass.recordings.models import Recording
lesson_id = @LESSON@
rec = Recording.objects.filter(lesson_id=lesson_id).first()
run = LiveRun.objects.filter(lesson_id=lesson_id).first()
admitted = sorted(p.admitted_at for p in Presence.objects.filter(
    lesson_id=lesson_id, role="pupil", admitted_at__isnull=False))
result = {
    "first_admitted_at": admitted[0].timestamp() if admitted else None,
    "ended_at": run.ended_at.timestamp() if run and run.ended_at else None,
    "recording": None,
}
if rec is not None:
    result["recording"] = {
        "id": rec.pk, "public_id": str(rec.public_id), "folder": rec.folder,
        "status": rec.status, "error": rec.error, "attempts": rec.attempts,
        "progress_percent": rec.progress_percent, "progress_step": rec.progress_step,
        "started_at": rec.started_at.timestamp(),
        "lesson_ended_at": rec.lesson_ended_at.timestamp() if rec.lesson_ended_at else None,
        "duration_seconds": rec.duration_seconds,
        "spans": [{"started_at": s.started_at.timestamp(),
                   "stopped_at": s.stopped_at.timestamp() if s.stopped_at else None,
                   "reason": s.reason, "started_by": s.started_by_id,
                   "stopped_by": s.stopped_by_id, "stop_reason": s.stop_reason}
                  for s in rec.spans.order_by("started_at", "pk")],
        "files": [{"kind": f.kind, "label": f.label, "media_type": f.media_type,
                   "track": f.track, "store_name": f.store_name,
                   "staff_email": (f.presence.staff.email
                                   if f.presence and f.presence.staff else None),
                   "duration_seconds": f.duration_seconds, "plain_size": f.plain_size}
                  for f in rec.files.select_related("presence__staff")],
    }
"""


def recording_state(stack: LiveStack, lesson_id: int) -> dict[str, Any]:
    """The lesson's recording as stored: status, folder, spans, files; and the lesson's
    first admission and end (epoch seconds)."""
    state: dict[str, Any] = stack.django(_RECORDING_STATE.replace("@LESSON@",
                                                                   str(int(lesson_id))))
    return state


def wait_for_recording(stack: LiveStack, lesson_id: int, statuses: set[str], *,
                       timeout: float, what: str = "") -> dict[str, Any]:
    """Poll the database until the lesson's recording has one of ``statuses``."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = recording_state(stack, lesson_id)
        rec = state["recording"]
        if rec is not None and rec["status"] in statuses:
            return state
        time.sleep(1.0)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for the recording of "
                         f"lesson {lesson_id} to be {sorted(statuses)} {what}: {state}")


def audit_actions(stack: LiveStack, lesson_id: int, prefix: str) -> list[dict[str, Any]]:
    """The audit events whose action starts with ``prefix`` about this lesson (by the
    ``lesson`` in their data), oldest first."""
    rows: list[dict[str, Any]] = stack.django(
        "from safeclass.audit.models import AuditEvent\n"
        f"result = [{{'action': e.action, 'data': e.data, 'actor': e.actor_id}}"
        f" for e in AuditEvent.objects.filter(action__startswith={prefix!r}).order_by('seq')"
        f" if e.data.get('lesson') == {int(lesson_id)}]\n")
    return rows


def incidents(stack: LiveStack, lesson_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = stack.django(
        "from safeclass.live.models import Incident\n"
        f"result = list(Incident.objects.filter(lesson_id={int(lesson_id)})"
        ".values('kind', 'summary'))\n")
    return rows


# ------------------------------------------------------------------ Janus' raw files


def raw_files(folder: Path) -> dict[str, int]:
    """``{name: size}`` of the .mjr files Janus has written in a lesson's raw folder."""
    if not folder.is_dir():
        return {}
    sizes = {}
    for path in folder.glob("*.mjr*"):
        with contextlib.suppress(FileNotFoundError):
            sizes[path.name] = path.stat().st_size
    return sizes


def wait_for_growth(folder: Path, *, since: dict[str, int], timeout: float,
                    poll: float = 0.1) -> tuple[float, dict[str, int]]:
    """Seconds until the .mjr files in ``folder`` hold more bytes in all than in
    ``since`` (totals: Janus renames ``.mjr.tmp`` to ``.mjr`` when it closes a file),
    polled every ``poll`` s; raises AssertionError after ``timeout``."""
    started = time.monotonic()
    now: dict[str, int] = {}
    while time.monotonic() - started < timeout:
        now = raw_files(folder)
        if sum(now.values()) > sum(since.values()):
            return time.monotonic() - started, now
        time.sleep(poll)
    raise AssertionError(f"no .mjr file in {folder} grew within {timeout}s: "
                         f"before {since}, now {now}")


def stays_still(folder: Path, seconds: float) -> tuple[int, int]:
    """The raw files' total bytes, ``seconds`` apart (to show that recording stopped)."""
    before = sum(raw_files(folder).values())
    time.sleep(seconds)
    return before, sum(raw_files(folder).values())


@contextlib.contextmanager
def tiny_filesystem(path: Path, size: str = "256k") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (created if missing), unmounted on exit.

    The live stack's record folder is a shared mount point, so Janus (in a mount namespace
    of its own) writes into this tmpfs too. Needs root."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                    str(path)], check=True, capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False, capture_output=True)


# ------------------------------------------------------------------ media checks


@dataclass(frozen=True)
class Probe:
    format_name: str
    duration: float | None
    streams: list[dict[str, Any]]
    tags: dict[str, str]

    def kinds(self) -> list[str]:
        return [str(s.get("codec_type")) for s in self.streams]

    def codecs(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for s in self.streams:
            out.setdefault(str(s.get("codec_type")), []).append(str(s.get("codec_name")))
        return out


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is missing: run scripts/install.sh")
    return found


def ffprobe(path: Path) -> Probe:
    """ffprobe's format and streams. The duration is the container's, or (a file written
    as a stream carries none) the end of its last packet."""
    proc = subprocess.run([_tool("ffprobe"), "-v", "error", "-show_format", "-show_streams",
                           "-of", "json", str(path)], capture_output=True, text=True,
                          timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"ffprobe could not read {path} ({path.stat().st_size} bytes):"
                             f" {proc.stderr.strip()}")
    data = json.loads(proc.stdout)
    fmt = data.get("format", {})
    duration = float(fmt["duration"]) if fmt.get("duration") not in (None, "N/A") else None
    if duration is None:
        duration = last_packet_end(path)
    return Probe(format_name=str(fmt.get("format_name", "")), duration=duration,
                 streams=list(data.get("streams", [])),
                 tags={str(k).lower(): str(v) for k, v in fmt.get("tags", {}).items()})


def last_packet_end(path: Path) -> float | None:
    proc = subprocess.run([_tool("ffprobe"), "-v", "error", "-show_entries",
                           "packet=pts_time,duration_time", "-of", "csv=p=0", str(path)],
                          capture_output=True, text=True, timeout=120)
    ends = []
    for line in proc.stdout.splitlines():
        parts = [p for p in line.split(",") if p not in ("", "N/A")]
        with contextlib.suppress(ValueError):
            ends.append(sum(float(p) for p in parts[:2]))
    return max(ends) if ends else None


@dataclass(frozen=True)
class Analysis:
    errors: str               # ffmpeg's decoding errors; "" when every frame decodes
    black_seconds: float      # video (almost) entirely black (``blackdetect``)
    mean_volume_db: float     # audio's mean volume (``volumedetect``); -91 for silence


def analyse(path: Path) -> Analysis:
    """Decode every frame once, measuring black stretches and the audio's mean volume."""
    has_audio = "audio" in ffprobe(path).kinds()
    # level+info: every line says its level, so real errors are told from the filters'.
    cmd = [_tool("ffmpeg"), "-loglevel", "level+info", "-nostats", "-i", str(path),
           "-vf", "blackdetect=d=0.5:pix_th=0.10"]
    if has_audio:
        cmd += ["-af", "volumedetect"]
    proc = subprocess.run([*cmd, "-f", "null", "-"], capture_output=True, text=True,
                          timeout=600)
    errors = [line for line in proc.stderr.splitlines()
              if "[error]" in line or "[fatal]" in line or "[panic]" in line]
    if proc.returncode != 0:
        errors.insert(0, f"exit {proc.returncode}")
    black = sum(float(m) for m in re.findall(r"black_duration:\s*([0-9.]+)", proc.stderr))
    volume = -91.0
    found = re.search(r"mean_volume:\s*(-?[0-9.]+|-inf) dB", proc.stderr)
    if found is not None and found.group(1) != "-inf":
        volume = float(found.group(1))
    return Analysis("\n".join(errors), black, volume)


def bright_pixels(frame: bytes, level: int = 128) -> int:
    return sum(1 for value in frame if value > level)


def frame_gray(path: Path, at_seconds: float, size: tuple[int, int] = (640, 480)) -> bytes:
    """One frame, scaled to ``size``, as raw 8-bit grey pixels."""
    proc = subprocess.run([_tool("ffmpeg"), "-v", "error", "-ss", f"{at_seconds:.2f}",
                           "-i", str(path), "-frames:v", "1",
                           "-vf", f"scale={size[0]}:{size[1]},format=gray",
                           "-f", "rawvideo", "-"], capture_output=True, timeout=60)
    if proc.returncode != 0 or len(proc.stdout) != size[0] * size[1]:
        raise AssertionError(f"no frame at {at_seconds}s of {path}: "
                             f"{proc.stderr.decode(errors='replace')[-400:]}")
    return proc.stdout
