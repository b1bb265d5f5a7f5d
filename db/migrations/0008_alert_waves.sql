-- A wave of alerts too large to write inside the request that caused it (a district's
-- 10,000 staff): the request stores the wave, with the event as it was, in its
-- transaction; a dispatcher writes its messages to the outbox soon after, waves of one
-- event in order.
create table alert_waves (
    id           bigint generated always as identity primary key,
    event_id     uuid not null references events (id),
    kind         text not null check (kind in ('alert', 'action', 'all_clear', 'cancelled')),
    event        jsonb not null check (jsonb_typeof(event) = 'object'),  -- the event then
    planned_at   timestamptz not null,  -- when the change happened: messages go from then
    expanded_at  timestamptz
);
create index alert_waves_pending on alert_waves (event_id, id) where expanded_at is null;
