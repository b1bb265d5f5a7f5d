-- Students by name: who they are, which adults may collect them (and which may not),
-- their classes and rooms, the school's bell schedule (who is expected where, when),
-- each student's status in a room's report, and reunification (each student handed to
-- an adult after an emergency). All of it belongs to one school: every table carries
-- school_id and its foreign keys pair it, so a row can never point across schools.
-- Students are never deleted while anything refers to them: one who left is inactive.

create table students (
    id           uuid primary key,
    school_id    uuid not null references schools (id),
    -- the SIS's id: OneRoster's sourcedId, or the student id of a plain CSV
    source_id    text not null check (length(source_id) between 1 and 255),
    given_name   text not null check (length(given_name) between 1 and 100),
    family_name  text not null check (length(family_name) between 1 and 100),
    grade        text check (length(grade) between 1 and 20),
    homeroom_id  uuid,
    active       boolean not null default true,
    updated_at   timestamptz not null,
    unique (school_id, source_id),
    unique (id, school_id),
    foreign key (homeroom_id, school_id) references rooms (id, school_id)
);
create index students_school_name on students (school_id, family_name, given_name, id);

-- The adults on a student's record: a guardian of two students of one school is one row.
create table guardians (
    id          uuid primary key,
    school_id   uuid not null references schools (id),
    source_id   text not null check (length(source_id) between 1 and 255),
    name        text not null check (length(name) between 1 and 200),
    phone       text check (phone ~ '^\+[1-9][0-9]{6,14}$'),
    email       text check (email ~ '^[^@\s]+@[^@\s]+$'),
    language    text not null default 'en' check (language in ('en', 'es')),
    updated_at  timestamptz not null,
    unique (school_id, source_id),
    unique (id, school_id)
);

create table student_guardians (
    student_id    uuid not null,
    guardian_id   uuid not null,
    school_id     uuid not null,
    -- as the roster says it: parent, guardian, relative, grandparent...
    relationship  text not null check (length(relationship) between 1 and 40),
    primary key (student_id, guardian_id),
    foreign key (student_id, school_id) references students (id, school_id),
    foreign key (guardian_id, school_id) references guardians (id, school_id)
);
create index student_guardians_guardian on student_guardians (guardian_id);

-- An adult a student must not be released to: a no-contact order, or a custody note
-- naming them. Matched by name (and by guardian when the roster links one).
create table student_restrictions (
    id           uuid primary key,
    student_id   uuid not null,
    school_id    uuid not null,
    kind         text not null check (kind in ('no_contact', 'custody')),
    adult_name   text not null check (length(adult_name) between 1 and 200),
    guardian_id  uuid,
    note         text check (length(note) between 1 and 500),
    foreign key (student_id, school_id) references students (id, school_id),
    foreign key (guardian_id, school_id) references guardians (id, school_id)
);
create index student_restrictions_student on student_restrictions (student_id);

-- Classes and who is in them; a class meets in a room in some periods of the bell
-- schedule. A homeroom class gives its students their homeroom.
create table classes (
    id          uuid primary key,
    school_id   uuid not null references schools (id),
    source_id   text not null check (length(source_id) between 1 and 255),
    title       text not null check (length(title) between 1 and 200),
    room_id     uuid,
    periods     text[] not null default '{}',
    homeroom    boolean not null default false,
    active      boolean not null default true,
    updated_at  timestamptz not null,
    unique (school_id, source_id),
    unique (id, school_id),
    foreign key (room_id, school_id) references rooms (id, school_id)
);

create table enrollments (
    class_id    uuid not null,
    student_id  uuid not null,
    school_id   uuid not null,
    primary key (class_id, student_id),
    foreign key (class_id, school_id) references classes (id, school_id),
    foreign key (student_id, school_id) references students (id, school_id)
);
create index enrollments_student on enrollments (student_id);

-- The school's bell schedule (domain/schedule.py): its day types, each with the days it
-- applies to and its periods' times, as one document replaced whole.
create table bell_schedules (
    school_id   uuid primary key references schools (id),
    day_types   jsonb not null check (jsonb_typeof(day_types) = 'array'),
    updated_at  timestamptz not null,
    updated_by  uuid references users (id)
);

-- Each student a room's report names, with their status in it.
create table checkin_students (
    checkin_id  uuid not null references checkins (id),
    event_id    uuid not null,
    school_id   uuid not null,
    student_id  uuid not null,
    status      text not null check (status in ('present', 'missing', 'absent', 'injured', 'extra')),
    primary key (checkin_id, student_id),
    foreign key (event_id, school_id) references events (id, school_id),
    foreign key (student_id, school_id) references students (id, school_id)
);
create index checkin_students_event on checkin_students (event_id, student_id);

