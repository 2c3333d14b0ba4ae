"""Writes owned by integrations for webhooks: endpoints, and sending deliveries.

Delivery rows are written by the outbox trigger on audit.events (migration 0002), in the
transaction of the domain event. The relay here sends them, at least once and in no guaranteed
order:

- `deliveries_dispatch` (beat, every few seconds) claims due deliveries with
  SELECT ... FOR UPDATE SKIP LOCKED, stamps each with a lease (a token and an expiry) and sends
  one Celery task per delivery, at most WEBHOOK_MAX_IN_FLIGHT at a time per endpoint: a dead
  endpoint only ever holds its own deliveries and a few worker slots.
- `delivery_send` (that task) takes over the lease only while the token still matches, posts
  with a short timeout, and records the outcome. A worker killed mid-delivery leaves the lease
  to lapse; the next dispatch after that claims the delivery again, so nothing is lost.
"""

import datetime as dt
import hashlib
import hmac
import json
import random
import secrets
import time
import uuid

import httpx
from celery import current_app
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from apps.audit.services import domain_event_record
from apps.core.exceptions import DomainError
from apps.integrations.models import (
    WEBHOOK_EVENT_TYPES,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)

SEND_TASK = "integrations.tasks.delivery_send"
SIGNATURE_HEADER = "Lyceum-Signature"
ID_HEADER = "Webhook-Id"
EVENT_HEADER = "Webhook-Event"
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
EXCERPT = 500


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_verify(*, secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the signature and refuse old timestamps (replays)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = signature_header(secret=secret, body=body, timestamp=timestamp)
    return hmac.compare_digest(expected.split("v1=", 1)[1], parts.get("v1", ""))


def _clean_event_types(event_types) -> list[str]:
    chosen = sorted(set(event_types or []))
    unknown = [t for t in chosen if t not in WEBHOOK_EVENT_TYPES]
    if not chosen or unknown:
        raise DomainError(
            "Choose one or more known event types.",
            code="invalid_event_types",
            fields={"event_types": [f"Unknown: {', '.join(unknown)}." if unknown else "Empty."]},
        )
    return chosen


@transaction.atomic
def endpoint_create(
    *, owner, url: str, event_types, description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Register a receiver URL for some event types, with a new signing secret.

    Raises DomainError for unknown event types or a URL that is not http(s)."""
    if not url.startswith(("http://", "https://")):
        raise DomainError("The URL must be http(s).", fields={"url": ["Not an http(s) URL."]})
    return WebhookEndpoint.objects.create(
        owner=owner,
        url=url,
        description=description,
        event_types=_clean_event_types(event_types),
        is_active=is_active,
        secret="whsec_" + secrets.token_urlsafe(32),
    )


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change the URL, description, event types or active flag. Re-activating an endpoint
    clears its failure count. Raises DomainError like endpoint_create."""
    if "url" in changes and not changes["url"].startswith(("http://", "https://")):
        raise DomainError("The URL must be http(s).", fields={"url": ["Not an http(s) URL."]})
    if "event_types" in changes:
        changes["event_types"] = _clean_event_types(changes["event_types"])
    for field in ("url", "description", "event_types", "is_active"):
        if field in changes:
            setattr(endpoint, field, changes[field])
    if changes.get("is_active"):
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new signing secret; deliveries sent from now on are signed with it."""
    endpoint.secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


@transaction.atomic
def endpoint_ping(*, endpoint: WebhookEndpoint, actor=None) -> None:
    """Record a `webhook.ping` domain event for this endpoint: the outbox trigger queues a
    delivery to it alone (whatever it subscribed to), to test the receiver."""
    domain_event_record(
        aggregate_type="webhook_endpoint",
        aggregate_id=endpoint.pk,
        event_type="webhook.ping",
        data={"endpoint": str(endpoint.pk)},
        actor=actor,
    )


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a delivery again now (admin "redeliver"), whatever its status; same id."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now(),
        lease_token=None,
        lease_expires_at=None,
        delivered_at=None,
    )
    delivery.refresh_from_db()
    return delivery


def deliveries_dispatch(*, batch: int = 500, now: dt.datetime | None = None) -> int:
    """Claim due deliveries (pending, next attempt reached, no live lease) of active endpoints
    and send one task per delivery. Returns how many were dispatched."""
    now = now or timezone.now()
    lease = dt.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    cap = settings.WEBHOOK_MAX_IN_FLIGHT
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
                endpoint__is_active=True,
            )
            .filter(models.Q(lease_expires_at__isnull=True) | models.Q(lease_expires_at__lte=now))
            .order_by("next_attempt_at")
            .values_list("pk", "endpoint_id")[:batch]
        )
        # A slow endpoint holds at most `cap` worker slots at a time (its sends wait up to the
        # timeout each): the rest of its deliveries wait for a later tick, others go now.
        in_flight = dict(
            WebhookDelivery.objects.filter(
                status=DeliveryStatus.PENDING,
                lease_expires_at__gt=now,
                endpoint_id__in={endpoint_id for _, endpoint_id in due},
            )
            .values("endpoint_id")
            .annotate(n=models.Count("pk"))
            .values_list("endpoint_id", "n")
        )
        claims = []
        for pk, endpoint_id in due:
            if in_flight.get(endpoint_id, 0) >= cap:
                continue
            in_flight[endpoint_id] = in_flight.get(endpoint_id, 0) + 1
            token = uuid.uuid4()
            claims.append((pk, token))
            WebhookDelivery.objects.filter(pk=pk).update(
                lease_token=token, lease_expires_at=now + lease
            )

        def send() -> None:
            for pk, token in claims:
                current_app.send_task(SEND_TASK, args=[str(pk), str(token)])

        transaction.on_commit(send)
    return len(claims)


def _backoff(attempts: int) -> dt.timedelta:
    """Exponential (30 s, 1 min, 2 min, ... capped at 6 h) with full jitter on the top half."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311


def _take_over(delivery_id, token) -> WebhookDelivery | None:
    """Swap the dispatcher's token for a fresh one with a fresh lease, only if the token still
    matches: a duplicate task, or one whose claim was taken over, finds another token and does
    nothing."""
    mine = uuid.uuid4()
    now = timezone.now()
    lease = dt.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    # The token alone decides: a dispatch that re-claimed the delivery (its lease lapsed while
    # this task waited in the queue) gave it a new token.
    taken = WebhookDelivery.objects.filter(
        pk=delivery_id, lease_token=token, status=DeliveryStatus.PENDING
    ).update(
        lease_token=mine,
        lease_expires_at=now + lease,
        attempts=models.F("attempts") + 1,
        last_attempt_at=now,
    )
    if not taken:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, str, int]:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Lyceum-Webhooks/1",
        ID_HEADER: str(delivery.pk),
        EVENT_HEADER: delivery.event_type,
        SIGNATURE_HEADER: signature_header(
            secret=delivery.endpoint.secret, body=body, timestamp=int(time.time())
        ),
    }
    clock = time.perf_counter()
    code, text, error = None, "", ""
    try:
        with httpx.Client(
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False
        ) as client:
            response = client.post(delivery.endpoint.url, content=body, headers=headers)
        code, text = response.status_code, response.text[:EXCERPT]
    except httpx.TimeoutException:
        error = f"timed out after {settings.WEBHOOK_TIMEOUT_SECONDS} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:EXCERPT]
    return code, text, error, round((time.perf_counter() - clock) * 1000)


