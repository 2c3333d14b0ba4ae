"""Billing API: plans, quotes (apply a coupon), my orders (create, list, detail), my
subscription, and the payment provider's webhook."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.billing import selectors, services
from apps.billing.models import Plan
from apps.billing.providers import provider_for
from apps.billing.webhooks import stripe_event_handle
from apps.content.selectors import course_visible_queryset
from apps.core.api.conditional import ConditionalGetMixin
from apps.core.api.pagination import PageNumberPagination
from apps.core.api.permissions import HasResourceScope
from apps.core.exceptions import DomainError, NotFoundError


class PlanOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    interval = serializers.CharField()
    price_minor = serializers.IntegerField()
    currency = serializers.CharField()
    trial_days = serializers.IntegerField()


class OrderOutput(serializers.Serializer):
    class LineOutput(serializers.Serializer):
        kind = serializers.CharField(help_text="course, plan_period, proration or credit.")
        course = serializers.UUIDField(source="course_id", allow_null=True)
        plan = serializers.UUIDField(source="plan_id", allow_null=True)
        period_start = serializers.DateTimeField(allow_null=True)
        period_end = serializers.DateTimeField(allow_null=True)
        description = serializers.CharField()
        amount_minor = serializers.IntegerField(help_text="Negative for a credit.")

    id = serializers.UUIDField()
    status = serializers.CharField()
    currency = serializers.CharField()
    subtotal_minor = serializers.IntegerField()
    discount_minor = serializers.IntegerField()
    tax_country = serializers.CharField()
    tax_rate_bp = serializers.IntegerField()
    tax_minor = serializers.IntegerField()
    total_minor = serializers.IntegerField()
    refunded_minor = serializers.IntegerField()
    provider = serializers.CharField()
    lines = LineOutput(many=True, source="lines.all")
    invoice_number = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)

    def get_invoice_number(self, order) -> str | None:
        invoice = getattr(order, "invoice", None)
        return invoice.display_number if invoice else None


class SubscriptionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    plan = PlanOutput()
    status = serializers.CharField()
    current_period_start = serializers.DateTimeField()
    current_period_end = serializers.DateTimeField()
    trial_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    coupon = serializers.CharField(source="coupon.code", allow_null=True, default=None)
    credit_minor = serializers.IntegerField(help_text="Taken off the next periods.")


class ProrationOutput(serializers.Serializer):
    credit_minor = serializers.IntegerField(help_text="Unused time of the previous plan.")
    charge_minor = serializers.IntegerField(help_text="The new plan until the period end.")
    net_minor = serializers.IntegerField(help_text="Charge less credit, before tax.")
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    new_period = serializers.BooleanField(help_text="The interval changed: a new period.")


class PlanChangeOutput(SubscriptionOutput):
    """The subscription after a plan change, with what the change cost."""

    proration = ProrationOutput()
    proration_order = serializers.UUIDField(
        allow_null=True,
        help_text="The pending order for a positive difference (manual provider; Stripe "
        "invoices it itself).",
    )

    @classmethod
    def of(cls, change) -> dict:
        return {
            **SubscriptionOutput(change.subscription).data,
            "proration": ProrationOutput(change.quote).data,
            "proration_order": str(change.order.pk) if change.order else None,
        }


def _course(request, course_id):
    return get_object_or_404(course_visible_queryset(user=request.user), pk=course_id)


class PlanListApi(APIView):
    scope_resource = "billing"

    permission_classes = [AllowAny, HasResourceScope]

    @extend_schema(responses=PlanOutput(many=True), operation_id="billing_plans_list")
    def get(self, request):
        return Response(PlanOutput(selectors.plans_active(), many=True).data)


class QuoteApi(APIView):
    """Price a course for me: coupon discount, tax for my country, total (nothing is saved)."""

    # Pricing changes nothing.
    required_scopes = {"billing:read"}

    class InputSerializer(serializers.Serializer):
        course = serializers.UUIDField()
        coupon = serializers.CharField(required=False, allow_blank=True, default="")
        country = serializers.CharField(required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        currency = serializers.CharField()
        subtotal_minor = serializers.IntegerField()
        discount_minor = serializers.IntegerField()
        tax_country = serializers.CharField()
        tax_rate_bp = serializers.IntegerField()
        tax_minor = serializers.IntegerField()
        total_minor = serializers.IntegerField()
        coupon = serializers.CharField(source="coupon.code", allow_null=True, default=None)

    @extend_schema(
        request=InputSerializer, responses=OutputSerializer, operation_id="billing_quote"
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        priced = services.quote(
            user=request.user,
            course=_course(request, data.validated_data["course"]),
            coupon_code=data.validated_data["coupon"],
            country=data.validated_data["country"] or None,
        )
        return Response(self.OutputSerializer(priced).data)


class OrderListApi(APIView):
    """My orders; POST creates a pending order for a course (the manual provider then waits
    for staff to mark it paid)."""

    scope_resource = "billing"
    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        course = serializers.UUIDField()
        coupon = serializers.CharField(required=False, allow_blank=True, default="")
        country = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(responses=OrderOutput(many=True), operation_id="billing_orders_list")
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.my_orders(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(OrderOutput(page, many=True).data)

    @extend_schema(
        request=InputSerializer, responses={201: OrderOutput}, operation_id="billing_orders_create"
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_create(
            user=request.user,
            course=_course(request, data.validated_data["course"]),
            coupon_code=data.validated_data["coupon"],
            country=data.validated_data["country"] or None,
        )
        order = selectors.my_orders(user=request.user).get(pk=order.pk)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(ConditionalGetMixin, APIView):
    scope_resource = "billing"

    @extend_schema(responses=OrderOutput, operation_id="billing_orders_retrieve")
    def get(self, request, order_id):
        order = get_object_or_404(selectors.my_orders(user=request.user), pk=order_id)
        return Response(OrderOutput(order).data)


class SubscriptionApi(ConditionalGetMixin, APIView):
    """My live subscription: GET it, POST subscribes (201, with an optional plan coupon) or
    changes plan with proration (200: the credit for the unused time, the charge for the new
    plan, the pending order of a positive difference), DELETE cancels (at the end of the
    period unless ?now=1). A change to the same plan, or of a cancelled or past-due
    subscription, answers 409; an inactive plan or another currency 400; nothing changes."""

    scope_resource = "billing"

    class InputSerializer(serializers.Serializer):
        plan = serializers.SlugField()
        coupon = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="When subscribing; it discounts the first paid period (or the coupon's "
            "plan_periods).",
        )

    def _mine(self, request):
        subscription = selectors.subscription_live(user=request.user)
        if subscription is None:
            raise NotFoundError("You have no subscription.", code="no_subscription")
        return subscription

    @extend_schema(responses=SubscriptionOutput, operation_id="billing_subscription_retrieve")
    def get(self, request):
        return Response(SubscriptionOutput(self._mine(request)).data)

    @extend_schema(
        request=InputSerializer,
        responses={200: PlanChangeOutput, 201: SubscriptionOutput},
        operation_id="billing_subscription_create",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = get_object_or_404(Plan, slug=data.validated_data["plan"])
        current = selectors.subscription_live(user=request.user)
        if current is None:
            subscription = services.subscription_create(
                user=request.user, plan=plan, coupon_code=data.validated_data["coupon"]
            )
            return Response(SubscriptionOutput(subscription).data, status=status.HTTP_201_CREATED)
        if data.validated_data["coupon"]:
            raise DomainError(
                "A coupon applies when subscribing, not to a plan change.",
                code="coupon_not_applicable",
                fields={"coupon": ["Only when subscribing."]},
            )
        change = services.subscription_change_plan(
            subscription=current, plan=plan, actor=request.user
        )
        return Response(PlanChangeOutput.of(change))

    @extend_schema(
        request=None, responses=SubscriptionOutput, operation_id="billing_subscription_cancel"
    )
    def delete(self, request):
        subscription = services.subscription_cancel(
            subscription=self._mine(request), at_period_end=request.query_params.get("now") != "1"
        )
        return Response(SubscriptionOutput(subscription).data)


class SubscriptionEnrollApi(APIView):
    """Enroll me in a course my trialing/active subscription covers."""

    scope_resource = "billing"

    class InputSerializer(serializers.Serializer):
        course = serializers.UUIDField()

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        course = serializers.UUIDField(source="course_id")
        enrollment_type = serializers.CharField()
        status = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        operation_id="billing_subscription_enroll",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = services.subscription_enroll(
            user=request.user, course=_course(request, data.validated_data["course"])
        )
        return Response(self.OutputSerializer(enrollment).data, status=status.HTTP_201_CREATED)


class StripeWebhookApi(APIView):
    """Stripe's webhook. The `Stripe-Signature` header is verified with the library (400
    `invalid_signature` otherwise, nothing changed); each event is handled once, all or
    nothing: `handled`, `duplicate` (a replay: nothing changes), `ignored` (a type we do not
    handle, recorded and acknowledged) or `duplicate_subscription` (a second subscription
    checkout of a subscriber: cancelled and refunded at Stripe, acknowledged). An event about
    an unknown order answers 404."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField()
        type = serializers.CharField()
        result = serializers.ChoiceField(
            choices=["handled", "duplicate", "ignored", "duplicate_subscription"],
            help_text="duplicate_subscription: the user already had a live subscription; the "
            "new one was cancelled and refunded at Stripe.",
        )

    @extend_schema(request=None, responses=OutputSerializer, operation_id="billing_webhooks_stripe")
    def post(self, request):
        event = provider_for("stripe").event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        result = stripe_event_handle(event=event)
        return Response(
            self.OutputSerializer({"id": event["id"], "type": event["type"], "result": result}).data
        )


class OrderCheckoutApi(APIView):
    """Pay my pending (or failed) order on the provider's hosted page: answers the URL to send
    the buyer to. The order is paid when the provider's signed webhook says so. 409
    `no_hosted_checkout` with the manual provider (bank transfer)."""

    scope_resource = "billing"

    class OutputSerializer(serializers.Serializer):
        url = serializers.URLField()

    @extend_schema(request=None, responses=OutputSerializer, operation_id="billing_orders_checkout")
    def post(self, request, order_id):
        order = get_object_or_404(selectors.my_orders(user=request.user), pk=order_id)
        url = services.order_checkout(
            order=order,
            success_url=request.build_absolute_uri(
                reverse("billing:order_result", args=[order.pk, "success"])
            ),
            cancel_url=request.build_absolute_uri(
                reverse("billing:order_result", args=[order.pk, "cancelled"])
            ),
        )
        return Response(self.OutputSerializer({"url": url}).data)
