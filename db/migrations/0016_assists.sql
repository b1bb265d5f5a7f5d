-- Requests for help (assists): a member asks the school's responders to come, without a
-- lockdown; or a room reports that it needs help during an event (kind needs_help, one
-- open per event and room). Each has its own numbered timeline, streamed as an event's is.

-- Who a school's requests for help reach: its members holding one of these roles, and
-- the members named in school_responders (the nurse, a counselor).
alter table schools
    add column responder_roles text[] not null default '{sro,principal}'
        check (responder_roles <@ array['teacher', 'staff', 'sro', 'principal',
                                        'district_admin']::text[]);

create table school_responders (
    school_id  uuid not null references schools (id),
    user_id    uuid not null references users (id) on delete cascade,
    primary key (school_id, user_id)
);

create table assists (
    id              uuid primary key,
    school_id       uuid not null references schools (id),
    kind            text not null
                    check (kind in ('medical', 'behavior', 'security', 'other', 'needs_help')),
    -- the event a room's report, or a member of staff, asked for help during (needs_help only)
    event_id        uuid,
    room_id         uuid,
    location        text check (length(location) <= 200),
    note            text check (length(note) <= 1000),
    -- the room's newest report, for a needs_help
    checkin_id      uuid references checkins (id),
    requested_by    uuid not null references users (id),
    requested_at    timestamptz not null,
    resolved_at     timestamptz,
    resolved_by     uuid references users (id),
    outcome         text check (length(outcome) between 1 and 1000),
    -- the event it was turned into
    became_event_id uuid,
    -- per-assist sequence of timeline entries, as events.last_seq
    last_seq        integer not null default 0 check (last_seq >= 0),
    unique (id, school_id),
    foreign key (event_id, school_id) references events (id, school_id),
    foreign key (became_event_id, school_id) references events (id, school_id),
    foreign key (room_id, school_id) references rooms (id, school_id),
    check ((kind = 'needs_help') = (event_id is not null)),
    check ((resolved_at is null) = (outcome is null)),
    check ((resolved_at is null) = (resolved_by is null)),
    check (resolved_at is null or resolved_at >= requested_at)
);
create index assists_school_requested on assists (school_id, requested_at desc, id desc);
create unique index assists_one_open_need on assists (event_id, room_id)
    where kind = 'needs_help' and resolved_at is null;
create unique index assists_became_event on assists (became_event_id)
    where became_event_id is not null;

-- "On my way": once per responder.
create table assist_responses (
    assist_id  uuid not null references assists (id),
    user_id    uuid not null references users (id),
    at         timestamptz not null,
    primary key (assist_id, user_id)
);

-- An assist's history, numbered per assist; its notifications share the event timeline's
-- channel and payload (keyed by the assist's id), so the same feed streams both.
create table assist_timeline (
    assist_id  uuid not null references assists (id),
    seq        integer not null check (seq > 0),
    at         timestamptz not null,
    kind       text not null
               check (kind in ('requested', 'on_the_way', 'changed', 'resolved', 'escalated')),
    actor_id   uuid references users (id),
    detail     json not null default '{}'::json,
    primary key (assist_id, seq)
);

alter table notification_outbox
    add constraint notification_outbox_assist foreign key (assist_id) references assists (id);
