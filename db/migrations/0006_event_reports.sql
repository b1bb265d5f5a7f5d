-- Drill records. The timing record (domain/timing.py's TimingRecord, as JSON) is computed
-- when an event ends and again when a late offline check-in arrives; it is kept as
-- computed, so that the record an auditor reads does not drift when rooms or people
-- change later.
create table event_reports (
    event_id     uuid primary key references events (id),
    computed_at  timestamptz not null,
    record       jsonb not null check (jsonb_typeof(record) = 'object')
);

-- After-action notes (domain/after_action.py), one row per edit: the highest revision is
-- current, the others show who changed what and when.
create table after_action_revisions (
    event_id             uuid not null references events (id),
    revision             integer not null check (revision > 0),
    edited_by            uuid not null references users (id),
    edited_at            timestamptz not null,
    scheduled_at         timestamptz,
    during               text check (during in ('instruction', 'lunch', 'passing', 'other')),
    students             integer check (students between 0 and 100000),
    staff                integer check (staff between 0 and 100000),
    visitors             integer check (visitors between 0 and 100000),
    -- [{name, agency, role, certification}]
    observers            jsonb not null default '[]'::jsonb
                         check (jsonb_typeof(observers) = 'array' and jsonb_array_length(observers) <= 20),
    notification_method  text check (length(notification_method) <= 200),
    -- [{kind, detail}], kind one of domain/after_action.py's ProblemKind
    problems             jsonb not null default '[]'::jsonb
                         check (jsonb_typeof(problems) = 'array' and jsonb_array_length(problems) <= 50),
    lessons_learned      text check (length(lessons_learned) <= 4000),
    report               text check (length(report) <= 20000),
    primary key (event_id, revision)
);
