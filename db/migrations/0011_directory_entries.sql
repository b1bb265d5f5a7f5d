-- A person is their phone (users.phone, how they sign in); users.name and users.email are
-- the person's own. Each membership carries the school's own directory entry for them:
-- what that school (or, for a district admin's membership, the district) typed. A school
-- sees its entry, never what another school typed or what the person calls themselves.
alter table memberships
    add column name text check (length(name) between 1 and 200),
    add column email text check (email ~ '^[^@\s]+@[^@\s]+$');
update memberships m set name = u.name, email = u.email from users u where u.id = m.user_id;
alter table memberships alter column name set not null;

-- The entry of a membership that was removed, so that the school's history (timelines,
-- drill logs, deliveries, the audit trail) still names the people it had, as it knew them.
create table former_directory_entries (
    user_id      uuid not null references users (id) on delete cascade,
    district_id  uuid not null references districts (id),
    school_id    uuid,
    role         text not null check (role in ('teacher', 'staff', 'sro', 'principal', 'district_admin')),
    name         text not null check (length(name) between 1 and 200),
    email        text,
    removed_at   timestamptz not null,
    foreign key (school_id, district_id) references schools (id, district_id),
    unique nulls not distinct (user_id, district_id, school_id)
);

-- A code asked for to make a phone a signed-in person's new phone names that person;
-- a sign-in code names no one (user_id null), and neither kind works as the other.
alter table auth_codes add column user_id uuid references users (id) on delete cascade;

-- A phone change ends every session of the person (whoever held the old phone is out).
alter table sessions drop constraint sessions_ended_reason_check,
    add constraint sessions_ended_reason_check
        check (ended_reason in ('logout', 'logout_everywhere', 'reuse', 'phone_changed'));

alter table admin_audit drop constraint admin_audit_kind_check,
    add constraint admin_audit_kind_check check (kind in (
        'school_created', 'school_updated', 'rooms_saved', 'rooms_imported',
        'staff_added', 'staff_updated', 'staff_removed', 'staff_imported', 'phone_changed'));
