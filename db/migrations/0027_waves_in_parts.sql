-- A wave is written out in parts, each committed on its own, so that a district's first
-- pushes are sent while the rest of its messages are still being written: what is due
-- now (the alert itself) for everyone first, leads first, then what is due later (a
-- drill's SMS reminders, a real alert's repeats). `people` is the wave's audience, in
-- that order, as the first part found it; `parts_written` how many parts are committed.
-- A dispatcher that stops mid-wave leaves both for the next one, which goes on from there
-- with the same people (one who joined since is not alerted by this wave, as when a
-- change is written inside its request).
alter table alert_waves
    add column people uuid[],
    add column parts_written int not null default 0 check (parts_written >= 0);
