"""Reading .mjr headers and timing (synthetic packets; the real media goes through
janus-pp-rec in tests/integration/test_recordings_pipeline.py)."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime

import pytest

from safeclass.recordings import mjr


def _write(path, info: dict, frames: list[tuple[int, bytes]], magic=b"MJR00002"):
    raw = json.dumps(info).encode()
    body = magic + struct.pack(">H", len(raw)) + raw
    for ms, packet in frames:
        body += b"MEET" + struct.pack(">IH", ms, len(packet)) + packet
    path.write_bytes(body)
    return path


START = int(datetime(2026, 3, 2, 10, 0, tzinfo=UTC).timestamp() * 1_000_000)
INFO = {"t": "v", "c": "vp8", "s": START - 5000, "u": START}


def test_times_and_kind(tmp_path):
    path = _write(tmp_path / "a.mjr", INFO, [(0, b"x" * 20), (40, b"y" * 30), (2500, b"z")])
    info = mjr.read_info(path)
    assert (info.kind, info.codec, info.frames, info.truncated) == ("video", "vp8", 3, False)
    assert info.start == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert info.duration == 2.5
    assert (info.end - info.start).total_seconds() == 2.5


def test_truncated_last_frame(tmp_path):
    path = _write(tmp_path / "a.mjr", INFO, [(0, b"x" * 20), (40, b"y" * 30)])
    path.write_bytes(path.read_bytes()[:-5])
    info = mjr.read_info(path)
    assert (info.frames, info.truncated) == (1, True)


@pytest.mark.parametrize("damage", ["magic", "header", "frame", "empty"])
def test_unreadable(tmp_path, damage):
    path = tmp_path / "a.mjr"
    if damage == "magic":
        _write(path, INFO, [(0, b"x")], magic=b"MJR00001")
    elif damage == "header":
        path.write_bytes(b"MJR00002" + struct.pack(">H", 5) + b"{nope")
    elif damage == "frame":
        _write(path, INFO, [(0, b"x" * 10), (20, b"y")])
        data = path.read_bytes()
        path.write_bytes(data[:-11] + b"JUNK" + data[-7:])
    else:
        _write(path, INFO, [])
    with pytest.raises(mjr.MjrError):
        mjr.read_info(path)


def test_parse_name():
    name = mjr.parse_name(
        "videoroom-" + "a" * 32 + "-user-" + "b" * 32 + "-1795931048311077-audio-1.mjr")
    assert name is not None
    assert (name.room, name.publisher, name.kind, name.n) == ("a" * 32, "b" * 32, "audio", 1)
    assert mjr.parse_name("janus-recording-12.mjr") is None
    assert mjr.parse_name("videoroom-a-user-b-1-video-0.mjr.tmp") is None
