"""A real Janus for tests, in a network namespace of its own.

Janus skips loopback interfaces when gathering ICE candidates, and test traffic
must never touch the machine's real interfaces. So each harness:

1. creates a network namespace ``sc-<pid>-<n>`` and a veth pair whose two ends
   get the two host addresses of a private /30 in 10.231.0.0/16 (these
   addresses exist only on the veth we create); loopback is brought up inside;
2. renders the project's Janus templates with ``ice_enforce_list`` = the
   namespace-side veth, the Janus API and admin API bound to the namespace
   address, and the HTTP event handler posting (basic auth) to a small HTTP
   server on the host-side address;
3. starts Janus inside the namespace and waits for ``info``;
4. tears everything down afterwards, even on failure (context manager,
   fixture finalizer and atexit), and on start removes ``sc-<pid>-*``
   namespaces left by crashed runs whose pid no longer exists.

Needs root (``ip netns add``). Use :func:`janus_fixture` to build a pytest
fixture, or :func:`running_janus` directly.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hmac
import ipaddress
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import aiohttp
import pytest

from safeclass.media.adapter import JanusMediaServer
from safeclass.media.janus_config import JanusConfig, generate_secrets
from safeclass.media.process import JanusProcess

NETNS_PREFIX = "sc-"
_NETNS_RE = re.compile(r"^sc-(\d+)-(\d+)$")
_SUBNET = ipaddress.IPv4Network("10.231.0.0/16")
_counter = itertools.count()
_live: dict[str, JanusInstance] = {}


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _netns_names() -> list[str]:
    out = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _delete_netns(name: str) -> None:
    """Kill whatever runs in the namespace, then delete it (and its veth pair)."""
    pids = _ip("netns", "pids", name, check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    deadline = time.monotonic() + 3
    while pids and time.monotonic() < deadline:
        pids = _ip("netns", "pids", name, check=False).stdout.split()
        if pids:
            time.sleep(0.05)
    _ip("netns", "delete", name, check=False)


def cleanup_stale_namespaces() -> list[str]:
    """Delete sc-<pid>-<n> namespaces whose creating process no longer exists."""
    removed = []
    for name in _netns_names():
        match = _NETNS_RE.match(name)
        if match and not _pid_alive(int(match.group(1))):
            _delete_netns(name)
            removed.append(name)
    return removed


def _used_addresses() -> set[ipaddress.IPv4Address]:
    out = _ip("-o", "-4", "addr", "show", check=False).stdout
    used = set()
    for match in re.finditer(r"inet (\d+\.\d+\.\d+\.\d+)/", out):
        used.add(ipaddress.IPv4Address(match.group(1)))
    return used


def _pick_subnet() -> ipaddress.IPv4Network:
    used = _used_addresses()
    subnets = list(_SUBNET.subnets(new_prefix=30))
    for _ in range(200):
        net = random.choice(subnets)
        if not any(host in used for host in net.hosts()):
            return net
    raise RuntimeError("no free /30 in 10.231.0.0/16")


@dataclass
class Netns:
    """A network namespace joined to the host by a veth pair."""

    name: str
    host_if: str
    ns_if: str
    host_address: str
    ns_address: str

    @classmethod
    def create(cls) -> Netns:
        n = next(_counter)
        pid = os.getpid()
        name = f"{NETNS_PREFIX}{pid}-{n}"
        tag = f"{pid:x}{n:x}"[-9:]
        host_if, ns_if = f"sch{tag}", f"scn{tag}"
        _ip("netns", "add", name)
        try:
            for attempt in range(5):
                net = _pick_subnet()
                host_address, ns_address = (str(h) for h in net.hosts())
                _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if, "netns", name)
                result = _ip("addr", "add", f"{host_address}/30", "dev", host_if, check=False)
                if result.returncode == 0:
                    break
                _ip("link", "delete", host_if, check=False)
                if attempt == 4:
                    raise RuntimeError(f"cannot address veth: {result.stderr}")
            _ip("link", "set", host_if, "up")
            _ip("-n", name, "addr", "add", f"{ns_address}/30", "dev", ns_if)
            _ip("-n", name, "link", "set", ns_if, "up")
            _ip("-n", name, "link", "set", "lo", "up")
        except BaseException:
            _delete_netns(name)
            raise
        return cls(name, host_if, ns_if, host_address, ns_address)

    def delete(self) -> None:
        _delete_netns(self.name)
        _ip("link", "delete", self.host_if, check=False)  # already gone with the peer


class EventSink:
    """The HTTP endpoint Janus' sample event handler posts to, checking basic auth."""

    def __init__(self, address: str, user: str, password: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.rejected = 0
        self._cond = threading.Condition()
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                auth = self.headers.get("Authorization") or ""
                if not hmac.compare_digest(auth.encode(), expected.encode()):
                    with sink._cond:
                        sink.rejected += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                payload = json.loads(body)
                batch = payload if isinstance(payload, list) else [payload]
                with sink._cond:
                    sink.events.extend(batch)
                    sink._cond.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.url = f"http://{address}:{self.server.server_address[1]}/janus-events"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """The first event (in arrival order) matching predicate, waiting if needed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no matching Janus event arrived")
                self._cond.wait(remaining)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self.events)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class JanusInstance:
    """A running Janus and everything needed to talk to it."""

    config: JanusConfig
    netns: Netns
    workdir: Path
    process: JanusProcess
    events: EventSink
    record_dir: Path
    owns_workdir: bool = False
    _closed: bool = field(default=False, repr=False)

    @property
    def http_url(self) -> str:
        return self.config.http_url

    @property
    def admin_url(self) -> str:
        return self.config.admin_url

    @property
    def api_secret(self) -> str:
        assert self.config.api_secret is not None
        return self.config.api_secret

    @property
    def admin_secret(self) -> str:
        return self.config.admin_secret

    @property
    def admin_key(self) -> str:
        return self.config.videoroom_admin_key

    def media_server(self) -> JanusMediaServer:
        """A new adapter (use it inside one event loop: ``async with``)."""
        return JanusMediaServer.from_config(self.config, timeout=5.0)

    def raw_client(self) -> RawJanusClient:
        """A plain Janus API client, as a browser (or an attacker) would be."""
        return RawJanusClient(self.http_url)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _live.pop(self.netns.name, None)
        try:
            self.process.stop(timeout=3)
        finally:
            try:
                self.events.close()
            finally:
                self.netns.delete()
                if self.owns_workdir:
                    shutil.rmtree(self.workdir, ignore_errors=True)


def start_janus(workdir: Path | None = None, *, start_timeout: float = 5.0) -> JanusInstance:
    """Create a namespace, render the config, start Janus. Call close() when done."""
    cleanup_stale_namespaces()
    if shutil.which("janus") is None:
        pytest.fail("janus is not installed: run make install")
    if os.geteuid() != 0:
        pytest.fail("the Janus harness needs root for ip netns")
    owns_workdir = workdir is None
    workdir = Path(workdir or tempfile.mkdtemp(prefix="sc-janus-"))
    netns = Netns.create()
    events: EventSink | None = None
    try:
        s = generate_secrets()
        events = EventSink(netns.host_address, "janus-events", s.event_password)
        record_dir = workdir / "recordings"
        config = JanusConfig(
            api_secret=s.api_secret,
            admin_secret=s.admin_secret,
            videoroom_admin_key=s.videoroom_admin_key,
            bind_address=netns.ns_address,
            admin_bind_address=netns.ns_address,
            http_port=8088,
            admin_port=7088,
            ice_enforce_list=netns.ns_if,
            rtp_port_range=(20000, 20999),
            event_url=events.url,
            event_user="janus-events",
            event_password=s.event_password,
            record_dir=str(record_dir),
            log_file=str(workdir / "janus.log"),
            server_name=f"safeclass-test-{netns.name}",
        )
        config_dir = workdir / "conf"
        config.render(config_dir)
        process = JanusProcess.for_config(config, config_dir, netns=netns.name)
        instance = JanusInstance(
            config, netns, workdir, process, events, record_dir, owns_workdir=owns_workdir
        )
        _live[netns.name] = instance
        process.start(timeout=start_timeout)
        return instance
    except BaseException:
        _live.pop(netns.name, None)
        if events is not None:
            events.close()
        netns.delete()
        if owns_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        raise


@contextlib.contextmanager
def running_janus(workdir: Path | None = None) -> Iterator[JanusInstance]:
    instance = start_janus(workdir)
    try:
        yield instance
    finally:
        instance.close()


def janus_fixture(
    scope: Literal["session", "package", "module", "class", "function"] = "module",
) -> Any:
    """Build a pytest fixture yielding a JanusInstance, e.g. in a conftest::

    janus = janus_fixture(scope="session")
    """

    @pytest.fixture(scope=scope)
    def _janus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JanusInstance]:
        with running_janus(tmp_path_factory.mktemp("janus")) as instance:
            yield instance

    return _janus


@atexit.register
def _close_all() -> None:
    for instance in list(_live.values()):
        with contextlib.suppress(Exception):
            instance.close()


# ------------------------------------------------------------ raw Janus client


class RawJanusClient:
    """The Janus JSON API with no SafeClass logic: what a browser can send.

    Used by tests to act as a participant (or as someone trying to misuse a
    token). Each request may carry a core ``token`` or an ``apisecret``.
    """

    def __init__(self, http_url: str) -> None:
        self.http_url = http_url
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))

    async def __aenter__(self) -> RawJanusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.close()

    async def request(self, path: str, body: dict[str, Any], **auth: str) -> dict[str, Any]:
        body = {**body, **auth, "transaction": secrets.token_hex(8)}
        async with self._http.post(f"{self.http_url}{path}", json=body) as response:
            result: dict[str, Any] = await response.json(content_type=None)
            return result

    async def poll(self, session_id: int, **auth: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in auth.items())
        url = f"{self.http_url}/{session_id}?maxev=10&{query}"
        async with self._http.get(url) as response:
            text = await response.text()
            if not text and response.status != 200:
                # Janus answers a refused long-poll with a bare HTTP status.
                return [{"janus": "error", "error": {"code": response.status}}]
            result = json.loads(text)
        return result if isinstance(result, list) else [result]

    async def wait_plugin_event(
        self, session_id: int, predicate: Callable[[dict[str, Any]], bool], **auth: str
    ) -> dict[str, Any]:
        """Long-poll until a VideoRoom event whose data matches predicate arrives."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for event in await self.poll(session_id, **auth):
                data = (event.get("plugindata") or {}).get("data")
                if isinstance(data, dict) and predicate(data):
                    return data
        raise TimeoutError("no matching VideoRoom event")

    async def session(self, **auth: str) -> int:
        reply = await self.request("", {"janus": "create"}, **auth)
        if reply.get("janus") != "success":
            raise PermissionError(reply.get("error"))
        return int(reply["data"]["id"])

    async def attach(
        self, session_id: int, plugin: str = "janus.plugin.videoroom", **auth: str
    ) -> dict[str, Any]:
        return await self.request(f"/{session_id}", {"janus": "attach", "plugin": plugin}, **auth)

    async def join_publisher(
        self,
        room: str,
        display: str,
        token: str,
        *,
        jsep: dict[str, Any] | None = None,
        request: str = "join",
        extra: dict[str, Any] | None = None,
    ) -> tuple[int, int, dict[str, Any]]:
        """Create a session and handle with the core token, join the room as a
        publisher with the same token; returns (session, handle, event data)."""
        session_id = await self.session(token=token)
        attached = await self.attach(session_id, token=token)
        handle_id = int(attached["data"]["id"])
        body: dict[str, Any] = {
            "request": request,
            "ptype": "publisher",
            "room": room,
            "display": display,
            "token": token,
            **(extra or {}),
        }
        message: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            message["jsep"] = jsep
        ack = await self.request(f"/{session_id}/{handle_id}", message, token=token)
        if ack.get("janus") != "ack":
            raise PermissionError(ack.get("error"))
        data = await self.wait_plugin_event(
            session_id, lambda d: d.get("videoroom") == "joined" or "error_code" in d, token=token
        )
        return session_id, handle_id, data


def fake_publisher_offer() -> dict[str, Any]:
    """An SDP offer for one Opus and one VP8 stream (mids "0" and "1").

    Janus answers it and creates the publisher's streams, which is enough for
    ``moderate``; no media ever flows (the ICE credentials lead nowhere).
    """
    fingerprint = ":".join(["AB"] * 32)
    common = [
        "c=IN IP4 0.0.0.0",
        "a=ice-ufrag:scft",
        "a=ice-pwd:safeclassfakeicepassword0",
        "a=ice-options:trickle",
        f"a=fingerprint:sha-256 {fingerprint}",
        "a=setup:actpass",
        "a=rtcp-mux",
        "a=sendonly",
    ]
    lines = [
        "v=0",
        "o=- 1 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        *common,
        "a=mid:0",
        "a=rtpmap:111 opus/48000/2",
        "a=ssrc:1111 cname:fake",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        *common,
        "a=mid:1",
        "a=rtpmap:96 VP8/90000",
        "a=ssrc:2222 cname:fake",
        "",
    ]
    return {"type": "offer", "sdp": "\r\n".join(lines)}
