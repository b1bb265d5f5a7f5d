-- Drill compliance: what an evacuation was for, each school's dates per school year,
-- and a district's own rule pack. Additive: existing rows and clients are unaffected.

-- What an evacuation is for (domain/srp.py Purpose); only an evacuation has one.
alter table events
    add column purpose text check (purpose in ('fire', 'bus', 'bomb_threat', 'hazmat', 'other')),
    add constraint events_purpose_only_on_evacuate check (purpose is null or action = 'evacuate');

-- A school's own dates for one school year (named by its first calendar year); a year
-- without a row uses the default derived from schools.school_year_start_*.
create table school_years (
    school_id              uuid not null references schools (id),
    start_year             smallint not null check (start_year between 1900 and 2199),
    first_day              date not null,
    last_day               date not null,
    second_semester_start  date not null,
    grade_band             text check (grade_band in ('elementary', 'intermediate', 'secondary')),
    updated_at             timestamptz not null,
    updated_by             uuid not null references users (id),
    primary key (school_id, start_year),
    check (extract(year from first_day) = start_year),
    check (first_day < second_semester_start and second_semester_start <= last_day),
    check (last_day - first_day <= 365)
);

-- A district's own rules (domain/compliance.py RulePack as JSON), added to its
-- schools' state packs; validated in the application before it is stored.
create table district_rule_packs (
    district_id  uuid primary key references districts (id),
    pack         jsonb not null check (jsonb_typeof(pack) = 'object'),
    updated_at   timestamptz not null,
    updated_by   uuid not null references users (id)
);

-- The drill log and compliance read a school's events by start time within a school
-- year: events_school_started (school_id, started_at desc) already serves that range
-- scan, for one school or (one index range per school) for a whole district.
