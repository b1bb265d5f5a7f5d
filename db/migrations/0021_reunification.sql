-- Reunification: which students an adult at the site came for (the live view lists who
-- is waiting, for whom), and the reunification texts of the outbox found by reunification.
create table reunification_adult_students (
    adult_id          uuid not null,
    reunification_id  uuid not null,
    student_id        uuid not null,
    school_id         uuid not null,
    primary key (adult_id, student_id),
    foreign key (adult_id, reunification_id) references reunification_adults (id, reunification_id),
    foreign key (student_id, school_id) references students (id, school_id)
);
create index reunification_adult_students_reunification
    on reunification_adult_students (reunification_id, student_id);
create index reunification_adults_reunification on reunification_adults (reunification_id);
create index reunifications_school on reunifications (school_id, opened_at desc);
