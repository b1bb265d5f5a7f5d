-- Sign-in from a phone: a session is one sign-in on one device, and the family
-- of refresh tokens rotated within it (revoking it signs that device out).

create table sessions (
    id              uuid primary key,
    user_id         uuid not null references users (id) on delete cascade,
    created_at      timestamptz not null,
    last_used_at    timestamptz not null,
    ended_at        timestamptz,
    -- logout: this device; logout_everywhere: all of the user's; reuse: a rotated
    -- refresh token was presented again, so a copy is in someone else's hands
    ended_reason    text check (ended_reason in ('logout', 'logout_everywhere', 'reuse')),
    check ((ended_at is null) = (ended_reason is null))
);
create index sessions_user on sessions (user_id) where ended_at is null;

-- No code wrote refresh_tokens before this migration, so it is empty.
alter table refresh_tokens
    add column session_id uuid not null references sessions (id) on delete cascade;
create index refresh_tokens_session on refresh_tokens (session_id);

-- A device registered from a session goes when that session is signed out.
alter table devices
    add column session_id uuid references sessions (id) on delete set null;
create index devices_session on devices (session_id) where session_id is not null;

-- Codes are counted per phone and per client address to rate-limit requests.
alter table auth_codes add column client_address text not null default '';
create index auth_codes_address on auth_codes (client_address, created_at desc);

-- Devices are deleted when their owner removes them or signs out; an outbox row
-- keeps its message without them.
alter table notification_outbox
    drop constraint notification_outbox_device_id_fkey,
    add constraint notification_outbox_device_id_fkey
        foreign key (device_id) references devices (id) on delete set null;
