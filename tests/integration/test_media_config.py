"""Rendering the Janus configuration from deploy/janus (against the installed Janus modules)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from safeclass.media.janus_config import (
    ConfigError,
    JanusConfig,
    find_janus_lib_dir,
    generate_secrets,
)

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/janus").exists(), reason="the Debian janus package is not installed"
)


def make_config(tmp_path: Path, **overrides: object) -> JanusConfig:
    s = generate_secrets()
    values: dict[str, object] = {
        "api_secret": s.api_secret,
        "admin_secret": s.admin_secret,
        "videoroom_admin_key": s.videoroom_admin_key,
        "event_url": "http://10.0.0.1:8000/media/events",
        "event_password": s.event_password,
        "record_dir": str(tmp_path / "recordings"),
    }
    values.update(overrides)
    return JanusConfig(**values)  # type: ignore[arg-type]


def test_secrets_are_long_and_distinct() -> None:
    s = generate_secrets()
    values = [s.api_secret, s.admin_secret, s.videoroom_admin_key, s.event_password]
    assert len(set(values)) == 4
    assert all(len(v) >= 43 for v in values)  # 32 random bytes, base64url


def test_render_writes_private_files_atomically(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    written = config.render(tmp_path / "conf")
    assert sorted(p.name for p in written) == sorted(os.listdir(tmp_path / "conf"))
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Rendering again replaces the files and leaves no temporary file behind.
    config.render(tmp_path / "conf")
    assert not [n for n in os.listdir(tmp_path / "conf") if n.endswith(".tmp")]
    marker = Path(config.record_dir) / ".recording-off"
    assert marker.is_file()
    assert config.idle_record_dir == f"{marker}/none"


def test_everything_unused_is_disabled(tmp_path: Path) -> None:
    texts = make_config(tmp_path).render_texts(tmp_path)
    core = texts["janus.jcfg"]
    lib_dir = find_janus_lib_dir()

    def disabled(section: str) -> set[str]:
        match = re.search(section + r': \{[^}]*?disable = "([^"]*)"', core)
        assert match, section
        return set(match.group(1).split(","))

    plugins = {p.name for p in (lib_dir / "plugins").glob("libjanus_*.so")}
    assert disabled("plugins") == plugins - {"libjanus_videoroom.so"}
    transports = {p.name for p in (lib_dir / "transports").glob("libjanus_*.so")}
    assert disabled("transports") == transports - {"libjanus_http.so"}
    events = {p.name for p in (lib_dir / "events").glob("libjanus_*.so")}
    assert disabled("events") == events - {"libjanus_sampleevh.so"}
    assert disabled("loggers") == {p.name for p in (lib_dir / "loggers").glob("libjanus_*.so")}
    assert "token_auth = true" in core
    assert "broadcast = true" in core
    room = texts["janus.plugin.videoroom.jcfg"]
    assert "string_ids = true" in room and "admin_key = " in room
    assert "room-" not in room.split("general")[1]  # no static rooms


def test_without_events_or_with_websockets(tmp_path: Path) -> None:
    core = make_config(tmp_path, event_url=None, ws_port=8188).render_texts(tmp_path)["janus.jcfg"]
    assert "broadcast = false" in core
    assert "libjanus_sampleevh.so" in core.split("events: {")[1]
    assert "libjanus_websockets.so" not in core.split("transports: {")[1].split("}")[0]


def test_values_are_quoted_for_libconfig(tmp_path: Path) -> None:
    config = make_config(tmp_path, admin_secret='a"b\\c' + "x" * 16)
    core = config.render_texts(tmp_path)["janus.jcfg"]
    assert 'admin_secret = "a\\"b\\\\c' in core
    with pytest.raises(ConfigError):
        make_config(tmp_path, server_name="evil\n}\nplugins: {").render_texts(tmp_path)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"admin_secret": "short"}, "admin_secret"),
        ({"videoroom_admin_key": ""}, "videoroom_admin_key"),
        ({"api_secret": "short"}, "api_secret"),
        ({"admin_port": 8088}, "must differ"),
        ({"rtp_port_range": (40000, 20000)}, "rtp_port_range"),
        ({"event_password": ""}, "event_password"),
        ({"event_url": "ftp://x"}, "event_url"),
        ({"record_dir": "/etc/janus/recordings"}, "record_dir"),
    ],
)
def test_validation_names_the_field(
    tmp_path: Path, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError, match=field):
        make_config(tmp_path, **overrides).validate()
