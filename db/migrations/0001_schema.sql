-- Muster schema v1: the whole mission's tables. Constraints do the integrity
-- work (foreign keys, enums as CHECKs, non-negative counts, one active event
-- per school, idempotent check-ins), so a bug above cannot store nonsense.

create table districts (
    id          uuid primary key,
    name        text not null check (length(name) between 1 and 200),
    state       text not null check (state ~ '^[A-Z]{2}$'),
    created_at  timestamptz not null default now()
);

create table schools (
    id                       uuid primary key,
    district_id              uuid not null references districts (id),
    name                     text not null check (length(name) between 1 and 200),
    timezone                 text not null check (length(timezone) between 1 and 64),
    state                    text not null check (state ~ '^[A-Z]{2}$'),
    school_year_start_month  smallint not null default 8 check (school_year_start_month between 1 and 12),
    school_year_start_day    smallint not null default 1 check (school_year_start_day between 1 and 31),
    -- per-school overrides of the role policy, e.g. {"start_real_event": ["sro", "principal"]}
    policy                   jsonb not null default '{}'::jsonb check (jsonb_typeof(policy) = 'object'),
    created_at               timestamptz not null default now(),
    unique (id, district_id)
);
create index schools_district on schools (district_id);

create table rooms (
    id          uuid primary key,
    school_id   uuid not null references schools (id),
    code        text not null check (length(code) between 1 and 40),
    name        text not null check (length(name) between 1 and 200),
    building    text check (length(building) <= 100),
    floor       smallint check (floor between -5 and 200),
    capacity    integer check (capacity between 0 and 10000),
    created_at  timestamptz not null default now(),
    unique (school_id, code),
    unique (id, school_id)
);

create table users (
    id          uuid primary key,
    name        text not null check (length(name) between 1 and 200),
    -- E.164: "+", country code, subscriber number; parsed and normalised in api/
    phone       text not null unique check (phone ~ '^\+[1-9][0-9]{6,14}$'),
    email       text check (email ~ '^[^@\s]+@[^@\s]+$'),
    created_at  timestamptz not null default now()
);

-- A role in one school, or for district_admin in every school of a district.
-- Substitutes get a membership that expires.
create table memberships (
    id           uuid primary key,
    user_id      uuid not null references users (id) on delete cascade,
    district_id  uuid not null references districts (id),
    school_id    uuid,
    role         text not null check (role in ('teacher', 'staff', 'sro', 'principal', 'district_admin')),
    expires_at   timestamptz,
    created_at   timestamptz not null default now(),
    foreign key (school_id, district_id) references schools (id, district_id),
    check ((role = 'district_admin') = (school_id is null)),
    unique nulls not distinct (user_id, district_id, school_id)
);
create index memberships_user on memberships (user_id);
create index memberships_school on memberships (school_id);

create table devices (
    id               uuid primary key,
    user_id          uuid not null references users (id) on delete cascade,
    platform         text not null check (platform in ('ios', 'android', 'web')),
    push_token       text not null unique check (length(push_token) between 1 and 4096),
    created_at       timestamptz not null default now(),
    last_seen_at     timestamptz not null default now(),
    -- set when FCM rejects the token (unregistered, sender mismatch)
    disabled_at      timestamptz,
    disabled_reason  text
);
create index devices_user on devices (user_id);

create table events (
    id           uuid primary key,
    school_id    uuid not null references schools (id),
    action       text not null check (action in ('hold', 'secure', 'lockdown', 'evacuate', 'shelter')),
    drill        boolean not null,
    status       text not null check (status in ('active', 'all_clear', 'cancelled', 'superseded')),
    message      text check (length(message) <= 1000),
    directive    text not null check (length(directive) between 1 and 1000),
    location     text check (length(location) <= 200),
    hazard       text check (hazard in ('tornado', 'hazmat', 'earthquake', 'other')),
    strategy     text check (length(strategy) <= 500),
    started_at   timestamptz not null,
    started_by   uuid not null references users (id),
    ended_at     timestamptz,
    ended_by     uuid references users (id),
    end_reason   text check (length(end_reason) <= 1000),
    -- per-event sequence of timeline entries; the SSE id (row lock = commit order)
    last_seq     integer not null default 0 check (last_seq >= 0),
    unique (id, school_id),
    check ((status = 'active') = (ended_at is null)),
    check (ended_at is null or ended_at >= started_at),
    check (action <> 'evacuate' or location is not null),
    check (action <> 'shelter' or hazard is not null)
);
create unique index events_one_active_per_school on events (school_id) where status = 'active';
create index events_school_started on events (school_id, started_at desc);

