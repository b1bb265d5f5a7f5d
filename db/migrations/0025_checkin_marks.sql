-- Each report's students as it named them, by student id, in the report's own row, in
-- place of checkin_students' row per student. A dashboard reads every room's current
-- report several times a second through a storm, and gathering a 2,000-student school's
-- marks from their rows was most of that read; writing 25 rows (three foreign keys and
-- two indexes each) per report halved the reports a storm could store (bench/roll_call.py:
-- 410/s with them, 881/s without). The rows were read by nothing else. A report names
-- only its school's students: the application checks each id against the school before
-- the report is stored (api/usecases/checkins.py), as the rows' foreign key did after.
alter table checkins add column students json not null default '[]';

update checkins c set students = m.marks
from (select checkin_id,
             json_agg(json_build_object('student_id', student_id, 'status', status)
                      order by student_id) as marks
      from checkin_students group by checkin_id) m
where m.checkin_id = c.id;

drop table checkin_students;
