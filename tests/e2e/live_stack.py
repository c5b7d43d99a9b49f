"""The whole live-lesson stack for browser tests: a real Janus, the app, fake media.

Janus skips loopback interfaces when gathering ICE candidates, and test traffic must
never touch the machine's real interfaces. So :func:`start_live_stack`:

1. creates a network namespace joined to the host by a veth pair (the helpers of
   ``tests/integration/janus_harness.py``: addresses from a private /30 in 10.231.0.0/16
   that exist only on that veth);
2. renders the Janus configuration with ``ice_enforce_list`` = the namespace-side veth,
   the Janus API and admin API bound to the namespace-side address, CORS for the app's
   origin, and the event handler posting to the host-side address;
3. runs a small TCP forwarder (threads in the pytest process) on the host-side address
   to the app's 127.0.0.1 port. The app must listen on 127.0.0.1, because browsers only
   allow getUserMedia in a secure context and http://127.0.0.1 is one; Janus, inside the
   namespace, cannot reach the host's 127.0.0.1, so it posts its events to the forwarder;
4. starts Janus inside the namespace, then the app server (a fresh SQLite database,
   migrated and seeded) with the SAFECLASS_JANUS_* settings pointing at that Janus;
5. makes a fake camera (``.y4m``, 320x240 at 15 fps, 5 s, with a running timestamp) and
   microphone (``.wav``, a 440 Hz tone) once, for Chromium's fake capture devices;
6. gives the app what recording needs (issue 4): an age key made for the stack
   (``stack.recording_key``), the encrypted store and the job's work folder in the stack's
   workdir, Janus' record folder (``stack.record_dir``, the same path for Janus and the
   app: they share the filesystem), a short stall time (``RECORDING_STALL_SECONDS``), so
   a recording that stops growing is noticed within seconds, and a small disk need per
   publisher and minute (``RECORDING_BYTES_PER_PUBLISHER_MINUTE``), so a tiny filesystem
   can pass the checks and then fill up.

Janus' record folder is a shared mount point (see ``_share_mounts``), so a test can mount
a tiny filesystem at a lesson's raw folder and Janus, in its own mount namespace, sees it.

Needs root (``ip netns``, ``mount``), janus and ffmpeg. Everything is torn down when the
context manager ends. The browser reaches the app on 127.0.0.1 and Janus on the veth, so media
flows over the veth only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyrage
from playwright.sync_api import Page

from safeclass.media.janus_config import JanusConfig, JanusSecrets
from safeclass.media.process import JanusProcess, load_or_create_secrets
from tests.e2e.conftest import CHROMIUM_ARGS, MEDIA_ARGS, AppServer, _free_port, start_app_server
from tests.integration.janus_harness import Netns, cleanup_stale_namespaces

#: Real seconds per lesson minute in the live stack's app (settings.LESSON_MINUTE_SECONDS).
LESSON_MINUTE_SECONDS = "5"
#: The app's RECORDING_STALL_SECONDS in the live stack: Janus' files must grow at least
#: once in this many seconds while recording is required.
RECORDING_STALL_SECONDS = "4"
#: The app's RECORDING_BYTES_PER_PUBLISHER_MINUTE in the live stack. The real default
#: (5 MB) would need a filesystem of tens of megabytes before a test lesson may record,
#: and as long to fill it; at 1000 bytes a 30-minute lesson of four people needs 120 kB,
#: so a 256 KiB filesystem passes the checks and then fills within seconds.
RECORDING_BYTES_PER_PUBLISHER_MINUTE = "1000"
EVENT_USER = "janus"
T = TypeVar("T")
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from a test (in a thread of its own: Playwright's sync
    API keeps an event loop running in the test's thread), e.g. a RawJanusClient call."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# ------------------------------------------------------------------ TCP forwarder


class TcpForwarder:
    """Accepts TCP connections on ``listen_host`` (a free port) and relays each, both ways,
    to ``target_host:target_port``. Threads only; ``close()`` stops it."""

    def __init__(self, listen_host: str, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self._server = socket.create_server((listen_host, 0))
        self._server.settimeout(0.5)
        self.address: tuple[str, int] = self._server.getsockname()[:2]
        self._closing = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name="live-stack-forwarder")
        self._thread.start()

    @property
    def port(self) -> int:
        return self.address[1]

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                client, _addr = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            pending = [2]  # directions still open; the last one closes both sockets

            def finished(client: socket.socket = client, upstream: socket.socket = upstream,
                         pending: list[int] = pending) -> None:
                with self._lock:
                    pending[0] -= 1
                    last = pending[0] == 0
                if last:
                    self._drop(client, upstream)

            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, finished),
                                 daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, finished: Callable[[], None]) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)  # pass the end of the stream on
        finished()

    def _drop(self, *socks: socket.socket) -> None:
        with self._lock:
            for sock in socks:
                self._sockets.discard(sock)
                with contextlib.suppress(OSError):
                    sock.close()

    def close(self) -> None:
        self._closing.set()
        self._server.close()
        self._thread.join(timeout=2)
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
            self._sockets.clear()


# ------------------------------------------------------------------ fake media


@dataclass(frozen=True)
class FakeMedia:
    video: Path
    audio: Path | None

    def chromium_args(self) -> list[str]:
        """Chromium flags: fake devices allowed without a prompt, playing these files."""
        args = [*MEDIA_ARGS, f"--use-file-for-fake-video-capture={self.video}"]
        if self.audio is not None:
            args.append(f"--use-file-for-fake-audio-capture={self.audio}")
        return args


def make_fake_media(folder: Path) -> FakeMedia:
    """A 5 s 320x240@15fps .y4m with a running timestamp, and a 5 s 440 Hz .wav."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is missing: run scripts/install.sh")
    folder.mkdir(parents=True, exist_ok=True)
    video, audio = folder / "camera.y4m", folder / "microphone.wav"
    source = "testsrc2=size=320x240:rate=15"
    stamp = (f"drawtext=fontfile={_FONT}:text='%{{pts\\:hms}}':fontsize=24:fontcolor=white:"
             "box=1:boxcolor=black@0.6:x=8:y=8")
    base = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source,
            "-t", "5", "-pix_fmt", "yuv420p"]
    made = _FONT.exists() and subprocess.run(
        [*base, "-vf", stamp, str(video)], capture_output=True, check=False).returncode == 0
    if not made:  # no font or no drawtext filter: the test pattern alone
        subprocess.run([*base, str(video)], capture_output=True, check=True)
    result = subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "sine=frequency=440:sample_rate=48000", "-t", "5", "-ac", "1",
         "-c:a", "pcm_s16le", str(audio)], capture_output=True, check=False)
    return FakeMedia(video, audio if result.returncode == 0 else None)


