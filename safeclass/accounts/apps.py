from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "safeclass.accounts"
    label = "accounts"
