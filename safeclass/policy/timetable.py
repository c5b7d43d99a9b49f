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
from .words import _, gettext_noop, join_and, pgettext

# English, for code and tests; messages use _day_name(), whose words can differ by place
# in the sentence (Welsh: "dydd Llun", but "i ddydd Gwener").
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Spelled out rather than strftime("%B"), which follows the server's locale; translated
# where used.
MONTH_NAMES = (
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
)


def _day_name(weekday: int, *, run_end: bool = False) -> str:
    """A day's name in running text, or ending a run of days such as "Monday to Friday"
    (Welsh mutates it there: "dydd Llun i ddydd Gwener")."""
    # Literal calls, one per day and context, so makemessages finds each of them.
    if run_end:
        names = (
            pgettext("weekday ending a run such as 'Monday to Friday'", "Monday"),
            pgettext("weekday ending a run such as 'Monday to Friday'", "Tuesday"),
            pgettext("weekday ending a run such as 'Monday to Friday'", "Wednesday"),
            pgettext("weekday ending a run such as 'Monday to Friday'", "Thursday"),
            pgettext("weekday ending a run such as 'Monday to Friday'", "Friday"),
            pgettext("weekday ending a run such as 'Monday to Friday'", "Saturday"),
            pgettext("weekday ending a run such as 'Monday to Friday'", "Sunday"),
        )
    else:
        names = (
            pgettext("weekday in a sentence", "Monday"),
            pgettext("weekday in a sentence", "Tuesday"),
            pgettext("weekday in a sentence", "Wednesday"),
            pgettext("weekday in a sentence", "Thursday"),
            pgettext("weekday in a sentence", "Friday"),
            pgettext("weekday in a sentence", "Saturday"),
            pgettext("weekday in a sentence", "Sunday"),
        )
    return names[weekday]


@dataclass(frozen=True)
class Window:
    """Lesson time on one weekday (0 = Monday ... 6 = Sunday), local wall-clock time."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise PolicyError("weekday", _("weekday must be 0 (Monday) to 6 (Sunday)"))
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            # A window is wall-clock time in the school's zone; an offset here would be
            # wrong for half the year.
            raise PolicyError("start", _("lesson times are local times, without an offset"))
        if not self.start < self.end:
            raise PolicyError("end", _("a lesson time must end after it starts"))


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
                raise PolicyError(
                    "terms",
                    _("a term cannot end ({last}) before it starts ({first})").format(
                        last=last, first=first
                    ),
                )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise PolicyError(
            "time_zone", _("{name} is not a known time zone").format(name=repr(name))
        ) from e


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
            "starts_at", _("that time does not exist on that day because the clocks change")
        )
    return instant


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PolicyError(name, _("{name} needs a time zone offset").format(name=name))


# The usual reason, which a message listing the lesson times need not repeat (compare
# with _(OUTSIDE_WINDOWS): the reason comes translated).
OUTSIDE_WINDOWS = gettext_noop("it is outside the school's lesson times")


def outside_hours_reason(tt: Timetable, starts_at: datetime, duration_minutes: int) -> str | None:
    """Why the lesson is outside lesson hours, in plain words (in the reader's language),
    or None if it is inside."""
    _require_aware(starts_at, "starts_at")
    zone = _zone(tt.time_zone)
    # No window is longer than a day, and refusing early avoids overflow on absurd input.
    if not 0 <= duration_minutes <= 24 * 60:
        return _("it is longer than any lesson time")
    try:
        local_start = starts_at.astimezone(zone)
        # End in absolute time, then to local: a lesson across a clock change lasts its
        # real length, not its length on the wall clock.
        local_end = (starts_at + timedelta(minutes=duration_minutes)).astimezone(zone)
    except OverflowError:
        return _("that date is out of range")
    day = local_start.date()
    if tt.terms and not any(first <= day <= last for first, last in tt.terms):
        return _("{date} is outside the school's term dates").format(date=_long_date(day))
    if day in tt.closures:
        return _("the school is closed on {date}").format(date=_long_date(day))
    start_t, end_t = local_start.time(), local_end.time()
    # The whole lesson must fit one window: two back-to-back windows are still two
    # sessions with a break the school meant to have.
    fits = local_end.date() == day and any(
        w.weekday == day.weekday() and w.start <= start_t and end_t <= w.end for w in tt.windows
    )
    if fits:
        return None
    return _(OUTSIDE_WINDOWS)


def within_lesson_hours(tt: Timetable, starts_at: datetime, duration_minutes: int) -> bool:
    """Whether the whole lesson lies inside one lesson window, in term, not on a closure."""
    return outside_hours_reason(tt, starts_at, duration_minutes) is None


def _long_date(d: date) -> str:
    # Translators: a date such as "Saturday 6 March 2027".
    return _("{weekday} {day} {month} {year}").format(
        weekday=_day_name(d.weekday()), day=d.day, month=_(MONTH_NAMES[d.month - 1]), year=d.year
    )


def describe_local(tt: Timetable, starts_at: datetime, duration_minutes: int) -> str:
    """The requested lesson in the school's local time, e.g. "Saturday 6 March 2027,
    10:00–10:45", for messages."""
    _require_aware(starts_at, "starts_at")
    zone = _zone(tt.time_zone)
    try:
        local_start = starts_at.astimezone(zone)
        local_end = (starts_at + timedelta(minutes=max(duration_minutes, 0))).astimezone(zone)
    except OverflowError:
        return _("a date out of range")
    start, end = f"{local_start:%H:%M}", f"{local_end:%H:%M}"
    if local_end.date() != local_start.date():
        return _("{date}, {start}–{end} on {end_date}").format(
            date=_long_date(local_start.date()),
            start=start,
            end=end,
            end_date=_long_date(local_end.date()),
        )
    return _("{date}, {start}–{end}").format(
        date=_long_date(local_start.date()), start=start, end=end
    )


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
            parts.append(
                _("{first} to {last}").format(
                    first=_day_name(run[0]), last=_day_name(run[-1], run_end=True)
                )
            )
        else:
            parts.extend(_day_name(d) for d in run)
    return join_and(parts)


def describe_windows(tt: Timetable) -> str:
    """Lesson times in plain words, days with the same times grouped together, e.g.
    "Monday to Friday 09:00–12:00 and 13:00–15:15"."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for w in tt.windows:
        by_day.setdefault(w.weekday, []).append((w.start, w.end))
    if not by_day:
        return _("no lesson times are set")
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for day in sorted(by_day):
        times = tuple(sorted(set(by_day[day])))
        groups.setdefault(times, []).append(day)
    parts = []
    for times, days in sorted(groups.items(), key=lambda item: item[1][0]):
        spans = join_and([f"{a:%H:%M}–{b:%H:%M}" for a, b in times])
        # Translators: days, then their lesson times: "Monday to Friday 09:00–12:00".
        parts.append(_("{days} {times}").format(days=_describe_days(days), times=spans))
    return "; ".join(parts)
