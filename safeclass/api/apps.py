from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "safeclass.api"
    label = "api"
