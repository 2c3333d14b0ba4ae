from django.urls import path

from apps.billing import views

app_name = "billing"

urlpatterns = [
    path("checkout/<slug:slug>/", views.checkout, name="checkout"),
    path("orders/", views.my_orders, name="orders"),
    path("orders/<uuid:order_id>/", views.order_detail, name="order"),
    path("orders/<uuid:order_id>/invoice/", views.invoice, name="invoice"),
    path("subscription/", views.subscription, name="subscription"),
    path("subscription/choose/", views.subscription_choose, name="subscription_choose"),
    path("subscription/cancel/", views.subscription_cancel, name="subscription_cancel"),
]
