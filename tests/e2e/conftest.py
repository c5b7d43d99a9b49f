"""Browser tests: Debian's Chromium, driven by Playwright, against a real app server.

The app runs as a separate process (uvicorn, the same ASGI app as production) on a free
127.0.0.1 port, with a fresh SQLite database file, var folder and mail folder of its own
in a temporary directory, migrated and seeded with the demo school. Because it is another
process, tests cannot move its clock: they never depend on the hour. Data a test needs at
a particular time (a lesson starting in five minutes, say) is made through
``app_server.django(...)``, which runs Python in the server's environment, relative to
"now" in a school open all week (``app_server.all_week_school()``).

Fixtures:
- ``app_server`` (session): ``.base_url``, ``.demo_password``, ``.mail_dir``,
  ``.manage(*args)``, ``.django(code)``, ``.all_week_school()``, ``.emails()``.
- ``browser`` (session): Chromium; ``media_browser`` adds a fake camera and microphone.
- ``page`` (function): a new page in a fresh browser context (no cookies), whose
  relative URLs resolve against the app.
- ``axe``: ``axe(page)`` fails the test with a readable list of WCAG 2.2 AA violations.
- ``sign_in``: ``sign_in(page, "teacher@oakfield.example")`` with the demo password.
- ``live_stack`` (session, root only): a real Janus in a network namespace and an app
  server of its own using it (tests/e2e/live_stack.py); ``.live_lesson(pupils=2)`` makes
  an approved lesson starting now with join links. ``live_browser`` (session): Chromium
  whose fake camera and microphone play generated test files. ``live_pages(n)``: n pages
  on that app, each in its own browser context (own cookies, so own device).

``start_app_server(extra_env)`` starts another app server (a context manager).
"""

from __future__ import annotations

import contextlib
import email
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SAFECLASS_CHROMIUM", "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Debian's Chromium (Playwright cannot download its own browser here). Never add our own
# --disable-features: Playwright passes one, and a second would replace it.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]

SERVER_START_SECONDS = 60


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppServer:
    base_url: str
    env: dict[str, str]
    workdir: Path
    mail_dir: Path
    log_path: Path
    demo_password: str = ""
    seed_output: str = ""
    _school_cache: dict[str, Any] = field(default_factory=dict)

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py ARGS`` against the server's database; fails with its output."""
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def django(self, code: str) -> Any:
        """Run Python with Django set up, in the server's environment (its database). The
        code may set ``result`` to anything JSON can carry; that value is returned."""
        program = (
            "import json, django\n"
            "django.setup()\n"
            "result = None\n"
            f"{code}\n"
            "print('\\n@@RESULT@@' + json.dumps(result, default=str))\n"
        )
        env = {**self.env, "DJANGO_SETTINGS_MODULE": "safeclass.settings"}
        proc = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise AssertionError(f"Django script failed:\n{code}\n{proc.stdout}\n{proc.stderr}")
        return json.loads(proc.stdout.rsplit("@@RESULT@@", 1)[1])

    def all_week_school(self) -> dict[str, Any]:
        """A second school, open every day round the clock, with a teacher, a teaching
        assistant, two approvers and a class of four: lessons made there at times relative
        to now are valid whenever the tests run. Passwords are the demo password."""
        if not self._school_cache:
            self._school_cache.update(self.django(_ALL_WEEK_SCHOOL.replace(
                "@PASSWORD@", json.dumps(self.demo_password))))
        return self._school_cache

    def emails(self) -> list[Message]:
        """Every email the server has 'sent' so far (file-based backend), oldest first."""
        messages: list[Message] = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime):
            # The file backend writes each message followed by a line of 79 dashes.
            for chunk in path.read_text().split("-" * 79 + "\n"):
                if chunk.strip():
                    messages.append(email.message_from_string(chunk))
        return messages

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


