"""Real Janus ``.mjr`` recordings for the pipeline tests, without a browser.

ffmpeg encodes real media (a VP8 test picture into IVF, an Opus tone into Ogg); we cut it
into RTP packets as a WebRTC sender would (RFC 7741 for VP8, RFC 7587 for Opus) and write
them in Janus' recording format (``record.c``, MJR00002: magic, JSON info header with the
wall-clock start ``u``, then ``MEET`` + ms offset + length + RTP packet per frame). The
files go through the real ``janus-pp-rec`` and ffmpeg in the tests; nothing is mocked.

File names are the VideoRoom's: ``videoroom-<room>-user-<publisher>-<time>-<kind>-0.mjr``.
"""

from __future__ import annotations

import json
import struct
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

VP8_PT, OPUS_PT = 96, 111
MTU = 1100


def _rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool) -> bytes:
    return struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def _ivf_frames(path: Path) -> list[tuple[int, bytes]]:
    data = path.read_bytes()
    assert data[:4] == b"DKIF"
    header_len = struct.unpack("<H", data[6:8])[0]
    rate, scale = struct.unpack("<II", data[16:24])
    pos, frames = header_len, []
    while pos + 12 <= len(data):
        size, pts = struct.unpack("<IQ", data[pos:pos + 12])
        frames.append((pts * scale * 1000 // rate, data[pos + 12:pos + 12 + size]))
        pos += 12 + size
    return frames  # (ms, frame)


def _ogg_packets(path: Path) -> list[bytes]:
    data = path.read_bytes()
    pos, packets, current = 0, [], b""
    while pos < len(data):
        assert data[pos:pos + 4] == b"OggS"
        nsegs = data[pos + 26]
        table = data[pos + 27:pos + 27 + nsegs]
        body = pos + 27 + nsegs
        for lace in table:
            current += data[body:body + lace]
            body += lace
            if lace < 255:
                packets.append(current)
                current = b""
        pos = body
    return packets[2:]  # OpusHead, OpusTags are not media


def video_packets(seconds: float, *, rate: int = 15, size: str = "320x240",
                  ssrc: int = 0x1111) -> list[tuple[int, bytes]]:
    with tempfile.TemporaryDirectory() as tmp:
        ivf = Path(tmp) / "v.ivf"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc=size={size}:rate={rate}:duration={seconds}",
                        "-c:v", "libvpx", "-b:v", "200k", "-g", str(rate),
                        "-deadline", "realtime", "-cpu-used", "8", str(ivf)], check=True)
        frames = _ivf_frames(ivf)
    out, seq = [], 1
    for ms, frame in frames:
        ts = ms * 90
        chunks = [frame[i:i + MTU] for i in range(0, len(frame), MTU)] or [b""]
        for i, chunk in enumerate(chunks):
            descriptor = b"\x10" if i == 0 else b"\x00"  # S bit on a frame's first packet
            out.append((ms, _rtp(VP8_PT, seq, ts, ssrc, descriptor + chunk,
                                 marker=i == len(chunks) - 1)))
            seq += 1
    return out


def audio_packets(seconds: float, *, freq: int = 440,
                  ssrc: int = 0x2222) -> list[tuple[int, bytes]]:
    with tempfile.TemporaryDirectory() as tmp:
        ogg = Path(tmp) / "a.ogg"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"sine=frequency={freq}:duration={seconds}", "-ar", "48000",
                        "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20",
                        str(ogg)], check=True)
        packets = _ogg_packets(ogg)
    return [(i * 20, _rtp(OPUS_PT, i + 1, i * 960, ssrc, p, marker=i == 0))
            for i, p in enumerate(packets)]


def write_mjr(path: Path, *, kind: str, codec: str, start: datetime,
              packets: list[tuple[int, bytes]]) -> Path:
    start_us = int(start.timestamp() * 1_000_000)
    info = json.dumps({"t": kind[0], "c": codec, "s": start_us - 20_000, "u": start_us},
                      separators=(",", ":")).encode()
    with open(path, "wb") as f:
        f.write(b"MJR00002")
        f.write(struct.pack(">H", len(info)))
        f.write(info)
        for ms, packet in packets:
            f.write(b"MEET" + struct.pack(">IH", ms, len(packet)) + packet)
    return path


def stream_name(room: str, publisher: str, kind: str, start: datetime) -> str:
    return f"videoroom-{room}-user-{publisher}-{int(start.timestamp() * 1e6)}-{kind}-0.mjr"


def write_publisher(folder: Path, *, room: str, publisher: str, start: datetime,
                    seconds: float, audio: bool = True, video: bool = True,
                    freq: int = 440) -> list[Path]:
    """The .mjr files one publisher's camera (or screen, video only) leaves."""
    written = []
    if video:
        written.append(write_mjr(folder / stream_name(room, publisher, "video", start),
                                 kind="video", codec="vp8", start=start,
                                 packets=video_packets(seconds)))
    if audio:
        written.append(write_mjr(folder / stream_name(room, publisher, "audio", start),
                                 kind="audio", codec="opus", start=start,
                                 packets=audio_packets(seconds, freq=freq)))
    return written
