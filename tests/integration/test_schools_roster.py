"""The roster page and importing pupils from CSV: preview, confirm, all or nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from safeclass.audit.models import AuditEvent
from safeclass.schools.models import Group, Pupil
from safeclass.schools.roster_csv import MAX_ROWS, parse_roster
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "first_name,last_name,class,parent_name,parent_email,pupil_reference\n"
GOOD = HEADER + (
    "Zoë,O'Brien,Year 4 Oak,Siobhan O'Brien,siobhan@parents.example,A001\n"
    "Minh,Nguyễn,Year 4 Oak,Lan Nguyễn,lan@parents.example,\n"
    "Sam,<b>Bold</b>,Year 5 Ash,Pat Bold,pat@parents.example,\n"
)


def _upload(client, text: str | bytes, name: str = "roster.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(reverse("schools:roster_import"),
                       {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def _import(client, text: str | bytes):
    preview = _upload(client, text)
    assert preview.status_code == 200
    import_id = preview.context["import_id"]
    assert import_id, [str(e) for e in preview.context["file_errors"]]
    return client.post(reverse("schools:roster_import_confirm"), {"import_id": import_id})


# -- parsing (no database needed, but kept beside the import it serves) -----------------


def test_it_reads_a_file_with_or_without_a_byte_order_mark():
    plain = parse_roster(GOOD.encode())
    bom = parse_roster(b"\xef\xbb\xbf" + GOOD.encode())
    assert plain.ok and bom.ok
    assert [r.first_name for r in bom.rows] == ["Zoë", "Minh", "Sam"]
    assert bom.rows == plain.rows
    assert [r.line for r in plain.rows] == [2, 3, 4]


def test_it_lists_every_bad_line_by_number():
    text = HEADER + (
        "Zoë,O'Brien,Year 4 Oak,Siobhan O'Brien,siobhan@parents.example,A001\n"  # 2 fine
        ",Smith,Year 4 Oak,Jo Smith,jo@parents.example,\n"  # 3 empty first name
        "Amy,Jones,Year 4 Oak,Kim Jones,not-an-email,\n"  # 4 bad email
        "Sam\u202e,Evil,Year 4 Oak,Pat,pat@parents.example,\n"  # 5 bidi override
        "Too,Few,Year 4 Oak\n"  # 6 wrong number of values
        "\n"  # 7 blank: ignored
        "Zoe,Other,Year 5 Ash,Someone,someone@parents.example,a001\n"  # 8 repeated reference
        "Minh,Nguyễn,Year 4 Oak,Lan,lan@parents.example,\n"  # 9 fine
        "MINH,nguyễn,Year 5 Ash,Lan,LAN@parents.example,\n"  # 10 same pupil as line 9
        f"{'x' * 101},Long,Year 4 Oak,Pat,long@parents.example,\n"  # 11 name too long
        "Tab\tName,X,Year 4 Oak,Pat,tab@parents.example,\n"  # 12 control character
    )
    parsed = parse_roster(text.encode())
    assert not parsed.ok
    by_line: dict[int, list[str]] = {}
    for error in parsed.errors:
        by_line.setdefault(error.line, []).append(str(error))
    assert sorted(by_line) == [3, 4, 5, 6, 8, 10, 11, 12]
    assert "first_name is empty" in by_line[3][0]
    assert "not an email address" in by_line[4][0]
    assert "U+202E" in by_line[5][0]
    assert "has 3 values but the header on line 1 has 6 columns" in by_line[6][0]
    assert "also on line 2" in by_line[8][0]
    assert "also on line 9" in by_line[10][0]
    assert "too long" in by_line[11][0]
    assert "control character" in by_line[12][0]


def test_it_counts_lines_of_quoted_values_that_span_lines():
    # Line 2's quoted parent name runs onto line 3 (and is refused for its line break).
    text = HEADER + ('"Ann",Smith,Year 4 Oak,"Pat\nSmith",pat@parents.example,\n'
                     "Bad,,Y,P,p@x.example,\n")
    errors = parse_roster(text.encode()).errors
    assert [e.line for e in errors] == [2, 4]


@pytest.mark.parametrize(("data", "words"), [
    (b"", "empty"),
    (HEADER.encode(), "no pupils"),
    (b"first_name,last_name\nA,B\n", "missing class, parent_name, parent_email"),
    (b"first_name;last_name;class;parent_name;parent_email\n", "not semicolons"),
    (HEADER.replace("pupil_reference", "pupil_ref").encode(), "does not know: pupil_ref"),
    ((HEADER + "Zo\xeb,A,B,C,d@e.example,\n").encode("latin-1"), "not UTF-8"),
    (b"PK\x03\x04\x00\x00binary", "not a CSV file"),
    ((HEADER + '"Ann,Smith,Y,P,p@x.example,\n').encode(), "not a well-formed CSV line"),
])
def test_it_refuses_files_that_are_not_a_roster(data, words):
    errors = parse_roster(data).errors
    assert errors
    assert any(words in str(e) for e in errors), [str(e) for e in errors]


def test_it_names_the_line_where_utf8_breaks():
    data = (HEADER + "Ann,Smith,Y,P,p@x.example,\n").encode() + "Zoë,A,B,C,d@e.example,\n".encode(
        "latin-1")
    [error] = parse_roster(data).errors
    assert error.line == 3


def test_it_refuses_more_than_five_thousand_pupils():
    rows = "".join(f"P{n},S{n},Y4,Parent,p{n}@parents.example,\n" for n in range(MAX_ROWS + 1))
    errors = parse_roster((HEADER + rows).encode()).errors
    assert len(errors) == 1 and "more than 5000 pupils" in str(errors[0])
    assert errors[0].line == MAX_ROWS + 2


# -- preview and confirm ----------------------------------------------------------------


def test_it_previews_without_changing_anything(client, school, admin, group):
    client.force_login(admin)
    response = _upload(client, GOOD)
    assert response.status_code == 200
    body = response.content.decode()
    assert "3 pupils will be added" in body
    assert "1 new class: Year 5 Ash" in body  # Year 4 Oak exists already
    assert "&lt;b&gt;Bold&lt;/b&gt;" in body and "<b>Bold</b>" not in body
    assert Pupil.objects.filter(school=school).count() == 4
    assert not AuditEvent.objects.filter(action="roster.imported").exists()


def test_it_imports_a_good_file_in_one_go_and_audits_it(client, school, admin):
    client.force_login(admin)
    response = _import(client, GOOD)
    assert response.status_code == 302 and response["Location"] == reverse("schools:roster")
    assert sorted(Group.objects.filter(school=school).values_list("name", flat=True)) == [
        "Year 4 Oak", "Year 5 Ash"]
    zoe = Pupil.objects.get(school=school, reference="A001")
    assert (zoe.first_name, zoe.last_name, zoe.group.name) == ("Zoë", "O'Brien", "Year 4 Oak")
    assert Pupil.objects.get(school=school, first_name="Minh").last_name == "Nguyễn"
    event = AuditEvent.objects.get(action="roster.imported")
    assert event.actor == admin
    assert (event.data["created"], event.data["updated"], event.data["unchanged"]) == (3, 0, 0)
    assert event.data["classes_created"] == ["Year 4 Oak", "Year 5 Ash"]


def test_it_imports_with_a_byte_order_mark(client, school, admin):
    client.force_login(admin)
    _import(client, b"\xef\xbb\xbf" + GOOD.encode())
    assert Pupil.objects.filter(school=school).count() == 3


def test_it_updates_on_reimport_instead_of_duplicating(client, school, admin):
    client.force_login(admin)
    _import(client, GOOD)
    changed = HEADER + (
        # same reference, new class and parent email
        "Zoë,O'Brien,Year 5 Ash,Siobhan O'Brien,siobhan.obrien@parents.example,A001\n"
        # matched by name and parent email ignoring case; gains a reference
        "MINH,NGUYỄN,Year 4 Oak,Lan Nguyễn,LAN@parents.example,B002\n"
        # unchanged
        "Sam,<b>Bold</b>,Year 5 Ash,Pat Bold,pat@parents.example,\n"
        # new
        "Ffion,Hughes,Year 4 Oak,Owain Hughes,owain@parents.example,\n"
    )
    preview = _upload(client, changed).content.decode()
    assert "1 pupil will be added" in preview
    assert "2 pupils will be updated" in preview
    assert "1 pupil is already up to date" in preview
    response = client.post(reverse("schools:roster_import_confirm"),
                           {"import_id": client.session["schools.roster_import"]["id"]})
    assert response.status_code == 302
    assert Pupil.objects.filter(school=school).count() == 4
    zoe = Pupil.objects.get(school=school, reference="A001")
    assert zoe.group.name == "Year 5 Ash"
    assert zoe.parent_email == "siobhan.obrien@parents.example"
    minh = Pupil.objects.get(school=school, reference="B002")
    assert (minh.first_name, minh.last_name) == ("MINH", "NGUYỄN")
    event = AuditEvent.objects.filter(action="roster.imported").order_by("-seq").first()
    assert (event.data["created"], event.data["updated"], event.data["unchanged"]) == (1, 2, 1)


def test_it_applies_nothing_when_any_line_is_bad(client, school, admin):
    client.force_login(admin)
    bad = GOOD + "Amy,Jones,Year 4 Oak,Kim Jones,not-an-email,\n"
    response = _upload(client, bad)
    body = response.content.decode()
    assert "Line 5: parent_email “not-an-email” is not an email address." in body
    assert "nothing was imported" in body
    assert response.context["import_id"] == ""
    assert 'action="/school/roster/import/confirm/"' not in body
    assert "schools.roster_import" not in client.session
    assert Pupil.objects.filter(school=school).count() == 0
    assert Group.objects.filter(school=school).count() == 0


def test_it_refuses_a_line_matching_two_existing_pupils(client, school, admin, group):
    for _ in range(2):
        pupil = factories.make_pupil(group, "Ann", "Twin")
        pupil.parent_email = "twins@parents.example"
        pupil.save()
    client.force_login(admin)
    text = HEADER + ("New,Pupil,Year 4 Oak,P,new@parents.example,\n"
                     "Ann,Twin,Year 4 Oak,P,twins@parents.example,\n")
    body = _upload(client, text).content.decode()
    assert "Line 3: This matches 2 pupils already on the roster" in body
    assert Pupil.objects.filter(school=school).count() == 6


def test_it_applies_nothing_if_the_roster_changed_since_the_preview(client, school, admin, group):
    client.force_login(admin)
    preview = _upload(client, GOOD)
    # Someone else adds the same pupil before this import is confirmed.
    pupil = factories.make_pupil(group, "Minh", "Nguyễn")
    pupil.parent_email = "lan@parents.example"
    pupil.save()
    response = client.post(reverse("schools:roster_import_confirm"),
                           {"import_id": preview.context["import_id"]})
    assert response.status_code == 409
    assert "nothing was imported" in response.content.decode()
    assert Pupil.objects.filter(school=school).count() == 5
    assert not Group.objects.filter(school=school, name="Year 5 Ash").exists()
    assert not AuditEvent.objects.filter(action="roster.imported").exists()


def test_it_does_not_trust_a_reposted_or_reused_import_id(client, school, admin):
    client.force_login(admin)
    response = client.post(reverse("schools:roster_import_confirm"), {"import_id": "made-up"})
    assert response.status_code == 302 and response["Location"] == reverse("schools:roster_import")
    preview = _upload(client, GOOD)
    import_id = preview.context["import_id"]
    assert client.post(reverse("schools:roster_import_confirm"),
                       {"import_id": import_id}).status_code == 302
    # A second confirm of the same preview does nothing more.
    client.post(reverse("schools:roster_import_confirm"), {"import_id": import_id})
    assert Pupil.objects.filter(school=school).count() == 3
    assert AuditEvent.objects.filter(action="roster.imported").count() == 1


def test_it_keeps_one_admins_preview_from_another(client, school, admin):
    other_admin = factories.make_staff(school, "admin2@school.example", ("admin",))
    client.force_login(admin)
    import_id = _upload(client, GOOD).context["import_id"]
    client.force_login(other_admin)
    response = client.post(reverse("schools:roster_import_confirm"), {"import_id": import_id})
    assert response.status_code == 302
    assert Pupil.objects.filter(school=school).count() == 0


# -- the roster page and who may use it -------------------------------------------------


def test_it_shows_classes_and_escaped_names(client, school, admin, teacher):
    client.force_login(admin)
    _import(client, GOOD)
    client.force_login(teacher)
    response = client.get(reverse("schools:roster"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Year 4 Oak" in body and "Year 5 Ash" in body
    assert "Zoë" in body and "O&#x27;Brien" in body and "Nguyễn" in body
    assert "&lt;b&gt;Bold&lt;/b&gt;" in body and "<b>Bold</b>" not in body
    # Teachers see who the pupils are, not their parents' contact details.
    assert "siobhan@parents.example" not in body
    assert "Import pupils" not in body
    client.force_login(admin)
    assert "siobhan@parents.example" in client.get(reverse("schools:roster")).content.decode()


def test_it_lets_planning_roles_see_the_roster_only(client, school, teacher, head, deputy,
                                                    slt, admin, ta):
    for user in (teacher, head, deputy, slt, admin):
        client.force_login(user)
        assert client.get(reverse("schools:roster")).status_code == 200, user
    client.force_login(ta)
    assert client.get(reverse("schools:roster")).status_code == 403


def test_it_lets_only_the_admin_import(client, school, teacher, head, slt):
    for user in (teacher, head, slt):
        client.force_login(user)
        assert client.get(reverse("schools:roster_import")).status_code == 403
        assert _upload(client, GOOD).status_code == 403
        assert client.post(reverse("schools:roster_import_confirm"),
                           {"import_id": "x"}).status_code == 403
    assert Pupil.objects.filter(school=school).count() == 0


def test_it_sends_anonymous_visitors_to_sign_in_from_the_roster(client, school):
    for name in ("schools:roster", "schools:roster_import"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("account_login") in response["Location"]
    response = client.post(reverse("schools:roster_import_confirm"), {"import_id": "x"})
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_it_refuses_get_on_the_confirm_action(client, school, admin):
    client.force_login(admin)
    assert client.get(reverse("schools:roster_import_confirm")).status_code == 405
    assert client.post(reverse("schools:roster")).status_code == 405


def test_it_shows_the_upload_form_with_the_documented_columns(client, school, admin):
    client.force_login(admin)
    body = client.get(reverse("schools:roster_import")).content.decode()
    assert "first_name,last_name,class,parent_name,parent_email,pupil_reference" in body
    assert 'enctype="multipart/form-data"' in body and 'for="id_file"' in body


def test_it_keeps_other_schools_pupils_out_of_view_and_import(client, school, group, outsider):
    client.force_login(outsider)
    body = client.get(reverse("schools:roster")).content.decode()
    assert "Year 4 Oak" not in body
    text = HEADER + f"{group.pupils.first().first_name},{group.pupils.first().last_name}," \
        f"Year 4 Oak,P,{group.pupils.first().parent_email},\n"
    _import(client, text)
    # Imported into the outsider's own school as a new pupil; ours are untouched.
    assert Pupil.objects.filter(school=school).count() == 4
    assert Pupil.objects.filter(school=outsider.school).count() == 1


# -- single class and pupil actions ----------------------------------------------------


def test_it_creates_a_class_once_and_audits_it(school, admin):
    from safeclass.schools.services import SchoolInputRejected, do_create_group

    group = do_create_group(school, " Year 6 Elm ", actor=admin)
    assert group.name == "Year 6 Elm"
    assert AuditEvent.objects.get(action="group.created").data == {"name": "Year 6 Elm"}
    with pytest.raises(SchoolInputRejected) as exc:
        do_create_group(school, "year 6 ELM", actor=admin)
    assert exc.value.errors[0].field == "name"
    with pytest.raises(SchoolInputRejected):
        do_create_group(school, "Year\u202e 7", actor=admin)
    assert Group.objects.filter(school=school).count() == 1


def test_it_creates_and_updates_a_pupil_with_audit_events(school, admin, group):
    from safeclass.schools.services import SchoolInputRejected, do_create_or_update_pupil

    values = {"group": group, "first_name": "Zoë", "last_name": "<b>O'Brien</b>",
              "parent_name": "Siobhan", "parent_email": "s@parents.example", "reference": "R1"}
    pupil = do_create_or_update_pupil(school, actor=admin, **values)
    assert pupil.last_name == "<b>O'Brien</b>"
    assert AuditEvent.objects.filter(action="pupil.created").count() == 1
    # The same values again change nothing and write nothing.
    do_create_or_update_pupil(school, actor=admin, pupil=pupil, **values)
    assert not AuditEvent.objects.filter(action="pupil.updated").exists()
    other = factories.make_group(school, "Year 5 Ash")
    do_create_or_update_pupil(school, actor=admin, pupil=pupil, **dict(values, group=other))
    event = AuditEvent.objects.get(action="pupil.updated")
    assert event.data["changes"] == {"group": {"before": "Year 4 Oak", "after": "Year 5 Ash"}}
    with pytest.raises(SchoolInputRejected) as exc:
        do_create_or_update_pupil(school, actor=admin, **dict(
            values, first_name="\u200bAnn", parent_email="nope", reference="R1"))
    assert {e.field for e in exc.value.errors} == {"first_name", "parent_email"}
    with pytest.raises(SchoolInputRejected) as exc:
        do_create_or_update_pupil(school, actor=admin, **dict(values, first_name="Ann"))
    assert [e.field for e in exc.value.errors] == ["reference"]
    assert Pupil.objects.filter(school=school, reference="R1").count() == 1


def test_it_refuses_pupil_changes_across_schools_or_by_teachers(school, admin, teacher, group,
                                                                 outsider):
    from django.core.exceptions import PermissionDenied

    from safeclass.schools.services import do_create_or_update_pupil

    values = {"group": group, "first_name": "Ann", "last_name": "Lee", "parent_name": "P",
              "parent_email": "p@parents.example"}
    with pytest.raises(PermissionDenied):
        do_create_or_update_pupil(school, actor=teacher, **values)
    with pytest.raises(PermissionDenied):
        do_create_or_update_pupil(school, actor=outsider, **values)
    with pytest.raises(PermissionDenied):
        do_create_or_update_pupil(outsider.school, actor=outsider, **values)
    assert Pupil.objects.filter(school=school).count() == 4
