"""Janus configuration, rendered from the project's own templates.

Janus is the Debian package; we never edit ``/etc/janus``. Instead a
:class:`JanusConfig` is rendered into a directory of our own (``var/janus`` in
development) and Janus is started with ``-F <dir> -C <dir>/janus.jcfg``
(see :mod:`safeclass.media.process`). The templates live in ``deploy/janus/``;
docs/media.md explains each setting.
"""

from __future__ import annotations

import os
import secrets
import string
import sysconfig
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "deploy" / "janus"

#: The only plugin we load.
VIDEOROOM_PLUGIN = "janus.plugin.videoroom"
_VIDEOROOM_LIB = "libjanus_videoroom.so"
_HTTP_LIB = "libjanus_http.so"
_WEBSOCKETS_LIB = "libjanus_websockets.so"
_SAMPLEEVH_LIB = "libjanus_sampleevh.so"

# Modules shipped by Debian's janus 1.1.2. The disable lists are the union of
# these and whatever else is found in the module folders at render time, so a
# module added by a later package is switched off too.
_KNOWN_PLUGINS = (
    "libjanus_audiobridge.so",
    "libjanus_duktape.so",
    "libjanus_echotest.so",
    "libjanus_lua.so",
    "libjanus_nosip.so",
    "libjanus_recordplay.so",
    "libjanus_sip.so",
    "libjanus_streaming.so",
    "libjanus_textroom.so",
    "libjanus_videocall.so",
    "libjanus_videoroom.so",
    "libjanus_voicemail.so",
)
_KNOWN_TRANSPORTS = (
    "libjanus_http.so",
    "libjanus_mqtt.so",
    "libjanus_nanomsg.so",
    "libjanus_pfunix.so",
    "libjanus_rabbitmq.so",
    "libjanus_websockets.so",
)
_KNOWN_LOGGERS = ("libjanus_jsonlog.so",)
_KNOWN_EVENTS = (
    "libjanus_gelfevh.so",
    "libjanus_mqttevh.so",
    "libjanus_nanomsgevh.so",
    "libjanus_rabbitmqevh.so",
    "libjanus_sampleevh.so",
    "libjanus_wsevh.so",
)

#: Folders no Janus API request may write a recording or capture into. Unlike
#: Debian's sample this does not protect all of ``/var``, so recordings can go
#: to ``/var/lib/safeclass``; the sensitive parts of ``/var`` are listed instead.
DEFAULT_PROTECTED_FOLDERS: tuple[str, ...] = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/initrd",
    "/lib",
    "/lib32",
    "/lib64",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var/backups",
    "/var/cache",
    "/var/lib/dpkg",
    "/var/lib/apt",
    "/var/log",
    "/var/mail",
    "/var/spool",
    "/var/www",
)

#: Name of the regular file in record_dir that parks rooms' rec_dir.
RECORDING_OFF_MARKER = ".recording-off"

RENDERED_FILES = (
    "janus.jcfg",
    "janus.plugin.videoroom.jcfg",
    "janus.transport.http.jcfg",
    "janus.transport.websockets.jcfg",
    "janus.eventhandler.sampleevh.jcfg",
)


class ConfigError(ValueError):
    """A JanusConfig value that cannot be rendered safely."""


def find_janus_lib_dir() -> Path:
    """Where the Debian package put Janus' modules (``/usr/lib/<multiarch>/janus``)."""
    candidates: list[Path] = []
    multiarch = sysconfig.get_config_var("MULTIARCH")
    if isinstance(multiarch, str) and multiarch:
        candidates.append(Path("/usr/lib") / multiarch / "janus")
    candidates.extend(sorted(Path("/usr/lib").glob("*/janus")))
    candidates.extend([Path("/usr/lib/janus"), Path("/opt/janus/lib/janus")])
    for candidate in candidates:
        if (candidate / "plugins" / _VIDEOROOM_LIB).exists():
            return candidate
    raise ConfigError("Janus modules not found: is the Debian 'janus' package installed?")


@dataclass(frozen=True)
class JanusSecrets:
    """The secrets one Janus instance is configured with."""

    #: Our server's credential on the Janus API (browsers use stored tokens).
    api_secret: str
    #: Credential for the admin API (add_token / remove_token).
    admin_secret: str
    #: VideoRoom ``admin_key``: needed to create rooms.
    videoroom_admin_key: str
    #: Password the event handler uses (HTTP basic auth) to post events to us.
    event_password: str


def generate_secrets() -> JanusSecrets:
    """Fresh, independent 256-bit secrets."""
    return JanusSecrets(
        api_secret=secrets.token_urlsafe(32),
        admin_secret=secrets.token_urlsafe(32),
        videoroom_admin_key=secrets.token_urlsafe(32),
        event_password=secrets.token_urlsafe(32),
    )


