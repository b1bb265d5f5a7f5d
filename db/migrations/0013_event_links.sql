-- Each alerted person's link to the event (domain/links.py): the SHA-256 digest of the
-- token their SMS and push carry, never the token, so that the database resolves a link
-- that comes back but cannot make one. One link per person and event: an action change
-- sends the same link again.
create table event_links (
    digest    bytea primary key check (length(digest) = 32),
    event_id  uuid not null references events (id),
    user_id   uuid not null references users (id) on delete cascade,
    unique (event_id, user_id)
);

-- A link's page offers first the room of the person's newest report at the school.
create index checkins_reporter on checkins (reported_by, school_id, observed_at desc);
