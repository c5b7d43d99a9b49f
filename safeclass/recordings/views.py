"""Recording pages: the list, one recording with its player, the media stream, the
download, and the DSL's hold. Thin: fetch through an access helper, call one action.

Who may see a recording: its lesson's host, and SLT and the DSL of the school (see
accounts/access.py); for anyone else, and for an id that does not exist, the same 404.
Every page needs signing in, the media stream and the download too.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from safeclass.accounts import access
from safeclass.accounts.access import (
    access_lesson_for_user,
    access_recording_file_for_user,
    access_recording_for_user,
)
from safeclass.accounts.models import StaffUser
from safeclass.lessons.forms import form_error_rows, link_errors
from safeclass.lessons.services import ActionNotAllowed
from safeclass.web.forms import add_action_errors

from . import paths, playback, services
from .forms import HoldForm
from .models import FileKind, Recording, RecordingFile, RecordingStatus

PAGE_SIZE = 50
# Recordings whose viewing this browser session has already audited (see media()).
VIEWED_SESSION_KEY = "recordings.viewed"
VIEWED_SESSION_LIMIT = 50
# Still changing: the lesson page polls for news while a recording is in one of these.
BUSY_STATUSES = (RecordingStatus.RECORDING, RecordingStatus.QUEUED,
                 RecordingStatus.PROCESSING)


def _staff(request: HttpRequest) -> StaffUser:
    # login_required has already made sure this is a signed-in staff member.
    user = request.user
    assert isinstance(user, StaffUser)
    return user


def _no_store(response: HttpResponseBase) -> HttpResponseBase:
    # Decrypted recordings and their state are never kept by a browser or a proxy.
    response["Cache-Control"] = "no-store, private"
    return response


def _stream(request: HttpRequest, source: Any) -> Any:
    # Under ASGI (production) each chunk is fetched in a worker thread; in a WSGI test
    # client the blocking iterator is served as it is.
    return playback.as_async(source) if isinstance(request, ASGIRequest) else source


def _note_viewed_once(request: HttpRequest, recording: Recording, user: StaffUser) -> None:
    viewed: list[str] = list(request.session.get(VIEWED_SESSION_KEY, []))
    key = str(recording.public_id)
    if key not in viewed:
        services.note_viewed(recording, user)
        request.session[VIEWED_SESSION_KEY] = [*viewed, key][-VIEWED_SESSION_LIMIT:]


# ------------------------------------------------------------------------------- pages


@require_safe
@login_required
def recording_list(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if not access.may_list_recordings(user):
        raise PermissionDenied
    found = (Recording.objects.filter(school_id=user.school_id)
             .select_related("school", "lesson", "lesson__host", "held_by")
             .order_by("-started_at", "-pk"))
    all_of_school = user.has_role(*access.WATCH_ALL_RECORDINGS)
    if not all_of_school:
        found = found.filter(lesson__host_id=user.pk)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    days = services.retention_days(user.school)
    rows = [{"recording": r, "expires_at": services.expires_at(r, days)}
            for r in page.object_list]
    return render(request, "recordings/list.html", {
        "page": page, "rows": rows, "all_of_school": all_of_school, "retention_days": days,
        "query": ""})


@require_safe
@login_required
def detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _staff(request)
    recording = access_recording_for_user(user, public_id)
    files = list(recording.files.order_by("kind", "label", "pk"))
    lesson_files = [f for f in files if f.kind == FileKind.LESSON]
    playing: RecordingFile | None = None
    if recording.status == RecordingStatus.READY and files:
        chosen = request.GET.get("file")
        playing = next((f for f in files if chosen and str(f.pk) == chosen), None)
        playing = playing or (lesson_files[0] if lesson_files else files[0])
        # One audited viewing per page view (the player's range requests are not).
        services.note_viewed(recording, user)
        viewed = [k for k in request.session.get(VIEWED_SESSION_KEY, [])
                  if k != str(recording.public_id)]
        request.session[VIEWED_SESSION_KEY] = [*viewed, str(recording.public_id)][
            -VIEWED_SESSION_LIMIT:]
    response = render(request, "recordings/detail.html", {
        "recording": recording,
        "lesson": recording.lesson,
        "files": files,
        "playing": playing,
        "viewer_name": user.full_name,
        "now": timezone.now(),
        "expires_at": services.expires_at(recording),
        "spans": list(recording.spans.select_related("started_by", "stopped_by")),
        "may_hold": access.may_hold_recording(user, recording),
        "may_see_lesson": access.may_see_lesson(user, recording.lesson),
    })
    return _no_store(response)  # type: ignore[return-value]


@require_http_methods(["GET", "POST"])
@login_required
def hold(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _staff(request)
    recording = access_recording_for_user(user, public_id)
    if not access.may_hold_recording(user, recording):
        raise PermissionDenied
    if recording.status == RecordingStatus.PURGED:
        messages.info(request, _("This recording has already been deleted: there is nothing "
                                 "left to keep."))
        return redirect("recordings:detail", public_id=recording.public_id)
    initial = ({"reason": recording.hold_reason, "review_date": recording.hold_review_date}
               if recording.on_hold else None)
    form = HoldForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        was_held = recording.on_hold
        try:
            services.place_hold(recording, actor=user, reason=data["reason"],
                                review_date=data["review_date"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        except ActionNotAllowed as exc:
            if not exc.conflict:
                raise PermissionDenied(str(exc)) from exc
            messages.info(request, str(exc))
            return redirect("recordings:detail", public_id=recording.public_id)
        else:
            review = recording.hold_review_date
            if was_held:
                text = _("The hold is changed: the recording is kept until you release it "
                         "(review by {date}).")
            else:
                text = _("The recording is on hold: it is kept until you release it "
                         "(review by {date}).")
            messages.success(request, text.format(
                date=review.strftime("%d/%m/%Y") if review else ""))
            return redirect("recordings:detail", public_id=recording.public_id)
    link_errors(form)
    return render(request, "recordings/hold.html", {
        "recording": recording, "lesson": recording.lesson, "form": form,
        "errors": form_error_rows(form) if form.is_bound else []})


@require_POST
@login_required
def release_hold(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _staff(request)
    recording = access_recording_for_user(user, public_id)
    if not access.may_hold_recording(user, recording):
        raise PermissionDenied
    try:
        services.release_hold(recording, actor=user)
    except ActionNotAllowed as exc:
        if not exc.conflict:
            raise PermissionDenied(str(exc)) from exc
        messages.info(request, str(exc))
    else:
        messages.success(request, _("The hold is released: the recording will be deleted when "
                                    "the school's retention ends."))
    return redirect("recordings:detail", public_id=recording.public_id)


# ---------------------------------------------------------------------- media and copies


def _readable_file(request: HttpRequest, public_id: uuid.UUID,
                   file_id: int) -> tuple[StaffUser, RecordingFile]:
    user = _staff(request)
    found = access_recording_file_for_user(user, public_id, file_id)
    if found.recording.status != RecordingStatus.READY:
        raise Http404  # being prepared again, or deleted: nothing to read
    return user, found


def _open(found: RecordingFile, start: int, end: int) -> Any:
    # Imported here: the store and the key belong to the processing side, and the pages
    # import without them (a key is only needed to read).
    from safeclass.recordings import keys, store

    return store.open_range(paths.store_dir(found.recording), found.store_name, start, end,
                            identity=keys.identity())


@require_safe
@login_required
def media(request: HttpRequest, public_id: uuid.UUID, file_id: int) -> HttpResponseBase:
    """The decrypted file for the player, with byte ranges so it can seek."""
    user, found = _readable_file(request, public_id, file_id)
    # A viewing is audited by the page; a fetch without one (someone opening this URL
    # directly) is audited here, once per session, so no watching goes unrecorded.
    _note_viewed_once(request, found.recording, user)
    size = found.plain_size
    try:
        wanted = playback.parse_range(request.headers.get("Range"), size)
    except playback.RangeNotSatisfiable:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return _no_store(refused)
    start, end = wanted if wanted is not None else (0, size - 1)
    length = max(0, end - start + 1)
    response: HttpResponseBase
    if request.method == "HEAD" or length == 0:
        response = HttpResponse(status=206 if wanted else 200, content_type=found.media_type)
    else:
        response = StreamingHttpResponse(_stream(request, _open(found, start, end)),
                                         status=206 if wanted else 200,
                                         content_type=found.media_type)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return _no_store(response)


def download_name(found: RecordingFile) -> str:
    """A plain ASCII file name: date, lesson title and file, nothing else."""
    lesson = found.recording.lesson
    day = timezone.localtime(lesson.starts_at).strftime("%Y-%m-%d")
    parts = [slugify(lesson.title, allow_unicode=False)[:60] or "lesson",
             slugify(found.label, allow_unicode=False)[:60]]
    stem = "-".join(p for p in ["recording", day, *parts] if p)
    suffix = ".ogg" if found.media_type == "audio/ogg" else ".webm"
    return stem + suffix


@require_POST
@login_required
def download(request: HttpRequest, public_id: uuid.UUID, file_id: int) -> HttpResponseBase:
    """A copy to keep: re-encoded with the viewer's name and the time burned into the
    picture, streamed as ffmpeg makes it (POST: each download is audited, so a link
    prefetch must not start one)."""
    user, found = _readable_file(request, public_id, file_id)
    when = timezone.localtime(timezone.now()).strftime("%d/%m/%Y %H:%M")
    text = _("Downloaded by {name} on {when}").format(name=user.full_name, when=when)
    services.note_downloaded(found.recording, user, file_label=found.label)
    source = _open(found, 0, max(0, found.plain_size - 1))
    stream = playback.FfmpegStream(source, playback.download_command(
        text=text, media_type=found.media_type))
    out_type = "audio/ogg" if found.media_type == "audio/ogg" else (
        "audio/webm" if found.media_type.startswith("audio/") else "video/webm")
    response = StreamingHttpResponse(_stream(request, stream), content_type=out_type)
    response["Content-Disposition"] = content_disposition_header(True, download_name(found))
    return _no_store(response)


# ----------------------------------------------------------------- the lesson page's news


def progress_data(request: HttpRequest, user: StaffUser, recording: Recording | None,
                  ) -> dict[str, Any]:
    """What the lesson page shows about its recording (also rendered without JS)."""
    if recording is None:
        return {"status": "none", "busy": False}
    may_watch = access.may_watch_recording(user, recording)
    return {
        "status": recording.status,
        "label": str(recording.get_status_display()),
        "percent": int(recording.progress_percent),
        "step": recording.progress_step,
        "busy": recording.status in BUSY_STATUSES,
        "url": (reverse("recordings:detail", args=[recording.public_id])
                if may_watch and recording.status != RecordingStatus.PURGED else ""),
    }


@require_safe
@never_cache
@login_required
def lesson_progress(request: HttpRequest, lesson_id: int) -> HttpResponseBase:
    """JSON for the lesson page's polling: the recording's status and progress."""
    user = _staff(request)
    lesson = access_lesson_for_user(user, lesson_id)
    recording = (Recording.objects.select_related("lesson", "school")
                 .filter(lesson_id=lesson.pk).first())
    return _no_store(JsonResponse(progress_data(request, user, recording)))
