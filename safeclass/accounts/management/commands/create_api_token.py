"""python manage.py create_api_token EMAIL [--name NAME]: print a new API token once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeclass.accounts.models import StaffUser
from safeclass.accounts.services import AccountError, do_create_api_token


class Command(BaseCommand):
    help = ("Create a personal API token for an active staff member and print it. It is "
            "stored hashed, so this is the only time it is shown.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the staff member's email address")
        parser.add_argument("--name", default="Command line",
                            help="what the token is for (shown in their token list)")

    def handle(self, *args: Any, **options: Any) -> None:
        email = str(options["email"]).strip()
        user = (StaffUser.objects.select_related("school")
                .filter(email__iexact=email, is_active=True).first())
        if user is None:
            raise CommandError(f"No active staff account has the email address {email!r}.")
        try:
            # The person acts for themselves: the audit event names them, and says the
            # token came from the command line.
            _token, raw = do_create_api_token(user, options["name"], actor=user,
                                              via="command line")
        except AccountError as exc:
            raise CommandError(f"--{exc.field or 'name'}: {exc.message}") from None
        self.stdout.write(raw)
        self.stderr.write("Store this token now: it is not shown again.")