-- Reunification: after an event (or on its own), students are handed to adults at a site.
create table reunifications (
    id          uuid primary key,
    school_id   uuid not null references schools (id),
    event_id    uuid unique,
    site        text not null check (length(site) between 1 and 200),
    address     text check (length(address) between 1 and 300),
    opened_at   timestamptz not null,
    opened_by   uuid not null references users (id),
    closed_at   timestamptz,
    closed_by   uuid references users (id),
    unique (id, school_id),
    foreign key (event_id, school_id) references events (id, school_id),
    check ((closed_at is null) = (closed_by is null)),
    check (closed_at is null or closed_at >= opened_at)
);
create unique index reunifications_one_open on reunifications (school_id) where closed_at is null;

-- A student brought to the site (checked in there by a member of staff), once.
create table reunification_students (
    reunification_id  uuid not null,
    student_id        uuid not null,
    school_id         uuid not null,
    arrived_at        timestamptz not null,
    checked_in_by     uuid not null references users (id),
    primary key (reunification_id, student_id),
    foreign key (reunification_id, school_id) references reunifications (id, school_id),
    foreign key (student_id, school_id) references students (id, school_id)
);

-- An adult who came to collect students: a guardian on the roster, or someone who is
-- not (guardian_id null), with what staff saw of their identity.
create table reunification_adults (
    id                uuid primary key,
    reunification_id  uuid not null,
    school_id         uuid not null,
    guardian_id       uuid,
    name              text not null check (length(name) between 1 and 200),
    relationship      text check (length(relationship) between 1 and 40),
    id_seen           boolean not null,
    arrived_at        timestamptz not null,
    checked_in_by     uuid not null references users (id),
    unique (id, reunification_id),
    foreign key (reunification_id, school_id) references reunifications (id, school_id),
    foreign key (guardian_id, school_id) references guardians (id, school_id)
);

-- A principal's approval to release a student to an adult not on the student's list.
create table release_approvals (
    reunification_id  uuid not null,
    student_id        uuid not null,
    adult_id          uuid not null,
    approved_by       uuid not null references users (id),
    approved_at       timestamptz not null,
    note              text check (length(note) between 1 and 500),
    primary key (reunification_id, student_id, adult_id),
    foreign key (adult_id, reunification_id) references reunification_adults (id, reunification_id)
);

-- A student handed to an adult: once per reunification (never twice).
create table releases (
    id                uuid primary key,
    reunification_id  uuid not null,
    school_id         uuid not null,
    student_id        uuid not null,
    adult_id          uuid not null,
    -- listed: the adult is on the student's roster; approved: a principal approved them
    verification      text not null check (verification in ('listed', 'approved')),
    approved_by       uuid references users (id),
    released_at       timestamptz not null,
    released_by       uuid not null references users (id),
    note              text check (length(note) between 1 and 500),
    unique (reunification_id, student_id),
    check ((verification = 'approved') = (approved_by is not null)),
    foreign key (reunification_id, student_id) references reunification_students (reunification_id, student_id),
    foreign key (adult_id, reunification_id) references reunification_adults (id, reunification_id)
);

-- The outbox also texts guardians (no users: the row carries the number) about a
-- reunification.
alter table notification_outbox
    add column reunification_id uuid references reunifications (id),
    add column guardian_id uuid references guardians (id),
    drop constraint notification_outbox_about,
    add constraint notification_outbox_about check (
        num_nonnulls(event_id, assist_id, reunification_id) >= 1),
    drop constraint notification_outbox_to,
    add constraint notification_outbox_to check (num_nonnulls(user_id, contact_id, guardian_id) = 1),
    add constraint notification_outbox_guardian_phone check (guardian_id is null or phone is not null),
    drop constraint notification_outbox_kind_check,
    add constraint notification_outbox_kind_check check (kind in (
        'alert', 'action', 'all_clear', 'cancelled', 'reminder', 'update', 'assist', 'repeat',
        'reunification'));
create index notification_outbox_reunification on notification_outbox (reunification_id)
    where reunification_id is not null;

-- Student data is audited: imports, schedules, erasures, every read of a reunification's
-- list and every step of a release.
alter table admin_audit drop constraint admin_audit_kind_check,
    add constraint admin_audit_kind_check check (kind in (
        'school_created', 'school_updated', 'rooms_saved', 'rooms_imported',
        'staff_added', 'staff_updated', 'staff_removed', 'staff_imported', 'phone_changed',
        'language_changed', 'contacts_saved',
        'roster_imported', 'students_imported', 'bell_schedule_saved', 'roster_erased',
        'reunification_opened', 'reunification_closed', 'reunification_read',
        'student_arrived', 'adult_arrived', 'release_approved', 'student_released'));
