"""After the lesson: Janus' raw ``.mjr`` files → one playable lesson file + one file per
stream, all encrypted into the store.

Steps (progress saved as it goes, in plain words for the lesson page):

1. claim the recording with a compare-and-set update (queued/failed → processing), so a
   second run of the same lesson, in this process or another worker, does nothing;
2. read each finished ``.mjr`` header (``mjr.py``: kind, codec, wall-clock start and end);
   files still called ``*.mjr.tmp`` are Janus' unfinished ones: while one changed in the
   last ``SETTLE_SECONDS`` the job steps back (queued again shortly, no attempt used),
   as Janus may still be closing it; older ones were abandoned and are left out; a
   corrupt or truncated file is left out and noted, as long as others are fine;
3. ``janus-pp-rec`` turns each into a media file (VP8 video → WebM, Opus → Ogg Opus);
4. ffmpeg composes ONE lesson file (WebM, VP8 + Opus, cues for seeking): staff cameras
   and shared screens in a grid of 640×360 tiles, every voice mixed, each stream placed
   at its start offset, black and silence where nobody published; the timeline runs from
   the earliest stream start to the latest stream end;
5. every file is encrypted into the store (``store.py``) and gets a RecordingFile row in
   one transaction with the status READY; only then is the raw folder deleted.

Plaintext exists only in the private work folder (``paths.work_dir``), removed in a
``finally`` whatever happened. A failure (ffmpeg, disk full, nothing readable) leaves the
status FAILED with a plain error, keeps the raw files, deletes whatever this run had
stored, and retries later, up to ``MAX_ATTEMPTS`` runs in all.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from safeclass.audit.services import record
from safeclass.recordings import keys, mjr, paths, store
from safeclass.recordings.models import FileKind, Recording, RecordingFile, RecordingStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=5)
# Overridable by tests (e.g. to make ffmpeg fail for real with a bad option).
FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
JANUS_PP_REC = "janus-pp-rec"
TILE_W, TILE_H, FPS = 640, 360, 15
# A stuck tool must not hold the worker for ever: generous for a long lesson.
TOOL_TIMEOUT = 4 * 3600
# Less free space than this where a tool failed: report it as a full disk.
DISK_FULL_BYTES = 1 << 20


class ProcessingError(Exception):
    """A failure with a plain message for staff (stored in ``Recording.error``)."""


class NotSettled(Exception):
    """Janus is still writing (or closing) a raw file: try again in a moment."""


# A *.mjr.tmp changed more recently than this is still Janus' (it renames it on close).
SETTLE_SECONDS = 60
SETTLE_RETRY = timedelta(seconds=15)


@dataclass
class Stream:
    info: mjr.MjrInfo
    publisher: str
    kind: str                    # audio / video
    converted: Path | None = None
    presence: object | None = None
    track: str = ""              # audio / video / screen
    label: str = ""
    staff: bool = False
    duration: float | None = None


@dataclass
class Outcome:
    streams: list[Stream] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------ progress


def _progress(rec: Recording, percent: int, step: str) -> None:
    # A plain UPDATE (no save()): the page polls these two fields while we work.
    Recording.objects.filter(pk=rec.pk).update(progress_percent=percent,
                                               progress_step=step[:120])


def _audit(rec: Recording, action: str, **data: object) -> None:
    record(action, actor_label="SafeClass", school=rec.school, obj=rec,
           data={"lesson": rec.lesson_id, **data})


# ------------------------------------------------------------------------ the job


def claim(recording_id: int, *, force: bool = False) -> bool:
    """queued/failed → processing, atomically; False if another run has it (or it is
    done, deleted, or out of attempts unless ``force``)."""
    found = Recording.objects.filter(
        pk=recording_id, status__in=(RecordingStatus.QUEUED, RecordingStatus.FAILED))
    if not force:
        found = found.filter(attempts__lt=MAX_ATTEMPTS)
    return bool(found.update(status=RecordingStatus.PROCESSING, attempts=F("attempts") + 1,
                             progress_percent=0, progress_step=_("Starting"), error=""))


def process_recording(recording_id: int, *, force: bool = False) -> Recording:
    """Run the whole job for one recording (see the module docstring)."""
    if not claim(recording_id, force=force):
        log.info("recording %s: not queued (or another run has it); nothing to do",
                 recording_id)
        return Recording.objects.get(pk=recording_id)
    rec = Recording.objects.select_related("lesson", "school").get(pk=recording_id)
    work = paths.work_dir(rec)
    stored: list[str] = []
    store_folder = paths.store_dir(rec)
    try:
        shutil.rmtree(work, ignore_errors=True)  # a crashed run's leftovers
        paths.make_private_dir(work)
        keys.recipient()  # no key, no point converting anything: fail at once
        outcome = _collect(rec, work)
        if not outcome.streams:
            if outcome.notes:
                raise ProcessingError(" ".join(outcome.notes))
            return _finish_empty(rec)
        lesson_file, duration = _compose(rec, work, outcome.streams)
        _progress(rec, 80, _("Encrypting and storing the files"))
        paths.make_private_dir(store_folder)
        store.remove_partial(store_folder)
        rows = _store_all(rec, store_folder, lesson_file, duration, outcome.streams, stored)
        return _finish_ready(rec, rows, duration, outcome.notes)
    except NotSettled:
        return _step_back(rec)
    except Exception as exc:
        message = _plain_error(exc, work)
        log.exception("recording %s: processing failed", recording_id)
        for name in stored:
            with contextlib.suppress(Exception):
                store.delete_file(store_folder, name)
        return _finish_failed(rec, message)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _disk_nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path).free < DISK_FULL_BYTES
    except OSError:
        return False


def _plain_error(exc: Exception, work: Path) -> str:
    if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
            isinstance(exc, ProcessingError) and _disk_nearly_full(work)):
        # A tool that failed on a full disk often says something vaguer.
        return _("The disk filled up while the recording was being prepared.")
    if isinstance(exc, ProcessingError):
        return str(exc)
    if isinstance(exc, keys.RecordingKeyError):
        return _("Recordings cannot be stored: the recording key is not set up.")
    if isinstance(exc, subprocess.TimeoutExpired):
        return _("Preparing the recording took too long and was stopped.")
    return _("Something went wrong while preparing the recording.")


def _finish_empty(rec: Recording) -> Recording:
    with transaction.atomic():
        Recording.objects.filter(pk=rec.pk).update(
            status=RecordingStatus.EMPTY, progress_percent=100,
            progress_step=_("Nothing was recorded"), processed_at=timezone.now())
        _audit(rec, "recording.processed", files=0, duration=0)
    _remove_raw(rec)
    return Recording.objects.get(pk=rec.pk)


def _finish_ready(rec: Recording, rows: list[RecordingFile], duration: float,
                  notes: list[str]) -> Recording:
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=rec.pk)
        if locked.status != RecordingStatus.PROCESSING:
            # Deleted (purged) while we worked: keep nothing.
            raise ProcessingError(_("The recording changed while it was being prepared."))
        old = list(locked.files.values_list("store_name", flat=True))
        locked.files.all().delete()
        RecordingFile.objects.bulk_create(rows)
        locked.status = RecordingStatus.READY
        locked.progress_percent = 100
        locked.progress_step = _("Ready")
        locked.processed_at = timezone.now()
        locked.duration_seconds = duration
        locked.error = " ".join(notes)
        locked.save(update_fields=["status", "progress_percent", "progress_step",
                                   "processed_at", "duration_seconds", "error"])
        _audit(locked, "recording.processed", files=len(rows), duration=round(duration, 1),
               **({"skipped": notes} if notes else {}))
    folder = paths.store_dir(rec)
    for name in old:  # an earlier run's files, replaced
        with contextlib.suppress(Exception):
            store.delete_file(folder, name)
    _remove_raw(rec)
    return locked


def _step_back(rec: Recording) -> Recording:
    # Not a failure: give the attempt back and look again shortly.
    log.info("recording %s: Janus is still writing raw files; trying again soon", rec.pk)
    with transaction.atomic():
        Recording.objects.filter(pk=rec.pk, status=RecordingStatus.PROCESSING).update(
            status=RecordingStatus.QUEUED, attempts=F("attempts") - 1,
            progress_step=_("Waiting for the video server to finish the files"))
        from safeclass.recordings.tasks import enqueue_processing

        pk = rec.pk
        transaction.on_commit(lambda: enqueue_processing(pk, delay=SETTLE_RETRY))
    return Recording.objects.get(pk=rec.pk)


def _finish_failed(rec: Recording, message: str) -> Recording:
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=rec.pk)
        if locked.status != RecordingStatus.PROCESSING:
            return locked
        locked.status = RecordingStatus.FAILED
        locked.error = message
        locked.progress_step = _("Could not be prepared")
        locked.save(update_fields=["status", "error", "progress_step"])
        _audit(locked, "recording.processing_failed", error=message,
               attempt=locked.attempts)
        if locked.attempts < MAX_ATTEMPTS:
            # Imported here: tasks imports this module.
            from safeclass.recordings.tasks import enqueue_processing

            pk, delay = locked.pk, RETRY_AFTER * locked.attempts
            transaction.on_commit(lambda: enqueue_processing(pk, delay=delay))
    return locked


def _remove_raw(rec: Recording) -> None:
    # Only after the encrypted copies are committed: the raw files are the last copy.
    shutil.rmtree(paths.raw_dir(rec), ignore_errors=True)


# ------------------------------------------------------------------------ reading


def _collect(rec: Recording, work: Path) -> Outcome:
    _progress(rec, 5, _("Reading the raw recordings"))
    raw = paths.raw_dir(rec)
    outcome = Outcome()
    files = sorted(raw.glob("*.mjr")) if raw.is_dir() else []
    unfinished = sorted(raw.glob("*.mjr.*")) if raw.is_dir() else []
    now = time.time()
    if any(now - p.stat().st_mtime < SETTLE_SECONDS for p in unfinished):
        raise NotSettled
    if unfinished:
        outcome.notes.append(ngettext(
            "%(count)d raw file was never finished by the video server and was left out.",
            "%(count)d raw files were never finished by the video server and were left out.",
            len(unfinished)) % {"count": len(unfinished)})
    bad = 0
    for path in files:
        name = mjr.parse_name(path.name)
        try:
            info = mjr.read_info(path)
        except mjr.MjrError:
            log.warning("recording %s: unreadable %s", rec.pk, path.name)
            bad += 1
            continue
        if info.truncated:
            log.warning("recording %s: truncated %s", rec.pk, path.name)
            bad += 1
            continue
        if info.kind == "data":
            continue
        outcome.streams.append(Stream(info=info, kind=info.kind,
                                      publisher=name.publisher if name else path.stem))
    _label(rec, outcome.streams)
    streams: list[Stream] = []
    for n, s in enumerate(outcome.streams, start=1):
        _progress(rec, 10 + 40 * n // max(1, len(outcome.streams)),
                  _("Converting stream %(n)d of %(count)d")
                  % {"n": n, "count": len(outcome.streams)})
        if _convert(s, work):
            streams.append(s)
        else:
            bad += 1
    if bad:
        outcome.notes.append(ngettext(
            "%(count)d raw file was damaged or cut short and was left out.",
            "%(count)d raw files were damaged or cut short and were left out.",
            bad) % {"count": bad})
    outcome.streams = streams
    return outcome


def _label(rec: Recording, streams: list[Stream]) -> None:
    from safeclass.live.models import Presence, PresenceRole

    ids = {s.publisher for s in streams}
    by_camera = {p.publisher_id: p for p in Presence.objects.filter(
        lesson_id=rec.lesson_id, publisher_id__in=ids)}
    by_screen = {p.screen_publisher_id: p for p in Presence.objects.filter(
        lesson_id=rec.lesson_id, screen_publisher_id__in=ids)}
    for s in streams:
        presence = by_camera.get(s.publisher)
        screen = presence is None and s.publisher in by_screen
        if screen:
            presence = by_screen[s.publisher]
        s.presence = presence
        name = presence.display_name if presence else _("Someone not in the register")
        s.staff = presence is not None and presence.role == PresenceRole.STAFF
        if s.kind == "audio":
            s.track = "audio"
            s.label = _("%(name)s (microphone)") % {"name": name}
        elif screen:
            s.track = "screen"
            s.label = _("%(name)s (screen)") % {"name": name}
        else:
            s.track = "video"
            s.label = _("%(name)s (camera)") % {"name": name}


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        # Our own argument list (tool paths and files we named), never a shell.
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TOOL_TIMEOUT,  # noqa: S603
                              check=False)
    except FileNotFoundError as exc:
        raise ProcessingError(_("A program needed to prepare recordings is missing: "
                                "%(name)s.") % {"name": cmd[0]}) from exc
    tail = (done.stderr or "")[-2000:]
    if done.returncode != 0:
        log.warning("%s failed (%s): %s", what, done.returncode, tail)
    # ffmpeg may exit 0 after a failed write: a full disk must never pass as success.
    if "No space left on device" in tail:
        raise OSError(errno.ENOSPC, "No space left on device")
    return done


def _convert(s: Stream, work: Path) -> bool:
    ext = ".webm" if s.kind == "video" else ".opus"
    out = work / "streams" / (s.info.path.stem + ext)
    out.parent.mkdir(exist_ok=True, mode=0o700)
    done = _run([JANUS_PP_REC, "-d", "2", str(s.info.path), str(out)], "janus-pp-rec")
    if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        return False
    s.duration = _probe_duration(out)
    if s.duration is None:
        return False
    s.converted = out
    return True


def _probe_duration(path: Path) -> float | None:
    done = _run([FFPROBE, "-v", "error", "-show_entries", "format=duration", "-of", "json",
                 str(path)], "ffprobe")
    try:
        value = float(json.loads(done.stdout)["format"]["duration"])
    except (ValueError, KeyError, TypeError):
        return None
    return value if math.isfinite(value) and value > 0 else None


# ------------------------------------------------------------------------ composing


def _compose(rec: Recording, work: Path, streams: list[Stream]) -> tuple[Path, float]:
    _progress(rec, 55, _("Putting the lesson together"))
    t0 = min(s.info.start for s in streams)
    t1 = max(_end(s) for s in streams)
    total = max((t1 - t0).total_seconds(), 0.5)

    # One tile per member of staff's camera and per screen: their later files (recording
    # stopped and started again, or a reconnect with a new publisher id) reuse that tile.
    tile_keys: list[tuple[str, str]] = []
    for s in streams:
        if s.kind == "video" and (s.staff or s.track == "screen"):
            key = _tile_key(s)
            if key not in tile_keys:
                tile_keys.append(key)
    cols = max(1, math.ceil(math.sqrt(len(tile_keys))))
    rows = max(1, math.ceil(len(tile_keys) / cols))
    width, height = cols * TILE_W, rows * TILE_H

    cmd = [FFMPEG, "-nostdin", "-v", "error", "-y"]
    graph: list[str] = [
        f"color=c=black:s={width}x{height}:r={FPS}:d={total:.3f}[base0]",
        f"anullsrc=r=48000:cl=stereo,atrim=0:{total:.3f}[silence]",
    ]
    voices = ["[silence]"]
    layer = 0
    inputs = 0
    for s in streams:
        offset = max((s.info.start - t0).total_seconds(), 0.0)
        if s.kind == "video":
            if _tile_key(s) not in tile_keys:
                continue
            slot = tile_keys.index(_tile_key(s))
            x, y = (slot % cols) * TILE_W, (slot // cols) * TILE_H
            cmd += ["-i", str(s.converted)]
            graph.append(
                f"[{inputs}:v]fps={FPS},scale={TILE_W}:{TILE_H}:"
                f"force_original_aspect_ratio=decrease,pad={TILE_W}:{TILE_H}:-1:-1:black,"
                f"setpts=PTS-STARTPTS+{offset:.3f}/TB[tile{layer}]")
            graph.append(f"[base{layer}][tile{layer}]overlay=x={x}:y={y}:eof_action=pass"
                         f"[base{layer + 1}]")
            layer += 1
        else:
            cmd += ["-i", str(s.converted)]
            graph.append(f"[{inputs}:a]aresample=48000,asetpts=PTS-STARTPTS,"
                         f"adelay={int(offset * 1000)}:all=1[voice{inputs}]")
            voices.append(f"[voice{inputs}]")
        inputs += 1
    graph.append(f"{''.join(voices)}amix=inputs={len(voices)}:duration=first:"
                 f"dropout_transition=0:normalize=0[mix]")
    graph.append(f"[base{layer}]format=yuv420p[picture]")
    out = work / "lesson.webm"
    cmd += ["-filter_complex", ";".join(graph), "-map", "[picture]", "-map", "[mix]",
            "-t", f"{total:.3f}",
            "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "800k",
            "-g", str(FPS * 4), "-c:a", "libopus", "-b:a", "64k",
            "-cues_to_front", "1", "-f", "webm", str(out)]
    returncode = _run_composing(cmd, rec, total, work)
    if returncode != 0 or not out.exists():
        raise ProcessingError(_("The video tool (ffmpeg) could not put the lesson together."))
    duration = _probe_duration(out)
    if duration is None:
        raise ProcessingError(_("The lesson file came out unplayable."))
    return out, duration


def _tile_key(s: Stream) -> tuple[str, str]:
    """Who a video belongs to in the picture: the member of staff (any of their presences)
    or, for someone not in the register, the publisher id; and camera or screen."""
    staff_id = getattr(s.presence, "staff_id", None)
    return (f"staff-{staff_id}" if staff_id else s.publisher, s.track)


def _run_composing(cmd: list[str], rec: Recording, total: float, work: Path) -> int:
    """Run the composing ffmpeg, moving the progress from 55 % to 85 % as it goes (a long
    lesson takes minutes here, and a bar that never moves looks stuck)."""
    cmd = [*cmd[:1], "-progress", "pipe:1", "-nostats", *cmd[1:]]
    errors = work / "ffmpeg-compose.log"
    started = time.monotonic()
    last_update = 0.0
    try:
        with errors.open("w") as err_file:
            # Our own argument list (tool paths and files we named), never a shell.
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file,  # noqa: S603
                                    text=True)
            assert proc.stdout is not None
            for line in proc.stdout:
                if time.monotonic() - started > TOOL_TIMEOUT:
                    proc.kill()
                    break
                key, _sep, value = line.strip().partition("=")
                if key != "out_time_us" or not value.isdigit():
                    continue
                now = time.monotonic()
                if now - last_update >= 2:
                    last_update = now
                    done = min(float(value) / 1e6 / total, 1.0)
                    _progress(rec, 55 + int(30 * done), _("Putting the lesson together"))
            returncode = proc.wait()
    except FileNotFoundError as exc:
        raise ProcessingError(_("A program needed to prepare recordings is missing: "
                                "%(name)s.") % {"name": cmd[0]}) from exc
    tail = errors.read_text(errors="replace")[-2000:]
    if returncode != 0:
        log.warning("ffmpeg failed (%s): %s", returncode, tail)
    # ffmpeg may exit 0 after a failed write: a full disk must never pass as success.
    if "No space left on device" in tail:
        raise OSError(errno.ENOSPC, "No space left on device")
    return returncode


def _end(s: Stream) -> datetime:
    # The header says when the last packet arrived; the converted file knows how long the
    # media really is. Take the later, so nothing is cut off.
    by_media = s.info.start + timedelta(seconds=s.duration or 0)
    return max(s.info.end, by_media)


# ------------------------------------------------------------------------ storing


def _store_all(rec: Recording, folder: Path, lesson_file: Path, duration: float,
               streams: list[Stream], stored: list[str]) -> list[RecordingFile]:
    recipient = keys.recipient()
    rows: list[RecordingFile] = []

    def put(source: Path, **fields: object) -> None:
        name = secrets.token_hex(8)
        result = store.write_file(folder, name, source, recipient=recipient)
        stored.append(name)
        rows.append(RecordingFile(
            recording=rec, store_name=name, plain_size=result.plain_size,
            sha256=result.sha256, segment_size=result.segment_size,
            segment_count=result.segment_count, **fields))

    put(lesson_file, kind=FileKind.LESSON, label=_("Whole lesson"), media_type="video/webm",
        duration_seconds=duration, stream_started_at=min(s.info.start for s in streams))
    for n, s in enumerate(streams, start=1):
        _progress(rec, 80 + 18 * n // len(streams), _("Encrypting and storing the files"))
        assert s.converted is not None
        put(s.converted, kind=FileKind.STREAM, label=s.label,
            media_type="video/webm" if s.kind == "video" else "audio/ogg",
            presence=s.presence, track=s.track, stream_started_at=s.info.start,
            duration_seconds=s.duration)
    return rows
