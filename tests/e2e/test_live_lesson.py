"""Issue 3, "Done when": a whole live lesson in real browsers, with real media.

Debian's Chromium with a fake camera and microphone, a real Janus (tests/e2e/live_stack.py)
and the app. A host, a second member of staff and two pupils; media is checked with
WebRTC statistics (packets, bytes and decoded frames arriving), not with the page's words.
Lesson minutes last 3 seconds in this stack, so the lesson that ends by itself is short.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live_helpers import (
    Frames,
    counter,
    feed_stats,
    instrument,
    janus_create,
    pupil_joins,
    staff_opens_room,
    stats_of,
    wait_for_stats,
)
from tests.e2e.live_stack import LiveStack

LivePages = Callable[[int], list[Page]]

QUIET_SECONDS = 2.5  # how long "no audio arrives" is watched for


def _lesson_status(stack: LiveStack, lesson_id: int) -> dict[str, str | None]:
    result: dict[str, str | None] = stack.django(
        "from safeclass.lessons.models import Lesson\n"
        "from safeclass.live.models import LiveRun\n"
        f"lesson = Lesson.objects.get(pk={int(lesson_id)})\n"
        "run = LiveRun.objects.filter(lesson=lesson).first()\n"
        "result = {'status': lesson.status, 'end_reason': run.end_reason if run else None}\n")
    return result


def _admitted(page: Page) -> None:
    """A pupil just let in: the room shows, with the rules dialog first; close it."""
    expect(page.locator("#room-in")).to_be_visible(timeout=20_000)
    expect(page.locator("#rules-dialog")).to_have_attribute("open", "", timeout=10_000)
    page.get_by_role("button", name="Close the rules").click()
    expect(page.locator("#rules-dialog")).not_to_have_attribute("open", "")


def _no_audio_arrives(host: Page, *names: str) -> dict[str, int]:
    """Over a few seconds, each pupil's video keeps arriving at the host's page while its
    audio does not (no new packets). Returns each pupil's audio packet count."""
    before = {name: stats_of(host, name) for name in names}
    host.wait_for_timeout(QUIET_SECONDS * 1000)
    after = {name: stats_of(host, name) for name in names}
    packets = {}
    for name in names:
        was, now = before[name], after[name]
        assert was is not None and now is not None, (name, was, now, feed_stats(host))
        assert now["pc"] == was["pc"]
        assert counter(now, "video", "frames") > counter(was, "video", "frames"), (was, now)
        assert counter(now, "video", "bytes") > counter(was, "video", "bytes"), (was, now)
        assert counter(now, "audio", "packets") == counter(was, "audio", "packets"), (
            f"{name}'s audio reached the teacher while muted: {was} -> {now}")
        packets[name] = counter(now, "audio", "packets")
    return packets


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    """Two cores run Janus, the app and four browser pages: wait longer than 5 s."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def test_a_live_lesson_with_two_staff_and_two_pupils(live_stack: LiveStack,
                                                     live_pages: LivePages) -> None:
    lesson = live_stack.live_lesson(pupils=2, duration_minutes=30)
    ava_link, ben_link = lesson.pupils
    ava_name, ben_name = ava_link.display_name, ben_link.display_name
    host, second, ava, ben = live_pages(4)
    frames = {}
    for name, page in (("host", host), ("second", second), ("ava", ava), ("ben", ben)):
        instrument(page.context)
        frames[name] = Frames()
        frames[name].attach(page)

    # 1. The pupils go through the join pages and wait in the waiting room; both staff
    # open the room (checklist first); the host admits one, then everyone. (The pupils
    # come first because the lesson's clock starts when the room opens, and the longest
    # lesson, 30 minutes, lasts only 90 s in this stack.)
    pupil_joins(ava, ava_link)
    ben_room = pupil_joins(ben, ben_link)
    staff_opens_room(host, live_stack, lesson.host_email, lesson.lesson_id)
    staff_opens_room(second, live_stack, lesson.second_staff_email, lesson.lesson_id)
    expect(host.locator("#role-label")).to_have_text("Host")
    expect(second.locator("#role-label")).to_have_text("Second adult")
    expect(host.locator("#waiting-count")).to_have_text("2", timeout=20_000)
    expect(second.locator("#waiting-count")).to_have_text("2")
    assert ava.locator("#room-in").is_hidden() and ben.locator("#room-in").is_hidden()

    host.get_by_role("button", name=f"Admit {ava_name}", exact=True).click()
    _admitted(ava)
    expect(ben.locator("#room-waiting")).to_be_visible()
    expect(host.locator("#waiting-count")).to_have_text("1")
    host.get_by_role("button", name="Admit everyone").click()
    _admitted(ben)
    expect(host.locator("#admitted-count")).to_have_text("2", timeout=20_000)
    expect(host.locator("#waiting-count")).to_have_text("0")

    # 2. Muted on entry, silent AT THE SERVER: the teacher's browser receives the pupils'
    # video frames but no audio packets.
    for name in (ava_name, ben_name):
        wait_for_stats(host, name, lambda r: counter(r, "video", "frames") > 10,
                       what="video frames at the host")
    expect(ava.locator("#self-status")).to_contain_text("You are muted.")
    quiet = _no_audio_arrives(host, ava_name, ben_name)
    # The pupil sees and hears the staff: frames decoded from the teacher's camera.
    for page in (ava, ben):
        expect(page.locator("#staff-tiles figure")).to_have_count(2, timeout=20_000)
        staff_names = page.locator("#staff-tiles .room-name").all_text_contents()
        for staff_name in staff_names:
            wait_for_stats(page, staff_name, lambda r: (counter(r, "video", "frames") > 10
                                                         and counter(r, "audio", "packets") > 10),
                           what="the staff's video and audio at a pupil")

    # "Let speak": Ava's audio now arrives at the teacher; Ben stays silent.
    host.get_by_role("button", name=f"Let {ava_name} speak", exact=True).click()
    expect(host.get_by_role("button", name=f"Mute {ava_name}", exact=True)).to_be_visible()
    expect(ava.locator("#self-status")).to_contain_text("You can speak now.")
    wait_for_stats(host, ava_name,
                   lambda r: counter(r, "audio", "packets") > quiet[ava_name] + 25,
                   what="audio after 'Let speak'")
    assert counter(stats_of(host, ben_name), "audio", "packets") == quiet[ben_name]
    # The second adult hears her too.
    wait_for_stats(second, ava_name, lambda r: counter(r, "audio", "packets") > 25,
                   what="audio at the second adult")

    # "Mute": it stops again.
    host.get_by_role("button", name=f"Mute {ava_name}", exact=True).click()
    expect(host.get_by_role("button", name=f"Let {ava_name} speak", exact=True)).to_be_visible()
    expect(ava.locator("#self-status")).to_contain_text("You are muted.")
    host.wait_for_timeout(1000)  # packets already on the wire
    _no_audio_arrives(host, ava_name)

    # 3. Warn, raise hand, a notice; the pupil has no chat, share or file controls.
    host.get_by_role("button", name=f"Warn {ava_name}", exact=True).click()
    expect(ava.locator("#room-warning")).to_be_visible()
    expect(ava.locator("#room-warning")).to_contain_text("Your teacher has given you a warning.")
    ava.get_by_role("button", name="Raise hand").click()
    expect(ava.locator("#raise-hand")).to_have_attribute("data-on", "true")
    for page in (host, second):
        tile = page.locator("#pupil-tiles figure", has=page.locator(".room-name",
                                                                     has_text=ava_name))
        expect(tile.locator(".room-badge-hand")).to_have_text("hand raised")
        expect(tile.get_by_role("button", name=f"Lower hand of {ava_name}")).to_be_visible()
    second.locator("#notice-text").fill("Please get your pencils ready.")
    second.get_by_role("button", name="Post the notice").click()
    for page in (ava, ben):
        expect(page.locator("#notices")).to_contain_text("Please get your pencils ready.")
    for page in (ava, ben):
        room = page.locator("#room")
        assert room.locator("textarea, input[type=file], input[type=text], form").count() == 0
        assert page.locator("#share-screen, #notice-form, #end-lesson").count() == 0
        visible = [b.inner_text().strip() for b in room.get_by_role("button").all()
                   if b.is_visible()]
        # Only the hand button (Ava's hand is up, Ben's is down).
        assert visible == (["Lower hand"] if page is ava else ["Raise hand"]), (
            visible, frames["ava" if page is ava else "ben"].summary(),
            host.locator("#alerts").inner_text())
        for word in ("chat", "share", "file", "send", "message", "upload"):
            assert room.get_by_role("button", name=re.compile(word, re.I)).count() == 0

    # 4. Remove Ben: he is told, his media stops at the teacher, and he cannot come back.
    ben_media = frames["ben"].of_type("media")
    assert len(ben_media) == 1, frames["ben"].types()
    token, janus_url = ben_media[0]["token"], ben_media[0]["janus_url"]
    assert janus_create(ben, janus_url, token)["janus"] == "success"  # it works until now
    ben_stats = stats_of(host, ben_name)
    assert ben_stats is not None
    host.get_by_role("button", name=f"Remove {ben_name}", exact=True).click()
    expect(host.locator("#confirm-dialog")).to_have_attribute("open", "")
    host.locator("#confirm-yes").click()
    expect(ben.locator("#room-over")).to_be_visible()
    expect(ben.locator("#over-text")).to_have_text("A teacher has removed you from this lesson.")
    for page in (host, second):
        expect(page.locator("#admitted-count")).to_have_text("1")
        expect(page.locator("#pupil-tiles .room-name", has_text=ben_name)).to_have_count(0)
    host.wait_for_function(
        "(i) => { const pc = window.__testPeerConnections[i];"
        " return pc.signalingState === 'closed' || pc.connectionState === 'closed'"
        " || pc.iceConnectionState === 'disconnected' || pc.iceConnectionState === 'failed'; }",
        arg=ben_stats["pc"], timeout=20_000)
    assert stats_of(host, ben_name) is None
    # Ava is still there, and her picture still arrives.
    before = counter(stats_of(host, ava_name), "video", "frames")
    wait_for_stats(host, ava_name, lambda r: counter(r, "video", "frames") > before + 5,
                   what="Ava's video after Ben left")
    # (a) his join link again, in the same browser: the removed page at once (no "Start").
    ben.goto(ben_link.join_url)
    expect(ben.get_by_text("You have been removed from this lesson.")).to_be_visible()
    assert ben.get_by_role("button", name="Start").count() == 0
    assert ben.get_by_role("link", name="Start").count() == 0
    # (b) a new tab straight to the room: refused (the same page).
    tab = ben.context.new_page()
    tab.goto(ben_room)
    expect(tab.get_by_text("You have been removed from this lesson.")).to_be_visible()
    assert tab.locator("#room").count() == 0
    tab.close()
    # (c) his old Janus token, straight to Janus from his page: refused.
    refused = janus_create(ben, janus_url, token)
    assert refused["janus"] == "error" and refused["error"]["code"] == 403, refused
    hold = live_stack.django(
        "from safeclass.live.models import RemovalHold\n"
        f"result = RemovalHold.objects.filter(pupil_id={ben_link.pupil_id},"
        " cleared_at__isnull=True).count()\n")
    assert hold == 1

    # 5. The host ends the lesson for everyone.
    host.get_by_role("button", name="End lesson for everyone").click()
    expect(host.locator("#confirm-dialog")).to_have_attribute("open", "")
    host.locator("#confirm-yes").click()
    for page in (host, second, ava):
        expect(page.locator("#room-over")).to_be_visible()
        expect(page.locator("#over-text")).to_have_text("The lesson has ended.")
    assert _lesson_status(live_stack, lesson.lesson_id) == {"status": "ended",
                                                            "end_reason": "host"}
    # Ava's media is gone too: her page has no connection still open.
    ava.wait_for_function(
        "() => window.__testPeerConnections.every((pc) => pc.signalingState === 'closed')",
        timeout=20_000)


def test_a_lesson_ends_by_itself_after_a_time_warning(live_stack: LiveStack,
                                                      live_pages: LivePages) -> None:
    # 6 minutes of 5 seconds (live_stack.LESSON_MINUTE_SECONDS): the room opens, the
    # 1-minute warning comes after 25 s and the end after 30 s.
    # Two pupils are invited (group-only: never one to one); one of them comes.
    lesson = live_stack.live_lesson(pupils=2, duration_minutes=6)
    pupil_link = lesson.pupils[0]
    host, second, pupil = live_pages(3)
    frames = {}
    for name, page in (("host", host), ("pupil", pupil)):
        instrument(page.context)
        frames[name] = Frames()
        frames[name].attach(page)

    # The pupil waits first (the clock starts when the room opens).
    pupil_joins(pupil, pupil_link)
    staff_opens_room(second, live_stack, lesson.second_staff_email, lesson.lesson_id)
    staff_opens_room(host, live_stack, lesson.host_email, lesson.lesson_id)
    host.get_by_role("button", name="Admit everyone").click()
    _admitted(pupil)
    assert _lesson_status(live_stack, lesson.lesson_id)["status"] == "live"

    expect(pupil.locator("#room-over")).to_be_visible(timeout=40_000)
    expect(pupil.locator("#over-text")).to_have_text("The lesson has ended.")
    for page in (host, second):
        expect(page.locator("#room-over")).to_be_visible()
        expect(page.locator("#over-text")).to_have_text("The lesson has ended.")
    # The 1-minute warning was announced to the pupil before the end.
    expect(pupil.locator("#room-live")).to_contain_text("1 minute left.")
    types = frames["pupil"].types()
    warnings = [m.get("minutes_left") for m in frames["pupil"].of_type("time")]
    assert 1 in warnings, types
    last_warning = max(i for i, m in enumerate(frames["pupil"].messages)
                       if m.get("type") == "time" and m.get("minutes_left") == 1)
    assert types.index("ended") > last_warning, types
    assert 1 in [m.get("minutes_left") for m in frames["host"].of_type("time")]
    assert _lesson_status(live_stack, lesson.lesson_id) == {"status": "ended",
                                                            "end_reason": "time"}