@dataclass(frozen=True)
class JanusConfig:
    """Everything that varies between Janus deployments."""

    admin_secret: str
    videoroom_admin_key: str
    #: Our server's Janus API secret. Janus accepts a request with EITHER this
    #: apisecret OR a valid stored token; None means our server must use a token.
    api_secret: str | None = None
    server_name: str = "safeclass"
    #: Address the Janus API (HTTP, and WebSocket if enabled) listens on.
    bind_address: str = "127.0.0.1"
    http_port: int = 8088
    #: Address the admin API listens on: keep it private to our server.
    admin_bind_address: str = "127.0.0.1"
    admin_port: int = 7088
    #: WebSocket transport for browsers; None switches the transport off.
    ws_port: int | None = None
    #: Comma-separated list of client address prefixes allowed on the Janus API.
    http_acl: str | None = None
    #: Same, for the admin API (e.g. our server's address).
    admin_acl: str | None = None
    #: Value of Access-Control-Allow-Origin (our site's origin); None means "*".
    cors_origin: str | None = None
    #: Interfaces (names or address prefixes) used for ICE candidates.
    ice_enforce_list: str | None = None
    ice_ignore_list: str = "vmnet"
    #: Public address when Janus sits behind a 1:1 NAT.
    nat_1_1_mapping: str | None = None
    stun_server: str | None = None
    stun_port: int = 3478
    rtp_port_range: tuple[int, int] = (20000, 40000)
    #: Where the HTTP event handler posts events; None disables event handlers.
    event_url: str | None = None
    event_user: str = "janus"
    event_password: str = ""
    #: Default folder for this instance's .mjr recordings.
    record_dir: str = "var/recordings"
    #: Janus log file; None logs to stdout.
    log_file: str | None = None
    debug_level: int = 4
    session_timeout: int = 60
    protected_folders: tuple[str, ...] = DEFAULT_PROTECTED_FOLDERS
    #: Janus module folder; found automatically when None.
    janus_lib_dir: Path | None = None
    template_dir: Path = field(default=TEMPLATE_DIR)

    # ----------------------------------------------------------------- urls

    @property
    def http_url(self) -> str:
        return f"http://{_url_host(self.bind_address)}:{self.http_port}/janus"

    @property
    def admin_url(self) -> str:
        return f"http://{_url_host(self.admin_bind_address)}:{self.admin_port}/admin"

    @property
    def recording_off_marker(self) -> Path:
        """A regular file inside record_dir; see idle_record_dir."""
        return Path(os.path.abspath(self.record_dir)) / RECORDING_OFF_MARKER

    @property
    def idle_record_dir(self) -> str:
        """The rec_dir rooms point at while not recording.

        It lies under a regular file, so Janus cannot create it and any
        recording attempt fails (Janus 1.1.2 lets a publisher start its own
        recording with ``joinandconfigure`` even when the room has
        ``lock_record``). :meth:`render` creates the marker file.
        """
        return str(self.recording_off_marker / "none")

    # ------------------------------------------------------------- checking

    def validate(self) -> None:
        """Raise ConfigError naming the first unusable field."""
        for name in ("admin_secret", "videoroom_admin_key"):
            if len(getattr(self, name)) < 16:
                raise ConfigError(f"{name} must be at least 16 characters")
        if self.api_secret is not None and len(self.api_secret) < 16:
            raise ConfigError("api_secret must be at least 16 characters")
        ports = {"http_port": self.http_port, "admin_port": self.admin_port}
        if self.ws_port is not None:
            ports["ws_port"] = self.ws_port
        for name, port in ports.items():
            if not 1 <= port <= 65535:
                raise ConfigError(f"{name} must be between 1 and 65535")
        if len(set(ports.values())) != len(ports):
            raise ConfigError("http_port, admin_port and ws_port must differ")
        low, high = self.rtp_port_range
        if not 1024 <= low < high <= 65535:
            raise ConfigError("rtp_port_range must be two ports, low < high, within 1024-65535")
        if not 0 <= self.debug_level <= 7:
            raise ConfigError("debug_level must be between 0 and 7")
        if self.session_timeout < 10:
            raise ConfigError("session_timeout must be at least 10 seconds")
        if self.event_url is not None:
            if not self.event_url.startswith(("http://", "https://")):
                raise ConfigError("event_url must be an http:// or https:// URL")
            if not self.event_password:
                raise ConfigError("event_password is required when event_url is set")
        record_dir = os.path.abspath(self.record_dir)
        for folder in self.protected_folders:
            if record_dir == folder or record_dir.startswith(folder.rstrip("/") + "/"):
                raise ConfigError(f"record_dir {record_dir} is inside protected folder {folder}")

    # ------------------------------------------------------------ rendering

    def render(self, config_dir: Path) -> list[Path]:
        """Write the Janus configuration files into config_dir, atomically.

        Each file is written to a temporary file in the same folder and renamed
        over the old one, so a running Janus (or a concurrent render) never sees
        a half-written file. Files are readable by their owner only: they hold
        secrets. Returns the paths written.
        """
        self.validate()
        config_dir = config_dir.resolve()
        config_dir.mkdir(parents=True, exist_ok=True)
        os.makedirs(os.path.abspath(self.record_dir), exist_ok=True)
        marker = self.recording_off_marker
        if marker.exists() and not marker.is_file():
            raise ConfigError(f"{marker} must be a regular file")
        if not marker.exists():
            marker.write_text("Rooms point their rec_dir below this file while not recording.\n")
        written = []
        for name, text in self.render_texts(config_dir).items():
            path = config_dir / name
            _atomic_write(path, text)
            written.append(path)
        return written

    def render_texts(self, config_dir: Path) -> dict[str, str]:
        """The rendered files as {file name: text}, without touching the disk."""
        lib_dir = self.janus_lib_dir or find_janus_lib_dir()
        values = self._values(config_dir.resolve(), lib_dir)
        texts = {}
        for name in RENDERED_FILES:
            template = string.Template((self.template_dir / name).read_text())
            wanted = {ident for ident in template.get_identifiers()}
            texts[name] = template.substitute({k: v for k, v in values.items() if k in wanted})
        return texts

    def _values(self, config_dir: Path, lib_dir: Path) -> dict[str, str]:
        use_events = self.event_url is not None
        keep_transports = {_HTTP_LIB} | ({_WEBSOCKETS_LIB} if self.ws_port else set())
        keep_events = {_SAMPLEEVH_LIB} if use_events else set()
        low, high = self.rtp_port_range
        stun_lines = (
            f"stun_server = {_q(self.stun_server)}\n\tstun_port = {int(self.stun_port)}"
            if self.stun_server
            else "# no STUN server: host candidates only"
        )
        return {
            "generated_note": "Generated file: contains secrets.",
            "configs_folder": _q(str(config_dir)),
            "plugins_folder": _q(str(lib_dir / "plugins")),
            "transports_folder": _q(str(lib_dir / "transports")),
            "events_folder": _q(str(lib_dir / "events")),
            "loggers_folder": _q(str(lib_dir / "loggers")),
            "log_to_stdout": _b(self.log_file is None),
            "log_to_file_line": _opt("log_to_file", self.log_file),
            "debug_level": str(int(self.debug_level)),
            "server_name": _q(self.server_name),
            "session_timeout": str(int(self.session_timeout)),
            "api_secret_line": _opt("api_secret", self.api_secret),
            "admin_secret": _q(self.admin_secret),
            "protected_folders": ",\n".join(f"\t\t{_q(f)}" for f in self.protected_folders),
            "rtp_port_range": _q(f"{int(low)}-{int(high)}"),
            "stun_lines": stun_lines,
            "nat_1_1_line": _opt("nat_1_1_mapping", self.nat_1_1_mapping),
            "ice_enforce_line": _opt("ice_enforce_list", self.ice_enforce_list),
            "ice_ignore_list": _q(self.ice_ignore_list),
            "disabled_plugins": _disable_list(
                lib_dir / "plugins", _KNOWN_PLUGINS, keep={_VIDEOROOM_LIB}
            ),
            "disabled_transports": _disable_list(
                lib_dir / "transports", _KNOWN_TRANSPORTS, keep=keep_transports
            ),
            "disabled_loggers": _disable_list(lib_dir / "loggers", _KNOWN_LOGGERS, keep=set()),
            "disabled_events": _disable_list(lib_dir / "events", _KNOWN_EVENTS, keep=keep_events),
            "events_broadcast": _b(use_events),
            # janus.plugin.videoroom.jcfg
            "admin_key": _q(self.videoroom_admin_key),
            # janus.transport.http.jcfg / websockets
            "http_port": str(int(self.http_port)),
            "bind_address": _q(self.bind_address),
            "admin_port": str(int(self.admin_port)),
            "admin_bind_address": _q(self.admin_bind_address),
            "http_acl_line": _opt("acl", self.http_acl),
            "admin_acl_line": _opt("admin_acl", self.admin_acl),
            "ws_acl_line": _opt("ws_acl", self.http_acl),
            "cors_line": _opt("allow_origin", self.cors_origin),
            "ws_port": str(int(self.ws_port or 8188)),
            # janus.eventhandler.sampleevh.jcfg
            "enabled": _b(use_events),
            "backend": _q(self.event_url or "http://127.0.0.1/unused"),
            "backend_user": _q(self.event_user),
            "backend_pwd": _q(self.event_password),
        }


def _url_host(address: str) -> str:
    if address in ("0.0.0.0", ""):  # noqa: S104 - only used to build a URL
        return "127.0.0.1"
    return f"[{address}]" if ":" in address else address


def _q(value: str) -> str:
    """A libconfig string literal."""
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in value):
        raise ConfigError(f"control characters are not allowed in Janus settings: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _b(value: bool) -> str:
    return "true" if value else "false"


def _opt(key: str, value: str | None) -> str:
    return f"{key} = {_q(value)}" if value else f"# {key} not set"


def _disable_list(folder: Path, known: Iterable[str], keep: set[str]) -> str:
    names = set(known)
    if folder.is_dir():
        names.update(p.name for p in folder.glob("libjanus_*.so"))
    disabled = sorted(names - keep)
    # Janus ignores an empty list; "none" keeps the line well-formed either way.
    return _q(",".join(disabled) if disabled else "none")


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
