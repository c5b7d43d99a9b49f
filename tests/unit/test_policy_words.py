"""The policy core's words: English as written until a translator is installed, and then
every word of every message goes through it (docs/translation.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest

from safeclass.policy import (
    DEFAULT_POLICY,
    EXTRA_CHECKS,
    RULES,
    Conflicts,
    LessonRequest,
    Person,
    PolicyError,
    PolicySettings,
    SchoolFacts,
    Timetable,
    Window,
    check_lesson_request,
    describe_windows,
    local_to_utc,
    validate,
)
from safeclass.policy.words import ENGLISH, Translator, install_translator, join_and

WINDOWS = tuple(
    Window(d, a, b) for d in range(5) for a, b in ((time(9), time(12)), (time(13), time(15, 15)))
)
TIMETABLE = Timetable("Europe/London", WINDOWS, closures=frozenset({date(2027, 3, 8)}))
SCHOOL = SchoolFacts(("oakfield.example",), TIMETABLE)
NOW = datetime(2027, 1, 1, 12, tzinfo=UTC)
SATURDAY_10 = datetime(2027, 3, 6, 10, tzinfo=UTC)
CLOSED_MONDAY_10 = datetime(2027, 3, 8, 10, tzinfo=UTC)
TEACHER = Person("tess@oakfield.example", frozenset({"teacher"}))
STRANGER = Person("x@gmail.com", frozenset(), active=False)

# A 45-minute Saturday lesson for one pupil with no second adult (the README's tour).
SATURDAY_FOR_ONE = LessonRequest(TEACHER, None, 1, SATURDAY_10, 45, recorded=False)
# Breaks everything else: host and second adult, a closed day, double bookings.
EVERYTHING_ELSE = LessonRequest(STRANGER, STRANGER, 2, CLOSED_MONDAY_10, 30, recorded=False)
PUPILS_BUSY = Conflicts(host=True, second_staff=True, pupils=("SAM B.", "ALI"))


@pytest.fixture
def translator() -> Iterator[None]:
    """Put back whatever translator was installed (Django's, when pytest-django set up)."""
    previous = install_translator(ENGLISH)
    yield
    install_translator(previous)


def messages() -> list[str]:
    found = check_lesson_request(SATURDAY_FOR_ONE, DEFAULT_POLICY, SCHOOL, NOW)
    found += check_lesson_request(EVERYTHING_ELSE, DEFAULT_POLICY, SCHOOL, NOW, PUPILS_BUSY)
    found += validate(PolicySettings(max_duration_minutes=1, min_group_size=99, retention_days=0))
    return [v.message for v in found]


# English, with no translator -----------------------------------------------------------------


def test_it_writes_english_as_today_when_no_translator_is_installed(translator: None) -> None:
    found = check_lesson_request(SATURDAY_FOR_ONE, DEFAULT_POLICY, SCHOOL, NOW)
    assert [v.message for v in found] == [
        "Lessons can be at most 30 minutes long (max-duration). Choose 30 minutes or less.",
        "Lessons must be during the school's lesson times (lesson-hours): Monday to Friday "
        "09:00–12:00 and 13:00–15:15. You asked for Saturday 6 March 2027, 10:00–10:45 "
        "(Europe/London time). Choose a time inside the lesson times.",
        "Lessons are for groups, never one to one (group-only): invite at least 2 pupils. "
        "This lesson has 1.",
        "Another member of staff must be in the lesson, or it must be recorded "
        '(second-adult-or-recording). Add a second member of staff, or tick "Record this '
        'lesson".',
    ]


def test_it_joins_reasons_and_names_in_english(translator: None) -> None:
    found = check_lesson_request(EVERYTHING_ELSE, DEFAULT_POLICY, SCHOOL, NOW, PUPILS_BUSY)
    by_rule = {(v.rule, v.field): v.message for v in found}
    assert by_rule[("staff-host-only", "host")] == (
        "x@gmail.com cannot host this lesson: their account is not active and only teachers "
        "can host lessons (staff-host-only). Choose an active teacher as the host."
    )
    assert by_rule[("second-adult-or-recording", "second_staff")].startswith(
        "x@gmail.com cannot be the second adult: the second adult must be a different person "
        "from the host, their account is not active and they are not a member of staff "
    )
    assert "but the school is closed on Monday 8 March 2027." in by_rule[("lesson-hours",
                                                                        "starts_at")]
    assert by_rule[("pupil-double-booked", "pupils")].startswith(
        "SAM B. and ALI are already in another lesson at that time"
    )


def test_it_describes_a_lesson_across_midnight_with_both_dates(translator: None) -> None:
    late = LessonRequest(TEACHER, None, 2, datetime(2027, 3, 5, 23, 50, tzinfo=UTC), 30, True)
    [v] = check_lesson_request(late, DEFAULT_POLICY, SCHOOL, NOW)
    assert "Friday 5 March 2027, 23:50–00:20 on Saturday 6 March 2027" in v.message


def test_it_joins_lists_with_and() -> None:
    assert join_and([]) == ""
    assert join_and(["a"]) == "a"
    assert join_and(["a", "b"]) == "a and b"
    assert join_and(["a", "b", "c"]) == "a, b and c"


def test_installing_a_translator_gives_back_the_one_before() -> None:
    previous = install_translator(ENGLISH)
    try:
        assert install_translator(ENGLISH) is ENGLISH  # again: nothing changes
    finally:
        install_translator(previous)


# Every word through the translator ------------------------------------------------------------

_PLACEHOLDER = re.compile(r"(\{\w+\})")


def _shout(message: str) -> str:
    """A pretend language: the English in capitals, placeholders kept as they are."""
    parts = _PLACEHOLDER.split(message)
    return "".join(p if _PLACEHOLDER.fullmatch(p) else p.upper() for p in parts)


CALLS: list[tuple[str, ...]] = []


def _gettext(message: str) -> str:
    CALLS.append(("gettext", message))
    return _shout(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    CALLS.append(("ngettext", singular, str(n)))
    return _shout(singular if n == 1 else plural)


def _pgettext(context: str, message: str) -> str:
    CALLS.append(("pgettext", context, message))
    return _shout(message) + ("*" if "run" in context else "")


SHOUTING = Translator(gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext)


@pytest.fixture
def shouting() -> Iterator[None]:
    CALLS.clear()
    previous = install_translator(SHOUTING)
    yield
    install_translator(previous)


def _words_left_in_english(message: str) -> list[str]:
    """Lower-case words that are not values filled in by the caller (email addresses,
    rule ids, the time zone's name)."""
    values = re.sub(r"\S*@[\w.]+|\([a-z-]+\)|Europe/London|\w+_\w+", "", message)
    return re.findall(r"[a-z]+", values)


def test_every_word_of_every_message_goes_through_the_translator(shouting: None) -> None:
    for message in messages():
        assert _words_left_in_english(message) == [], message


def test_rule_ids_stay_as_they_are_in_a_translated_message(shouting: None) -> None:
    found = check_lesson_request(SATURDAY_FOR_ONE, DEFAULT_POLICY, SCHOOL, NOW)
    for v in found:
        assert f"({v.rule})" in v.message


def test_it_translates_dates_days_months_and_runs_of_days(shouting: None) -> None:
    found = check_lesson_request(SATURDAY_FOR_ONE, DEFAULT_POLICY, SCHOOL, NOW)
    hours = next(v.message for v in found if v.rule == "lesson-hours")
    # The day ending a run has its own context ("*" here): Welsh mutates it.
    assert "MONDAY TO FRIDAY* 09:00–12:00 AND 13:00–15:15" in hours
    assert "SATURDAY 6 MARCH 2027, 10:00–10:45" in hours
    assert describe_windows(Timetable("Europe/London", ())) == "NO LESSON TIMES ARE SET"


def test_it_asks_for_plurals_by_the_number_they_count(shouting: None) -> None:
    check_lesson_request(SATURDAY_FOR_ONE, PolicySettings(min_group_size=3), SCHOOL, NOW)
    group = [c for c in CALLS if c[0] == "ngettext" and "one to one" in c[1]]
    assert [c[2] for c in group] == ["3"]


def test_it_translates_the_errors_it_raises(shouting: None) -> None:
    with pytest.raises(PolicyError) as caught:
        local_to_utc(date(2027, 3, 28), time(1, 30), "Europe/London")
    assert caught.value.message == (
        "THAT TIME DOES NOT EXIST ON THAT DAY BECAUSE THE CLOCKS CHANGE"
    )
    with pytest.raises(PolicyError) as caught:
        Timetable("Mars/Base", ())
    assert caught.value.message == "'Mars/Base' IS NOT A KNOWN TIME ZONE"


def test_it_keeps_the_rule_table_in_english_for_callers_to_translate(shouting: None) -> None:
    # Titles and plain words are marked (gettext_noop), not translated, when the module
    # loads: pages translate them where they show them, and the API gives them in English.
    assert RULES[0].title == "Head approves every lesson"
    assert all(not r.title.isupper() and not r.plain.isupper() for r in RULES)
    assert all(not m.isupper() for m in EXTRA_CHECKS.values())