def delivery_send(*, delivery_id, token) -> str:
    """Send one claimed delivery and record the outcome: delivered on a 2xx; otherwise retried
    with exponential backoff and jitter until WEBHOOK_MAX_ATTEMPTS, then failed. Consecutive
    failures of the endpoint disable it after WEBHOOK_DISABLE_AFTER. Runs outside a
    transaction (the HTTP call must not hold one). Returns the outcome."""
    delivery = _take_over(delivery_id, token)
    if delivery is None:
        return "skipped"
    code, text, error, duration = _post(delivery)
    now = timezone.now()
    ok = code is not None and 200 <= code < 300
    fields = {
        "lease_token": None,
        "lease_expires_at": None,
        "last_status_code": code,
        "last_response": text,
        "last_error": error or ("" if ok else f"HTTP {code}"),
        "last_duration_ms": duration,
    }
    if ok:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now)
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        fields.update(status=DeliveryStatus.FAILED)
    else:
        fields.update(next_attempt_at=now + _backoff(delivery.attempts))
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk, lease_token=delivery.lease_token).update(
            **fields
        )
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if ok:
            if endpoint.consecutive_failures:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        else:
            failures = endpoint.consecutive_failures + 1
            update = {"consecutive_failures": failures}
            if endpoint.is_active and failures >= settings.WEBHOOK_DISABLE_AFTER:
                update.update(
                    is_active=False,
                    disabled_at=now,
                    disabled_reason=f"{failures} consecutive failed attempts",
                )
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**update)
    return fields.get("status", "retrying")