_ALL_WEEK_SCHOOL = """
from datetime import time
from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.schools.models import Group, LessonWindow, Pupil, School
from safeclass.schools.services import current_policy
password = @PASSWORD@
school, made = School.objects.get_or_create(
    name="All Week Test School",
    defaults={"staff_email_domains": "allweek.example", "time_zone": "Europe/London"})
if made:
    for day in range(7):
        LessonWindow.objects.create(school=school, weekday=day, starts=time(0, 0),
                                    ends=time(23, 59))
people = {"teacher": ("teacher",), "ta": ("staff",), "head": ("approver", "dsl"),
          "deputy": ("approver", "slt")}
for local, roles in people.items():
    email = f"{local}@allweek.example"
    if not StaffUser.objects.filter(email=email).exists():
        user = StaffUser.objects.create_user(email=email, password=password,
                                             full_name=local.title() + " Allweek",
                                             school=school, is_active=True)
        for role in roles:
            StaffRole.objects.create(user=user, role=role)
group, _ = Group.objects.get_or_create(school=school, name="Class Allweek")
for n, first in enumerate(["Ava", "Ben", "Cai", "Dee"], start=1):
    Pupil.objects.get_or_create(
        school=school, reference=f"AW-{n}",
        defaults={"group": group, "first_name": first, "last_name": "Allweek",
                  "parent_name": f"Parent of {first}",
                  "parent_email": f"{first.lower()}.parent@parents.example"})
current_policy(school)
result = {"school_id": school.pk, "group_id": group.pk,
          "teacher": "teacher@allweek.example", "ta": "ta@allweek.example",
          "head": "head@allweek.example", "deputy": "deputy@allweek.example"}
"""


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app server exited ({process.returncode}):\n"
                               f"{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the app server did not answer {url}/healthz within "
                       f"{SERVER_START_SECONDS}s:\n{log_path.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def start_app_server(extra_env: dict[str, str] | None = None,
                     port: int | None = None) -> Iterator[AppServer]:
    """An app server (uvicorn) on 127.0.0.1 with a fresh SQLite database, migrated and
    seeded with the demo school; ``extra_env`` is added to its environment (e.g. the
    SAFECLASS_JANUS_* settings). Stopped when the block ends."""
    with tempfile.TemporaryDirectory(prefix="safeclass-e2e-") as tmp:
        workdir = Path(tmp)
        (workdir / "var").mkdir()
        mail_dir = workdir / "mail"
        mail_dir.mkdir()
        port = port or _free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAFECLASS_")}
        env.update({
            "SAFECLASS_DEBUG": "1",
            "SAFECLASS_DATABASE_URL": f"sqlite:///{workdir / 'e2e.sqlite3'}",
            "SAFECLASS_VAR_DIR": str(workdir / "var"),
            "SAFECLASS_BASE_URL": base_url,
            "SAFECLASS_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "SAFECLASS_EMAIL_FILE_PATH": str(mail_dir),
            "SAFECLASS_FAST_PASSWORD_HASHER": "1",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        })
        server = AppServer(base_url=base_url, env=env, workdir=workdir, mail_dir=mail_dir,
                           log_path=workdir / "server.log")
        server.manage("migrate", "--no-input")
        seeded = server.manage("seed_demo").stdout
        found = re.search(r"Password for every demo account:\s*(\S+)", seeded)
        assert found, f"seed_demo did not print the demo password:\n{seeded}"
        server.demo_password, server.seed_output = found.group(1), seeded

        log = server.log_path.open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "safeclass.asgi:application",
             "--host", "127.0.0.1", "--port", str(port), "--no-server-header"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_healthy(base_url, process, server.log_path)
            yield server
        finally:
            _stop(process)
            log.close()


@pytest.fixture(scope="session")
def app_server() -> Iterator[AppServer]:
    with start_app_server() as server:
        yield server


@pytest.fixture(scope="session")
def base_url(app_server: AppServer) -> str:
    return app_server.base_url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    # Playwright's sync API keeps an event loop in this thread, which makes Django refuse
    # database calls from it; allow them for any test that runs after the browser starts.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        yield p


