"""The school timetable as plain text, for a settings page anyone can fill in.

Three small formats, one entry per line, parsed by pure functions that return every
problem with its line number (so a form can list them all at once):

    lesson windows   Mon-Fri 09:00-12:00, 13:00-15:15
                     Sat 10:00-11:00
    term dates       2027-01-04 to 2027-03-26 Spring term
    closure days     2027-02-15 INSET day

A textarea with a forgiving format is easier to use with a keyboard or screen reader
than a grid of 14 time inputs per day, and it round-trips: `format_*` writes what the
parser reads.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, time

from django.utils.translation import gettext as _

_DAY_NAMES: dict[str, int] = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}
_SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Dashes people type or paste for ranges: hyphen, en dash, em dash, minus sign.
_DASHES = "-\u2013\u2014\u2212"
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_RANGE_SPLIT = re.compile(rf"\s*[{_DASHES}]\s*|\s+to\s+", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class WindowSpec:
    weekday: int  # 0 = Monday, as Python and the Weekday choices count
    starts: time
    ends: time


@dataclass(frozen=True, order=True)
class TermSpec:
    starts_on: date
    ends_on: date
    name: str = ""


@dataclass(frozen=True, order=True)
class ClosureSpec:
    day: date
    reason: str = ""


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return _("Line {line}: {message}").format(line=self.line, message=self.message)


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, raw.strip()) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]


def _parse_time(text: str) -> time | None:
    match = _TIME.match(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _parse_days(spec: str) -> list[int] | str:
    """Days from "Mon", "Mon-Fri" or "Mon,Wed,Fri"; a message string if not understood."""
    days: list[int] = []
    for part in spec.split(","):
        part = part.strip().lower()
        if not part:
            continue
        ends = re.split(f"[{_DASHES}]", part)
        if len(ends) == 1:
            if ends[0] not in _DAY_NAMES:
                return _("“{text}” is not a day of the week (use Mon, Tue, … Sun).").format(
                    text=part)
            days.append(_DAY_NAMES[ends[0]])
            continue
        if len(ends) != 2 or ends[0] not in _DAY_NAMES or ends[1] not in _DAY_NAMES:
            return _("“{text}” is not a range of days such as Mon-Fri.").format(text=part)
        first, last = _DAY_NAMES[ends[0]], _DAY_NAMES[ends[1]]
        if first > last:
            return _("“{text}” runs backwards: write the earlier day first, as in "
                     "Mon-Fri.").format(text=part)
        days.extend(range(first, last + 1))
    if not days:
        return _("Start the line with the days, such as Mon-Fri.")
    return days


def parse_windows(text: str) -> tuple[list[WindowSpec], list[LineError]]:
    """Weekly lesson windows, e.g. "Mon-Fri 09:00-12:00, 13:00-15:15" (one line per set
    of days). Returns the windows sorted by day and time, and every problem found."""
    windows: list[WindowSpec] = []
    errors: list[LineError] = []
    seen: dict[tuple[int, time, time], int] = {}
    for number, line in _lines(text):
        # Day names hold no digits, so the times start at the first digit.
        first_digit = next((i for i, c in enumerate(line) if c.isdigit()), len(line))
        day_spec, rest = line[:first_digit].strip(), line[first_digit:]
        days = _parse_days(day_spec.replace(" ", ""))
        if isinstance(days, str):
            errors.append(LineError(number, days))
            continue
        if not rest.strip():
            errors.append(LineError(number, _("Give the times after the days, as in "
                                              "Mon-Fri 09:00-12:00.")))
            continue
        for chunk in rest.split(","):
            chunk = chunk.strip()
            if not chunk:
                continue
            parts = _RANGE_SPLIT.split(chunk)
            starts = _parse_time(parts[0]) if len(parts) == 2 else None
            ends = _parse_time(parts[1]) if len(parts) == 2 else None
            if starts is None or ends is None:
                errors.append(LineError(number, _(
                    "“{text}” is not a time range: write it as 09:00-12:00 (24-hour clock)."
                ).format(text=chunk)))
                continue
            if starts >= ends:
                errors.append(LineError(number, _(
                    "{text}: the start must be before the end.").format(text=chunk)))
                continue
            for day in days:
                key = (day, starts, ends)
                if key in seen:
                    continue
                seen[key] = number
                windows.append(WindowSpec(day, starts, ends))
    windows.sort()
    # Overlapping windows on one day are almost always a typing mistake.
    for earlier, later in itertools.pairwise(windows):
        if earlier.weekday == later.weekday and later.starts < earlier.ends:
            errors.append(LineError(seen[(later.weekday, later.starts, later.ends)], _(
                "{day} {start}-{end} overlaps {day} {start2}-{end2}.").format(
                day=_SHORT_DAYS[later.weekday], start=f"{later.starts:%H:%M}",
                end=f"{later.ends:%H:%M}", start2=f"{earlier.starts:%H:%M}",
                end2=f"{earlier.ends:%H:%M}")))
    return windows, errors


def format_windows(windows: list[WindowSpec]) -> str:
    """The text `parse_windows` reads, grouping runs of days with the same times."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for w in sorted(windows):
        by_day.setdefault(w.weekday, []).append((w.starts, w.ends))
    lines: list[str] = []
    day = 0
    while day < 7:
        if day not in by_day:
            day += 1
            continue
        last = day
        while last + 1 < 7 and by_day.get(last + 1) == by_day[day]:
            last += 1
        days = _SHORT_DAYS[day] if last == day else f"{_SHORT_DAYS[day]}-{_SHORT_DAYS[last]}"
        times = ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in by_day[day])
        lines.append(f"{days} {times}")
        day = last + 1
    return "\n".join(lines)


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


