"""The transactional outbox of webhooks: a trigger on audit.events writes one delivery row per
active endpoint subscribed to the event's type, in the transaction that records the event
(a `webhook.ping` goes to the endpoint pinged only).

Audit does not know integrations (it sits below every app): the database links them. The
trigger is declared on the partitioned parent, so every partition (present and future) has it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION integrations.webhook_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO integrations.webhook_delivery (
        id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at,
        last_response, last_error, created_at
    )
    SELECT
        gen_random_uuid(), endpoint.id, NEW.event_id, NEW.event_type,
        jsonb_build_object(
            'id', NEW.event_id,
            'type', NEW.event_type,
            'occurred_at', to_char(
                NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
            ),
            'aggregate', jsonb_build_object('type', NEW.aggregate_type, 'id', NEW.aggregate_id),
            'version', NEW.version,
            'data', NEW.data
        ),
        'pending', 0, now(), '', '', now()
    FROM integrations.webhook_endpoint AS endpoint
    WHERE endpoint.is_active AND (
        -- a ping goes to the endpoint pinged only, subscribed or not
        (NEW.event_type = 'webhook.ping' AND endpoint.id = NEW.aggregate_id)
        OR (NEW.event_type <> 'webhook.ping' AND NEW.event_type = ANY (endpoint.event_types))
    )
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER integrations_webhook_outbox
AFTER INSERT ON audit.events
FOR EACH ROW EXECUTE FUNCTION integrations.webhook_outbox();
"""

DROP = """
DROP TRIGGER IF EXISTS integrations_webhook_outbox ON audit.events;
DROP FUNCTION IF EXISTS integrations.webhook_outbox();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_domain_event_entry"),
        ("integrations", "0001_initial"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
