-- Each room's current report per event, kept in the check-in's transaction so
-- that accountability reads one row per room instead of every report.
-- Which report is current is decided in domain/checkins.py (latest_of).
create table room_reports (
    event_id    uuid not null references events (id),
    room_id     uuid not null references rooms (id),
    checkin_id  uuid not null references checkins (id),
    primary key (event_id, room_id)
);
