-- The dispatchers' queries cost what they claim or settle, not the event's rows (a
-- district's lockdown writes ~20,000): a lane finds its due rows most urgent first
-- within its channel, filtering on not_before inside the index (the reminders and
-- repeats due later are index entries passed over, never rows read); leases that ran
-- out are found by their end; "is anything of this event still due?" reads only the
-- event's pending rows; a failed push finds the person's queued reminder directly.
drop index notification_outbox_ready;
create index notification_outbox_due on notification_outbox (channel, priority desc, id, not_before)
    where state = 'queued';
create index notification_outbox_leased on notification_outbox (channel, lease_until)
    where state = 'sending';
create index notification_outbox_pending on notification_outbox (event_id, not_before)
    where state in ('queued', 'sending');
create index notification_outbox_reminders on notification_outbox (event_id, user_id)
    where kind = 'reminder' and state = 'queued';
