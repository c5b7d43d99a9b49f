"""Issue 4, "Done when": recording and the two-adult rule, in real browsers, end to end.

The live stack (tests/e2e/live_stack.py: a real Janus in a network namespace, the app with
its in-app post-processing worker, Debian's Chromium with a fake camera and microphone;
a lesson minute lasts 5 s). What is checked, and where the truth is read from:

1. One teacher, two pupils: recording runs from the first admission with nobody pressing
   anything (the database's span, Janus' raw ``.mjr`` files growing, the indicator with
   words on the staff and pupil pages); the host cannot stop it alone; a pupil's forged
   WebSocket intent is refused with ``host-only-recording``. A second member of staff
   joins: the host can stop (and start) recording with a button, the second adult has no
   button and a forged intent is refused; the second adult leaves and recording resumes
   within 5 s (raw files growing again, and the indicator). axe on the rooms with the
   indicator shown. The host ends the lesson.
2. The same lesson's recording, processed by the app's worker: the deputy (SLT) opens it,
   sees the player with their name over the video, the media URL serves byte ranges, and
   the whole file (decrypted by the app) plays: ffprobe finds a WebM with video and audio,
   its duration within 2 s of the time from the first admission to the lesson's end, the
   teacher's picture (not black) and voice (a tone, not silence) in it, and the teacher's
   own streams kept beside it. The download plays too, carries the viewer's name in its
   metadata, and shows it burned into the picture where the lesson file is black (while
   the host had stopped recording). Every view and download is audited. axe on the page.
3. A lesson whose raw folder is a 256 KiB filesystem: staff are alerted at once, the pupil
   goes back to (or stays in) the waiting room, and an incident is recorded.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live_helpers import Frames, instrument, pupil_joins, staff_opens_room
from tests.e2e.live_stack import LiveLesson, LiveStack
from tests.e2e.recording_helpers import (
    RULE_HOST_ONLY_RECORDING,
    RULE_SECOND_ADULT,
    START_BUTTON,
    START_INTENT,
    STOP_BUTTON,
    STOP_INTENT,
    TRACK_SOCKETS,
    analyse,
    audit_actions,
    bright_pixels,
    ffprobe,
    frame_gray,
    incidents,
    indicator_says,
    raw_files,
    recording_state,
    send_on_page_socket,
    shows_recording,
    stays_still,
    tiny_filesystem,
    wait_for_growth,
    wait_for_recording,
    wait_until_shown,
)

pytestmark = pytest.mark.e2e

LivePages = Callable[[int], list[Page]]
Axe = Callable[[Page], None]

#: How soon recording must resume after the second adult leaves (the issue).
RESUME_SECONDS = 5.0
#: How far the lesson file's duration may be from first admission → lesson end (the issue).
DURATION_TOLERANCE = 2.0
#: Post-processing of a lesson of about a minute, on two busy cores.
PROCESSING_TIMEOUT = 240.0

# The lesson of test 1, whose recording test 2 watches (one lesson, so one wait for the
# worker; test 2 fails with a clear message if test 1 did not get that far).
_SHARED: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    """Janus, the app, its worker and four browser pages on two cores."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def _watch(pages: dict[str, Page]) -> dict[str, Frames]:
    """Track every page's RTCPeerConnections and WebSockets; collect what it receives."""
    frames = {}
    for name, page in pages.items():
        instrument(page.context)
        page.context.add_init_script(TRACK_SOCKETS)
        frames[name] = Frames()
        frames[name].attach(page)
    return frames


def _admitted(page: Page) -> None:
    """A pupil just let in: the room shows, with the rules dialog first; close it."""
    expect(page.locator("#room-in")).to_be_visible(timeout=30_000)
    expect(page.locator("#rules-dialog")).to_have_attribute("open", "", timeout=10_000)
    page.get_by_role("button", name="Close the rules").click()
    expect(page.locator("#rules-dialog")).not_to_have_attribute("open", "")


