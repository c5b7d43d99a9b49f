from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "safeclass.schools"
    label = "schools"
