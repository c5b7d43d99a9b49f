"""A school's lesson times, and whether a lesson falls inside them.

Times are stored in UTC but lesson times are local wall-clock times, so every check
converts into the school's zone. Clock changes are the trap: 09:00 in London is 08:00Z in
summer and 09:00Z in winter, and one night a year 01:30 does not exist at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import PolicyError

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Spelled out rather than strftime("%B"), which follows the server's locale.
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Window:
    """Lesson time on one weekday (0 = Monday ... 6 = Sunday), local wall-clock time."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise PolicyError("weekday", "weekday must be 0 (Monday) to 6 (Sunday)")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            # A window is wall-clock time in the school's zone; an offset here would be
            # wrong for half the year.
            raise PolicyError("start", "lesson times are local times, without an offset")
        if not self.start < self.end:
            raise PolicyError("end", "a lesson time must end after it starts")


@dataclass(frozen=True)
class Timetable:
    time_zone: str
    windows: tuple[Window, ...]
    # Empty means the school has not set term dates, so every week counts.
    terms: tuple[tuple[date, date], ...] = ()
    closures: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        _zone(self.time_zone)
        for first, last in self.terms:
            if last < first:
                raise PolicyError("terms", f"a term cannot end ({last}) before it starts ({first})")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise PolicyError("time_zone", f"{name!r} is not a known time zone") from e


def local_to_utc(d: date, t: time, tz: str) -> datetime:
    """The UTC instant of local date ``d`` at wall-clock time ``t`` in zone ``tz``.

    In the autumn hour that happens twice we choose the first one (``fold=0``, still
    summer time), the earlier instant, so a lesson is never later than a reader expects.
    A time in the spring gap never happens, so it raises ``PolicyError`` rather than
    quietly moving the lesson by an hour.
    """
    zone = _zone(tz)
    local = datetime.combine(d, t.replace(tzinfo=None), tzinfo=zone).replace(fold=0)
    instant = local.astimezone(UTC)
    # A gap time does not survive the round trip back to local time.
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise PolicyError(
            "starts_at", "that time does not exist on that day because the clocks change"
        )
    return instant


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PolicyError(name, f"{name} needs a time zone offset")


# The usual reason, which a message listing the lesson times need not repeat.
OUTSIDE_WINDOWS = "it is outside the school's lesson times"


def outside_hours_reason(tt: Timetable, starts_at: datetime, duration_minutes: int) -> str | None:
    """Why the lesson is outside lesson hours, in plain words, or None if it is inside."""
    _require_aware(starts_at, "starts_at")
    zone = _zone(tt.time_zone)
    # No window is longer than a day, and refusing early avoids overflow on absurd input.
    if not 0 <= duration_minutes <= 24 * 60:
        return "it is longer than any lesson time"
    try:
        local_start = starts_at.astimezone(zone)
        # End in absolute time, then to local: a lesson across a clock change lasts its
        # real length, not its length on the wall clock.
        local_end = (starts_at + timedelta(minutes=duration_minutes)).astimezone(zone)
    except OverflowError:
        return "that date is out of range"
    day = local_start.date()
    if tt.terms and not any(first <= day <= last for first, last in tt.terms):
        return f"{_long_date(day)} is outside the school's term dates"
    if day in tt.closures:
        return f"the school is closed on {_long_date(day)}"
    start_t, end_t = local_start.time(), local_end.time()
    # The whole lesson must fit one window: two back-to-back windows are still two
    # sessions with a break the school meant to have.
    fits = local_end.date() == day and any(
        w.weekday == day.weekday() and w.start <= start_t and end_t <= w.end for w in tt.windows
    )
    if fits:
        return None
    return OUTSIDE_WINDOWS


def within_lesson_hours(tt: Timetable, starts_at: datetime, duration_minutes: int) -> bool:
    """Whether the whole lesson lies inside one lesson window, in term, not on a closure."""
    return outside_hours_reason(tt, starts_at, duration_minutes) is None


def _long_date(d: date) -> str:
    return f"{DAY_NAMES[d.weekday()]} {d.day} {MONTH_NAMES[d.month - 1]} {d.year}"


def describe_local(tt: Timetable, starts_at: datetime, duration_minutes: int) -> str:
    """The requested lesson in the school's local time, e.g. "Saturday 6 March 2027,
    10:00–10:45", for messages."""
    _require_aware(starts_at, "starts_at")
    zone = _zone(tt.time_zone)
    try:
        local_start = starts_at.astimezone(zone)
        local_end = (starts_at + timedelta(minutes=max(duration_minutes, 0))).astimezone(zone)
    except OverflowError:
        return "a date out of range"
    text = f"{_long_date(local_start.date())}, {local_start:%H:%M}–{local_end:%H:%M}"
    if local_end.date() != local_start.date():
        text += f" on {_long_date(local_end.date())}"
    return text


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _describe_days(days: Iterable[int]) -> str:
    # Runs of consecutive days read as "Monday to Friday"; two days as "Monday and
    # Tuesday", since "Monday to Tuesday" sounds odd.
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0]]} to {DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[d] for d in run)
    return _join(parts)


def describe_windows(tt: Timetable) -> str:
    """Lesson times in plain words, days with the same times grouped together, e.g.
    "Monday to Friday 09:00–12:00 and 13:00–15:15"."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for w in tt.windows:
        by_day.setdefault(w.weekday, []).append((w.start, w.end))
    if not by_day:
        return "no lesson times are set"
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for day in sorted(by_day):
        times = tuple(sorted(set(by_day[day])))
        groups.setdefault(times, []).append(day)
    parts = []
    for times, days in sorted(groups.items(), key=lambda item: item[1][0]):
        spans = _join([f"{a:%H:%M}–{b:%H:%M}" for a, b in times])
        parts.append(f"{_describe_days(days)} {spans}")
    return "; ".join(parts)
