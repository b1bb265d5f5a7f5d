-- A school's OneRoster org: its sourcedId, stored the first time an export's org is
-- matched to the school (by name), so that a later import finds it by id even after a
-- rename. One per district's school at most.
alter table schools
    add column source_id text check (length(source_id) between 1 and 255);
create unique index schools_district_source on schools (district_id, source_id)
    where source_id is not null;
