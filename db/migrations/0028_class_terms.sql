-- The days a class meets: the terms its OneRoster sessions give it (domain/oneroster.py),
-- as one multirange, so that "does it meet on this date" is one containment test in the
-- query of who is expected where (db/students.py). Null: the roster says nothing of its
-- terms and it meets every day, as every class did before; empty: it meets on no day
-- (every session it names is withdrawn).
alter table classes add column terms datemultirange;
