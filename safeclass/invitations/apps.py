from django.apps import AppConfig


class InvitationsConfig(AppConfig):
    name = "safeclass.invitations"
    label = "invitations"
