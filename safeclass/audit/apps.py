from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "safeclass.audit"
    label = "audit"
