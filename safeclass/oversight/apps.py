from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "safeclass.oversight"
    label = "oversight"
