"""The live-lesson test stack checks itself: Janus runs inside its own network namespace,
a page on the app's origin can reach Janus' API (CORS and the app's CSP allow it) but not
open a Janus session without a token, the fake camera and microphone work, and a lesson
starting now comes with a join link for each pupil."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.live_stack import LiveStack, run_async
from tests.integration.janus_harness import RawJanusClient, fake_publisher_offer

LivePages = Callable[[int], list[Page]]


def _net_namespace(path: str) -> int:
    return os.stat(path).st_ino


def test_it_runs_janus_inside_its_own_network_namespace(live_stack: LiveStack) -> None:
    pid = live_stack.janus.pid
    assert pid is not None and live_stack.janus.running()
    janus_ns = _net_namespace(f"/proc/{pid}/ns/net")
    assert janus_ns == _net_namespace(f"/run/netns/{live_stack.netns.name}")
    assert janus_ns != _net_namespace("/proc/self/ns/net")
    assert Path(f"/proc/{pid}/exe").resolve().name == "janus"
    # The API listens on the namespace's veth address, and ICE uses that veth only.
    assert live_stack.netns.ns_address in live_stack.janus_public_url
    # The whole log: other tests sharing this stack may have run first and filled it.
    assert "Adding '" + live_stack.netns.ns_if + "' to the ICE enforce list" in (
        live_stack.janus_log(lines=1_000_000))
    # Our own server reaches it too (from the host side of the veth).
    with urllib.request.urlopen(live_stack.janus_api_url + "/info", timeout=5) as response:
        assert json.load(response)["janus"] == "server_info"


def test_janus_reaches_the_app_through_the_forwarder(live_stack: LiveStack) -> None:
    # From inside the namespace (where Janus is), the event URL's host and port lead to
    # the app on the host's 127.0.0.1.
    healthz = live_stack.event_url.split("/janus/events/")[0] + "/healthz"
    fetch = ("import sys, urllib.request; "
             "print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())")
    result = subprocess.run(["ip", "netns", "exec", live_stack.netns.name, sys.executable,
                             "-c", fetch, healthz], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ok": True}


def test_a_page_on_the_app_reaches_janus_but_needs_a_token(live_stack: LiveStack,
                                                           live_pages: LivePages) -> None:
    (page,) = live_pages(1)
    page.goto("/account/login/")  # any page: its CSP must let it connect to Janus

    answers = page.evaluate(
        """async (url) => {
            const info = await (await fetch(url + '/info')).json();
            const reply = await fetch(url, {method: 'POST',
                body: JSON.stringify({janus: 'create', transaction: 'smoke-no-token'})});
            return {info: info.janus, name: info.name, create: await reply.json()};
        }""",
        live_stack.janus_public_url)

    assert answers["info"] == "server_info"
    assert answers["create"]["janus"] == "error"
    assert answers["create"]["error"]["code"] == 403  # token_auth: unauthorized


def test_the_fake_camera_and_microphone_play_the_test_files(live_stack: LiveStack,
                                                            live_pages: LivePages) -> None:
    (page,) = live_pages(1)
    page.goto("/account/login/")

    tracks = page.evaluate(
        """async () => {
            const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
            const result = stream.getTracks().map(t => [t.kind, t.getSettings().width || 0]);
            stream.getTracks().forEach(t => t.stop());
            return result;
        }""")

    assert sorted(kind for kind, _width in tracks) == ["audio", "video"]
    assert [width for kind, width in tracks if kind == "video"] == [320]
    assert live_stack.media.video.stat().st_size > 0


def test_it_makes_an_approved_lesson_starting_now_with_links(live_stack: LiveStack,
                                                             live_pages: LivePages) -> None:
    lesson = live_stack.live_lesson(pupils=2)

    assert len(lesson.join_urls) == 2
    assert all(url.startswith(live_stack.base_url + "/join/") for url in lesson.join_urls)
    assert lesson.host_email != lesson.second_staff_email
    # A second lesson at the same time does not clash with the first (new people).
    second = live_stack.live_lesson(pupils=3)
    assert second.lesson_id != lesson.lesson_id and len(second.join_urls) == 3
    (page,) = live_pages(1)
    live_stack.sign_in(page, lesson.host_email)
    assert page.url.startswith(live_stack.base_url)
    lessons = live_stack.django(
        "from django.utils import timezone\n"
        "from safeclass.lessons.models import Lesson\n"
        f"result = [[l.status, abs((l.starts_at - timezone.now()).total_seconds()) < 120]"
        f" for l in Lesson.objects.filter(pk__in=[{lesson.lesson_id}, {second.lesson_id}])]")
    assert lessons == [["approved", True], ["approved", True]]


def test_janus_offers_ice_candidates_on_the_namespace_veth_only(live_stack: LiveStack) -> None:
    secret = live_stack.secrets.api_secret

    async def publish() -> str:
        async with RawJanusClient(live_stack.janus_api_url) as client:
            session = await client.session(apisecret=secret)
            handle = int((await client.attach(session, apisecret=secret))["data"]["id"])
            path, room = f"/{session}/{handle}", secrets.token_hex(16)
            created = await client.request(path, {"janus": "message", "body": {
                "request": "create", "room": room,
                "admin_key": live_stack.secrets.videoroom_admin_key}}, apisecret=secret)
            assert created["plugindata"]["data"]["videoroom"] == "created"
            await client.request(path, {"janus": "message", "jsep": fake_publisher_offer(),
                                        "body": {"request": "joinandconfigure", "room": room,
                                                 "ptype": "publisher", "display": "smoke"}},
                                 apisecret=secret)
            for _ in range(10):
                for event in await client.poll(session, apisecret=secret):
                    if "jsep" in event:
                        return str(event["jsep"]["sdp"])
        raise AssertionError("Janus sent no answer")

    sdp = run_async(publish())
    candidates = [line.split()[4] for line in sdp.splitlines()
                  if line.startswith("a=candidate:")]
    assert candidates and set(candidates) == {live_stack.netns.ns_address}


def test_a_browser_publishes_to_janus_over_the_veth(live_stack: LiveStack,
                                                    live_pages: LivePages) -> None:
    secret = live_stack.secrets.api_secret
    admin_key = live_stack.secrets.videoroom_admin_key
    room = secrets.token_hex(16)

    async def open_room() -> tuple[int, int]:
        async with RawJanusClient(live_stack.janus_api_url) as client:
            session = await client.session(apisecret=secret)
            handle = int((await client.attach(session, apisecret=secret))["data"]["id"])
            await client.request(f"/{session}/{handle}", {"janus": "message", "body": {
                "request": "create", "room": room, "admin_key": admin_key}}, apisecret=secret)
            return session, handle

    async def publish(session: int, handle: int, offer: str) -> str:
        async with RawJanusClient(live_stack.janus_api_url) as client:
            await client.request(f"/{session}/{handle}", {
                "janus": "message", "jsep": {"type": "offer", "sdp": offer},
                "body": {"request": "joinandconfigure", "room": room, "ptype": "publisher",
                         "display": "camera"}}, apisecret=secret)
            for _ in range(10):
                for event in await client.poll(session, apisecret=secret):
                    if "jsep" in event:
                        return str(event["jsep"]["sdp"])
        raise AssertionError("Janus sent no answer")

    session, handle = run_async(open_room())
    (page,) = live_pages(1)
    page.goto("/account/login/")
    offer = page.evaluate("""async () => {
        const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
        const pc = new RTCPeerConnection();
        window.smokePc = pc;
        stream.getTracks().forEach(t => pc.addTransceiver(t, {direction: 'sendonly'}));
        await pc.setLocalDescription(await pc.createOffer());
        await new Promise(done => {  // no trickle: wait for every candidate
            if (pc.iceGatheringState === 'complete') return done();
            pc.addEventListener('icegatheringstatechange',
                () => pc.iceGatheringState === 'complete' && done());
        });
        return pc.localDescription.sdp;
    }""")
    answer = run_async(publish(session, handle, offer))
    pair = page.evaluate("""async (answer) => {
        const pc = window.smokePc;
        await pc.setRemoteDescription({type: 'answer', sdp: answer});
        for (let i = 0; i < 100 && pc.connectionState !== 'connected'; i++) {
            await new Promise(r => setTimeout(r, 100));
        }
        const stats = await pc.getStats();
        let found = null;
        stats.forEach(s => {
            if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
                found = [stats.get(s.localCandidateId).address,
                         stats.get(s.remoteCandidateId).address];
            }
        });
        return {state: pc.connectionState, pair: found};
    }""", answer)

    assert pair["state"] == "connected", live_stack.janus_log()
    # Media went between the two ends of the veth, nowhere else; Janus agrees.
    assert pair["pair"] == [live_stack.netns.host_address, live_stack.netns.ns_address]
    janus_pair = _selected_pair(live_stack, session, handle)
    assert f"{live_stack.netns.ns_address}:" in janus_pair.split("<->")[0]
    assert f"{live_stack.netns.host_address}:" in janus_pair.split("<->")[1]
    page.evaluate("() => window.smokePc.close()")
    # Janus' event handler reached the app (through the forwarder, with the event
    # password from the shared secrets file) and was accepted.
    accepted = re.compile(r'"POST /janus/events/ HTTP/1.1" 2\d\d')
    deadline = time.monotonic() + 10
    while not accepted.search(live_stack.app.log()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert accepted.search(live_stack.app.log()), live_stack.app.log()[-3000:]


def _selected_pair(live_stack: LiveStack, session: int, handle: int) -> str:
    """Janus' own view (admin API handle_info) of the ICE pair it uses for this handle."""
    body = json.dumps({"janus": "handle_info", "transaction": secrets.token_hex(6),
                       "admin_secret": live_stack.secrets.admin_secret}).encode()
    request = urllib.request.Request(f"{live_stack.janus_admin_url}/{session}/{handle}",
                                     data=body, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        info = json.load(response)["info"]
    pairs = re.findall(r'"selected-pair": "([^"]+)"', json.dumps(info))
    assert pairs, "Janus reports no selected ICE pair"
    return str(pairs[0])
