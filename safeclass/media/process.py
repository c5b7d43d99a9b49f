"""Start and stop a Janus process from a rendered configuration directory.

Janus runs in the foreground (no ``-b``), started as
``janus -F <dir> -C <dir>/janus.jcfg``, optionally inside a network namespace
(``ip netns exec <name> janus ...``, which execs Janus, so the pid we hold is
Janus itself). :meth:`JanusProcess.start` returns once the HTTP API answers
``info``; :meth:`JanusProcess.stop` sends SIGTERM, then SIGKILL.

Command line (used by ``make run``)::

    python -m safeclass.media.process run --config-dir var/janus
    python -m safeclass.media.process render --config-dir var/janus

Both read (or create, mode 0600) ``<config-dir>/secrets.json`` with the
secrets, render the templates, and ``run`` keeps Janus in the foreground until
interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from .janus_config import JanusConfig, JanusSecrets, generate_secrets


class JanusStartError(RuntimeError):
    """Janus exited or did not answer in time; the message ends with its log."""


class JanusProcess:
    def __init__(
        self,
        config_dir: Path,
        *,
        info_url: str,
        netns: str | None = None,
        janus_binary: str = "janus",
        output_path: Path | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.config_dir = config_dir.resolve()
        self.info_url = info_url
        self.netns = netns
        self.janus_binary = janus_binary
        self.output_path = output_path or self.config_dir / "janus.out"
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    @classmethod
    def for_config(
        cls, config: JanusConfig, config_dir: Path, *, netns: str | None = None
    ) -> JanusProcess:
        log_path = Path(config.log_file) if config.log_file else None
        return cls(config_dir, info_url=f"{config.http_url}/info", netns=netns, log_path=log_path)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def command(self) -> list[str]:
        janus = shutil.which(self.janus_binary) or self.janus_binary
        command = [janus, "-F", str(self.config_dir), "-C", str(self.config_dir / "janus.jcfg")]
        if self.netns is not None:
            ip = shutil.which("ip") or "/usr/sbin/ip"
            command = [ip, "netns", "exec", self.netns, *command]
        return command

    def start(self, timeout: float = 5.0) -> None:
        if self._process is not None:
            raise RuntimeError("Janus is already started")
        self._output = open(self.output_path, "ab")
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            cwd=self.config_dir,
            start_new_session=True,
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise JanusStartError(f"Janus exited with status {code}\n{self.log_tail()}")
            if self._answers_info():
                return
            if time.monotonic() > deadline:
                raise JanusStartError(
                    f"Janus did not answer {self.info_url} within {timeout}s\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _answers_info(self) -> bool:
        try:
            with urllib.request.urlopen(self.info_url, timeout=0.5) as response:  # noqa: S310
                body = json.loads(response.read())
        except (OSError, ValueError, urllib.error.URLError):
            return False
        return isinstance(body, dict) and body.get("janus") == "server_info"

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """Terminate Janus (SIGTERM, then SIGKILL after timeout); returns its status."""
        process, self._process = self._process, None
        code: int | None = None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout)
            code = process.returncode
        if self._output is not None:
            self._output.close()
            self._output = None
        return code

    def log_tail(self, lines: int = 40) -> str:
        chunks = []
        for path in (self.output_path, self.log_path):
            if path is not None and path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                chunks.append(f"--- {path}\n" + "\n".join(text))
        return "\n".join(chunks)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# ------------------------------------------------------------------ command line


def load_or_create_secrets(path: Path) -> JanusSecrets:
    """Read secrets.json, creating it (mode 0600) with fresh secrets if missing."""
    if path.exists():
        return JanusSecrets(**json.loads(path.read_text()))
    secrets_ = generate_secrets()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(secrets_), handle, indent=2)
    return secrets_


def config_from_args(args: argparse.Namespace, secrets_: JanusSecrets) -> JanusConfig:
    low, _, high = str(args.rtp_port_range).partition("-")
    return JanusConfig(
        api_secret=secrets_.api_secret,
        admin_secret=secrets_.admin_secret,
        videoroom_admin_key=secrets_.videoroom_admin_key,
        event_password=secrets_.event_password,
        bind_address=args.bind,
        http_port=args.http_port,
        admin_bind_address=args.admin_bind,
        admin_port=args.admin_port,
        ws_port=args.ws_port,
        ice_enforce_list=args.ice_enforce_list,
        nat_1_1_mapping=args.nat_1_1,
        rtp_port_range=(int(low), int(high)),
        event_url=args.event_url,
        event_user=args.event_user,
        cors_origin=args.cors_origin,
        http_acl=args.http_acl,
        admin_acl=args.admin_acl,
        record_dir=str(Path(args.record_dir).resolve()),
        log_file=args.log_file,
        debug_level=args.debug_level,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m safeclass.media.process")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("render", "run"):
        p = sub.add_parser(name)
        p.add_argument("--config-dir", type=Path, default=Path("var/janus"))
        p.add_argument("--record-dir", default="var/recordings")
        p.add_argument("--bind", default="127.0.0.1")
        p.add_argument("--http-port", type=int, default=8088)
        p.add_argument("--admin-bind", default="127.0.0.1")
        p.add_argument("--admin-port", type=int, default=7088)
        p.add_argument("--ws-port", type=int, default=None)
        p.add_argument("--ice-enforce-list", default=None)
        p.add_argument("--nat-1-1", default=None)
        p.add_argument("--rtp-port-range", default="20000-40000")
        p.add_argument("--event-url", default=None)
        p.add_argument("--event-user", default="janus")
        p.add_argument("--cors-origin", default=None, help="CORS origin (default *)")
        p.add_argument("--http-acl", default=None, help="client address prefixes for the API")
        p.add_argument("--admin-acl", default=None, help="client address prefixes for admin")
        p.add_argument("--log-file", default=None)
        p.add_argument("--debug-level", type=int, default=4)
        if name == "run":
            p.add_argument("--netns", default=None)
            p.add_argument("--start-timeout", type=float, default=10.0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config_dir: Path = args.config_dir.resolve()
    secrets_ = load_or_create_secrets(config_dir / "secrets.json")
    config = config_from_args(args, secrets_)
    config.render(config_dir)
    print(f"Janus configuration written to {config_dir}", file=sys.stderr)
    if args.command == "render":
        return 0
    janus = JanusProcess.for_config(config, config_dir, netns=args.netns)
    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    janus.start(timeout=args.start_timeout)
    print(
        f"Janus is up: API {config.http_url}, admin {config.admin_url} (pid {janus.pid})",
        file=sys.stderr,
    )
    try:
        while not stopping and janus.running():
            time.sleep(0.2)
    finally:
        code = janus.stop()
    if not stopping:
        print(f"Janus exited with status {code}\n{janus.log_tail()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
