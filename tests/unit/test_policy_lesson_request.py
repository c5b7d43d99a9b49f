"""The check made on a lesson request: every broken rule at once, in plain words."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeclass.policy import (
    DEFAULT_POLICY,
    Conflicts,
    LessonRequest,
    Person,
    PolicyError,
    PolicySettings,
    SchoolFacts,
    Timetable,
    Violation,
    Window,
    check_lesson_request,
    display_names,
    local_to_utc,
)

WINDOWS = tuple(
    Window(d, a, b) for d in range(5) for a, b in ((time(9), time(12)), (time(13), time(15, 15)))
)
SCHOOL = SchoolFacts(("oakfield.example",), Timetable("Europe/London", WINDOWS))
NOW = datetime(2027, 1, 1, 12, tzinfo=UTC)
MONDAY_10 = datetime(2027, 1, 4, 10, tzinfo=UTC)  # 10:00 in London in winter
SATURDAY_10 = datetime(2027, 1, 9, 10, tzinfo=UTC)

TEACHER = Person("tess@oakfield.example", frozenset({"teacher"}))
TA = Person("tia@oakfield.example", frozenset({"staff"}))

GOOD = LessonRequest(
    host=TEACHER,
    second_staff=TA,
    pupil_count=6,
    starts_at=MONDAY_10,
    duration_minutes=30,
    recorded=False,
)


def check(
    req: LessonRequest,
    policy: PolicySettings = DEFAULT_POLICY,
    conflicts: Conflicts = Conflicts(),
    school: SchoolFacts = SCHOOL,
) -> list[Violation]:
    return check_lesson_request(req, policy, school, NOW, conflicts)


def only(req: LessonRequest, **kwargs: object) -> Violation:
    [v] = check(req, **kwargs)  # type: ignore[arg-type]
    return v


def off(rule: str) -> PolicySettings:
    return PolicySettings(switches={rule: False})


def test_it_accepts_a_request_that_keeps_every_rule() -> None:
    assert check(GOOD) == []


def test_it_reports_all_four_problems_of_a_long_saturday_lesson_for_one_pupil() -> None:
    req = replace(
        GOOD, starts_at=SATURDAY_10, duration_minutes=45, pupil_count=1, second_staff=None
    )
    found = check(req)
    assert {v.rule for v in found} == {
        "max-duration",
        "lesson-hours",
        "group-only",
        "second-adult-or-recording",
    }
    assert len(found) == 4
    assert {v.field for v in found} == {"duration_minutes", "starts_at", "pupils", "second_staff"}


def test_it_needs_an_offset_on_the_start_time() -> None:
    with pytest.raises(PolicyError) as caught:
        check(replace(GOOD, starts_at=datetime(2027, 1, 4, 10)))
    assert caught.value.field == "starts_at"
    assert "time zone offset" in caught.value.message


# staff-host-only


def test_it_lets_only_teachers_host() -> None:
    v = only(replace(GOOD, host=Person("ann@oakfield.example", frozenset({"staff", "dsl"}))))
    assert (v.rule, v.field) == ("staff-host-only", "host")
    assert "only teachers can host" in v.message


def test_it_refuses_an_inactive_host() -> None:
    v = only(replace(GOOD, host=replace(TEACHER, active=False)))
    assert (v.rule, v.field) == ("staff-host-only", "host")
    assert "not active" in v.message


def test_it_gives_one_message_for_an_inactive_non_teacher_host() -> None:
    v = only(replace(GOOD, host=Person("x@oakfield.example", frozenset({"admin"}), active=False)))
    assert "not active" in v.message and "only teachers" in v.message


def test_it_lets_anyone_host_when_staff_host_only_is_off() -> None:
    req = replace(GOOD, host=Person("ann@oakfield.example", frozenset({"staff"})))
    assert check(req, policy=off("staff-host-only")) == []


# school-account


@pytest.mark.parametrize(
    "email",
    [
        "tess@gmail.com",
        "tess@evil-oakfield.example",
        "tess@oakfield.example.evil.com",
        "tess@sub.oakfield.example",
        "tess@oakfield.example@evil.com",
        "tess@oakfield.example.",
        "oakfield.example",
        "@oakfield.example",
        "tess@oa\u212afield.example",  # Kelvin sign lower-cases to "k"
    ],
)
def test_it_refuses_hosts_outside_the_school_domain(email: str) -> None:
    v = only(replace(GOOD, host=replace(TEACHER, email=email)))
    assert (v.rule, v.field) == ("school-account", "host")
    assert "@oakfield.example" in v.message


def test_it_matches_the_domain_ignoring_case() -> None:
    assert check(replace(GOOD, host=replace(TEACHER, email="Tess@OakField.Example"))) == []


def test_it_accepts_any_of_the_school_domains() -> None:
    school = replace(SCHOOL, email_domains=("oakfield.example", "oakfield-trust.example"))
    req = replace(GOOD, second_staff=replace(TA, email="tia@oakfield-trust.example"))
    assert check(req, school=school) == []


def test_it_checks_the_second_adults_account_too() -> None:
    v = only(replace(GOOD, second_staff=replace(TA, email="tia@hotmail.example")))
    assert (v.rule, v.field) == ("school-account", "second_staff")


def test_it_says_when_the_school_has_no_domains_set_up() -> None:
    found = check(GOOD, school=replace(SCHOOL, email_domains=()))
    assert [(v.rule, v.field) for v in found] == [
        ("school-account", "host"),
        ("school-account", "second_staff"),
    ]
    assert all("no email domains" in v.message for v in found)


def test_it_skips_the_account_check_when_school_account_is_off() -> None:
    req = replace(GOOD, host=replace(TEACHER, email="tess@gmail.com"))
    assert check(req, policy=off("school-account")) == []


# max-duration


def test_it_refuses_a_lesson_longer_than_the_limit() -> None:
    v = only(replace(GOOD, duration_minutes=31))
    assert (v.rule, v.field) == ("max-duration", "duration_minutes")
    assert v.message == (
        "Lessons can be at most 30 minutes long (max-duration). Choose 30 minutes or less."
    )


def test_it_uses_the_schools_own_limit() -> None:
    assert (
        check(replace(GOOD, duration_minutes=20), policy=PolicySettings(max_duration_minutes=20))
        == []
    )
    v = only(replace(GOOD, duration_minutes=25), policy=PolicySettings(max_duration_minutes=20))
    assert "at most 20 minutes" in v.message


@pytest.mark.parametrize("minutes", [0, -10])
def test_it_refuses_a_lesson_shorter_than_a_minute(minutes: int) -> None:
    v = only(replace(GOOD, duration_minutes=minutes))
    assert (v.rule, v.field) == ("max-duration", "duration_minutes")
    assert "at least 1 minute" in v.message


# lesson-hours


def test_it_refuses_a_lesson_outside_lesson_times_and_names_them() -> None:
    v = only(replace(GOOD, starts_at=SATURDAY_10))
    assert (v.rule, v.field) == ("lesson-hours", "starts_at")
    assert "Monday to Friday 09:00–12:00 and 13:00–15:15" in v.message
    assert "Saturday 9 January 2027, 10:00–10:30" in v.message


def test_it_names_the_requested_time_in_the_schools_zone() -> None:
    # 18:00Z in summer is 19:00 in London.
    v = only(replace(GOOD, starts_at=datetime(2027, 6, 7, 18, tzinfo=UTC)))
    assert "Monday 7 June 2027, 19:00–19:30" in v.message


def test_it_says_when_the_day_is_outside_term() -> None:
    termly = replace(
        SCHOOL, timetable=replace(SCHOOL.timetable, terms=((date(2027, 2, 1), date(2027, 3, 26)),))
    )
    v = only(GOOD, school=termly)
    assert v.rule == "lesson-hours"
    assert "term dates" in v.message


def test_it_handles_lessons_after_the_clock_change() -> None:
    starts = local_to_utc(date(2027, 3, 29), time(9), "Europe/London")
    assert check(replace(GOOD, starts_at=starts)) == []
    assert only(replace(GOOD, starts_at=starts - timedelta(minutes=1))).rule == "lesson-hours"


def test_it_skips_lesson_hours_when_switched_off() -> None:
    assert check(replace(GOOD, starts_at=SATURDAY_10), policy=off("lesson-hours")) == []


# group-only


def test_it_refuses_a_one_to_one_lesson() -> None:
    v = only(replace(GOOD, pupil_count=1))
    assert (v.rule, v.field) == ("group-only", "pupils")
    assert "never one to one" in v.message and "at least 2 pupils" in v.message


def test_it_uses_the_schools_smallest_group() -> None:
    v = only(replace(GOOD, pupil_count=3), policy=PolicySettings(min_group_size=4))
    assert "at least 4 pupils" in v.message


# second-adult-or-recording


def test_it_needs_a_second_adult_or_a_recording() -> None:
    v = only(replace(GOOD, second_staff=None))
    assert (v.rule, v.field) == ("second-adult-or-recording", "second_staff")
    assert "Add a second member of staff" in v.message


def test_it_accepts_one_adult_when_the_lesson_is_recorded() -> None:
    assert check(replace(GOOD, second_staff=None, recorded=True)) == []


@pytest.mark.parametrize(
    ("second", "words"),
    [
        (TEACHER, "different person"),
        (replace(TEACHER, email="TESS@oakfield.example"), "different person"),
        (replace(TA, active=False), "not active"),
        (Person("ann@oakfield.example", frozenset({"admin"})), "not a member of staff"),
        (Person("ann@oakfield.example", frozenset()), "not a member of staff"),
    ],
)
def test_it_refuses_an_unsuitable_second_adult(second: Person, words: str) -> None:
    for recorded in (False, True):
        v = only(replace(GOOD, second_staff=second, recorded=recorded))
        assert (v.rule, v.field) == ("second-adult-or-recording", "second_staff")
        assert words in v.message


@pytest.mark.parametrize("role", ["staff", "teacher", "approver", "slt", "dsl"])
def test_it_accepts_any_member_of_staff_as_second_adult(role: str) -> None:
    assert (
        check(replace(GOOD, second_staff=Person("ann@oakfield.example", frozenset({role})))) == []
    )


def test_it_skips_the_second_adult_rule_when_switched_off() -> None:
    assert check(replace(GOOD, second_staff=None), policy=off("second-adult-or-recording")) == []


# checks that are not policy rules


def test_it_refuses_a_start_in_the_past() -> None:
    for now in (MONDAY_10, MONDAY_10 + timedelta(days=1)):
        [v] = check_lesson_request(GOOD, DEFAULT_POLICY, SCHOOL, now)
        assert (v.rule, v.field) == ("start-in-past", "starts_at")
        assert "already passed" in v.message


def test_it_checks_the_start_even_with_every_rule_switched_off() -> None:
    everything_off = PolicySettings(switches=dict.fromkeys(DEFAULT_POLICY.switches, False))
    [v] = check_lesson_request(GOOD, everything_off, SCHOOL, MONDAY_10)
    assert v.rule == "start-in-past"


def test_it_needs_an_offset_on_now_too() -> None:
    with pytest.raises(PolicyError) as caught:
        check_lesson_request(GOOD, DEFAULT_POLICY, SCHOOL, datetime(2027, 1, 1))
    assert caught.value.field == "now"


def test_it_reports_a_double_booked_host() -> None:
    v = only(GOOD, conflicts=Conflicts(host=True))
    assert (v.rule, v.field) == ("host-double-booked", "host")
    assert "tess@oakfield.example is already in another lesson" in v.message


def test_it_reports_a_double_booked_second_adult() -> None:
    v = only(GOOD, conflicts=Conflicts(second_staff=True))
    assert (v.rule, v.field) == ("second-staff-double-booked", "second_staff")
    assert "tia@oakfield.example is already in another lesson" in v.message


def test_it_names_one_double_booked_pupil() -> None:
    v = only(GOOD, conflicts=Conflicts(pupils=("Sam B.",)))
    assert (v.rule, v.field) == ("pupil-double-booked", "pupils")
    assert v.message.startswith("Sam B. is already in another lesson")
    assert "that pupil" in v.message


def test_it_names_every_double_booked_pupil() -> None:
    v = only(GOOD, conflicts=Conflicts(pupils=("Sam B.", "Ali", "Jo")))
    assert v.message.startswith("Sam B., Ali and Jo are already in another lesson")
    assert "those pupils" in v.message


def test_it_reports_double_bookings_whatever_the_policy_switches() -> None:
    everything_off = PolicySettings(switches=dict.fromkeys(DEFAULT_POLICY.switches, False))
    found = check(GOOD, policy=everything_off, conflicts=Conflicts(True, True, ("Ali",)))
    assert [v.rule for v in found] == [
        "host-double-booked",
        "second-staff-double-booked",
        "pupil-double-booked",
    ]


def test_it_ends_every_message_with_its_rule_id_and_a_way_to_fix_it() -> None:
    req = LessonRequest(
        host=Person("x@gmail.com", frozenset({"staff"}), active=False),
        second_staff=Person("x@gmail.com", frozenset(), active=False),
        pupil_count=0,
        starts_at=datetime(2026, 12, 26, 22, tzinfo=UTC),
        duration_minutes=600,
        recorded=False,
    )
    found = check(req, conflicts=Conflicts(True, True, ("Ali",)))
    # Every policy rule the request can break, plus all four non-policy checks.
    assert [(v.rule, v.field) for v in found] == [
        ("staff-host-only", "host"),
        ("school-account", "host"),
        ("school-account", "second_staff"),
        ("max-duration", "duration_minutes"),
        ("lesson-hours", "starts_at"),
        ("group-only", "pupils"),
        ("second-adult-or-recording", "second_staff"),
        ("start-in-past", "starts_at"),
        ("host-double-booked", "host"),
        ("second-staff-double-booked", "second_staff"),
        ("pupil-double-booked", "pupils"),
    ]
    for v in found:
        assert f"({v.rule})" in v.message
        assert v.message.endswith(".")


# property tests

people = st.builds(
    Person,
    email=st.sampled_from(
        ["tess@oakfield.example", "tia@oakfield.example", "x@gmail.com", "TESS@oakfield.example"]
    ),
    roles=st.frozensets(st.sampled_from(["approver", "slt", "dsl", "teacher", "staff", "admin"])),
    active=st.booleans(),
)
aware_times = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2029, 1, 1), timezones=st.just(UTC)
)
requests = st.builds(
    LessonRequest,
    host=people,
    second_staff=st.none() | people,
    pupil_count=st.integers(-1, 40),
    starts_at=aware_times,
    duration_minutes=st.integers(-5, 10**6),
    recorded=st.booleans(),
)
settings = st.builds(
    PolicySettings,
    switches=st.dictionaries(st.sampled_from(sorted(DEFAULT_POLICY.switches)), st.booleans()),
    max_duration_minutes=st.integers(5, 240),
    min_group_size=st.integers(2, 60),
)
conflict_sets = st.builds(
    Conflicts,
    host=st.booleans(),
    second_staff=st.booleans(),
    pupils=st.lists(st.sampled_from(["Sam B.", "Ali", "Jo"]), unique=True).map(tuple),
)


@given(requests, settings, conflict_sets, aware_times)
def test_it_never_reports_the_same_rule_and_field_twice(
    req: LessonRequest, policy: PolicySettings, conflicts: Conflicts, now: datetime
) -> None:
    found = check_lesson_request(req, policy, SCHOOL, now, conflicts)
    pairs = [(v.rule, v.field) for v in found]
    assert len(pairs) == len(set(pairs))
    assert all(v.message and v.field for v in found)


@st.composite
def valid_requests(draw: st.DrawFn) -> tuple[LessonRequest, PolicySettings]:
    policy = draw(settings)
    day = draw(st.dates(min_value=date(2027, 1, 4), max_value=date(2028, 12, 29)))
    window = draw(st.sampled_from([w for w in WINDOWS if w.weekday == day.weekday()] or [None]))
    if window is None:  # a weekend: move to the Monday after
        day += timedelta(days=7 - day.weekday())
        window = WINDOWS[0]
    length = (window.end.hour * 60 + window.end.minute) - (
        window.start.hour * 60 + window.start.minute
    )
    minutes = draw(st.integers(1, min(length, policy.max_duration_minutes)))
    offset = draw(st.integers(0, length - minutes))
    start_minute = window.start.hour * 60 + window.start.minute + offset
    starts_at = local_to_utc(day, time(*divmod(start_minute, 60)), "Europe/London")
    host = Person(
        draw(st.sampled_from(["tess@oakfield.example", "Tess@OAKFIELD.example"])),
        frozenset({"teacher"}) | draw(st.frozensets(st.sampled_from(["slt", "dsl", "admin"]))),
    )
    recorded = draw(st.booleans())
    second = draw(
        st.sampled_from([TA, Person("hana@oakfield.example", frozenset({"approver", "dsl"}))])
        | (st.none() if recorded else st.nothing())
    )
    req = LessonRequest(
        host=host,
        second_staff=second,
        pupil_count=draw(st.integers(policy.min_group_size, 60)),
        starts_at=starts_at,
        duration_minutes=minutes,
        recorded=recorded,
    )
    return req, policy


@given(valid_requests())
def test_it_accepts_every_valid_request(case: tuple[LessonRequest, PolicySettings]) -> None:
    req, policy = case
    assert check_lesson_request(req, policy, SCHOOL, NOW) == []


# display names


def test_it_shows_first_names_alone_when_they_differ() -> None:
    assert display_names([("Sam", "Brown"), ("Ali", "Khan")]) == ["Sam", "Ali"]


def test_it_adds_an_initial_only_where_first_names_are_shared() -> None:
    assert display_names([("Sam", "Brown"), ("Ali", "Khan"), ("sam", "Cole")]) == [
        "Sam B.",
        "Ali",
        "sam C.",
    ]


def test_it_adds_more_letters_while_initials_still_match() -> None:
    assert display_names([("Sam", "Brown"), ("Sam", "Bell"), ("Sam", "Cole")]) == [
        "Sam Br.",
        "Sam Be.",
        "Sam C.",
    ]


def test_it_shows_a_short_surname_in_full_when_it_starts_another() -> None:
    assert display_names([("Sam", "Lee"), ("Sam", "Leeson")]) == ["Sam Lee", "Sam Lees."]


def test_it_cannot_tell_apart_pupils_with_the_same_full_name() -> None:
    assert display_names([("Sam", "Brown"), ("Sam", "Brown")]) == ["Sam Brown", "Sam Brown"]


def test_it_ignores_stray_spaces() -> None:
    assert display_names([(" Sam ", " Brown"), ("Sam", "Bell ")]) == ["Sam Br.", "Sam Be."]


def test_it_keeps_the_input_order_and_handles_no_pupils() -> None:
    assert display_names([]) == []


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Sam", "sam", "Ali", "Jo"]),
            st.text(alphabet="abBcß", min_size=1, max_size=5),
        ),
        max_size=8,
    )
)
def test_it_gives_different_pupils_different_names(pupils: list[tuple[str, str]]) -> None:
    names = display_names(pupils)
    assert len(names) == len(pupils)
    for i, (first_i, last_i) in enumerate(pupils):
        assert names[i].startswith(first_i)
        for j, (first_j, last_j) in enumerate(pupils):
            same_name = (first_i.casefold(), last_i.casefold()) == (
                first_j.casefold(),
                last_j.casefold(),
            )
            if not same_name:
                assert names[i].casefold() != names[j].casefold()
