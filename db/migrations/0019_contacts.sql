-- Where a school is: what a 911 call and a responding officer need first.
alter table schools
    add column address text check (length(address) between 1 and 300);

-- The people a school calls for real events (domain/contacts.py): its 911 centre (PSAP),
-- police, fire, the district's security. A replaced list keeps its rows, with the time
-- they were removed, so that the outbox's history still names whom it called.
create table school_contacts (
    id          uuid primary key,
    school_id   uuid not null references schools (id),
    position    smallint not null check (position >= 0),
    name        text not null check (length(name) between 1 and 200),
    phone       text not null check (phone ~ '^\+[1-9][0-9]{6,14}$'),
    kind        text not null check (kind in ('psap', 'police', 'fire', 'district_security')),
    -- real: called for real events only; real_and_drills: for drills too
    calls_on    text not null check (calls_on in ('real', 'real_and_drills')),
    added_at    timestamptz not null,
    removed_at  timestamptz
);
-- A number is on a school's list once.
create unique index school_contacts_current on school_contacts (school_id, phone)
    where removed_at is null;
create index school_contacts_school on school_contacts (school_id, position)
    where removed_at is null;

alter table notification_outbox
    add constraint notification_outbox_contact foreign key (contact_id)
        references school_contacts (id);
create index notification_outbox_contact on notification_outbox (contact_id)
    where contact_id is not null;

-- A contact's read-only link to an event (the `/w/` page): the SHA-256 digest of its
-- token, as event_links keeps a person's.
create table watch_links (
    digest      bytea primary key check (length(digest) = 32),
    event_id    uuid not null references events (id),
    contact_id  uuid not null references school_contacts (id),
    unique (event_id, contact_id)
);

alter table admin_audit drop constraint admin_audit_kind_check,
    add constraint admin_audit_kind_check check (kind in (
        'school_created', 'school_updated', 'rooms_saved', 'rooms_imported',
        'staff_added', 'staff_updated', 'staff_removed', 'staff_imported', 'phone_changed',
        'language_changed', 'contacts_saved'));
