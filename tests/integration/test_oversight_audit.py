"""The audit log page: SLT and the DSL read and filter their school's log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse

from safeclass.audit.services import record
from tests import factories

URL = reverse("oversight:audit")


def write(action, *, actor=None, school=None, obj=None, data=None, at=None):
    if at is not None:
        with time_machine.travel(at, tick=False), transaction.atomic():
            return record(action, actor=actor, school=school, obj=obj, data=data)
    with transaction.atomic():
        return record(action, actor=actor, school=school, obj=obj, data=data)


@pytest.mark.parametrize("who", ["slt", "head", "deputy"])
def test_it_shows_the_log_to_slt_and_dsl(client, request, who, teacher):
    write("lesson.requested", actor=teacher, data={"title": "Fractions"})
    client.force_login(request.getfixturevalue(who))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "lesson.requested" in body
    assert "Tess Teacher &lt;teacher@school.example&gt;" in body
    assert "Fractions" in body


def test_it_shows_the_log_to_a_dsl_with_no_other_role(client, school, teacher):
    dsl = factories.make_staff(school, roles=("dsl",))
    write("lesson.requested", actor=teacher)
    client.force_login(dsl)
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize("who", ["teacher", "ta", "admin"])
def test_it_refuses_roles_that_may_not_read_the_log(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


def test_it_refuses_an_approver_who_is_not_slt_or_dsl(client, school):
    client.force_login(factories.make_staff(school, roles=("approver",)))
    assert client.get(URL).status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_it_refuses_post(client, slt):
    client.force_login(slt)
    assert client.post(URL).status_code == 405


def test_it_never_shows_another_schools_events(client, slt, teacher, outsider):
    write("ours.happened", actor=teacher)
    write("theirs.happened", actor=outsider, data={"secret": "elsewhere"})
    client.force_login(slt)
    body = client.get(URL).content.decode()
    assert "ours.happened" in body
    assert "theirs.happened" not in body and "elsewhere" not in body
    # Their actions are not even offered as a filter.
    assert client.get(URL, {"action": "theirs.happened"}).context["filters_valid"] is False


def test_it_lists_newest_first(client, slt, teacher):
    for action in ("first.action", "second.action", "third.action"):
        write(action, actor=teacher)
    client.force_login(slt)
    body = client.get(URL).content.decode()
    table = body[body.index("<tbody>"):]
    assert table.index("third.action") < table.index("second.action") < table.index("first.action")


def test_it_filters_by_action_actor_and_object(client, slt, teacher, teacher2, group):
    pupil = group.pupils.first()
    write("lesson.requested", actor=teacher, obj=group)
    write("lesson.approved", actor=teacher2, obj=group)
    write("pupil.changed", actor=teacher2, obj=pupil)
    client.force_login(slt)

    def actions(**params):
        rows = client.get(URL, params).context["rows"]
        return [row.event.action for row in rows]

    assert actions(action="lesson.approved") == ["lesson.approved"]
    assert actions(actor="TOM teach") == ["pupil.changed", "lesson.approved"]
    assert actions(actor="teacher2@school") == ["pupil.changed", "lesson.approved"]
    assert actions(object_type="schools.pupil") == ["pupil.changed"]
    assert actions(object_type="schools.group", object_id=str(group.pk)) == [
        "lesson.approved", "lesson.requested"]
    assert actions(object_id="999999") == []


def test_it_filters_by_date_range_in_the_school_time_zone(client, slt, teacher):
    write("june.event", actor=teacher, at=datetime(2030, 6, 15, 10, tzinfo=UTC))
    # 23:30 UTC on 30 June is already 1 July in London.
    write("july.event", actor=teacher, at=datetime(2030, 6, 30, 23, 30, tzinfo=UTC))
    client.force_login(slt)

    def actions(**params):
        return [row.event.action for row in client.get(URL, params).context["rows"]]

    assert actions(date_from="2030-07-01") == ["july.event"]
    assert actions(date_to="2030-06-30") == ["june.event"]
    assert actions(date_from="2030-06-15", date_to="2030-06-15") == ["june.event"]


def test_it_reports_bad_filters(client, slt, teacher):
    write("lesson.requested", actor=teacher)
    client.force_login(slt)
    response = client.get(URL, {"date_from": "yesterday", "action": "made.up"})
    body = response.content.decode()
    assert 'href="#id_date_from"' in body and 'href="#id_action"' in body
    assert response.context["rows"] == []


def test_it_shows_before_and_after_readably_and_escaped(client, slt, teacher):
    write("policy.edited", actor=teacher, data={
        "before": {"max_duration_minutes": 30, "title": "<b>old</b>"},
        "after": {"max_duration_minutes": 25, "title": "<script>x</script>"},
        "reason": "Zoë's <i>request</i>",
    })
    client.force_login(slt)
    body = client.get(URL).content.decode()
    assert "<script>x</script>" not in body and "<b>old</b>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body
    assert "Zoë&#x27;s &lt;i&gt;request&lt;/i&gt;" in body
    assert "<dt>before</dt>" in body and "<dt>after</dt>" in body
    assert "&quot;max_duration_minutes&quot;: 25" in body


def test_it_says_the_log_is_hash_chained_and_how_to_check_it(client, slt):
    client.force_login(slt)
    body = client.get(URL).content.decode()
    assert "hash" in body
    assert "verify_audit" in body


def test_it_pages_fifty_events_at_a_time_keeping_the_filters(client, slt, teacher):
    for i in range(120):
        write("bulk.event", actor=teacher, data={"n": i})
    client.force_login(slt)
    first = client.get(URL, {"action": "bulk.event"})
    assert [row.event.seq for row in first.context["rows"]][:2] == [120, 119]
    assert len(first.context["rows"]) == 50
    assert "action=bulk.event&amp;page=2" in first.content.decode()
    third = client.get(URL, {"action": "bulk.event", "page": 3})
    assert [row.event.seq for row in third.context["rows"]] == list(range(20, 0, -1))
    assert "Page 3 of 3" in third.content.decode()
