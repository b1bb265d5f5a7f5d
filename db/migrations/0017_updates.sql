-- "What we know" during an event: each update as posted (it is on the timeline too, and
-- sent to everyone the event alerted).
create table event_updates (
    id               uuid primary key,
    event_id         uuid not null references events (id),
    text             text not null check (length(text) between 1 and 1000),
    threat_location  text check (length(threat_location) between 1 and 200),
    posted_at        timestamptz not null,
    posted_by        uuid not null references users (id)
);
create index event_updates_event on event_updates (event_id, posted_at desc, id desc);

-- An update too large to send from inside its request goes as a wave, like an ending.
alter table alert_waves
    add column update_id uuid references event_updates (id),
    drop constraint alert_waves_kind_check,
    add constraint alert_waves_kind_check check (kind in (
        'alert', 'action', 'all_clear', 'cancelled', 'update')),
    add constraint alert_waves_update check ((kind = 'update') = (update_id is not null));

-- Staff reporting themselves during an event: each person's newest report.
create table staff_statuses (
    event_id     uuid not null references events (id),
    user_id      uuid not null references users (id),
    status       text not null check (status in ('safe', 'need_help', 'not_with_students', 'off_site')),
    note         text check (length(note) between 1 and 500),
    reported_at  timestamptz not null,
    primary key (event_id, user_id)
);