-- The audit trail and the live stream: every action, status change, check-in
-- and delivery milestone, numbered per event.
create table event_timeline (
    event_id  uuid not null references events (id),
    seq       integer not null check (seq > 0),
    at        timestamptz not null,
    kind      text not null check (kind in ('started', 'action', 'status', 'checkin', 'delivery', 'ack')),
    actor_id  uuid references users (id),
    detail    json not null default '{}'::json,  -- json, not jsonb: replayed byte for byte
    primary key (event_id, seq)
);

create table checkins (
    id                  uuid primary key,
    event_id            uuid not null,
    school_id           uuid not null,
    room_id             uuid not null,
    client_id           uuid not null,
    status              text not null check (status in ('ok', 'needs_help')),
    students_present    integer not null check (students_present between 0 and 10000),
    students_missing    integer not null default 0 check (students_missing between 0 and 10000),
    students_extra      integer not null default 0 check (students_extra between 0 and 10000),
    injured             integer not null default 0 check (injured between 0 and 10000),
    location            text check (length(location) <= 200),
    note                text check (length(note) <= 1000),
    observed_at         timestamptz not null,
    received_at         timestamptz not null,
    -- observed_at was in the phone's future beyond the allowed skew and was clamped
    clock_skew_flagged  boolean not null default false,
    reported_by         uuid not null references users (id),
    foreign key (event_id, school_id) references events (id, school_id),
    foreign key (room_id, school_id) references rooms (id, school_id),
    constraint checkins_event_client_key unique (event_id, client_id),
    unique (id, event_id, room_id)
);

-- One row per recipient x channel of one notification (start, action change,
-- all-clear, cancel). Filled in the transaction that changed the event.
create table notification_outbox (
    id            bigint generated always as identity primary key,
    event_id      uuid not null references events (id),
    user_id       uuid not null references users (id),
    channel       text not null check (channel in ('push', 'sms', 'voice')),
    device_id     uuid references devices (id),
    kind          text not null check (kind in ('alert', 'action', 'all_clear', 'cancelled', 'reminder')),
    priority      smallint not null default 0 check (priority between 0 and 9),
    body          text not null check (length(body) between 1 and 1600),
    state         text not null default 'queued'
                  check (state in ('queued', 'sending', 'sent', 'delivered', 'failed', 'skipped')),
    attempts      integer not null default 0 check (attempts >= 0),
    not_before    timestamptz not null default now(),
    lease_until   timestamptz,
    provider_id   text,
    error_code    text,
    created_at    timestamptz not null default now(),
    sent_at       timestamptz,
    updated_at    timestamptz not null default now()
);
create index notification_outbox_ready on notification_outbox (priority desc, id)
    where state = 'queued';
create index notification_outbox_event on notification_outbox (event_id);
create unique index notification_outbox_provider on notification_outbox (provider_id)
    where provider_id is not null;

-- Each provider attempt and receipt, for the audit trail and delivery reports.
create table deliveries (
    id          bigint generated always as identity primary key,
    outbox_id   bigint not null references notification_outbox (id),
    at          timestamptz not null,
    outcome     text not null check (outcome in ('sent', 'delivered', 'failed', 'retry', 'undelivered')),
    error_code  text,
    detail      text check (length(detail) <= 2000)
);
create index deliveries_outbox on deliveries (outbox_id);

create table acknowledgements (
    event_id  uuid not null references events (id),
    user_id   uuid not null references users (id),
    at        timestamptz not null,
    primary key (event_id, user_id)
);

-- Idempotency-Key replay store: same key and body -> the stored response.
create table idempotency_keys (
    user_id          uuid not null references users (id) on delete cascade,
    key              text not null check (length(key) between 1 and 200),
    fingerprint      text not null,
    response_status  smallint not null check (response_status between 100 and 599),
    response_body    jsonb not null,
    created_at       timestamptz not null default now(),
    primary key (user_id, key)
);

-- One-time sign-in codes sent by SMS; only a hash is kept.
create table auth_codes (
    id           uuid primary key,
    phone        text not null check (phone ~ '^\+[1-9][0-9]{6,14}$'),
    code_hash    text not null,
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    attempts     integer not null default 0 check (attempts >= 0),
    consumed_at  timestamptz,
    check (expires_at > created_at)
);
create index auth_codes_phone on auth_codes (phone, created_at desc);

create table refresh_tokens (
    id           uuid primary key,
    user_id      uuid not null references users (id) on delete cascade,
    token_hash   text not null unique,
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    revoked_at   timestamptz,
    replaced_by  uuid references refresh_tokens (id),
    check (expires_at > created_at)
);
create index refresh_tokens_user on refresh_tokens (user_id);
