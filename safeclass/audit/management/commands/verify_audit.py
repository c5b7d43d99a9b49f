from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safeclass.audit.services import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain and report the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = verify_chain()
        if broken is not None:
            raise CommandError(
                f"Audit log broken at event #{broken.seq}: {broken.reason}. "
                f"{checked} events before it are intact.")
        self.stdout.write(f"Audit log intact: {checked} events checked.")
