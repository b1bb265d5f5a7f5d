-- Each room's current report per event, kept by the check-in's own statement so
-- that accountability reads one row per room instead of every report. The order
-- key (observed_at, received_at, client_id) is domain/checkins.py's `supersedes`
-- rule, copied here so that the upsert can apply it atomically.
create table room_reports (
    event_id     uuid not null,
    room_id      uuid not null,
    checkin_id   uuid not null,
    observed_at  timestamptz not null,
    received_at  timestamptz not null,
    client_id    uuid not null,
    primary key (event_id, room_id),
    -- one check of the report itself, which already belongs to the event and room
    foreign key (checkin_id, event_id, room_id) references checkins (id, event_id, room_id)
);
