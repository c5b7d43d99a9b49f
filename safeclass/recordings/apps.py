from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "safeclass.recordings"
    label = "recordings"
    default_auto_field = "django.db.models.BigAutoField"
