-- Every administrative change (schools, rooms, staff and their memberships, CSV
-- imports), written in the transaction that made it: who, what, when, where.
create table admin_audit (
    id           bigint generated always as identity primary key,
    at           timestamptz not null,
    -- null: an operator at the command line (`muster import`)
    actor_id     uuid references users (id) on delete set null,
    district_id  uuid not null references districts (id),
    school_id    uuid not null,
    kind         text not null check (kind in (
                     'school_created', 'school_updated', 'rooms_saved', 'rooms_imported',
                     'staff_added', 'staff_updated', 'staff_removed', 'staff_imported')),
    detail       jsonb not null default '{}'::jsonb check (jsonb_typeof(detail) = 'object'),
    foreign key (school_id, district_id) references schools (id, district_id)
);
create index admin_audit_school on admin_audit (school_id, id desc);
