from django.urls import path

from . import views

app_name = "invitations"

urlpatterns = [
    path("<str:token>/", views.open, name="open"),
    path("lesson/<str:public_id>/", views.status, name="status"),
]
