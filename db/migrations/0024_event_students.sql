-- The students an event's rooms expect, fixed when the event starts: each active student
-- with their class's room at the bell schedule's period then, else their homeroom. Roll
-- call, the check-in page's lists and the drill record count against the roster as it
-- stood at the start, however it changes afterwards, and a read need not work it out
-- again (a 2,000-student school's expectation costs a join of its enrollments).
create table event_students (
    event_id    uuid not null,
    school_id   uuid not null,
    student_id  uuid not null,
    room_id     uuid,
    primary key (event_id, student_id),
    foreign key (event_id, school_id) references events (id, school_id),
    foreign key (student_id, school_id) references students (id, school_id),
    foreign key (room_id, school_id) references rooms (id, school_id)
);

-- Events under way when this runs expect their students' homerooms (the period of their
-- start is the application's to work out); ended events keep the record they stored.
insert into event_students (event_id, school_id, student_id, room_id)
select e.id, e.school_id, s.id, s.homeroom_id
from events e join students s on s.school_id = e.school_id and s.active
where e.ended_at is null;
