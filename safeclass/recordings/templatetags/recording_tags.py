"""The recording block on the lesson page, and small formatting filters."""

from __future__ import annotations

from typing import Any

from django import template

from safeclass.accounts import access
from safeclass.recordings.models import Recording

register = template.Library()


@register.filter
def duration(seconds: float | int | None) -> str:
    """1:02:03 or 2:03 (minutes and seconds) for a length in seconds."""
    if seconds is None:
        return ""
    total = round(float(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.inclusion_tag("recordings/_lesson_block.html", takes_context=True)
def recording_block(context: template.Context, lesson: Any) -> dict[str, Any]:
    """The lesson's recording: status, progress (kept fresh by polling) and, for those who
    may watch it, a link. Nothing when the lesson was never recorded."""
    from safeclass.recordings.views import BUSY_STATUSES

    user = context.get("user")
    recording = (Recording.objects.select_related("lesson", "school", "held_by")
                 .filter(lesson_id=lesson.pk).first())
    if recording is None or user is None or not user.is_authenticated:
        return {"recording": None}
    from safeclass.recordings import services

    return {
        "recording": recording,
        "lesson": lesson,
        "may_watch": access.may_watch_recording(user, recording),
        "busy": recording.status in BUSY_STATUSES,
        "expires_at": services.expires_at(recording),
    }
