"""The audit log is append-only and hash-chained: `verify_audit` notices any row that was
changed or removed by hand, and names the first broken event."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction

from safeclass.audit.chain import GENESIS_HASH
from safeclass.audit.models import AuditChainHead, AuditEvent
from safeclass.audit.services import record, verify_chain


def _write(n: int, school=None, actor=None) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(record(f"test.action{i}", actor=actor, school=school,
                                 data={"i": i, "name": "Zoë O'Brien <b>"}))
    return events


def _raw(sql: str, params: list[object]) -> None:
    # The model refuses saves and deletes, so tampering has to go round it, as an
    # attacker with database access would.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify_output() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_record_outside_a_transaction():
    with pytest.raises(RuntimeError, match="transaction"):
        record("test.outside")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_it_links_each_event_to_the_one_before(teacher):
    first, second, third = _write(3, school=teacher.school, actor=teacher)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (3, third.hash)
    assert third.actor_label == "Tess Teacher <teacher@school.example>"
    assert third.school == teacher.school


@pytest.mark.django_db
def test_it_refuses_to_change_or_delete_an_event_through_the_model():
    (event,) = _write(1)
    event.action = "something.else"
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()


@pytest.mark.django_db
def test_it_passes_verification_on_a_good_log(teacher):
    _write(5, school=teacher.school, actor=teacher)
    assert "5 events checked" in _verify_output()
    assert verify_chain() == (5, None)


@pytest.mark.django_db
def test_it_passes_verification_on_an_empty_log():
    assert "0 events checked" in _verify_output()


@pytest.mark.django_db
def test_it_keeps_no_event_when_the_change_is_rolled_back():
    _write(1)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        record("test.rolled_back")
        1 / 0
    _write(1)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2]
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    assert verify_chain() == (2, None)


@pytest.mark.django_db
def test_it_fails_when_an_action_is_changed_by_hand():
    _write(4)
    _raw("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["test.innocent", 2])
    with pytest.raises(CommandError, match=r"event #2: its contents were changed"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_it_fails_when_data_is_changed_by_hand():
    _write(4)
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    _raw(f"UPDATE audit_auditevent SET data = {cast} WHERE seq = %s",
         ['{"i": 99}', 3])
    with pytest.raises(CommandError, match=r"event #3: its contents were changed") as exc:
        call_command("verify_audit")
    assert "2 events before it are intact" in str(exc.value)


@pytest.mark.django_db
def test_it_fails_when_the_actor_label_is_changed_by_hand(teacher):
    _write(3, school=teacher.school, actor=teacher)
    _raw("UPDATE audit_auditevent SET actor_label = %s WHERE seq = %s", ["someone else", 1])
    with pytest.raises(CommandError, match=r"event #1:"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_it_fails_when_an_event_is_rehashed_by_hand():
    # Recomputing one row's hash is not enough: the next row's link no longer matches.
    events = _write(3)
    _raw("UPDATE audit_auditevent SET action = %s, hash = %s WHERE seq = %s",
         ["test.forged", "f" * 64, 2])
    with pytest.raises(CommandError, match=r"event #2:"):
        call_command("verify_audit")
    assert events[2].prev_hash != "f" * 64


@pytest.mark.django_db
def test_it_fails_when_an_event_in_the_middle_is_deleted():
    _write(5)
    _raw("DELETE FROM audit_auditevent WHERE seq = %s", [3])
    with pytest.raises(CommandError, match=r"event #3: event #3 is missing"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_it_fails_when_the_newest_event_is_deleted():
    _write(5)
    _raw("DELETE FROM audit_auditevent WHERE seq = %s", [5])
    with pytest.raises(CommandError, match=r"event #5: the log ends at #4 but #5 was written"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_it_fails_when_every_event_is_deleted():
    _write(2)
    _raw("DELETE FROM audit_auditevent", [])
    with pytest.raises(CommandError, match=r"event #1: the log ends at #0 but #2 was written"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_it_keeps_one_chain_when_writes_interleave_with_nested_transactions():
    # Savepoints that roll back, and writes from several code paths in one request, must
    # neither fork the chain nor leave a gap in the numbering.
    with transaction.atomic():
        record("test.outer.start")
        for i in range(5):
            try:
                with transaction.atomic():
                    record("test.inner", data={"i": i})
                    if i % 2:
                        raise ValueError("roll this one back")
            except ValueError:
                pass
        record("test.outer.end")
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 6))
    assert verify_chain() == (5, None)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_chain_when_several_threads_write_at_once():
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(10):
                for _attempt in range(200):
                    try:
                        with transaction.atomic():
                            record("test.thread", data={"thread": n, "i": i})
                        break
                    except OperationalError as exc:
                        # SQLite's in-memory test database reports a busy lock at once
                        # instead of waiting (a file database waits): try again.
                        if "locked" not in str(exc):
                            raise
                        time.sleep(0.005)
                else:
                    raise AssertionError("the database stayed locked")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEvent.objects.count() == 40
    assert verify_chain() == (40, None)
