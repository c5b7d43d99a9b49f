from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "safeclass.live"
    label = "live"
    verbose_name = "Live lesson"
