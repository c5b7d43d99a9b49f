from django.urls import path

from . import views

app_name = "oversight"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("audit/", views.audit, name="audit"),
]
