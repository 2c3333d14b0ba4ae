from django.urls import path

from apps.billing import apis

app_name = "billing"

urlpatterns = [
    path("plans/", apis.PlanListApi.as_view(), name="plans"),
    path("quote/", apis.QuoteApi.as_view(), name="quote"),
    path("orders/", apis.OrderListApi.as_view(), name="orders"),
    path("orders/<uuid:order_id>/", apis.OrderDetailApi.as_view(), name="order"),
    path(
        "orders/<uuid:order_id>/checkout/", apis.OrderCheckoutApi.as_view(), name="order_checkout"
    ),
    path("subscription/", apis.SubscriptionApi.as_view(), name="subscription"),
    path("subscription/enroll/", apis.SubscriptionEnrollApi.as_view(), name="subscription_enroll"),
    path("webhooks/stripe/", apis.StripeWebhookApi.as_view(), name="webhook_stripe"),
]
