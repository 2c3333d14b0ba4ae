from django.urls import path

from apps.billing import views

app_name = "billing"

urlpatterns = [
    path("checkout/<slug:slug>/", views.checkout, name="checkout"),
    path("orders/", views.my_orders, name="orders"),
    path("orders/<uuid:order_id>/", views.order_detail, name="order"),
    path("orders/<uuid:order_id>/invoice/", views.invoice, name="invoice"),
    path("orders/<uuid:order_id>/pay/", views.order_pay, name="order_pay"),
    path("orders/<uuid:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path(
        "orders/<uuid:order_id>/<str:result>/",
        views.order_result,
        name="order_result",
    ),
    path("subscription/", views.subscription, name="subscription"),
    path("subscription/choose/", views.subscription_choose, name="subscription_choose"),
    path("subscription/cancel/", views.subscription_cancel, name="subscription_cancel"),
    path(
        "subscription/enroll/<slug:slug>/",
        views.subscription_enroll,
        name="subscription_enroll",
    ),
]
