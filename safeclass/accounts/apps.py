from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "safeclass.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Sign-ins and two-factor changes reach the audit log through allauth's signals.
        from . import signals

        signals.connect()
