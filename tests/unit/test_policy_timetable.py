"""Lesson times in the school's zone, including the two nights a year the clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeclass.policy import (
    PolicyError,
    Timetable,
    Window,
    describe_windows,
    local_to_utc,
    within_lesson_hours,
)

LONDON = "Europe/London"


def weekdays(*spans: tuple[time, time], days: range = range(5)) -> tuple[Window, ...]:
    return tuple(Window(d, a, b) for d in days for a, b in spans)


SCHOOL_DAY = weekdays((time(9), time(12)), (time(13), time(15, 15)))
OAKFIELD = Timetable(LONDON, SCHOOL_DAY)
EVERY_DAY = Timetable(LONDON, weekdays((time(9), time(12)), days=range(7)))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_it_refuses_a_window_that_ends_before_it_starts() -> None:
    with pytest.raises(PolicyError) as caught:
        Window(0, time(12), time(9))
    assert caught.value.field == "end"
    with pytest.raises(PolicyError):
        Window(0, time(9), time(9))


def test_it_refuses_a_weekday_outside_monday_to_sunday() -> None:
    with pytest.raises(PolicyError):
        Window(7, time(9), time(10))


def test_it_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(PolicyError) as caught:
        Timetable("Europe/Atlantis", SCHOOL_DAY)
    assert caught.value.field == "time_zone"


def test_it_refuses_a_term_that_ends_before_it_starts() -> None:
    with pytest.raises(PolicyError):
        Timetable(LONDON, SCHOOL_DAY, terms=((date(2027, 4, 1), date(2027, 3, 1)),))


def test_it_puts_monday_9am_at_8_utc_after_the_spring_change() -> None:
    starts = local_to_utc(date(2027, 3, 29), time(9), LONDON)
    assert starts == utc(2027, 3, 29, 8)
    assert within_lesson_hours(OAKFIELD, starts, 30)


def test_it_puts_monday_9am_at_9_utc_after_the_autumn_change() -> None:
    starts = local_to_utc(date(2027, 11, 1), time(9), LONDON)
    assert starts == utc(2027, 11, 1, 9)
    assert within_lesson_hours(OAKFIELD, starts, 30)


def test_it_gets_the_spring_change_day_itself_right() -> None:
    starts = local_to_utc(date(2027, 3, 28), time(9), LONDON)
    assert starts == utc(2027, 3, 28, 8)
    assert within_lesson_hours(EVERY_DAY, starts, 30)
    # 09:00Z that day is 10:00 local, also fine; 07:30Z is 08:30 local, too early.
    assert not within_lesson_hours(EVERY_DAY, utc(2027, 3, 28, 7, 30), 30)


def test_it_gets_the_autumn_change_day_itself_right() -> None:
    starts = local_to_utc(date(2027, 10, 31), time(9), LONDON)
    assert starts == utc(2027, 10, 31, 9)
    assert within_lesson_hours(EVERY_DAY, starts, 30)
    # 08:30Z is 08:30 local after the change, before the window opens.
    assert not within_lesson_hours(EVERY_DAY, utc(2027, 10, 31, 8, 30), 30)


def test_it_refuses_a_time_the_spring_change_skips() -> None:
    with pytest.raises(PolicyError) as caught:
        local_to_utc(date(2027, 3, 28), time(1, 30), LONDON)
    assert caught.value.field == "starts_at"
    assert "clocks change" in caught.value.message


def test_it_takes_the_first_of_the_twice_happening_autumn_hour() -> None:
    # 01:30 happens in summer time (00:30Z) and again in winter time (01:30Z).
    assert local_to_utc(date(2027, 10, 31), time(1, 30), LONDON) == utc(2027, 10, 31, 0, 30)


def test_it_measures_a_lesson_across_the_clock_change_in_real_minutes() -> None:
    night = Timetable(LONDON, (Window(6, time(0, 30), time(3)),))
    # 00:45 GMT plus 60 real minutes is 02:45 BST: inside the 00:30-03:00 window.
    assert within_lesson_hours(night, utc(2027, 3, 28, 0, 45), 60)
    # 01:15Z is 02:15 BST; 60 minutes later is 03:15 BST, past the window.
    assert not within_lesson_hours(night, utc(2027, 3, 28, 1, 15), 60)


def test_it_accepts_a_lesson_that_exactly_fills_a_window() -> None:
    assert within_lesson_hours(OAKFIELD, utc(2027, 1, 4, 13), 135)


def test_it_refuses_a_lesson_running_past_the_window() -> None:
    assert not within_lesson_hours(OAKFIELD, utc(2027, 1, 4, 11, 45), 30)


def test_it_refuses_a_lesson_across_the_lunch_break() -> None:
    # Both windows together cover 11:50-13:10 except lunch, but no single window does.
    assert not within_lesson_hours(OAKFIELD, utc(2027, 1, 4, 11, 50), 80)
    back_to_back = Timetable(LONDON, (Window(0, time(9), time(10)), Window(0, time(10), time(11))))
    assert not within_lesson_hours(back_to_back, utc(2027, 1, 4, 9, 45), 30)


def test_it_refuses_weekends_for_a_weekday_school() -> None:
    assert not within_lesson_hours(OAKFIELD, utc(2027, 1, 2, 10), 30)


def test_it_converts_any_offset_to_the_school_zone() -> None:
    new_york = datetime(2027, 1, 4, 5, tzinfo=ZoneInfo("America/New_York"))  # 10:00 London
    assert within_lesson_hours(OAKFIELD, new_york, 30)


def test_it_needs_a_time_zone_offset() -> None:
    with pytest.raises(PolicyError) as caught:
        within_lesson_hours(OAKFIELD, datetime(2027, 1, 4, 10), 30)
    assert caught.value.field == "starts_at"


def test_it_counts_every_week_when_no_terms_are_set() -> None:
    assert within_lesson_hours(OAKFIELD, utc(2027, 8, 2, 10), 30)


def test_it_refuses_days_outside_term() -> None:
    termly = Timetable(LONDON, SCHOOL_DAY, terms=((date(2027, 1, 4), date(2027, 3, 26)),))
    assert within_lesson_hours(termly, utc(2027, 1, 4, 10), 30)
    assert within_lesson_hours(termly, utc(2027, 3, 26, 10), 30)
    assert not within_lesson_hours(termly, utc(2027, 3, 29, 9), 30)


def test_it_refuses_closure_days() -> None:
    closed = Timetable(LONDON, SCHOOL_DAY, closures=frozenset({date(2027, 1, 5)}))
    assert not within_lesson_hours(closed, utc(2027, 1, 5, 10), 30)
    assert within_lesson_hours(closed, utc(2027, 1, 6, 10), 30)


def test_it_uses_the_local_date_for_terms_and_closures() -> None:
    # 23:30Z on 31 May is 00:30 BST on 1 June, a closure day.
    late = Timetable(LONDON, (Window(1, time(0), time(2)),), closures=frozenset({date(2027, 6, 1)}))
    assert not within_lesson_hours(late, utc(2027, 5, 31, 23, 30), 30)


def test_it_refuses_absurd_lengths_without_crashing() -> None:
    assert not within_lesson_hours(OAKFIELD, utc(2027, 1, 4, 10), 10**9)
    assert not within_lesson_hours(OAKFIELD, utc(2027, 1, 4, 10), -5)


def test_it_describes_weekday_times_grouped() -> None:
    assert describe_windows(OAKFIELD) == "Monday to Friday 09:00–12:00 and 13:00–15:15"


def test_it_describes_days_with_different_times_separately() -> None:
    tt = Timetable(
        LONDON,
        (
            *weekdays((time(9), time(12)), days=range(4)),
            Window(4, time(9), time(11)),
            Window(6, time(10), time(11)),
        ),
    )
    assert describe_windows(tt) == (
        "Monday to Thursday 09:00–12:00; Friday 09:00–11:00; Sunday 10:00–11:00"
    )


def test_it_describes_scattered_days_by_name() -> None:
    tt = Timetable(LONDON, tuple(Window(d, time(9), time(10)) for d in (0, 1, 3, 5, 6)))
    assert describe_windows(tt) == "Monday, Tuesday, Thursday, Saturday and Sunday 09:00–10:00"


def test_it_says_so_when_there_are_no_lesson_times() -> None:
    assert describe_windows(Timetable(LONDON, ())) == "no lesson times are set"


@st.composite
def window_sets(draw: st.DrawFn) -> tuple[Window, ...]:
    out = []
    for _ in range(draw(st.integers(1, 6))):
        start = draw(st.integers(0, 23 * 60 + 58))
        end = draw(st.integers(start + 1, 23 * 60 + 59))
        out.append(
            Window(draw(st.integers(0, 6)), time(*divmod(start, 60)), time(*divmod(end, 60)))
        )
    return tuple(out)


@given(
    windows=window_sets(),
    zone=st.sampled_from([LONDON, "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
    starts_at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2029, 1, 1), timezones=st.just(UTC)
    ),
    minutes=st.integers(0, 300),
)
def test_it_only_accepts_lessons_that_fit_one_window_in_local_time(
    windows: tuple[Window, ...], zone: str, starts_at: datetime, minutes: int
) -> None:
    tt = Timetable(zone, windows)
    if within_lesson_hours(tt, starts_at, minutes):
        local_start = starts_at.astimezone(ZoneInfo(zone))
        local_end = (starts_at + timedelta(minutes=minutes)).astimezone(ZoneInfo(zone))
        assert local_start.date() == local_end.date()
        assert any(
            w.weekday == local_start.weekday()
            and w.start <= local_start.time()
            and local_end.time() <= w.end
            for w in windows
        )


@given(
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2029, 12, 31)),
    at=st.times(),
    zone=st.sampled_from([LONDON, "America/New_York", "Australia/Sydney"]),
)
def test_it_converts_every_real_local_time_there_and_back(day: date, at: time, zone: str) -> None:
    try:
        instant = local_to_utc(day, at, zone)
    except PolicyError:
        return  # the spring gap; checked by name above
    local = instant.astimezone(ZoneInfo(zone))
    assert (local.date(), local.time()) == (day, at)