def launch_chromium(playwright: Playwright, *, media: bool = False) -> Browser:
    """Debian's Chromium, headless. Playwright gives each launch a fresh profile folder."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/install.sh (Debian's chromium)")
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=CHROMIUM_ARGS + (MEDIA_ARGS if media else []))


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def media_browser(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with a fake camera and microphone, allowed without a prompt."""
    browser = launch_chromium(playwright, media=True)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_page(browser: Browser, base_url: str) -> Iterator[Callable[..., Page]]:
    """Makes pages, each in a fresh context (no cookies shared), closed after the test:
    ``new_page()``; ``new_page(media_browser)`` for a fake camera; keyword arguments
    are Playwright context options (``viewport=``, ``locale="cy-GB"``, ``is_mobile=``)."""
    contexts: list[Any] = []

    def make(use: Browser | None = None, **options: Any) -> Page:
        context = (use or browser).new_context(
            base_url=base_url, **{"locale": "en-GB", "timezone_id": "Europe/London", **options})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def axe_violations(page: Page, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; returns axe's list of violations."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run scripts/install.sh (npm ci)")
    # Evaluated through the DevTools protocol, which the page's Content Security Policy
    # does not govern: a <script> tag added to the page would be refused, rightly.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text() + "\n;undefined")
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary,
                                          html: n.html})),
            }));
        }""",
        tags or AXE_TAGS,
    )


def format_violations(violations: list[dict[str, Any]], where: str) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  [{v['helpUrl']}]")
        for node in v["nodes"]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            for detail in (node["summary"] or "").splitlines():
                lines.append(f"        {detail}")
    return "\n".join(lines)


@pytest.fixture
def axe() -> Callable[[Page], None]:
    """``axe(page)``: fail, listing each violation (rule id, impact, where), unless the page
    as it is now has no WCAG 2.2 A/AA violations that axe-core can find."""

    def check(page: Page, tags: list[str] | None = None) -> None:
        violations = axe_violations(page, tags)
        assert not violations, format_violations(violations, page.url)

    return check


@pytest.fixture
def sign_in(app_server: AppServer) -> Callable[..., None]:
    """``sign_in(page, email, password=demo password)``: sign in through the real form and
    wait until the browser has left the sign-in page."""

    def do(page: Page, email_address: str, password: str | None = None) -> None:
        page.goto("/account/login/")
        page.get_by_label(re.compile("email", re.IGNORECASE)).fill(email_address)
        page.get_by_label(re.compile("^password", re.IGNORECASE)).fill(
            password or app_server.demo_password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/account/login/" not in url)

    return do


# ------------------------------------------------------------------ the live-lesson stack


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real Janus in a network namespace, the app (with SAFECLASS_JANUS_* pointing at
    it and TEST_LESSON_MINUTE_SECONDS=5) and fake camera and microphone files: see
    tests/e2e/live_stack.py. ``.base_url``, ``.janus_public_url``, ``.secrets``,
    ``.django(code)``, ``.manage(...)``, ``.emails()``, ``.live_lesson(pupils=2,
    duration_minutes=30)``. Needs root."""
    from tests.e2e.live_stack import start_live_stack

    with start_live_stack(tmp_path_factory.mktemp("live")) as stack:
        yield stack


@pytest.fixture(scope="session")
def live_browser(playwright: Playwright, live_stack: Any) -> Iterator[Browser]:
    """Chromium whose fake camera and microphone play the live stack's media files."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/install.sh (Debian's chromium)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=live_stack.chromium_args())
    yield browser
    browser.close()


@pytest.fixture
def live_pages(live_browser: Browser, live_stack: Any) -> Iterator[Callable[[int], list[Page]]]:
    """``live_pages(n)``: n pages, each in a browser context of its own (its own cookies,
    so its own device and session), on the live stack's app, camera and microphone
    allowed. All are closed after the test."""
    contexts: list[Any] = []

    def open_pages(count: int = 1) -> list[Page]:
        pages = []
        for _ in range(count):
            context = live_browser.new_context(base_url=live_stack.base_url, locale="en-GB",
                                               timezone_id="Europe/London")
            context.grant_permissions(["camera", "microphone"], origin=live_stack.base_url)
            context.set_default_timeout(15_000)
            contexts.append(context)
            pages.append(context.new_page())
        return pages

    yield open_pages
    for context in contexts:
        context.close()
