from django.urls import path

from . import views

app_name = "invitations"

urlpatterns = [
    # "lesson/..." first: a token is never the word "lesson", but keep the match explicit.
    path("lesson/<str:public_id>/", views.status, name="status"),
    path("<str:token>/", views.open_link, name="open"),
]
