"""Streaming a recording to a viewer: byte ranges for the player, and the download copy
with the viewer's name burned into the picture.

Nothing here writes plaintext to disk: the player gets decrypted bytes straight from the
store (``store.open_range``), and the download pipes those bytes through ffmpeg's stdin
and streams ffmpeg's stdout to the response. If ffmpeg fails, the iterator raises, so the
server cuts the response instead of ending it as if it were complete.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from asgiref.sync import sync_to_async

logger = logging.getLogger(__name__)

FONT_FILE = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CHUNK_SIZE = 64 * 1024


# ------------------------------------------------------------------------- byte ranges


class RangeNotSatisfiable(Exception):
    """The Range header asks only for bytes past the end (HTTP 416)."""


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range ``(start, end)`` (end inclusive) a Range header asks for, or
    None to send the whole file: no header, a header we do not understand, or several
    ranges (RFC 9110 lets a server ignore Range; players ask for one range at a time).
    Raises RangeNotSatisfiable for a range that starts past the end."""
    if not header:
        return None
    found = _RANGE.match(header.strip())
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # "bytes=-500": the last 500 bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # not a valid range: ignore the header
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


# -------------------------------------------------------------- sync and async streams


def _next_or_none(source: Iterator[bytes]) -> bytes | None:
    # StopIteration cannot cross from a worker thread into a coroutine: use None.
    return next(source, None)


def _close(source: Any) -> None:
    close = getattr(source, "close", None)
    if close is None:
        return
    try:
        close()
    except ValueError:
        pass  # a generator still running in its thread: it ends with that chunk


async def as_async(source: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Serve a blocking byte iterator (file reads, decryption, ffmpeg) under ASGI without
    blocking the event loop: each chunk is fetched in a worker thread. When the viewer
    goes away, the source is closed (ffmpeg killed, store files closed)."""
    fetch = sync_to_async(_next_or_none, thread_sensitive=False)
    try:
        while True:
            chunk = await fetch(source)
            if chunk is None:
                return
            yield chunk
    finally:
        _close(source)


# ------------------------------------------------------------------------- the download


def escape_filter_value(value: str) -> str:
    """Quote ``value`` as one option value inside one filter of an ffmpeg filtergraph.

    Two levels (ffmpeg-filters(1), "Notes on filtergraph escaping"): the option value is
    put in single quotes (inside them everything is literal; a quote is closed, escaped
    and reopened), then the whole is escaped for the filtergraph, where backslash, quote,
    brackets, comma and semicolon are special. No shell is involved (argument list)."""
    quoted = "'" + value.replace("'", "'\\''") + "'"
    return re.sub(r"([\\'\[\],;])", r"\\\1", quoted)


def drawtext_filter(text: str) -> str:
    """The ``-vf`` argument that burns ``text`` into the bottom left of every frame, in a
    dark box so it shows on any picture. ``expansion=none``: ``%`` in a name is literal."""
    # Newlines would be drawn as boxes; a name never needs one.
    text = " ".join(text.split())
    options = [
        f"fontfile={escape_filter_value(FONT_FILE)}",
        f"text={escape_filter_value(text)}",
        "expansion=none",
        "fontcolor=white",
        r"fontsize=max(14\,h/24)",
        "box=1",
        "boxcolor=black@0.6",
        "boxborderw=8",
        "x=16",
        "y=h-th-24",
    ]
    return "drawtext=" + ":".join(options)


def download_command(*, text: str, media_type: str) -> list[str]:
    """ffmpeg reading the decrypted file on stdin and writing the viewer's copy to stdout.
    Video is re-encoded with the text burned in; audio is copied. An audio-only file has
    no picture: the text goes into its metadata instead."""
    base = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", "pipe:0"]
    if media_type.startswith("audio/"):
        out_format = "ogg" if media_type == "audio/ogg" else "webm"
        return [*base, "-map", "0", "-c", "copy", "-metadata", f"comment={text}",
                "-f", out_format, "pipe:1"]
    return [*base, "-map", "0:v:0", "-map", "0:a?", "-vf", drawtext_filter(text),
            "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M",
            "-c:a", "copy", "-metadata", f"comment={text}", "-f", "webm", "pipe:1"]


class DownloadFailed(RuntimeError):
    """ffmpeg failed: the response must end broken, not look complete."""


class FfmpegStream:
    """Iterates ffmpeg's output while a thread feeds it ``source`` on stdin.

    Raises DownloadFailed at the end if ffmpeg or the source failed, so a server cuts the
    response. ``close()`` (the viewer went away) kills ffmpeg; safe from any thread."""

    def __init__(self, source: Iterable[bytes], command: list[str]) -> None:
        self._source = source
        self._command = command
        self._process: subprocess.Popen[bytes] | None = None
        self._feed_error: BaseException | None = None
        self._stderr: deque[bytes] = deque(maxlen=50)
        self._threads: list[threading.Thread] = []
        self._done = False
        self._closed = False

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603 (fixed program, argument list, no shell)
            self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self._process = process
        self._threads = [threading.Thread(target=self._feed, args=(process,), daemon=True),
                         threading.Thread(target=self._drain, args=(process,), daemon=True)]
        for thread in self._threads:
            thread.start()
        return process

    def _feed(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None
        try:
            for chunk in self._source:
                process.stdin.write(chunk)
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit status says why
        except BaseException as exc:  # decryption or checksum failed: the copy is bad
            self._feed_error = exc
            process.kill()
        finally:
            _close(self._source)
            try:
                process.stdin.close()
            except OSError:
                pass

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self._stderr.append(line)

    def __iter__(self) -> FfmpegStream:
        return self

    def __next__(self) -> bytes:
        if self._done or self._closed:
            raise StopIteration
        process = self._process or self._start()
        output = process.stdout
        assert isinstance(output, io.BufferedReader)
        # read1: whatever ffmpeg has written, without waiting for a full chunk.
        chunk = output.read1(CHUNK_SIZE)
        if chunk:
            return chunk
        self._done = True
        code = process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._closed:
            raise StopIteration  # the viewer went away: nothing to report
        if code != 0 or self._feed_error is not None:
            why = b"".join(self._stderr).decode("utf-8", "replace").strip()
            logger.error("download copy failed (ffmpeg exit %s): %s %s", code, why,
                         self._feed_error or "")
            raise DownloadFailed(f"ffmpeg exit {code}") from self._feed_error
        raise StopIteration

    def close(self) -> None:
        # May run in another thread than a __next__ blocked on ffmpeg's output: killing
        # ffmpeg ends that read; the pipes close with the process object.
        self._closed = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
