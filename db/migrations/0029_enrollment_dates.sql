-- The days an enrollment counts: OneRoster's beginDate and endDate (domain/oneroster.py),
-- both included, so that a student who changed section mid-term is expected in the old
-- class up to its last day and in the new one from its first (db/students.py). Null: an
-- open end; both null, every day, as every enrollment did before.
alter table enrollments
    add column begins date,
    add column ends date,
    add constraint enrollments_in_order check (ends >= begins);
