from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "safeclass.lessons"
    label = "lessons"
