"""Reading Janus' ``.mjr`` recordings: what a stream is and when it ran.

The format (Janus ``record.c``, version 2)::

    "MJR00002"                      8 bytes
    uint16 BE length, JSON info     {"t": "a"|"v"|"d", "c": codec, "s": created µs,
                                     "u": first frame written µs, ...} (wall clock)
    then per frame:
    "MEET", uint32 BE ms since the first frame, uint16 BE length, the RTP packet

So a stream starts at ``u`` and ends at ``u`` + the last frame's offset. We read it
ourselves (headers only, no media decoded) rather than parse ``janus-pp-rec --header``
output, which is log text; ``janus-pp-rec`` still does the conversion.

File names, as the VideoRoom writes them:
``videoroom-<room>-user-<publisher id>-<time>-{audio,video,data}-<n>.mjr``.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MAGIC = b"MJR00002"
FRAME = b"MEET"
NAME_RE = re.compile(
    r"^videoroom-(?P<room>[^-]+)-user-(?P<publisher>[^-]+)-(?P<time>\d+)"
    r"-(?P<kind>audio|video|data)-(?P<n>\d+)\.mjr$")


class MjrError(Exception):
    """The file is not a readable .mjr recording."""


@dataclass(frozen=True)
class MjrInfo:
    path: Path
    kind: str               # "audio", "video" or "data"
    codec: str
    created_us: int         # when Janus made the recorder (wall clock, µs)
    first_frame_us: int     # when the first packet was written
    last_frame_ms: int      # offset of the last complete frame from the first
    frames: int
    truncated: bool         # the file ends inside a frame (Janus was killed mid-write)

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.first_frame_us / 1_000_000, tz=UTC)

    @property
    def end(self) -> datetime:
        return datetime.fromtimestamp((self.first_frame_us + self.last_frame_ms * 1000)
                                      / 1_000_000, tz=UTC)

    @property
    def duration(self) -> float:
        return self.last_frame_ms / 1000


@dataclass(frozen=True)
class MjrName:
    room: str
    publisher: str
    time: str
    kind: str
    n: int


def parse_name(name: str) -> MjrName | None:
    found = NAME_RE.match(name)
    if not found:
        return None
    return MjrName(room=found["room"], publisher=found["publisher"], time=found["time"],
                   kind=found["kind"], n=int(found["n"]))


_KINDS = {"a": "audio", "v": "video", "d": "data"}


def read_info(path: Path) -> MjrInfo:
    """The header and timing of ``path``; ``MjrError`` if it is not a usable recording
    (wrong magic, bad header, no frame at all, or garbage between frames)."""
    with open(path, "rb") as f:
        if f.read(8) != MAGIC:
            raise MjrError(f"{path.name}: not a Janus recording (version 2)")
        raw_len = f.read(2)
        if len(raw_len) != 2:
            raise MjrError(f"{path.name}: the header is cut short")
        (info_len,) = struct.unpack(">H", raw_len)
        raw = f.read(info_len)
        try:
            info = json.loads(raw)
            kind = _KINDS[info["t"]]
            codec = str(info["c"])
            created = int(info["s"])
            first = int(info["u"])
        except (ValueError, KeyError, TypeError) as exc:
            raise MjrError(f"{path.name}: the header is unreadable") from exc
        frames = 0
        last_ms = 0
        truncated = False
        while True:
            head = f.read(10)
            if not head:
                break
            if len(head) < 10:
                truncated = True
                break
            if head[:4] != FRAME:
                raise MjrError(f"{path.name}: damaged after {frames} packets")
            ms, length = struct.unpack(">IH", head[4:])
            body = f.read(length)
            if len(body) < length:
                truncated = True
                break
            frames += 1
            last_ms = max(last_ms, ms)
    if frames == 0:
        raise MjrError(f"{path.name}: no media in the recording")
    return MjrInfo(path=Path(path), kind=kind, codec=codec, created_us=created,
                   first_frame_us=first, last_frame_ms=last_ms, frames=frames,
                   truncated=truncated)