# ------------------------------------------------------------------ the stack


@dataclass(frozen=True)
class LivePupil:
    pupil_id: int
    name: str
    display_name: str
    parent_email: str
    join_url: str


@dataclass(frozen=True)
class LiveLesson:
    lesson_id: int
    host_email: str
    second_staff_email: str
    password: str
    pupils: list[LivePupil]

    @property
    def join_urls(self) -> list[str]:
        return [pupil.join_url for pupil in self.pupils]


@dataclass
class LiveStack:
    app: AppServer
    netns: Netns
    janus: JanusProcess
    config: JanusConfig
    secrets: JanusSecrets
    secrets_file: Path
    forwarder: TcpForwarder
    media: FakeMedia
    workdir: Path
    recording_key: str = ""
    _lessons: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    # -- addresses
    @property
    def base_url(self) -> str:
        return self.app.base_url

    @property
    def janus_api_url(self) -> str:
        return self.config.http_url

    @property
    def janus_admin_url(self) -> str:
        return self.config.admin_url

    @property
    def janus_public_url(self) -> str:
        return self.config.http_url

    @property
    def event_url(self) -> str:
        assert self.config.event_url is not None
        return self.config.event_url

    # -- the app
    @property
    def demo_password(self) -> str:
        return self.app.demo_password

    def django(self, code: str) -> Any:
        return self.app.django(code)

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.app.manage(*args, check=check)

    def emails(self) -> list[Any]:
        return self.app.emails()

    def janus_log(self, lines: int = 200) -> str:
        return self.janus.log_tail(lines)

    # -- recording (issue 4)
    @property
    def record_dir(self) -> Path:
        """Janus' record folder (settings.JANUS_RECORD_DIR): a lesson records into
        ``record_dir / Recording.folder``."""
        return self.workdir / "recordings"

    @property
    def store_dir(self) -> Path:
        return self.workdir / "recording-store"

    @property
    def work_dir(self) -> Path:
        return self.workdir / "recording-work"

    def sign_in(self, page: Page, email_address: str, password: str | None = None) -> None:
        """Sign a staff member in on this app through the real form (like the ``sign_in``
        fixture, which belongs to ``app_server``)."""
        page.goto(f"{self.base_url}/account/login/")
        page.get_by_label(re.compile("email", re.IGNORECASE)).fill(email_address)
        page.get_by_label(re.compile("^password", re.IGNORECASE)).fill(
            password or self.app.demo_password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/account/login/" not in url)

    def chromium_args(self) -> list[str]:
        return [*CHROMIUM_ARGS, *self.media.chromium_args()]

    def live_lesson(self, pupils: int = 2, duration_minutes: int = 30, *,
                    recorded: bool = False) -> LiveLesson:
        """An approved lesson in the all-week school starting now, with a host (teacher),
        a second member of staff and ``pupils`` new pupils, each with a join link.

        Every call makes new staff and pupils, so lessons never clash (double booking).
        The lesson is requested a minute ahead (a start in the past is refused), approved
        by the head, then moved to start now. ``recorded``: booked as "recorded" (recorded
        throughout, whoever is present)."""
        school = self.app.all_week_school()
        n = next(self._lessons)
        code = (_LIVE_LESSON
                .replace("@N@", str(n))
                .replace("@PUPILS@", str(int(pupils)))
                .replace("@DURATION@", str(int(duration_minutes)))
                .replace("@RECORDED@", "True" if recorded else "False")
                .replace("@SCHOOL@", str(int(school["school_id"])))
                .replace("@APPROVER@", json.dumps(school["head"]))
                .replace("@PASSWORD@", json.dumps(self.app.demo_password)))
        made = self.django(code)
        return LiveLesson(
            lesson_id=made["lesson_id"], host_email=made["host"],
            second_staff_email=made["second"], password=self.app.demo_password,
            pupils=[LivePupil(**p) for p in made["pupils"]])


_PUPIL_NAMES = ["Ava", "Ben", "Cai", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jon", "Kit",
                "Lux", "Mai", "Ned", "Oli", "Pip"]

_LIVE_LESSON = """
from datetime import timedelta
from django.db import transaction
from django.utils import timezone
from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.lessons.models import Lesson
from safeclass.lessons.services import LessonDraft, do_approve_lesson, do_request_lesson
from safeclass.schools.models import Group, Pupil, School
n, count, duration, password = @N@, @PUPILS@, @DURATION@, @PASSWORD@
names = """ + repr(_PUPIL_NAMES) + """
school = School.objects.get(pk=@SCHOOL@)
letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(n - 1) % 26]
def staff(local, full_name, role):
    user = StaffUser.objects.create_user(email=f"{local}@allweek.example", password=password,
                                         full_name=full_name, school=school, is_active=True)
    StaffRole.objects.create(user=user, role=role)
    return user
with transaction.atomic():
    host = staff(f"live{n}-host", f"Helen Host{letter.lower()}", "teacher")
    second = staff(f"live{n}-second", f"Sam Second{letter.lower()}", "staff")
    group = Group.objects.create(school=school, name=f"Live class {n}")
    for i in range(count):
        first = names[i % len(names)] + ("" if i < len(names) else letter)
        Pupil.objects.create(school=school, group=group, reference=f"LIVE-{n}-{i + 1}",
                             first_name=first, last_name="Live" + letter.lower(),
                             parent_name=f"Parent of {first}",
                             parent_email=f"{first.lower()}.live{n}@parents.example")
# Request and approve at a fixed school-day hour (next Wednesday, 10:00 London), then move
# the lesson to start now: the tests must not depend on the hour they run at (near
# midnight a lesson starting "now" would break lesson-hours).
import time_machine
from zoneinfo import ZoneInfo
london = timezone.now().astimezone(ZoneInfo("Europe/London"))
school_day = (london + timedelta(days=(2 - london.weekday()) % 7 + 7)).replace(
    hour=10, minute=0, second=0, microsecond=0)
with time_machine.travel(school_day, tick=False):
    draft = LessonDraft(title=f"Live lesson {n}", host=host, second_staff=second, group=group,
                        pupils=(), starts_at=timezone.now() + timedelta(minutes=1),
                        duration_minutes=duration, recorded=@RECORDED@)
    lesson = do_request_lesson(draft, actor=host)
    links = do_approve_lesson(lesson, actor=StaffUser.objects.get(email=@APPROVER@))
Lesson.objects.filter(pk=lesson.pk).update(starts_at=timezone.now())
pupils = {p.pk: p for p in Pupil.objects.filter(group=group)}
result = {"lesson_id": lesson.pk, "host": host.email, "second": second.email,
          "pupils": [{"pupil_id": link.pupil_id, "name": pupils[link.pupil_id].first_name,
                      "display_name": link.display_name, "parent_email": link.parent_email,
                      "join_url": link.join_url} for link in links]}
"""


def _share_mounts(folder: Path, stack: contextlib.ExitStack) -> None:
    """Make ``folder`` a shared mount point (bound onto itself), before Janus starts.

    ``ip netns exec`` gives Janus a mount namespace of its own, a slave copy of ours taken
    when it starts; this machine's root mount is private, so a filesystem mounted later
    (a test's tiny tmpfs at a lesson's raw folder) would be seen by the app but not by
    Janus. Under a shared mount, later mounts reach Janus' copy too."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True,
                   capture_output=True)
    stack.callback(subprocess.run, ["umount", "--recursive", "--lazy", str(folder)],
                   check=False, capture_output=True)
    subprocess.run(["mount", "--make-shared", str(folder)], check=True, capture_output=True)


def _check_can_run() -> None:
    if os.geteuid() != 0:
        raise RuntimeError("the live stack needs root (ip netns)")
    for tool in ("janus", "ip", "ffmpeg", "mount", "umount"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: run scripts/install.sh")


@contextlib.contextmanager
def start_live_stack(workdir: Path, *, minute_seconds: str = LESSON_MINUTE_SECONDS,
                     stall_seconds: str = RECORDING_STALL_SECONDS) -> Iterator[LiveStack]:
    """Namespace, forwarder, Janus, app server and fake media; torn down on exit."""
    _check_can_run()
    cleanup_stale_namespaces()
    workdir.mkdir(parents=True, exist_ok=True)
    media = make_fake_media(workdir / "media")
    with contextlib.ExitStack() as stack:
        netns = Netns.create()
        stack.callback(netns.delete)
        # Linux answers ARP for any of the host's addresses on any interface, so Janus
        # could reach the browser's candidate on the machine's external address across the
        # veth (the packets stay on the veth, but carry that address). Answer only for the
        # veth's own address: the only pair that works is then veth to veth.
        Path(f"/proc/sys/net/ipv4/conf/{netns.host_if}/arp_ignore").write_text("1\n")
        app_port = _free_port()
        app_origin = f"http://127.0.0.1:{app_port}"
        forwarder = TcpForwarder(netns.host_address, app_port)
        stack.callback(forwarder.close)
        conf_dir = workdir / "janus"
        secrets_file = conf_dir / "secrets.json"
        secrets = load_or_create_secrets(secrets_file)
        config = JanusConfig(
            api_secret=secrets.api_secret,
            admin_secret=secrets.admin_secret,
            videoroom_admin_key=secrets.videoroom_admin_key,
            event_password=secrets.event_password,
            bind_address=netns.ns_address,
            admin_bind_address=netns.ns_address,
            http_port=8088,
            admin_port=7088,
            # Only the host side of the veth may use either API: the app and the browser.
            http_acl=netns.host_address,
            admin_acl=netns.host_address,
            cors_origin=app_origin,
            ice_enforce_list=netns.ns_if,
            rtp_port_range=(20000, 20999),
            event_url=f"http://{netns.host_address}:{forwarder.port}/janus/events/",
            event_user=EVENT_USER,
            record_dir=str(workdir / "recordings"),
            log_file=str(workdir / "janus.log"),
            server_name=f"safeclass-live-{netns.name}",
        )
        config.render(conf_dir)
        _share_mounts(workdir / "recordings", stack)
        recording_key = str(pyrage.x25519.Identity.generate())
        janus = JanusProcess.for_config(config, conf_dir, netns=netns.name)
        janus.start(timeout=10)
        stack.callback(janus.stop)
        app_env = {
            "SAFECLASS_JANUS_API_URL": config.http_url,
            "SAFECLASS_JANUS_ADMIN_URL": config.admin_url,
            "SAFECLASS_JANUS_PUBLIC_URL": config.http_url,
            "SAFECLASS_JANUS_SECRETS_FILE": str(secrets_file),
            "SAFECLASS_JANUS_RECORD_DIR": str(workdir / "recordings"),
            "SAFECLASS_JANUS_EVENT_USER": EVENT_USER,
            "SAFECLASS_TEST_LESSON_MINUTE_SECONDS": minute_seconds,
            # Recording: a key of the stack's own (never the developer's), the store and
            # the job's plaintext folder inside the workdir, a short stall time.
            "SAFECLASS_RECORDING_KEY": recording_key,
            "SAFECLASS_RECORDING_STORE_DIR": str(workdir / "recording-store"),
            "SAFECLASS_RECORDING_WORK_DIR": str(workdir / "recording-work"),
            "SAFECLASS_RECORDING_STALL_SECONDS": stall_seconds,
            "SAFECLASS_RECORDING_BYTES_PER_PUBLISHER_MINUTE": RECORDING_BYTES_PER_PUBLISHER_MINUTE,
            # Janus' events arrive through the forwarder with the veth address as Host.
            "SAFECLASS_ALLOWED_HOSTS": f"127.0.0.1,localhost,{netns.host_address}",
        }
        app = stack.enter_context(start_app_server(app_env, port=app_port))
        yield LiveStack(app=app, netns=netns, janus=janus, config=config, secrets=secrets,
                        secrets_file=secrets_file, forwarder=forwarder, media=media,
                        workdir=workdir, recording_key=recording_key)
