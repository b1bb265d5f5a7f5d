-- A person's language is theirs at every school: a change of it is audited at each.
alter table admin_audit drop constraint admin_audit_kind_check,
    add constraint admin_audit_kind_check check (kind in (
        'school_created', 'school_updated', 'rooms_saved', 'rooms_imported',
        'staff_added', 'staff_updated', 'staff_removed', 'staff_imported', 'phone_changed',
        'language_changed'));