def _refusal(frames: Frames, intent_sent_at: int, timeout: float = 10.0,
             page: Page | None = None) -> dict[str, Any]:
    """The first error message the page received after message number
    ``intent_sent_at``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in frames.messages[intent_sent_at:]:
            if message.get("type") == "error":
                return message
        if page is not None:
            page.wait_for_timeout(100)
        else:
            time.sleep(0.1)
    raise AssertionError(f"no error came back for the forged intent; {frames.summary()}")


def _forge(page: Page, frames: Frames, message: dict[str, Any]) -> dict[str, Any]:
    """Send ``message`` on the page's own WebSocket, as a tampered page could; returns
    the server's answer (an error)."""
    mark = len(frames.messages)
    send_on_page_socket(page, message)
    return _refusal(frames, mark, page=page)


def _open_span(state: dict[str, Any]) -> dict[str, Any] | None:
    rec = state["recording"]
    if rec is None:
        return None
    spans = [s for s in rec["spans"] if s["stopped_at"] is None]
    return spans[-1] if spans else None


def _wait_for_open_span(stack: LiveStack, lesson_id: int, timeout: float = 15.0
                        ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = recording_state(stack, lesson_id)
        if _open_span(state) is not None:
            return state
        time.sleep(0.5)
    raise AssertionError(f"no recording span opened within {timeout}s: {state}\n"
                         f"{stack.app.log()[-3000:]}")


def _still_recording(raw: Path, what: str) -> None:
    """Janus' files for the lesson are still growing."""
    try:
        wait_for_growth(raw, since=raw_files(raw), timeout=5)
    except AssertionError as stopped:
        raise AssertionError(f"recording stopped {what}: {stopped}") from None


def _end_lesson(host: Page) -> None:
    host.get_by_role("button", name="End lesson for everyone").click()
    expect(host.locator("#confirm-dialog")).to_have_attribute("open", "")
    host.locator("#confirm-yes").click()
    expect(host.locator("#room-over")).to_be_visible()


# ------------------------------------------------------------------ 1. the live part


def test_a_lesson_with_one_teacher_is_recorded_and_the_second_adult_changes_that(
        live_stack: LiveStack, live_pages: LivePages, axe: Axe) -> None:
    # 30 lesson minutes of 5 s: 150 s from the room opening, more than this test needs.
    lesson = live_stack.live_lesson(pupils=2, duration_minutes=30)
    ava_link, ben_link = lesson.pupils
    host, second, ava, ben = live_pages(4)
    frames = _watch({"host": host, "second": second, "ava": ava, "ben": ben})

    # The pupils wait first (the lesson's clock starts when the room opens); only the
    # host opens the room.
    pupil_joins(ava, ava_link)
    pupil_joins(ben, ben_link)
    staff_opens_room(host, live_stack, lesson.host_email, lesson.lesson_id)
    expect(host.locator("#waiting-count")).to_have_text("2")
    before = recording_state(live_stack, lesson.lesson_id)
    assert _open_span(before) is None, f"recording before anyone was admitted: {before}"

    # -- (a) the first admission starts recording; nobody presses anything else.
    host.get_by_role("button", name="Admit everyone").click()
    _admitted(ava)
    _admitted(ben)
    state = _wait_for_open_span(live_stack, lesson.lesson_id)
    rec = state["recording"]
    first_span = rec["spans"][0]
    # Because only one adult is there (the admission started it; no recording button).
    assert first_span["reason"] == "required", rec
    assert state["first_admitted_at"] is not None
    # Started by the admission, not before it (nor long after).
    lag = first_span["started_at"] - state["first_admitted_at"]
    assert -1.0 <= lag <= 3.0, (f"recording started {lag:.2f}s after the first admission",
                                state)
    raw = live_stack.record_dir / rec["folder"]
    wait_for_growth(raw, since={}, timeout=10)
    # Everyone is told, in words.
    for page in (host, ava, ben):
        wait_until_shown(page, recording=True)  # visible, and its words say so
    assert "recorded" in (indicator_says(ava) or ""), indicator_says(ava)
    # With one adult nobody can stop it: no button, and a forged intent changes nothing.
    assert host.get_by_role("button", name=STOP_BUTTON).filter(visible=True).count() == 0
    answer = _forge(host, frames["host"], STOP_INTENT)
    assert answer.get("rule") == RULE_SECOND_ADULT, answer
    # A pupil cannot either (host-only-recording).
    answer = _forge(ava, frames["ava"], STOP_INTENT)
    assert answer.get("rule") == RULE_HOST_ONLY_RECORDING, answer
    _still_recording(raw, "after the forged stops")
    assert shows_recording(host) and shows_recording(ava)
    # The rooms with the indicator shown pass axe.
    axe(host)
    axe(ava)

    # -- (b) a second adult joins: now the host may stop (and start) recording.
    staff_opens_room(second, live_stack, lesson.second_staff_email, lesson.lesson_id)
    stop = host.get_by_role("button", name=STOP_BUTTON)
    start = host.get_by_role("button", name=START_BUTTON)
    expect(stop.or_(start).filter(visible=True)).to_have_count(1)
    if start.is_visible():
        # Recording ended by itself when the second adult came (the host had not asked
        # for it): the host starts it again, with the button.
        wait_until_shown(host, recording=False)
        start.click()
        expect(stop).to_be_visible()
        wait_until_shown(host, recording=True)
        wait_until_shown(ava, recording=True)
        _still_recording(raw, "after the host started it")
        span = _open_span(recording_state(live_stack, lesson.lesson_id))
        assert span is not None and span["reason"] == "host", span
    # The second adult has neither button, and a forged intent is refused.
    expect(second.locator("#connection")).to_have_text("Connected.")
    for button in (STOP_BUTTON, START_BUTTON):
        assert second.get_by_role("button", name=button).filter(visible=True).count() == 0
    answer = _forge(second, frames["second"], STOP_INTENT)
    assert answer.get("rule") == RULE_HOST_ONLY_RECORDING, answer
    _still_recording(raw, "after the second adult's forged stop")
    # The host stops it.
    stop.click()
    expect(start).to_be_visible()
    for page in (host, second, ava, ben):
        wait_until_shown(page, recording=False)
    state = recording_state(live_stack, lesson.lesson_id)
    assert _open_span(state) is None, state
    host_id = state["recording"]["spans"][-1]["stopped_by"]
    assert host_id is not None, state
    time.sleep(1.0)  # packets already on their way to the files
    was, now = stays_still(raw, 2.0)
    assert was == now, f"Janus kept recording after the host stopped it: {was} -> {now}"
    # Nobody else can start it again.
    answer = _forge(ava, frames["ava"], START_INTENT)
    assert answer.get("rule") == RULE_HOST_ONLY_RECORDING, answer
    answer = _forge(second, frames["second"], START_INTENT)
    assert answer.get("rule") == RULE_HOST_ONLY_RECORDING, answer
    was, now = stays_still(raw, 1.0)
    assert was == now and _open_span(recording_state(live_stack, lesson.lesson_id)) is None

    # -- the second adult leaves: recording resumes within 5 s, by itself (a pupil is
    # still in: if Janus saw both cameras stop on a busy machine, nothing would need
    # recording, and this says so rather than fail below for no clear reason).
    in_lesson = [p["name"] for p in frames["host"].of_type("state")[-1]["pupils"]
                 if p["state"] == "admitted"]
    assert in_lesson, f"no pupil is left in the lesson: {frames['host'].summary()}"
    sizes = raw_files(raw)
    left = time.monotonic()
    second.close()
    try:
        grew_after, _sizes = wait_for_growth(raw, since=sizes, timeout=RESUME_SECONDS + 10)
    except AssertionError as stopped:
        lines = [line for line in live_stack.app.log().splitlines()
                 if "/janus/events/" not in line and "/static/" not in line]
        raise AssertionError(
            f"recording did not resume after the second adult left: {stopped}\n"
            f"{recording_state(live_stack, lesson.lesson_id)}\n"
            f"host: {frames['host'].summary()}\napp log:\n" + "\n".join(lines[-80:])
        ) from None
    wait_until_shown(host, recording=True, timeout=RESUME_SECONDS + 10)
    shown_after = time.monotonic() - left  # an upper bound: polled after the files grew
    assert grew_after <= RESUME_SECONDS, (
        f"Janus' files grew again {grew_after:.1f}s after the second adult left")
    assert shown_after <= RESUME_SECONDS + 0.5, (
        f"the host's indicator showed recording {shown_after:.1f}s after the second adult "
        "left")
    wait_until_shown(ava, recording=True)
    span = _open_span(recording_state(live_stack, lesson.lesson_id))
    assert span is not None and span["reason"] == "required", span
    # Recording never failed on the way, so no pupil was sent back for it. (A pupil may
    # be sent back because Janus saw their camera stop, on a machine too busy to play the
    # fake camera smoothly: that is issue 3's rule, not recording's.)
    for name in ("ava", "ben"):
        revoked = frames[name].of_type("media_revoked")
        assert not [m for m in revoked if m.get("reason") == "recording_failed"], revoked
    assert not audit_actions(live_stack, lesson.lesson_id, "recording.failed")

    # A few more seconds of lesson, then the host ends it for everyone.
    host.wait_for_timeout(3000)
    _end_lesson(host)
    for page in (ava, ben):
        expect(page.locator("#room-over")).to_be_visible()
    state = wait_for_recording(live_stack, lesson.lesson_id,
                               {"queued", "processing", "ready", "failed", "empty"},
                               timeout=20, what="after the lesson ended")
    rec = state["recording"]
    assert rec["lesson_ended_at"] is not None and state["ended_at"] is not None, state
    assert all(s["stopped_at"] is not None for s in rec["spans"]), rec["spans"]
    actions = [e["action"] for e in audit_actions(live_stack, lesson.lesson_id,
                                                  "recording.")]
    assert actions.count("recording.started") == len(rec["spans"]) >= 2, actions
    assert "recording.queued" in actions, actions
    _SHARED["lesson"] = lesson


# ------------------------------------------------------------------ 2. watching it


def _shared_lesson() -> LiveLesson:
    lesson = _SHARED.get("lesson")
    if lesson is None:
        pytest.fail("this test watches the recording made by "
                    "test_a_lesson_with_one_teacher_is_recorded_and_the_second_adult_changes_"
                    "that, which did not finish: run the whole module")
    assert isinstance(lesson, LiveLesson)
    return lesson


def _overlaps(a: Any, b: Any) -> bool:
    """Do two bounding boxes (Playwright's x, y, width, height) overlap?"""
    if a is None or b is None:
        return False
    return bool(a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def test_the_deputy_watches_the_recording_with_their_name_on_it(
        live_stack: LiveStack, live_pages: LivePages, axe: Axe, tmp_path: Path) -> None:
    lesson = _shared_lesson()
    timings = {"start": time.monotonic()}
    state = wait_for_recording(live_stack, lesson.lesson_id, {"ready", "failed", "empty"},
                               timeout=PROCESSING_TIMEOUT, what="(post-processing)")
    rec = state["recording"]
    assert rec["status"] == "ready", (f"post-processing ended {rec['status']}: "
                                      f"{rec['error']}", rec)
    expected = state["ended_at"] - state["first_admitted_at"]
    timings["processed"] = time.monotonic()
    assert not (live_stack.work_dir / rec["folder"]).exists(), "plaintext left behind"

    school = live_stack.app.all_week_school()
    deputy_email = school["deputy"]
    deputy_name = live_stack.django(
        "from safeclass.accounts.models import StaffUser\n"
        f"result = StaffUser.objects.get(email={deputy_email!r}).full_name\n")
    (page,) = live_pages(1)
    live_stack.sign_in(page, deputy_email)

    # From the lesson's page to the recording's page.
    page.goto(f"/lessons/{lesson.lesson_id}/")
    page.get_by_role("link", name=re.compile(r"watch", re.IGNORECASE)).first.click()
    page.wait_for_url(re.compile(rf"{rec['public_id']}"))
    video = page.locator("video")
    expect(video).to_have_count(1)
    expect(video).to_be_visible()
    # The viewer's name is drawn over the picture (not only in the page's header).
    names = page.get_by_text(deputy_name, exact=True).filter(visible=True)
    expect(names.first).to_be_visible()
    boxes = [n.bounding_box() for n in names.all()]
    assert any(_overlaps(box, video.bounding_box()) for box in boxes), (
        "the viewer's name is not over the video", boxes, video.bounding_box())
    axe(page)

    # The browser plays it (through the Range-capable media URL): time moves on.
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true;"
                  " return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime > 1.5",
                           timeout=30_000)
    src = page.evaluate("() => { const v = document.querySelector('video');"
                        " return v.currentSrc || v.src; }")
    timings["page, axe and playing"] = time.monotonic()
    assert src, "the player has no media URL"

    # Byte ranges: a first slice, a slice past the end.
    head = page.request.get(src, headers={"Range": "bytes=0-1023"})
    assert head.status == 206, (head.status, head.headers)
    assert len(head.body()) == 1024
    total = int(head.headers["content-range"].rsplit("/", 1)[1])
    past = page.request.get(src, headers={"Range": f"bytes={total + 10}-"})
    assert past.status == 416, past.status
    # Without signing in, the media URL is refused.
    anonymous = live_stack.app.base_url
    fresh = page.context.browser.new_context(base_url=anonymous)  # type: ignore[union-attr]
    try:
        answer = fresh.request.get(src, max_redirects=0)
        assert answer.status in (302, 403, 404), answer.status
    finally:
        fresh.close()

    # The whole file, decrypted by the app.
    whole = page.request.get(src)
    assert whole.ok, whole.status
    lesson_file = tmp_path / "lesson.webm"
    lesson_file.write_bytes(whole.body())
    assert lesson_file.stat().st_size == total
    probe = ffprobe(lesson_file)
    assert "webm" in probe.format_name, probe
    assert "video" in probe.kinds() and "audio" in probe.kinds(), probe.streams
    assert probe.duration is not None
    assert abs(probe.duration - expected) <= DURATION_TOLERANCE, (
        f"the lesson file lasts {probe.duration:.2f}s; first admission to the end of the "
        f"lesson was {expected:.2f}s", rec)
    # It plays to the end, and the teacher's picture and voice are in it: the picture is
    # mostly not black (the stretch the host stopped recording is), the sound is the
    # tone of the teacher's fake microphone (pupils are muted).
    found = analyse(lesson_file)
    assert found.errors == "", found.errors
    assert found.black_seconds < probe.duration / 2, (
        f"{found.black_seconds:.1f}s of {probe.duration:.1f}s are black")
    assert found.mean_volume_db > -50.0, f"the teacher's voice is missing: {found}"
    timings["ffprobe and decode"] = time.monotonic()
    # ... and the teacher's own streams are kept beside it.
    host_tracks = {f["track"] for f in rec["files"]
                   if f["kind"] == "stream" and f["staff_email"] == lesson.host_email}
    assert {"audio", "video"} <= host_tracks, rec["files"]
    assert [f["kind"] for f in rec["files"]].count("lesson") == 1, rec["files"]

    # The download: re-encoded with the viewer's name burned into the picture.
    # (The row of the file being played, the lesson file.)
    playing_row = page.locator("tr", has=page.get_by_text(re.compile(r"playing",
                                                                      re.IGNORECASE)))
    button = playing_row.get_by_role("button", name=re.compile(r"^download", re.IGNORECASE))
    expect(button).to_have_count(1)
    with page.expect_download(timeout=180_000) as download_info:
        button.click()
    download = download_info.value
    assert download.failure() is None, download.failure()
    downloaded = tmp_path / "download.webm"
    download.save_as(downloaded)
    timings["download"] = time.monotonic()
    dprobe = ffprobe(downloaded)
    assert "webm" in dprobe.format_name and "video" in dprobe.kinds(), dprobe
    assert analyse(downloaded).errors == ""
    assert dprobe.duration is not None and abs(dprobe.duration - probe.duration) <= 1.5, (
        dprobe.duration, probe.duration)
    assert deputy_name in dprobe.tags.get("comment", ""), dprobe.tags
    # The name is burned into the picture: look where the lesson file is black (while the
    # host had stopped recording; the middle of the longest gap between spans, counted
    # from the first span's start, which the file's timeline starts with, give or take a
    # second): the download shows bright letters there.
    spans = rec["spans"]
    gaps = [(b["started_at"] - a["stopped_at"], a["stopped_at"], b["started_at"])
            for a, b in itertools.pairwise(spans)]
    length, gap_start, gap_end = max(gaps)
    assert length >= 4, f"the stopped stretch is too short to look at: {spans}"
    at = (gap_start + gap_end) / 2 - spans[0]["started_at"]
    original, burned = frame_gray(lesson_file, at), frame_gray(downloaded, at)
    assert bright_pixels(original) < 50, (
        f"the lesson file is not black {at:.1f}s in, while recording was stopped "
        f"({bright_pixels(original)} bright pixels): is the gap kept?")
    assert bright_pixels(burned) > 300, (
        f"no burned-in text {at:.1f}s into the download ({bright_pixels(burned)} bright "
        "pixels)")

    audited = audit_actions(live_stack, lesson.lesson_id, "recording.")
    actions = [e["action"] for e in audited]
    assert "recording.viewed" in actions and "recording.downloaded" in actions, actions
    timings["checks"] = time.monotonic()
    steps = list(timings.items())
    print("timings:", ", ".join(f"{name} {at - before:.0f}s" for (_, before), (name, at)
                                in itertools.pairwise(steps)))


# ------------------------------------------------------------------ 3. a full disk


_PREPARE_FOLDER = """
from django.utils import timezone
from safeclass.lessons.models import Lesson
from safeclass.recordings.models import Recording, RecordingStatus
lesson = Lesson.objects.get(pk=@LESSON@)
# The row safeclass.recordings.spans.recording_for() makes before Janus is first asked to
# record (get_or_create by lesson): made now, so the raw folder's name is known before the
# room opens.
rec, _ = Recording.objects.get_or_create(
    lesson_id=lesson.pk, defaults={"school_id": lesson.school_id,
                                   "started_at": timezone.now(),
                                   "status": RecordingStatus.RECORDING})
result = rec.folder
"""


def _wait_for_message(frames: Frames, kind: str, after: int, page: Page,
                      timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in frames.messages[after:]:
            if message.get("type") == kind:
                return message
        page.wait_for_timeout(100)
    raise AssertionError(f"no {kind!r} message within {timeout}s; {frames.summary()}")


def _pupil_states(frames: Frames) -> list[str]:
    states = frames.of_type("state")
    return [p["state"] for p in states[-1]["pupils"]] if states else []


def test_a_tiny_recording_disk_alerts_staff_and_keeps_pupils_waiting(
        live_stack: LiveStack, live_pages: LivePages) -> None:
    """The lesson's raw folder is a 256 KiB filesystem. First nearly full: before the room
    opens the disk check fails, staff are told, and the one adult cannot let the pupil in.
    Then with room for the check (the stack's disk need is 1000 bytes per publisher and
    lesson minute) but not for the media: recording starts, the filesystem fills within
    seconds, the pupil goes back to the waiting room, staff are alerted, an incident is
    recorded, and the pupil cannot come in again with one adult."""
    lesson = live_stack.live_lesson(pupils=2, duration_minutes=30)
    pupil = lesson.pupils[0]
    folder = live_stack.django(_PREPARE_FOLDER.replace("@LESSON@", str(lesson.lesson_id)))
    raw = live_stack.record_dir / folder
    host, ava = live_pages(2)
    frames = _watch({"host": host, "ava": ava})
    with tiny_filesystem(raw, "256k"):
        filler = raw / "filler"
        filler.write_bytes(b"\0" * (240 * 1024))
        pupil_joins(ava, pupil)
        staff_opens_room(host, live_stack, lesson.host_email, lesson.lesson_id)
        expect(host.locator("#waiting-count")).to_have_text("1")

        # 1. Not enough room for the whole lesson: staff are told at once, in the alerts.
        alerts = host.locator("#alerts li")
        expect(alerts.filter(has_text=re.compile(r"disk|space|record", re.IGNORECASE))
               .first).to_be_visible()
        actions = [e["action"] for e in audit_actions(live_stack, lesson.lesson_id,
                                                      "recording.")]
        assert "recording.disk_short" in actions, actions
        # ...and the head, in the incidents.
        assert any(i["kind"] == "recording_failed" and "disk space" in i["summary"]
                   for i in incidents(live_stack, lesson.lesson_id))
        # The one adult cannot let the pupil in: recording cannot run.
        mark = len(frames["host"].messages)
        send_on_page_socket(host, {"intent": "admit_all"})
        answer = _refusal(frames["host"], mark, page=host)
        assert answer.get("rule") == RULE_SECOND_ADULT, answer
        host.wait_for_timeout(1000)
        expect(ava.locator("#room-waiting")).to_be_visible()
        expect(ava.locator("#room-in")).to_be_hidden()
        assert _pupil_states(frames["host"]) == ["waiting"], frames["host"].summary()
        assert not frames["ava"].of_type("media"), frames["ava"].types()

        # 2. Room for the check, not for the media: it fills while the pupil is in.
        filler.unlink()
        media_mark = len(frames["ava"].messages)
        host.get_by_role("button", name=f"Admit {pupil.display_name}", exact=True).click()
        _wait_for_message(frames["ava"], "media", media_mark, ava)  # let in, recorded
        started = audit_actions(live_stack, lesson.lesson_id, "recording.started")
        assert started and started[-1]["data"].get("reason") == "required", started
        _wait_for_message(frames["ava"], "media_revoked", media_mark, ava)
        expect(ava.locator("#room-waiting")).to_be_visible()
        expect(ava.locator("#room-in")).to_be_hidden()
        expect(alerts.filter(has_text=re.compile(r"record", re.IGNORECASE)).first
               ).to_be_visible()
        found = incidents(live_stack, lesson.lesson_id)
        # Phase 1's disk-short incident is there too; this one is the failure while
        # recording, which sent the pupil back.
        assert any(i["kind"] == "recording_failed" and "waiting room" in i["summary"]
                   for i in found), found
        failed = audit_actions(live_stack, lesson.lesson_id, "recording.failed")
        assert failed, audit_actions(live_stack, lesson.lesson_id, "recording.")
        # And the pupil stays there: another admission is refused.
        mark = len(frames["host"].messages)
        send_on_page_socket(host, {"intent": "admit_all"})
        answer = _refusal(frames["host"], mark, page=host)
        assert answer.get("rule") == RULE_SECOND_ADULT, answer
        host.wait_for_timeout(1000)
        expect(ava.locator("#room-in")).to_be_hidden()
        assert _pupil_states(frames["host"]) == ["waiting"], frames["host"].summary()
        _end_lesson(host)
