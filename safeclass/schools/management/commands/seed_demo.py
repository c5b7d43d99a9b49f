"""Create the demo school, Oakfield Primary, with its staff, classes and pupils.

Idempotent: it only adds what is missing, so running it again changes nothing (no new
rows, no new audit events) and never undoes changes made to the demo school since.
The demo password is public on purpose — this is a demonstration school on a
developer's machine — and is printed with the logins.
"""

from __future__ import annotations

import unicodedata
from datetime import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.urls import reverse

from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.audit.services import record
from safeclass.schools.models import Group, LessonWindow, Pupil, School
from safeclass.schools.services import current_policy

SCHOOL_NAME = "Oakfield Primary (demo)"
DOMAIN = "oakfield.example"
DEMO_PASSWORD = "oakfield-demo-2026"
SET_UP = "seed_demo"

STAFF: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("head", "Ruth Okafor", ("approver", "dsl")),
    ("deputy", "Marcus Bell", ("approver", "slt")),
    ("teacher", "Amy Lewis", ("teacher",)),
    ("teacher2", "Tomás Hughes", ("teacher",)),
    ("ta", "Priya Shah", ("staff",)),
    ("admin", "Sam Carter", ("admin",)),
)

# (first name, last name, parent or carer's name); emails are made from the parent's name.
CLASSES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Year 4 Oak": (
        ("Aoife", "O'Brien", "Siobhan O'Brien"),
        ("Zoë", "Martin", "Claire Martin"),
        ("Minh", "Nguyễn", "Lan Nguyễn"),
        ("Oliver", "Smith", "James Smith"),
        ("Amara", "Okonkwo", "Ngozi Okonkwo"),
        ("Jack", "Evans", "Rhian Evans"),
        ("Lily", "Jones", "Sarah Jones"),
        ("Mohammed", "Khan", "Ayesha Khan"),
        ("Freya", "Williams", "Daniel Williams"),
        ("Noah", "Taylor", "Emma Taylor"),
        ("Seren", "Davies", "Gareth Davies"),
        ("Ethan", "Brown", "Michelle Brown"),
    ),
    "Year 5 Ash": (
        ("Chloé", "Dubois", "Nathalie Dubois"),
        ("Liam", "O'Connor", "Patrick O'Connor"),
        ("Anh", "Trần", "Hoa Trần"),
        ("Isla", "Roberts", "Fiona Roberts"),
        ("Yusuf", "Ahmed", "Fatima Ahmed"),
        ("Ffion", "Hughes", "Owain Hughes"),
        ("Harry", "Wilson", "Laura Wilson"),
        ("Maja", "Kowalska", "Agnieszka Kowalska"),
        ("Sophie", "Thomas", "Mark Thomas"),
        ("Leo", "Wright", "Hannah Wright"),
        ("Grace", "Thompson", "Peter Thompson"),
        ("Oscar", "Walker", "Joanne Walker"),
    ),
}

WINDOWS = ((time(9, 0), time(12, 0)), (time(13, 0), time(15, 15)))


def parent_email(parent_name: str) -> str:
    """"Siobhan O'Brien" -> siobhan.obrien@parents.example (ASCII, as mail systems like)."""
    plain = unicodedata.normalize("NFKD", parent_name).encode("ascii", "ignore").decode()
    local = ".".join("".join(c for c in part if c.isalnum()) for part in plain.lower().split())
    return f"{local}@parents.example"


def reference(group_name: str, index: int) -> str:
    return f"DEMO-{group_name.split()[-1].upper()}-{index:02d}"


class Command(BaseCommand):
    help = "Create the demo school (Oakfield Primary) if it is missing. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset-passwords", action="store_true",
                            help="Set every demo account's password back to the demo password "
                                 "and make it active again.")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            school, created = self._seed()
            if options["reset_passwords"]:
                self._reset_passwords(school)
        made = {k: v for k, v in created.items() if v}
        if made:
            self.stdout.write(self.style.SUCCESS(
                "Demo school ready: created " + ", ".join(f"{v} {k}" for k, v in made.items())
                + "."))
        elif options["reset_passwords"]:
            self.stdout.write("Demo school already set up: only the passwords were reset.")
        else:
            self.stdout.write("Demo school already set up: nothing changed.")
        self._print_logins(school)

    def _seed(self) -> tuple[School, dict[str, int]]:
        counts = {"school": 0, "staff": 0, "lesson times": 0, "classes": 0, "pupils": 0}
        head = StaffUser.objects.filter(email=f"head@{DOMAIN}").select_related("school").first()
        school = head.school if head else School.objects.filter(name=SCHOOL_NAME).first()
        if school is None:
            school = School.objects.create(name=SCHOOL_NAME, staff_email_domains=DOMAIN,
                                           time_zone="Europe/London")
            counts["school"] = 1
            for weekday in range(5):
                for starts, ends in WINDOWS:
                    LessonWindow.objects.create(school=school, weekday=weekday, starts=starts,
                                                ends=ends)
                    counts["lesson times"] += 1
        existing_staff = set(StaffUser.objects.filter(email__endswith=f"@{DOMAIN}")
                             .values_list("email", flat=True))
        for local, name, roles in STAFF:
            email = f"{local}@{DOMAIN}"
            if email in existing_staff:
                continue
            user = StaffUser.objects.create_user(email=email, password=DEMO_PASSWORD,
                                                 full_name=name, school=school, is_active=True)
            StaffRole.objects.bulk_create(StaffRole(user=user, role=r) for r in roles)
            counts["staff"] += 1
        for group_name, pupils in CLASSES.items():
            group = Group.objects.filter(school=school, name=group_name).first()
            if group is None:
                group = Group.objects.create(school=school, name=group_name)
                counts["classes"] += 1
            known = set(Pupil.objects.filter(school=school).values_list("reference", flat=True))
            for index, (first, last, parent) in enumerate(pupils, start=1):
                ref = reference(group_name, index)
                if ref in known:
                    continue
                Pupil.objects.create(school=school, group=group, first_name=first,
                                     last_name=last, parent_name=parent,
                                     parent_email=parent_email(parent), reference=ref)
                counts["pupils"] += 1
        # Version 1 of the policy is the policy document's defaults (audited if created).
        current_policy(school)
        if any(counts.values()):
            record("demo.seeded", actor_label=SET_UP, school=school, obj=school,
                   data={k.replace(" ", "_"): v for k, v in counts.items()})
        return school, counts

    def _reset_passwords(self, school: School) -> None:
        users = list(StaffUser.objects.filter(school=school,
                                              email__in=[f"{s[0]}@{DOMAIN}" for s in STAFF]))
        for user in users:
            user.set_password(DEMO_PASSWORD)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
        record("demo.passwords_reset", actor_label=SET_UP, school=school, obj=school,
               data={"accounts": sorted(u.email for u in users)})
        self.stdout.write(f"Reset the password of {len(users)} demo accounts.")

    def _print_logins(self, school: School) -> None:
        base = settings.BASE_URL
        self.stdout.write("")
        self.stdout.write(f"{school.name}")
        self.stdout.write(f"  Sign in:  {base}{reverse('account_login')}")
        self.stdout.write(f"  Policy:   {base}{reverse('schools:policy')}")
        self.stdout.write(f"  Roster:   {base}{reverse('schools:roster')}")
        self.stdout.write(f"  Password for every demo account: {DEMO_PASSWORD}")
        self.stdout.write("  Accounts:")
        for local, name, roles in STAFF:
            self.stdout.write(f"    {local + '@' + DOMAIN:<27} {name:<14} {', '.join(roles)}")
