"""The ``state`` snapshot each connection renders (see the protocol in docs and the live
contract). Built per viewer: staff see every active pupil; a pupil sees only itself,
the staff, and admitted classmates if the school allows it.

The one list that decides what media a browser may receive is ``feeds`` (invariant 4): a
pupil's feed is named to anyone only once Janus confirmed its audio muted (or staff let
it speak after that).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from safeclass.lessons.models import Lesson
from safeclass.live.models import (
    ACTIVE_STATES,
    LiveRun,
    Notice,
    Presence,
    PresenceRole,
    PresenceState,
    RecordingProblem,
)
from safeclass.policy.recording import recording_decision


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def pupil_feed(presence: Presence) -> str | None:
    """A pupil's publisher id, once it may be seen (published, audio muted at Janus)."""
    if presence.state == PresenceState.ADMITTED and presence.published and (
            presence.audio_muted or presence.may_speak):
        return presence.publisher_id
    return None


def _pupil_row(p: Presence) -> dict[str, Any]:
    return {"presence": p.pk, "name": p.display_name, "state": p.state,
            "second_device": p.second_device, "muted": not p.may_speak,
            "may_speak": p.may_speak, "hand_raised": p.hand_raised,
            "video_stopped": p.video_stopped, "camera_ok": p.camera_ok,
            "parent_seen": p.parent_seen, "warnings": p.warnings, "feed": pupil_feed(p)}


def snapshot(presence_id: int) -> dict[str, Any]:
    """The state message for this presence's connection (synchronous: ORM)."""
    me = Presence.objects.get(pk=presence_id)
    lesson = Lesson.objects.select_related("school", "host").get(pk=me.lesson_id)
    run = LiveRun.objects.select_related("current_host").filter(lesson=lesson).first()
    host_id = run.current_host_id if run is not None else lesson.host_id
    host_name = run.current_host.full_name if run is not None else lesson.host.full_name
    everyone = list(Presence.objects.filter(lesson=lesson, state__in=ACTIVE_STATES))
    staff = [p for p in everyone if p.role == PresenceRole.STAFF and p.connected]
    pupils = [p for p in everyone if p.role == PresenceRole.PUPIL]
    is_staff = me.role == PresenceRole.STAFF

    staff_rows = []
    for p in staff:
        is_host = p.staff_id == host_id
        staff_rows.append({
            "presence": p.pk, "name": p.display_name, "is_host": is_host,
            "feed": p.publisher_id if p.published else None,
            "screen_feed": (p.screen_publisher_id if is_host and p.screen_published
                            else None),
        })

    if is_staff:
        pupil_rows = [_pupil_row(p) for p in pupils]
    elif lesson.school.pupils_see_classmates and me.state == PresenceState.ADMITTED:
        pupil_rows = [_pupil_row(p) for p in pupils
                      if p.state == PresenceState.ADMITTED and p.pk != me.pk]
    else:
        pupil_rows = []

    feeds: list[str] = []
    if is_staff or me.state == PresenceState.ADMITTED:
        for row in staff_rows:
            if row["presence"] != me.pk:
                feeds += [str(f) for f in (row["feed"], row["screen_feed"]) if f]
        for row in pupil_rows:
            if row["feed"] and row["presence"] != me.pk:
                feeds.append(str(row["feed"]))

    alerts = []
    if is_staff:
        for p in pupils:
            if p.second_device and p.state == PresenceState.WAITING:
                alerts.append({"kind": "second_device", "presence": p.pk, "text": _(
                    "{name} joined from a second device.").format(name=p.display_name)})
            if not p.camera_ok and p.state == PresenceState.WAITING:
                alerts.append({"kind": "camera_stopped", "presence": p.pk, "text": _(
                    "{name}'s camera stopped, so they are back in the waiting room."
                ).format(name=p.display_name)})
        if run is not None and run.staff_absent_since is not None and pupils:
            alerts.append({"kind": "staff_absent", "presence": None, "text": _(
                "All staff left, so the pupils went back to the waiting room.")})
        if run is not None and run.recording_problem:
            alerts.append({"kind": "recording_problem", "presence": None,
                           "text": _recording_problem_text(run.recording_problem)})

    notices = [{"text": n.text, "at": _iso(n.posted_at), "by": n.author.full_name}
               for n in Notice.objects.filter(lesson=lesson).select_related("author")]

    return {
        "type": "state",
        "lesson": {"id": lesson.pk, "title": lesson.title, "status": lesson.status,
                   "ends_at": _iso(lesson.ends_at),
                   "paused": bool(run and run.pupils_paused),
                   "staff_present": len(staff),
                   "rules_shown_at": _iso(run.rules_shown_at) if run else None,
                   "host_name": host_name},
        "me": {"presence": me.pk, "role": me.role,
               "is_host": is_staff and me.staff_id == host_id, "state": me.state,
               "name": me.display_name, "muted": not me.may_speak, "may_speak": me.may_speak,
               "hand_raised": me.hand_raised, "video_stopped": me.video_stopped,
               "second_device": me.second_device, "warnings": me.warnings},
        "staff": staff_rows,
        "pupils": pupil_rows,
        "feeds": feeds,
        "notices": notices,
        "alerts": alerts,
        "recording": _recording(run, lesson, staff, pupils, is_staff,
                                is_staff and me.staff_id == host_id),
    }


def _recording_problem_text(problem: str) -> str:
    if problem == RecordingProblem.DISK_SHORT:
        return _("There is not enough disk space to record this lesson, so pupils can "
                 "come in only while two adults are here.")
    return _("Recording is not working, so pupils can come in only while two adults are "
             "here. Any pupils in the lesson went back to the waiting room.")


def _recording(run: LiveRun | None, lesson: Lesson, staff: list[Presence],
               pupils: list[Presence], is_staff: bool, is_host: bool) -> dict[str, Any]:
    """Whether the lesson is being recorded; for staff also why, and for the host
    whether the Start / Stop button works (second-adult-or-recording)."""
    on = bool(run and run.recording_on)
    if not is_staff:
        return {"on": on}
    admitted = sum(1 for p in pupils if p.state == PresenceState.ADMITTED)
    decision = recording_decision(staff_present=len(staff), pupils_admitted=admitted,
                                  booked_recorded=lesson.recorded,
                                  host_wants=bool(run and run.host_wants_recording))
    if decision.required:
        why = _("Only one adult is here, so the lesson must be recorded.")
    elif lesson.recorded and on:
        why = _("This lesson was booked as recorded, so it is recorded until the end.")
    elif lesson.recorded:
        why = _("This lesson was booked as recorded: recording starts when the first "
                "pupil comes in.")
    elif on:
        why = _("Recording is not required now, so the host can stop it.")
    elif len(staff) >= 2:
        why = _("Two adults are here, so recording is not needed. The host can start it.")
    else:
        why = _("Recording starts by itself when a pupil comes in while only one adult "
                "is here.")
    return {"on": on, "required": decision.required, "why": why,
            "problem": (run.recording_problem or None) if run else None,
            "can_start": is_host and decision.host_may_toggle and not on,
            "can_stop": is_host and decision.host_may_toggle and on}
