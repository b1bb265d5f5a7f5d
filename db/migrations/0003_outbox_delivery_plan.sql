-- What the alerting plan (domain/alerts.py) decides per message, kept on its
-- outbox row: push data for deep links, whether it is a critical alert, and
-- whether it is a drill reminder that is dropped once the person acknowledged.
alter table notification_outbox
    add column critical boolean not null default false,
    add column data jsonb not null default '{}'::jsonb check (jsonb_typeof(data) = 'object'),
    add column unless_acknowledged boolean not null default false;
