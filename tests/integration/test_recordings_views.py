"""The recording pages at work: the player's byte ranges (206, 416), the overlay with the
viewer's name, the download with the name burned into the picture, the lesson page's
progress, the list's status and hold, and the DSL's hold form."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from safeclass.audit.models import AuditEvent
from safeclass.recordings import playback
from safeclass.recordings.models import FileKind, Recording, RecordingStatus
from safeclass.recordings.services import place_hold
from safeclass.recordings.views import download_name
from tests import factories
from tests.integration.recordings_helpers import SEGMENT_SIZE, make_recording, store_file

pytestmark = pytest.mark.django_db
# The fixtures recording_dirs, sample_webm and sample_opus.
pytest_plugins = ["tests.plugins.recordings"]

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def recording(lesson, recording_dirs, sample_webm):
    made = make_recording(lesson, duration_seconds=2.0)
    store_file(made, sample_webm)
    return made


def lesson_file(recording):
    return recording.files.get(kind=FileKind.LESSON)


def media_url(recording, file=None):
    return reverse("recordings:media", args=[recording.public_id,
                                             (file or lesson_file(recording)).pk])


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


# Byte ranges -----------------------------------------------------------------------------

def test_it_serves_byte_ranges_for_seeking(client, slt, recording, sample_webm):
    plain = sample_webm.read_bytes()
    size = len(plain)
    client.force_login(slt)
    url = media_url(recording)

    whole = client.get(url)
    assert whole.status_code == 200
    assert whole["Accept-Ranges"] == "bytes" and whole["Content-Length"] == str(size)
    assert whole["Content-Type"] == "video/webm"
    assert "no-store" in whole["Cache-Control"]
    assert body_of(whole) == plain

    # Across a segment boundary.
    assert size > 3 * SEGMENT_SIZE
    first = SEGMENT_SIZE - 6
    part = client.get(url, HTTP_RANGE=f"bytes={first}-{first + 15}")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes {first}-{first + 15}/{size}"
    assert part["Content-Length"] == "16" and part["Accept-Ranges"] == "bytes"
    assert "no-store" in part["Cache-Control"]
    assert body_of(part) == plain[first:first + 16]

    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and body_of(tail) == plain[-10:]
    assert tail["Content-Range"] == f"bytes {size - 10}-{size - 1}/{size}"

    open_ended = client.get(url, HTTP_RANGE=f"bytes={size - 5}-")
    assert open_ended.status_code == 206 and body_of(open_ended) == plain[-5:]

    clamped = client.get(url, HTTP_RANGE=f"bytes={size - 3}-{size + 1000}")
    assert clamped.status_code == 206 and body_of(clamped) == plain[-3:]
    assert clamped["Content-Range"] == f"bytes {size - 3}-{size - 1}/{size}"


def test_a_range_past_the_end_gives_416(client, slt, recording, sample_webm):
    size = sample_webm.stat().st_size
    client.force_login(slt)
    for header in (f"bytes={size}-", f"bytes={size + 100}-{size + 200}"):
        response = client.get(media_url(recording), HTTP_RANGE=header)
        assert response.status_code == 416
        assert response["Content-Range"] == f"bytes */{size}"
        assert "no-store" in response["Cache-Control"]


def test_a_range_it_does_not_understand_gets_the_whole_file(client, slt, recording,
                                                            sample_webm):
    client.force_login(slt)
    for header in ("bytes=5-2", "items=0-3", "bytes=0-1,5-6"):
        response = client.get(media_url(recording), HTTP_RANGE=header)
        assert response.status_code == 200, header
        assert body_of(response) == sample_webm.read_bytes()


def test_parse_range_edge_cases():
    assert playback.parse_range(None, 10) is None
    assert playback.parse_range("bytes=0-0", 10) == (0, 0)
    assert playback.parse_range("bytes=9-", 10) == (9, 9)
    assert playback.parse_range("bytes=-20", 10) == (0, 9)
    with pytest.raises(playback.RangeNotSatisfiable):
        playback.parse_range("bytes=10-", 10)
    with pytest.raises(playback.RangeNotSatisfiable):
        playback.parse_range("bytes=-0", 10)


def test_a_recording_not_ready_has_no_media(client, slt, recording):
    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.PROCESSING)
    client.force_login(slt)
    assert client.get(media_url(recording)).status_code == 404
    page = client.get(reverse("recordings:detail", args=[recording.public_id]))
    assert page.status_code == 200 and "<video" not in page.content.decode()


# Watching: the player, its overlay and the audit -----------------------------------------

def test_the_player_shows_the_viewers_name_over_the_video(client, dsl, recording):
    client.force_login(dsl)
    response = client.get(reverse("recordings:detail", args=[recording.public_id]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert f'src="{media_url(recording)}"' in body
    assert "<video" in body and "controls" in body and "nodownload" in body
    overlay = body.split('class="recording-overlay"', 1)[1].split("</div>", 1)[0]
    assert 'aria-hidden="true"' in overlay and "Dee Safeguarding" in overlay
    assert 'id="recording-clock"' in overlay
    assert "safeclass/recordings/player.js" in body
    assert 'data-action="back"' in body and "Back 10 seconds" in body
    assert "<script>" not in body  # no inline script: the CSP allows 'self' only


def test_each_page_view_is_audited_once_not_each_range_request(client, slt, recording):
    client.force_login(slt)
    client.get(reverse("recordings:detail", args=[recording.public_id]))
    for header in ("bytes=0-99", "bytes=100-199", "bytes=-50"):
        body_of(client.get(media_url(recording), HTTP_RANGE=header))
    events = AuditEvent.objects.filter(action="recording.viewed", actor=slt)
    assert events.count() == 1
    assert events.get().data == {"lesson": recording.lesson_id}
    client.get(reverse("recordings:detail", args=[recording.public_id]))
    assert events.count() == 2


def test_opening_the_media_url_directly_is_audited_too(client, slt, recording):
    client.force_login(slt)
    for _ in range(3):
        body_of(client.get(media_url(recording), HTTP_RANGE="bytes=0-9"))
    assert AuditEvent.objects.filter(action="recording.viewed", actor=slt).count() == 1


def test_the_page_lists_the_stream_files_and_plays_one(client, slt, recording, sample_opus):
    voice = store_file(recording, sample_opus, label="Tess Teacher (microphone)",
                       kind=FileKind.STREAM, media_type="audio/ogg")
    client.force_login(slt)
    url = reverse("recordings:detail", args=[recording.public_id])
    body = client.get(url).content.decode()
    assert "Whole lesson" in body and "Tess Teacher (microphone)" in body
    assert reverse("recordings:download", args=[recording.public_id, voice.pk]) in body
    body = client.get(url, {"file": voice.pk}).content.decode()
    assert f'src="{media_url(recording, voice)}"' in body
    response = client.get(media_url(recording, voice), HTTP_RANGE="bytes=0-3")
    assert response["Content-Type"] == "audio/ogg" and body_of(response) == b"OggS"


# Downloading: the name burned in ---------------------------------------------------------

NASTY_NAME = "Dee O'Neil: \"DSL\" \\ [x]; 100%"
FROZEN = datetime(2030, 6, 4, 9, 30, tzinfo=UTC)


def gray_frame(data: bytes | None = None, *, path=None, vf: str | None = None) -> bytes:
    """The first frame, 320x240 grayscale, of WebM bytes or a file (optionally filtered)."""
    command = ["ffmpeg", "-v", "error", "-i", str(path) if path else "pipe:0"]
    if vf:
        command += ["-vf", vf]
    command += ["-frames:v", "1", "-pix_fmt", "gray", "-f", "rawvideo", "pipe:1"]
    done = subprocess.run(command, input=data, capture_output=True, check=True)
    assert len(done.stdout) == 320 * 240
    return done.stdout


def difference(a: bytes, b: bytes, rows: range) -> float:
    """Mean absolute difference of two gray frames over some rows."""
    total = count = 0
    for y in rows:
        for x in range(0, 320):
            total += abs(a[y * 320 + x] - b[y * 320 + x])
            count += 1
    return total / count


def test_a_download_has_the_viewers_name_burned_in(client, dsl, recording, sample_webm):
    dsl.full_name = NASTY_NAME
    dsl.save(update_fields=["full_name"])
    url = reverse("recordings:download", args=[recording.public_id, lesson_file(recording).pk])
    with time_machine.travel(FROZEN, tick=False):
        client.force_login(dsl)
        response = client.post(url)
        assert response.status_code == 200
        data = body_of(response)
    assert response["Content-Type"] == "video/webm"
    assert response["Content-Disposition"] == (
        'attachment; filename="recording-{}-fractions-whole-lesson.webm"'.format(
            recording.lesson.starts_at.astimezone(LONDON).strftime("%Y-%m-%d")))
    assert "no-store" in response["Cache-Control"]
    text = f"Downloaded by {NASTY_NAME} on " + FROZEN.astimezone(LONDON).strftime("%d/%m/%Y %H:%M")

    # The copy says who downloaded it, in its metadata...
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", "pipe:0"],
        input=data, capture_output=True, check=True).stdout)
    tags = {k.lower(): v for k, v in probe["format"]["tags"].items()}
    assert tags["comment"] == text
    assert {s["codec_type"] for s in probe["streams"]} == {"video", "audio"}

    # ... and in its picture: the frame matches the source with that text drawn on it far
    # better than the source without text, or with another name.
    got = gray_frame(data)
    with_text = gray_frame(path=sample_webm, vf=playback.drawtext_filter(text))
    plain = gray_frame(path=sample_webm)
    other = gray_frame(path=sample_webm, vf=playback.drawtext_filter(
        text.replace(NASTY_NAME, "Sam Senior")))
    band = range(185, 230)  # where the text box is drawn
    assert difference(got, with_text, band) < 8
    assert difference(got, plain, band) > 3 * difference(got, with_text, band)
    assert difference(got, other, band) > 2 * difference(got, with_text, band)

    event = AuditEvent.objects.get(action="recording.downloaded", actor=dsl)
    assert event.data == {"lesson": recording.lesson_id, "file": "Whole lesson"}


def test_the_filter_escapes_quotes_colons_and_backslashes(tmp_path, sample_webm):
    # The same frame as drawing the name from a file (where nothing needs escaping).
    for name in (NASTY_NAME, "a\\'b:c\\:d''", "%{pts} , ; [in]"):
        (tmp_path / "name.txt").write_text(name)
        from_file = playback.drawtext_filter("X").replace(
            "text=\\'X\\'", f"textfile={tmp_path / 'name.txt'}")
        assert gray_frame(path=sample_webm, vf=playback.drawtext_filter(name)) == \
            gray_frame(path=sample_webm, vf=from_file), name


def test_an_audio_file_download_carries_the_name_in_its_metadata(client, slt, recording,
                                                                 sample_opus):
    voice = store_file(recording, sample_opus, label="Tess (microphone)",
                       kind=FileKind.STREAM, media_type="audio/ogg")
    client.force_login(slt)
    response = client.post(reverse("recordings:download", args=[recording.public_id, voice.pk]))
    data = body_of(response)
    assert data[:4] == b"OggS" and response["Content-Type"] == "audio/ogg"
    assert response["Content-Disposition"].endswith('-fractions-tess-microphone.ogg"')
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", "pipe:0"],
        input=data, capture_output=True, check=True).stdout)
    # Ogg keeps the comment with the stream.
    tags = [probe["format"].get("tags", {}), *(s.get("tags", {}) for s in probe["streams"])]
    assert "Downloaded by Sam Senior" in json.dumps(tags)


def test_a_failing_ffmpeg_cuts_the_download(client, slt, recording, tmp_path):
    # A stored file that is not a video: ffmpeg fails, and the response raises part way
    # instead of ending as if it were complete (a server then cuts the connection).
    junk = tmp_path / "junk.webm"
    junk.write_bytes(b"not a video at all " * 5000)
    broken = store_file(recording, junk, label="Broken", kind=FileKind.STREAM)
    client.force_login(slt)
    response = client.post(reverse("recordings:download", args=[recording.public_id,
                                                                broken.pk]))
    assert response.status_code == 200  # the headers went before ffmpeg had read anything
    with pytest.raises(playback.DownloadFailed):
        body_of(response)


def test_a_viewer_going_away_stops_ffmpeg(sample_webm):
    def endless():
        yield sample_webm.read_bytes()
        while True:  # a long lesson still being decrypted: silence after the first file
            yield b"\0" * 4096

    stream = playback.FfmpegStream(endless(), playback.download_command(
        text="Sam Senior", media_type="video/webm"))
    assert next(stream)
    stream.close()
    assert stream._process is not None and stream._process.poll() is not None
    assert list(stream) == []  # nothing more, and no error for a viewer who left


def test_download_names_are_plain_ascii(recording):
    found = lesson_file(recording)
    found.label = "Ætt / ../ \"quoted\" name"
    recording.lesson.title = "Maths: <Year 4> & more"
    name = download_name(found)
    assert name.isascii() and "/" not in name and '"' not in name and ".." not in name
    assert name.endswith(".webm")


# The lesson page: status and progress ---------------------------------------------------

def test_the_lesson_page_shows_progress_and_polls_for_news(client, teacher, lesson):
    recording = make_recording(lesson, status=RecordingStatus.PROCESSING,
                               progress_percent=40, progress_step="Mixing the voices")
    client.force_login(teacher)
    body = client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    progress = reverse("recordings:lesson_progress", args=[lesson.pk])
    assert f'data-poll="{progress}"' in body
    assert "Being prepared" in body and 'value="40"' in body and "Mixing the voices" in body
    assert "safeclass/recordings/progress.js" in body
    assert reverse("recordings:detail", args=[recording.public_id]) in body

    data = client.get(progress).json()
    assert data == {"status": "processing", "label": "Being prepared", "percent": 40,
                    "step": "Mixing the voices", "busy": True,
                    "url": reverse("recordings:detail", args=[recording.public_id])}
    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.READY,
                                                     progress_percent=100)
    response = client.get(progress)
    assert "no-store" in response["Cache-Control"]
    assert response.json()["busy"] is False and response.json()["label"] == "Ready to watch"
    body = client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    assert "data-poll" not in body and "Watch the recording" in body


def test_the_second_adult_sees_the_status_but_no_link(client, ta, lesson):
    recording = make_recording(lesson)
    client.force_login(ta)
    body = client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    assert "Ready to watch" in body
    assert reverse("recordings:detail", args=[recording.public_id]) not in body
    data = client.get(reverse("recordings:lesson_progress", args=[lesson.pk])).json()
    assert data["status"] == "ready" and data["url"] == ""


def test_a_lesson_never_recorded_shows_no_block(client, teacher, lesson):
    client.force_login(teacher)
    body = client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    assert 'id="recording-block"' not in body
    assert client.get(reverse("recordings:lesson_progress", args=[lesson.pk])).json() == {
        "status": "none", "busy": False}


def test_progress_of_another_schools_lesson_is_404(client, slt, outsider):
    lesson = factories.make_requested_lesson(
        outsider, factories.make_group(outsider.school, pupils=2), recorded=True)
    make_recording(lesson)
    client.force_login(slt)
    assert client.get(reverse("recordings:lesson_progress", args=[lesson.pk])).status_code == 404


# The list and the hold ------------------------------------------------------------------

def test_the_list_shows_status_expiry_and_hold(client, slt, dsl, recording, school, lesson):
    client.force_login(slt)
    body = client.get(reverse("recordings:list")).content.decode()
    expires = (recording.lesson_ended_at + timedelta(days=365)).astimezone(LONDON)
    assert "Ready to watch" in body and f"Deleted on {expires:%-d %b %Y}" in body
    assert ">1 recording, newest first</caption>" in body
    review = timezone.localdate(timezone.now(), school.zone) + timedelta(days=60)
    place_hold(recording, actor=dsl, reason="Referral 2030/17", review_date=review)
    body = client.get(reverse("recordings:list")).content.decode()
    assert "On hold" in body and "Referral 2030/17" in body
    assert f"Review by {review:%-d %b %Y}" in body and "Dee Safeguarding" in body
    page = client.get(reverse("recordings:detail", args=[recording.public_id])).content.decode()
    assert "Referral 2030/17" in page
    client.force_login(recording.lesson.host)
    block = client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    assert "Referral 2030/17" in block


def test_the_hold_form_names_each_problem(client, dsl, recording, school):
    client.force_login(dsl)
    url = reverse("recordings:hold", args=[recording.public_id])
    page = client.get(url).content.decode()
    assert '<label class="label" for="id_reason">' in page and 'type="date"' in page
    response = client.post(url, {"reason": "", "review_date": ""})
    body = response.content.decode()
    assert response.status_code == 200 and "There are 2 problems" in body
    assert 'href="#id_reason"' in body and "Enter why the recording must be kept." in body
    assert 'href="#id_review_date"' in body
    today = timezone.localdate(timezone.now(), school.zone)
    body = client.post(url, {"reason": "x", "review_date": today.isoformat()}).content.decode()
    assert "The review date must be in the future." in body
    assert not Recording.objects.get(pk=recording.pk).on_hold
    assert not AuditEvent.objects.filter(action="recording.held").exists()


def test_changing_a_hold_keeps_it_and_audits_the_change(client, dsl, recording, school):
    client.force_login(dsl)
    url = reverse("recordings:hold", args=[recording.public_id])
    later = timezone.localdate(timezone.now(), school.zone) + timedelta(days=10)
    client.post(url, {"reason": "First", "review_date": later.isoformat()})
    assert "First" in client.get(url).content.decode()  # the form shows the current hold
    response = client.post(url, {"reason": "Second", "review_date": later.isoformat()},
                           follow=True)
    assert "The hold is changed" in response.content.decode()
    assert Recording.objects.get(pk=recording.pk).hold_reason == "Second"
    events = AuditEvent.objects.filter(action="recording.held").order_by("seq")
    assert [e.data["changed"] for e in events] == [False, True]


def test_releasing_a_recording_not_on_hold_says_so(client, dsl, recording):
    client.force_login(dsl)
    response = client.post(reverse("recordings:release_hold", args=[recording.public_id]),
                           follow=True)
    assert "This recording is not on hold." in response.content.decode()
    assert not AuditEvent.objects.filter(action="recording.hold_released").exists()


# Under ASGI (as in production) ----------------------------------------------------------

def test_under_asgi_ranges_stream_through_worker_threads(slt, recording, sample_webm):
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    client = AsyncClient()
    client.force_login(slt)
    plain = sample_webm.read_bytes()
    url = media_url(recording)

    async def fetch(header):
        response = await client.get(url, headers={"Range": header})
        assert response.is_async
        return response, b"".join([chunk async for chunk in response.streaming_content])

    response, data = async_to_sync(fetch)(f"bytes=100-{SEGMENT_SIZE * 2 + 5}")
    assert response.status_code == 206 and data == plain[100:SEGMENT_SIZE * 2 + 6]
