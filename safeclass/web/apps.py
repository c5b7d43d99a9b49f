from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "safeclass.web"
    label = "web"
