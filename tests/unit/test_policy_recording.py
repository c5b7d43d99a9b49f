"""When a live lesson records (second-adult-or-recording, host-only-recording)."""

from __future__ import annotations

import pytest

from safeclass.policy.recording import (
    StallWatch,
    disk_needed,
    may_admit_pupils,
    recording_decision,
)


def decide(staff: int, pupils: int, booked: bool = False, wants: bool = False):
    return recording_decision(staff_present=staff, pupils_admitted=pupils,
                              booked_recorded=booked, host_wants=wants)


@pytest.mark.parametrize("wants", [False, True])
@pytest.mark.parametrize("booked", [False, True])
def test_one_adult_with_pupils_must_record_and_nobody_may_stop_it(booked: bool,
                                                                 wants: bool) -> None:
    d = decide(1, 2, booked, wants)
    assert d.required and d.should_record and not d.host_may_toggle
    assert d.reason == "required"


def test_two_adults_record_only_if_the_host_wants() -> None:
    off = decide(2, 3)
    assert not off.required and not off.should_record and off.host_may_toggle
    assert off.reason is None
    on = decide(2, 3, wants=True)
    assert on.should_record and on.host_may_toggle and on.reason == "host"


def test_a_lesson_booked_as_recorded_records_throughout_and_the_host_cannot_stop_it() -> None:
    for staff, pupils, carried_on in ((2, 3, False), (1, 0, True), (2, 0, True)):
        d = decide(staff, pupils, booked=True, wants=carried_on)
        assert d.should_record and not d.host_may_toggle and d.reason == "requested"


def test_a_lesson_booked_as_recorded_starts_with_the_first_pupil() -> None:
    for staff in (1, 2):
        d = decide(staff, 0, booked=True)
        assert not d.should_record and not d.host_may_toggle


def test_one_adult_without_pupils_needs_no_recording_but_the_host_may_choose() -> None:
    assert not decide(1, 0).should_record
    d = decide(1, 0, wants=True)
    assert d.should_record and d.host_may_toggle and d.reason == "host"


def test_nobody_present_records_nothing() -> None:
    for booked in (False, True):
        d = decide(0, 0, booked, True)
        assert not d.should_record and d.reason is None


def test_pupils_without_any_staff_are_still_required_to_be_recorded() -> None:
    assert decide(0, 1).required


def test_pupils_come_in_with_two_adults_or_a_working_recording() -> None:
    assert may_admit_pupils(staff_present=2, recording_works=False)
    assert may_admit_pupils(staff_present=1, recording_works=True)
    assert not may_admit_pupils(staff_present=1, recording_works=False)
    assert not may_admit_pupils(staff_present=0, recording_works=True)


def test_disk_needed_counts_publishers_and_minutes() -> None:
    assert disk_needed(bytes_per_publisher_minute=5, publishers=3, minutes=10) == 150
    assert disk_needed(bytes_per_publisher_minute=5, publishers=0, minutes=10) == 50
    assert disk_needed(bytes_per_publisher_minute=5, publishers=2, minutes=-1) == 0


def test_a_stall_is_files_not_growing_while_someone_publishes() -> None:
    watch = StallWatch(limit=10)
    assert not watch.observe(size=0, publishing=True, now=0)
    assert not watch.observe(size=0, publishing=True, now=9)
    assert watch.observe(size=0, publishing=True, now=10)


def test_growth_or_nobody_publishing_resets_the_stall_clock() -> None:
    watch = StallWatch(limit=10)
    watch.observe(size=0, publishing=True, now=0)
    assert not watch.observe(size=100, publishing=True, now=8)
    assert not watch.observe(size=100, publishing=True, now=17)
    assert not watch.observe(size=100, publishing=False, now=30)
    assert not watch.observe(size=100, publishing=True, now=39)
    assert watch.observe(size=100, publishing=True, now=40)
