"""Part 1: the two steps done directly against Janus, with no SafeClass in between.

A real Janus runs in a network namespace of its own (the helpers of
tests/integration/janus_harness.py), ICE limited to the namespace's veth. A tiny static
site on 127.0.0.1 serves a bare janus.js client (direct.html, direct.js and Debian's
janus.js and adapter.js); the room and tokens are made through
safeclass.media.adapter.JanusMediaServer, as the app does (add_token + allow).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.async_api import Browser

from bench.support.common import (
    HERE,
    StepFigures,
    audio_flowing,
    audio_stop_after,
    check_veth_only,
    first_frame_after,
    new_page,
)
from safeclass.media.adapter import JanusMediaServer, new_room_id, new_room_secret
from safeclass.media.janus_config import JanusConfig
from safeclass.media.process import JanusProcess, load_or_create_secrets
from tests.integration.janus_harness import Netns, cleanup_stale_namespaces

JS_DIRS = {"/janus.js": Path("/usr/share/javascript/janus-gateway/janus.js"),
           "/adapter.js": Path("/usr/share/javascript/webrtc-adapter/adapter.js")}
FILES = {"/direct.html": HERE / "direct.html", "/direct.js": HERE / "direct.js", **JS_DIRS}


class StaticSite:
    """The direct client's files on 127.0.0.1 (a secure context, so getUserMedia works)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = FILES.get(self.path.split("?")[0])
                if path is None:
                    self.send_error(404)
                    return
                body = path.read_bytes()
                kind = "text/html" if path.suffix == ".html" else "text/javascript"
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def direct_janus(origin: str) -> Iterator[tuple[JanusConfig, set[str]]]:
    """Janus in a fresh network namespace, its API open to pages from ``origin``; yields
    its configuration and the two veth addresses."""
    cleanup_stale_namespaces()
    with tempfile.TemporaryDirectory(prefix="sc-bench-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        netns = Netns.create()
        stack.callback(netns.delete)
        # As tests/e2e/live_stack.py: answer ARP only for the veth's own address, so the
        # only ICE pair that works is veth to veth.
        Path(f"/proc/sys/net/ipv4/conf/{netns.host_if}/arp_ignore").write_text("1\n")
        secrets_ = load_or_create_secrets(workdir / "secrets.json")
        config = JanusConfig(
            api_secret=secrets_.api_secret, admin_secret=secrets_.admin_secret,
            videoroom_admin_key=secrets_.videoroom_admin_key,
            bind_address=netns.ns_address, admin_bind_address=netns.ns_address,
            http_port=8088, admin_port=7088,
            http_acl=netns.host_address, admin_acl=netns.host_address,
            cors_origin=origin, ice_enforce_list=netns.ns_if, rtp_port_range=(20000, 20999),
            record_dir=str(workdir / "recordings"), log_file=str(workdir / "janus.log"),
            server_name=f"safeclass-bench-{netns.name}")
        config.render(workdir / "conf")
        janus = JanusProcess.for_config(config, workdir / "conf", netns=netns.name)
        janus.start(timeout=10)
        stack.callback(janus.stop)
        yield config, {netns.host_address, netns.ns_address}


async def run_direct(browser: Browser, reps: int, figures: StepFigures) -> None:
    """Add ``reps`` measurements of each step to ``figures``."""
    site = StaticSite()
    try:
        with direct_janus(site.origin) as (config, veth):
            async with JanusMediaServer.from_config(config, timeout=5.0) as media:
                await _measure(browser, site.origin, config, media, reps, figures, veth)
    finally:
        site.close()


async def _join_creds(media: JanusMediaServer, config: JanusConfig, room: str, secret: str,
                      display: str, subscribe: list[str]) -> dict[str, Any]:
    token = secrets.token_urlsafe(24)
    await media.add_token(token)
    await media.allow(room, secret, [token])
    return {"server": config.http_url, "token": token, "room": room,
            "id": secrets.token_hex(16), "display": display, "subscribe": subscribe}


async def _measure(browser: Browser, origin: str, config: JanusConfig,
                   media: JanusMediaServer, reps: int, figures: StepFigures,
                   veth: set[str]) -> None:
    room, secret = new_room_id(), new_room_secret()
    await media.create_room(room, secret=secret, description="bench", publishers=10,
                            allowed=[])
    teacher_ctx, teacher = await new_page(browser, origin)
    try:
        await teacher.goto("/direct.html")
        teacher_creds = await _join_creds(media, config, room, secret, "Teacher", [])
        await teacher.evaluate("c => window.benchDirect.start(c)", teacher_creds)
        for _ in range(reps):
            pupil_ctx, pupil = await new_page(browser, origin)
            try:
                await pupil.goto("/direct.html")
                creds = await _join_creds(media, config, room, secret, "Pupil",
                                          [teacher_creds["id"]])
                # (a) told to join (the pupil's admission) -> first frame of the teacher.
                mids = await pupil.evaluate("c => window.benchDirect.start(c)", creds)
                figures.first_frame.values.append(await first_frame_after(pupil, mids["started"]))
                await check_veth_only(pupil, veth)
                # (b) mute the pupil's audio at Janus -> audio stops at a subscriber.
                await teacher.evaluate("f => window.benchDirect.subscribe(f)", creds["id"])
                await audio_flowing(teacher)

                async def mute(pupil_id: str = creds["id"], mid: str = mids["audio_mid"]
                               ) -> float:
                    # The page's clock, as for the other figures (and SafeClass' "mute").
                    sent: float = await teacher.evaluate("window.__bench.now()")
                    await media.mute(room, secret, pupil_id, mid, True)
                    return sent

                figures.add_mute(await audio_stop_after(teacher, mute))
                await check_veth_only(teacher, veth)
                await teacher.evaluate("f => window.benchDirect.unsubscribe(f)", creds["id"])
            finally:
                await pupil_ctx.close()
            await asyncio.sleep(0.2)
    finally:
        await teacher_ctx.close()
        await media.destroy_room(room, secret)