_ISO_DATE = r"(\d{4}-\d{2}-\d{2})"
_TERM = re.compile(rf"^{_ISO_DATE}\s*(?:to|until|[{_DASHES}])\s*{_ISO_DATE}\s*(.*)$",
                   re.IGNORECASE)


def parse_terms(text: str) -> tuple[list[TermSpec], list[LineError]]:
    """Term dates, one a line: "2027-01-04 to 2027-03-26" with an optional name after."""
    terms: list[tuple[int, TermSpec]] = []
    errors: list[LineError] = []
    for number, line in _lines(text):
        match = _TERM.match(line)
        starts = _parse_date(match.group(1)) if match else None
        ends = _parse_date(match.group(2)) if match else None
        if match is None or starts is None or ends is None:
            errors.append(LineError(number, _(
                "“{text}” is not a term: write it as 2027-01-04 to 2027-03-26, then a name if "
                "you like.").format(text=line)))
            continue
        if ends < starts:
            errors.append(LineError(number, _("The term ends before it starts.")))
            continue
        name = match.group(3).strip()
        if len(name) > 100:
            errors.append(LineError(number, _("The term name is too long (at most 100 "
                                              "characters).")))
            continue
        terms.append((number, TermSpec(starts, ends, name)))
    terms.sort(key=lambda item: item[1])
    for (_n, earlier), (later_line, later) in itertools.pairwise(terms):
        if later.starts_on <= earlier.ends_on:
            errors.append(LineError(later_line, _(
                "This term overlaps the term from {start} to {end}.").format(
                start=earlier.starts_on.isoformat(), end=earlier.ends_on.isoformat())))
    return [t for _n, t in terms], errors


def format_terms(terms: list[TermSpec]) -> str:
    return "\n".join(
        f"{t.starts_on.isoformat()} to {t.ends_on.isoformat()}{' ' + t.name if t.name else ''}"
        for t in sorted(terms))


def parse_closures(text: str) -> tuple[list[ClosureSpec], list[LineError]]:
    """Closure days, one a line: "2027-02-15 INSET day" (the reason is optional)."""
    closures: list[ClosureSpec] = []
    errors: list[LineError] = []
    seen: dict[date, int] = {}
    for number, line in _lines(text):
        first, _sep, reason = line.partition(" ")
        day = _parse_date(first)
        if day is None:
            errors.append(LineError(number, _(
                "“{text}” does not start with a date: write it as 2027-02-15, then the reason "
                "if you like.").format(text=line)))
            continue
        if day in seen:
            errors.append(LineError(number, _("{day} is already listed on line {line}.").format(
                day=day.isoformat(), line=seen[day])))
            continue
        reason = reason.strip()
        if len(reason) > 200:
            errors.append(LineError(number, _("The reason is too long (at most 200 "
                                              "characters).")))
            continue
        seen[day] = number
        closures.append(ClosureSpec(day, reason))
    closures.sort()
    return closures, errors


def format_closures(closures: list[ClosureSpec]) -> str:
    return "\n".join(f"{c.day.isoformat()}{' ' + c.reason if c.reason else ''}"
                     for c in sorted(closures))
