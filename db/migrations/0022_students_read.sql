-- Reading a student's guardians and restrictions is audited: every read of one student's
-- record with them (GET /v1/schools/{id}/students/{student_id}) is a `student_read`
-- entry, which names the student by id only.
alter table admin_audit drop constraint admin_audit_kind_check,
    add constraint admin_audit_kind_check check (kind in (
        'school_created', 'school_updated', 'rooms_saved', 'rooms_imported',
        'staff_added', 'staff_updated', 'staff_removed', 'staff_imported', 'phone_changed',
        'language_changed', 'contacts_saved',
        'roster_imported', 'students_imported', 'bell_schedule_saved', 'roster_erased',
        'reunification_opened', 'reunification_closed', 'reunification_read',
        'student_arrived', 'adult_arrived', 'release_approved', 'student_released',
        'student_read'));
