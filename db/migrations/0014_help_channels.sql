-- The outbox grows from "an event's alert to its school's people" to every message Muster
-- sends: a request for help (an assist) to a school's responders, a call to a school's
-- law-enforcement contact (not a user: the row carries the number dialled), a voice call,
-- a "what we know" update, a repeat to someone who has not acknowledged. The tables these
-- rows refer to (assists, school contacts) add their foreign keys where they are created.
alter table notification_outbox
    alter column event_id drop not null,
    alter column user_id drop not null,
    add column assist_id uuid,
    add column contact_id uuid,
    add column phone text check (phone ~ '^\+[1-9][0-9]{6,14}$'),
    -- when the person called pressed 1 to confirm they heard the call
    add column confirmed_at timestamptz,
    add constraint notification_outbox_about check (num_nonnulls(event_id, assist_id) >= 1),
    add constraint notification_outbox_to check (num_nonnulls(user_id, contact_id) = 1),
    add constraint notification_outbox_contact_phone check (contact_id is null or phone is not null),
    drop constraint notification_outbox_kind_check,
    add constraint notification_outbox_kind_check check (kind in (
        'alert', 'action', 'all_clear', 'cancelled', 'reminder', 'update', 'assist', 'repeat'));
create index notification_outbox_assist on notification_outbox (assist_id)
    where assist_id is not null;

-- The language each person's messages are written in.
alter table users
    add column language text not null default 'en' check (language in ('en', 'es'));

-- An event's timeline also records "what we know" updates, requests for help raised
-- during it (and their answers), and staff reporting themselves.
alter table event_timeline
    drop constraint event_timeline_kind_check,
    add constraint event_timeline_kind_check check (kind in (
        'started', 'action', 'status', 'checkin', 'delivery', 'ack', 'update', 'assist',
        'staff_status'));

-- The room an event was started from, when known (a request for help from that room
-- turned into the event): an alert, a call to law enforcement, name it.
alter table events
    add column room_id uuid,
    add constraint events_room_of_school foreign key (room_id, school_id) references rooms (id, school_id);
