-- A real alert is repeated to whoever has not acknowledged it (domain/repeats.py); a
-- person who confirmed a call about the event (pressed 1) has acknowledged it. Each claim
-- asks that of every due repeat: the few confirmed calls are found without reading the
-- event's other rows (a district's 40,000).
create index notification_outbox_confirmed on notification_outbox (event_id, user_id)
    where confirmed_at is not null;
